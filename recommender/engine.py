"""What Encore answers: recommendations with their reasons, explanations and similar artists.

The engine joins a fitted model, the interactions it was fitted on and the artist catalogue, and speaks
in artists rather than matrix columns. Everything user-facing (the CLI, the bot) goes through it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from recommender.catalogue import Artist, ArtistCatalogue
from recommender.debias import listener_counts, normalised_log_popularity, rerank
from recommender.interactions import Interactions
from recommender.models.als import ALSRecommender, SolvedUser
from recommender.models.listener_blend import ListenerBlend
from recommender.pruned_scoring import PrunedTop, PrunedTopN
from recommender.ranking import top_n

#: Pseudo play count of one like. BM25 saturates counts (k1 = 0.5), so on protocol P2 every value
#: from 1 to 500 measured the same (NDCG@10 0.5145–0.5151 at k = 5); this sits in the flat middle.
LIKE_PLAYS = 50.0
MAX_RESULTS = 100
MAX_REASONS = 3
#: From this many artists on, one member's recommendations score only the artists that can reach
#: the top n (recommender/pruned_scoring.py): the same answer as scoring them all, sooner, at the 2k
#: data's size and far more at Last.fm-360K's (benchmarks/pruned_scoring.py and its results). Smaller
#: catalogues keep the dense pass, which stays in cache there.
PRUNED_FROM_ARTISTS = 16_000


class EngineError(ValueError):
    """A request the engine cannot answer; the message says why, in words for the user."""


@dataclass(frozen=True)
class Recommendation:
    artist: Artist
    score: float
    because: tuple[Artist, ...]


@dataclass(frozen=True)
class Explanation:
    artist: Artist
    score: float
    rank: int | None
    ranked_artists: int
    contributions: tuple[tuple[Artist, float], ...]
    already_liked: bool
    not_interested: bool = False

    def sentences(self) -> list[str]:
        """The explanation in plain words, one sentence per line."""
        lines = []
        if self.already_liked:
            lines.append(f"You already like {self.artist.name}, so Encore does not recommend it to you.")
        if self.not_interested:
            lines.append(f"You marked {self.artist.name} as not interested, so Encore does not recommend it to you.")
        positive = [(artist, share) for artist, share in self.contributions if share > 0]
        total = sum(share for _, share in positive)
        if positive and total > 0:
            parts = [f"{artist.name} ({share / total:.0%})" for artist, share in positive[:MAX_REASONS]]
            lines.append("Because you like " + join_names(parts) + ".")
        else:
            lines.append(f"Nothing you like points towards {self.artist.name}.")
        lines.append(
            f"Its score is {self.score:.2f}: Encore's estimate of how much you would like it, where 1 means "
            "as much as the artists you already like and 0 means not at all."
        )
        if self.rank is not None:
            lines.append(f"It ranks #{self.rank:,} of the {self.ranked_artists:,} artists new to you.")
        return lines


class Engine:
    def __init__(
        self,
        model: ALSRecommender,
        interactions: Interactions,
        catalogue: ArtistCatalogue,
        like_plays: float = LIKE_PLAYS,
        popularity_penalty: float = 0.0,
    ) -> None:
        if model.n_items != interactions.shape[1]:
            raise ValueError("the model and the interactions disagree on the number of artists")
        self.model = model
        self.interactions = interactions
        self.catalogue = catalogue
        self.like_plays = like_plays
        # Popularity debiasing (recommender/debias.py): reorders recommendations only; 0 leaves them as fitted.
        self.popularity_penalty = popularity_penalty
        self.popularity = normalised_log_popularity(listener_counts(interactions.plays))
        self.pruned_from_artists = PRUNED_FROM_ARTISTS
        self._pruned: PrunedTopN | None = None
        self._pruned_built = False

    # -- rows -----------------------------------------------------------------------------------

    def likes_row(
        self, liked: Iterable[int], not_interested: Iterable[int] = (), plays: Sequence[float | None] | None = None
    ) -> sp.csr_matrix:
        """A member's row: `like_plays` per liked artist, or its play count from `plays` (aligned
        with `liked`; None for a plain like), and marks for the "not interested" ones."""
        liked = list(liked)
        counts = [self.like_plays if p is None or p <= 0 else float(p) for p in plays] if plays is not None else None
        if counts is not None and len(counts) != len(liked):
            raise ValueError("plays must have one entry per liked artist")
        known = [
            (column, counts[i] if counts else self.like_plays)
            for i, artist in enumerate(liked)
            if (column := self.interactions.artist_column(artist)) is not None
        ]
        if not known:
            raise EngineError("none of those artists is known to the model yet, so there is nothing to go on")
        columns, values = zip(*known)
        marked = self.interactions.artist_columns(not_interested)
        return self.interactions.row_from_columns(np.array(columns), np.array(values), marked, self.like_plays)

    def user_row(self, user_key: str) -> tuple[sp.csr_matrix, int]:
        row = self.interactions.user_row(user_key)
        if row is None:
            raise EngineError(f"unknown user {user_key}")
        return self.interactions.plays[row], row

    # -- recommendations ------------------------------------------------------------------------

    def recommend_for_user(
        self, user_key: str, n: int = 10, listeners: ListenerBlend | None = None
    ) -> list[Recommendation]:
        """For a user of the interaction matrix.

        With `listeners` (a `ListenerBlend` fitted around this engine's model, see `listener_blend`)
        the order is the blend's, Encore's most accurate for such users; the scores shown and their
        reasons stay ALS's, solved exactly from the row (the fitted factors are only approximate).
        """
        row, index = self.user_row(user_key)
        ranking = None if listeners is None else listeners.score(row, users=np.array([index]))[0]
        return self._recommend(row, n, ranking=ranking)

    def listener_blend(self) -> ListenerBlend:
        """A `ListenerBlend` around the served ALS, fitted on this engine's matrix (about a second)."""
        return ListenerBlend.around(self.model, self.interactions.plays)

    def recommend_for_likes(
        self,
        liked: Iterable[int],
        n: int = 10,
        not_interested: Iterable[int] = (),
        plays: Sequence[float | None] | None = None,
        popularity_penalty: float | None = None,
        *,
        within: Iterable[int] | None = None,
    ) -> list[Recommendation]:
        """For anyone, from a list of liked artist ids, solved at once without refitting.
        `popularity_penalty` overrides the engine's own (a server's setting, say); `within` (artist ids)
        ranks only those artists, all of them, so a genre's best n come whatever their overall rank."""
        return self._recommend(self.likes_row(liked, not_interested, plays), n, popularity_penalty, within=within)

    def recommend_for_rows(self, rows: sp.csr_matrix, n: int = 10) -> list[list[Recommendation]]:
        """Many ad-hoc users at once (rows of pseudo plays over the interaction columns)."""
        rows = sp.csr_matrix(rows)
        return [self._recommend(rows[i], n) for i in range(rows.shape[0])]

    def _recommend(
        self,
        row: sp.csr_matrix,
        n: int,
        popularity_penalty: float | None = None,
        ranking: np.ndarray | None = None,
        *,
        within: Iterable[int] | None = None,
    ) -> list[Recommendation]:
        n = check_count(n)
        # One solve serves both the scores and every recommendation's reasons. On a large catalogue the
        # pruned scorer finds the top n without scoring every artist; the answer is the dense pass's.
        solved = self.model.solve_row(row)
        dense = ranking is not None or within is not None or solved is None
        pruned = None if dense else self._pruned_top(solved, row, n, popularity_penalty)
        if pruned is not None:
            found, found_scores = pruned.columns, pruned.scores
        else:
            scores = self.model.scores_of(solved)
            order_by = self._ranking_scores(scores if ranking is None else ranking, popularity_penalty)
            if within is not None:
                allowed = np.zeros(order_by.shape[-1], dtype=bool)
                allowed[self.interactions.artist_columns(within)] = True
                order_by = np.where(allowed, order_by, -np.inf)
            ids, _ = top_n(order_by, n, exclude=row)
            found = ids[0][ids[0] >= 0]
            found_scores = scores[found]
        reasons, shares = self.model.shares(solved, found)
        results = []
        for i, (column, score) in enumerate(zip(found, found_scores)):  # ALS's own scores, in the ranking's order
            order = np.argsort(-shares[:, i], kind="stable")[:MAX_REASONS]
            because = tuple(self._artist(int(reasons[k])) for k in order if shares[k, i] > 0)
            results.append(Recommendation(self._artist(int(column)), float(score), because))
        return results

    # -- explanations ---------------------------------------------------------------------------

    def explain(self, row: sp.csr_matrix, artist_id: int, popularity_penalty: float | None = None) -> Explanation:
        column = self.interactions.artist_column(artist_id)
        if column is None:
            raise EngineError("that artist is not in the model yet, so Encore cannot say why")
        solved = self.model.solve_row(row)
        scores = self.model.scores_of(solved)
        known = sp.csr_matrix(row)
        mark = float(known[0, column])
        # The rank among the artists /recommend would list, in the order it would list them.
        eligible = np.array(self._ranking_scores(scores, popularity_penalty), dtype=np.float32, copy=True)
        eligible[known.indices] = -np.inf
        rank = None if mark else int(np.sum(eligible > eligible[column])) + 1
        reasons, shares = self.model.shares(solved, np.array([column]))
        order = np.argsort(-shares[:, 0], kind="stable")
        contributions = tuple((self._artist(int(reasons[k])), float(shares[k, 0])) for k in order)
        return Explanation(
            artist=self._artist(column),
            score=float(scores[column]),
            rank=rank,
            ranked_artists=int(np.isfinite(eligible).sum()),
            contributions=contributions,
            already_liked=mark > 0,
            not_interested=mark < 0,
        )

    def explain_for_likes(
        self,
        liked: Iterable[int],
        artist_id: int,
        not_interested: Iterable[int] = (),
        plays: Sequence[float | None] | None = None,
        popularity_penalty: float | None = None,
    ) -> Explanation:
        return self.explain(self.likes_row(liked, not_interested, plays), artist_id, popularity_penalty)

    def explain_for_user(self, user_key: str, artist_id: int) -> Explanation:
        row, _ = self.user_row(user_key)
        return self.explain(row, artist_id)

    # -- similar artists ------------------------------------------------------------------------

    def similar(self, artist_id: int, n: int = 10) -> list[tuple[Artist, float]]:
        n = check_count(n)
        column = self.interactions.artist_column(artist_id)
        if column is None:
            raise EngineError("that artist has no listeners in the model yet, so Encore cannot find similar ones")
        columns, similarities = self.model.similar_items(column, n)
        return [(self._artist(int(c)), float(s)) for c, s in zip(columns, similarities)]

    def prepare(self) -> Engine:
        """Build ahead of the first request what serving builds on first use: the pruned scorer, on a
        catalogue of `pruned_from_artists` artists or more (about 0.15 s at 160,000 artists)."""
        if self.model.n_items >= self.pruned_from_artists:
            self._pruned_scorer()
        return self

    def _pruned_scorer(self) -> PrunedTopN | None:
        if not self._pruned_built:
            # None when this BLAS cannot reproduce the dense pass exactly: then the dense path it is.
            self._pruned = PrunedTopN.build(self.model.item_factors, self.popularity)
            self._pruned_built = True
        return self._pruned

    def _pruned_top(
        self, solved: SolvedUser, row: sp.csr_matrix, n: int, popularity_penalty: float | None
    ) -> PrunedTop | None:
        """The top n as the dense path ranks it (`top_n(self._ranking_scores(...), n, exclude=row)`), by
        the pruned scorer; None where the dense path is to be taken."""
        if self.model.n_items < self.pruned_from_artists:
            return None
        scorer = self._pruned_scorer()
        if scorer is None:
            return None
        penalty = self.popularity_penalty if popularity_penalty is None else popularity_penalty
        row = sp.csr_matrix(row)
        return scorer.top(solved.vector, n, row.indices[row.data != 0], penalty)

    def _ranking_scores(self, scores: np.ndarray, popularity_penalty: float | None) -> np.ndarray:
        penalty = self.popularity_penalty if popularity_penalty is None else popularity_penalty
        return rerank(scores, self.popularity, penalty)

    def _artist(self, column: int) -> Artist:
        return self.catalogue.get(int(self.interactions.artist_ids[column]))


def check_count(n: int) -> int:
    """`n` as a number of results, or EngineError if it is not a whole number from 1 to MAX_RESULTS."""
    if not isinstance(n, (int, np.integer)) or n < 1 or n > MAX_RESULTS:
        raise EngineError(f"the number of results must be between 1 and {MAX_RESULTS} (got {n})")
    return int(n)


def join_names(parts: Sequence[str]) -> str:
    """ "a", "a and b", "a, b and c"."""
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]
