"""Recommendations for a group of members at once (a "blend").

Each member is scored over every artist exactly as if they asked alone (`model.score` on their row of
likes). Those scores are put on a common scale per member, then combined by a named strategy (the
social-choice rules of group recommender systems: average, least misery, Borda count, ...). No artist
any member already holds (liked, or marked not interested) is ever recommended to the group.

Why normalise: a member with few or niche likes gets smaller, flatter scores than one with many
mainstream likes, and an unnormalised average lets the loudest member decide. Protocol P3
(benchmarks/README.md, `recommender/evaluation/groups.py`) measures the strategies and scales; the defaults
below are the best of those measurements.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from recommender.catalogue import Artist
from recommender.engine import Engine, EngineError, check_count
from recommender.models.base import Recommender
from recommender.ranking import top_n

#: Per-member scales. "zscore": (score - mean) / std over all artists; "rank": the artist's rank
#: percentile among all artists, in (0, 1]; "none": the model's raw scores.
NORMALISATIONS = ("zscore", "rank", "none")
#: "borda" and "multiplicative" work on rank percentiles whatever the normalisation: a Borda count
#: is a sum of ranks, and a product needs positive numbers on one scale.
STRATEGIES = ("average", "least-misery", "most-pleasure", "average-without-misery", "borda", "multiplicative")
RANK_STRATEGIES = frozenset({"borda", "multiplicative"})

# Chosen on protocol P3, 100 groups per size, mean of seeds 0-2 (benchmarks/results/groups.json):
# recall@10 0.403 for the average of z-scores, 0.399 of raw scores, 0.384 average without misery,
# 0.332 Borda, 0.335 most pleasure, 0.298 least misery; merging the members' own lists 0.319, most
# popular 0.188. The truth is what most of a group plays, which rewards the majority over the
# worst-served member; least misery stays available for groups who would rather nobody minded.
DEFAULT_STRATEGY = "average"
DEFAULT_NORMALISATION = "zscore"
#: "average-without-misery" keeps only artists at or above this quantile of every member's scores.
#: On P3 (seeds 0-1) recall@10 fell as the bar rose: 0.381 at 0.5, 0.377 at 0.8, 0.354 at 0.95, 0.294
#: at 0.99 (plain average 0.398): the truth is what most of the group plays, not all of it.
MISERY_QUANTILE = 0.5


@dataclass(frozen=True)
class GroupPick:
    """One artist (a matrix column) for the group, with what it means to each member."""

    column: int
    score: float
    #: Each member's normalised score for the artist, in the order the members were given.
    member_scores: tuple[float, ...]

    @property
    def suits_most(self) -> int:
        """Index of the member the artist suits best (the first, on a tie)."""
        return int(np.argmax(self.member_scores))

    @property
    def suits_least(self) -> int:
        return int(np.argmin(self.member_scores))


@dataclass(frozen=True)
class GroupRecommendation:
    artist: Artist
    score: float
    member_scores: tuple[float, ...]
    suits_most: int
    suits_least: int


# -- the building blocks (also used by protocol P3 on precomputed scores) ---------------------------


def stack_rows(rows: sp.spmatrix | Sequence[sp.spmatrix]) -> sp.csr_matrix:
    """The members' rows as one matrix, one row per member."""
    if sp.issparse(rows):
        stacked = sp.csr_matrix(rows)
    else:
        if len(rows) == 0:
            raise ValueError("a group needs at least one member")
        stacked = sp.vstack([sp.csr_matrix(r) for r in rows], format="csr")
    if stacked.shape[0] == 0:
        raise ValueError("a group needs at least one member")
    return stacked


def held_columns(rows: sp.csr_matrix) -> np.ndarray:
    """Every artist some member holds, liked (> 0) or marked not interested (< 0)."""
    rows = sp.csr_matrix(rows)
    return np.unique(rows.indices[rows.data != 0])


def normalise(scores: np.ndarray, method: str = DEFAULT_NORMALISATION) -> np.ndarray:
    """Each member's row of scores on the scale `method` (see NORMALISATIONS)."""
    scores = np.asarray(scores, dtype=np.float32)
    if method == "zscore":
        spread = scores.std(axis=1, keepdims=True)
        # A member with nothing to go on scores every artist alike: neutral, not a division by zero.
        spread[spread == 0] = np.inf
        return (scores - scores.mean(axis=1, keepdims=True)) / spread
    if method == "rank":
        return rank_percentiles(scores)
    if method == "none":
        return scores
    raise ValueError(f"unknown normalisation {method!r}; choose from {', '.join(NORMALISATIONS)}")


def rank_percentiles(scores: np.ndarray) -> np.ndarray:
    """1.0 for a member's best artist down to 1/n for their worst (ties in any order)."""
    n_columns = scores.shape[1]
    # Not kind="stable": the default sort is three times faster, and float scores rarely tie.
    order = np.argsort(scores, axis=1)
    ranks = np.empty(scores.shape, dtype=np.float32)
    steps = np.broadcast_to(np.arange(1, n_columns + 1, dtype=np.float32) / n_columns, scores.shape)
    np.put_along_axis(ranks, order, steps, axis=1)
    return ranks


def member_scale(scores: np.ndarray, strategy: str, normalisation: str) -> np.ndarray:
    """The per-member values a strategy aggregates (and that "suits most / least" compares)."""
    return rank_percentiles(scores) if strategy in RANK_STRATEGIES else normalise(scores, normalisation)


def aggregate(
    values: np.ndarray, strategy: str = DEFAULT_STRATEGY, misery_quantile: float = MISERY_QUANTILE
) -> np.ndarray:
    """One group score per artist from the members' values (members x artists)."""
    if strategy in ("average", "borda"):
        return values.mean(axis=0)
    if strategy == "least-misery":
        return values.min(axis=0)
    if strategy == "most-pleasure":
        return values.max(axis=0)
    if strategy == "multiplicative":
        # The geometric mean ranks exactly like the product and does not underflow for big groups.
        return np.log(values).mean(axis=0)
    if strategy == "average-without-misery":
        n_columns = values.shape[1]
        kth = min(n_columns - 1, int(misery_quantile * n_columns))
        # np.partition finds each member's threshold in linear time; a full sort is not needed.
        thresholds = np.partition(values, kth, axis=1)[:, kth : kth + 1]
        group = values.mean(axis=0)
        group[np.any(values < thresholds, axis=0)] = -np.inf
        return group
    raise ValueError(f"unknown strategy {strategy!r}; choose from {', '.join(STRATEGIES)}")


def best_columns(group_scores: np.ndarray, n: int, held: np.ndarray) -> np.ndarray:
    """The `n` best columns, best first, none of them held; fewer if fewer are eligible."""
    eligible = np.array(group_scores, dtype=np.float32, copy=True)
    eligible[held] = -np.inf
    n = min(n, eligible.size)
    if n <= 0:
        return np.empty(0, dtype=np.int64)
    candidates = np.argpartition(-eligible, n - 1)[:n] if n < eligible.size else np.arange(eligible.size)
    candidates = candidates[np.argsort(-eligible[candidates], kind="stable")]
    return candidates[np.isfinite(eligible[candidates])]


def blend_scores(
    scores: np.ndarray,
    held: np.ndarray,
    n: int,
    *,
    strategy: str = DEFAULT_STRATEGY,
    normalisation: str = DEFAULT_NORMALISATION,
    misery_quantile: float = MISERY_QUANTILE,
) -> list[GroupPick]:
    """`blend` on members' raw scores already computed (members x artists)."""
    values = member_scale(scores, strategy, normalisation)
    group = aggregate(values, strategy, misery_quantile)
    columns = best_columns(group, n, held)
    return [GroupPick(int(c), float(group[c]), tuple(float(v) for v in values[:, c])) for c in columns]


def merge_round_robin(lists: Sequence[np.ndarray], n: int) -> np.ndarray:
    """First of each list in turn, then the second of each, ..., skipping repeats, until `n`."""
    merged: list[int] = []
    seen: set[int] = set()
    longest = max((len(ranked) for ranked in lists), default=0)
    for position in range(longest):
        for ranked in lists:
            if position < len(ranked):
                column = int(ranked[position])
                if column >= 0 and column not in seen:
                    seen.add(column)
                    merged.append(column)
                    if len(merged) == n:
                        return np.array(merged, dtype=np.int64)
    return np.array(merged, dtype=np.int64)


def merged_lists_from_scores(scores: np.ndarray, held: np.ndarray, n: int) -> np.ndarray:
    """The baseline: each member's own top `n` (nothing any member holds), merged round-robin."""
    eligible = np.array(scores, dtype=np.float32, copy=True)
    eligible[:, held] = -np.inf
    ids, _ = top_n(eligible, n)
    return merge_round_robin(list(ids), n)


# -- from rows --------------------------------------------------------------------------------------


def blend(
    model: Recommender,
    rows: sp.spmatrix | Sequence[sp.spmatrix],
    n: int = 10,
    *,
    strategy: str = DEFAULT_STRATEGY,
    normalisation: str = DEFAULT_NORMALISATION,
) -> list[GroupPick]:
    """The best `n` artists for the members whose rows (likes, as `Engine.likes_row` builds them)
    are given, best first."""
    stacked = stack_rows(rows)
    return blend_scores(model.score(stacked), held_columns(stacked), n, strategy=strategy, normalisation=normalisation)


def merged_lists(model: Recommender, rows: sp.spmatrix | Sequence[sp.spmatrix], n: int = 10) -> np.ndarray:
    stacked = stack_rows(rows)
    return merged_lists_from_scores(model.score(stacked), held_columns(stacked), n)


def recommend_for_group(
    engine: Engine,
    rows: sp.spmatrix | Sequence[sp.spmatrix],
    n: int = 10,
    strategy: str = DEFAULT_STRATEGY,
) -> list[GroupRecommendation]:
    """`blend` in artists, at the default normalisation: what the Discord command prints ("suits Alice
    most, Bob least")."""
    n = check_count(n)
    if strategy not in STRATEGIES:
        raise EngineError(f"unknown blend {strategy!r}; choose from {', '.join(STRATEGIES)}")
    picks = blend(engine.model, rows, n, strategy=strategy)
    return [
        GroupRecommendation(
            artist=engine.catalogue.get(int(engine.interactions.artist_ids[pick.column])),
            score=pick.score,
            member_scores=pick.member_scores,
            suits_most=pick.suits_most,
            suits_least=pick.suits_least,
        )
        for pick in picks
    ]
