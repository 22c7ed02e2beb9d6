"""Listening sessions: one artist at a time for a group in a voice channel, learning from its votes.

Each round Encore proposes one artist and every member votes "Into it" or "Not for me". The next pick
is a group blend (recommender/groups.py: each member's scores z-scored, then averaged, or their least
taken) over the members' tastes with every vote of the session folded in at once, without a refit:

- an Into it counts as a like, with the weight a like has;
- a Not for me counts as a "not interested" mark whose confidence is `REJECTION_WEIGHT` times a
  standing mark's. In implicit ALS a mark asks the member's vector to score the artist near zero; a
  standing mark only weighs as much as a like, too little to move a member away from an artist Encore
  ranked at their top. Weighed up, the rejection turns the member's vector away from what the rejected
  artist shares with its neighbours, so artists like it sink for that member (and only for them).

Most votes are Not for me, so the rejections are what the session mostly learns from.

Each member's values mix two scorers on the z-scale: the ALS solve above and, for `GRAPH_WEIGHT` of
them, the co-listening graph of the training matrix (recommender/item_graph.py) walked from the
member's likes and Into its, so a fresh Into it lifts the artists the same listeners play. Protocol P4
(benchmarks/README.md, recommender/evaluation/sessions.py) measures the picks and chose both weights.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import scipy.sparse as sp

from recommender import groups as blends
from recommender import item_graph
from recommender.catalogue import Artist
from recommender.engine import MAX_REASONS, Engine, EngineError
from recommender.models.als import ALSRecommender, SolvedUser

STRATEGIES = ("average", "least-misery")
DEFAULT_STRATEGY = "average"
#: How many times a standing mark's confidence a session's Not for me gets; chosen on P4's seed 0.
REJECTION_WEIGHT = 10.0
#: The share of each member's z-scored values that comes from the co-listening graph; chosen on P4's seed 0.
GRAPH_WEIGHT = 0.3
#: Candidates checked against `visible` at first; more only when all of them are hidden.
VISIBLE_CHUNK = 32


@dataclass(frozen=True)
class SessionVote:
    member: Hashable  # the bot passes Discord user ids; the evaluation passes row numbers
    artist_id: int
    into_it: bool  # True: "Into it"; False: "Not for me"


class MemberTaste(Protocol):
    """What a member holds (db.rows.Taste has this shape): plays, when given, align with `liked`
    (None for a plain like)."""

    @property
    def liked(self) -> Sequence[int]: ...

    @property
    def not_interested(self) -> Sequence[int]: ...

    @property
    def plays(self) -> Sequence[float | None] | None: ...


@dataclass(frozen=True)
class SessionPick:
    artist: Artist
    score: float
    #: The members it suits at least as well as the group on average, best first (never empty).
    for_members: tuple[Hashable, ...]
    #: Up to MAX_REASONS of the group's liked artists that led to it, most first.
    because: tuple[Artist, ...]


@dataclass(frozen=True)
class SessionTaste:
    """A member's taste with the session's votes folded in (artist ids)."""

    member: Hashable
    liked: tuple[int, ...]
    plays: tuple[float | None, ...] | None
    not_interested: tuple[int, ...]
    #: Their Not for me votes of this session, the marks that weigh `REJECTION_WEIGHT` times more.
    rejected: tuple[int, ...]


# -- folding votes into tastes ----------------------------------------------------------------------


def session_tastes(tastes: Mapping[Hashable, MemberTaste], votes: Sequence[SessionVote]) -> list[SessionTaste]:
    """Every member's taste with their votes added, whether or not `tastes` holds them already; a
    member's later vote on an artist replaces an earlier one. Votes of members not in `tastes` (who
    left the channel) are not counted."""
    latest: dict[Hashable, dict[int, bool]] = {}
    for vote in votes:
        latest.setdefault(vote.member, {})[int(vote.artist_id)] = bool(vote.into_it)
    merged = []
    for member, taste in tastes.items():
        verdicts = latest.get(member, {})
        liked = [int(a) for a in taste.liked]
        plays = None if taste.plays is None else list(taste.plays)
        known_likes = set(liked)
        for artist, into_it in verdicts.items():
            if into_it and artist not in known_likes:
                liked.append(artist)
                known_likes.add(artist)
                if plays is not None:
                    plays.append(None)
        rejected = tuple(artist for artist, into_it in verdicts.items() if not into_it)
        marked = dict.fromkeys([int(a) for a in taste.not_interested] + list(rejected))
        merged.append(
            SessionTaste(
                member=member,
                liked=tuple(liked),
                plays=None if plays is None else tuple(plays),
                not_interested=tuple(marked),
                rejected=rejected,
            )
        )
    return merged


# -- the column-level steps -------------------------------------------------------------------------


def solve_member(
    model: ALSRecommender, row: sp.csr_matrix, rejected: np.ndarray, *, rejection_weight: float = REJECTION_WEIGHT
) -> SolvedUser | None:
    """The member's exact solve from their row (as `Engine.likes_row` builds it), the marks at the
    `rejected` columns weighing `rejection_weight` times a mark."""
    row = sp.csr_matrix(row)
    columns, plays = row.indices[: row.indptr[1]], row.data[: row.indptr[1]]
    scale = np.where((plays < 0) & np.isin(columns, rejected), rejection_weight, 1.0)
    return model.solve(columns, plays, scale)


def member_values(model: ALSRecommender, solved: Sequence[SolvedUser]) -> tuple[np.ndarray, np.ndarray]:
    """(each member's z-scored scores over every artist, members x artists; each member's spread of raw
    scores, by which the z-scores divide)."""
    vectors = np.stack([s.vector for s in solved]).astype(np.float32)
    assert model.item_factors is not None
    scores = vectors @ model.item_factors.T
    spread = scores.std(axis=1)
    return blends.normalise(scores), spread


def graph_values(engine: Engine, members: Sequence[SessionTaste]) -> np.ndarray:
    """Each member's z-scored co-listening scores (members x artists) from their likes, Into its included."""
    graph = item_graph.graph_of(engine.interactions.plays)
    columns = [engine.interactions.artist_columns(member.liked) for member in members]
    return blends.normalise(graph.scores_of_many(columns))


def best_visible(group_scores: np.ndarray, held: np.ndarray, visible: Callable[[int], bool] | None) -> int | None:
    """The best column not held for which `visible` (given a column) says True; None if there is none.
    `visible` is asked only about candidates in order, not about the whole catalogue."""
    wanted = VISIBLE_CHUNK
    checked = 0
    while True:
        candidates = blends.best_columns(group_scores, wanted, held)
        for column in candidates[checked:]:
            if visible is None or visible(int(column)):
                return int(column)
        if candidates.size < wanted:
            return None
        checked = candidates.size
        wanted *= 4


# -- the next pick ----------------------------------------------------------------------------------


def next_pick(
    engine: Engine,
    tastes: Mapping[Hashable, MemberTaste],
    *,
    votes: Sequence[SessionVote],
    proposed: Collection[int],
    strategy: str = DEFAULT_STRATEGY,
    visible: Callable[[int], bool] | None = None,
    rejection_weight: float = REJECTION_WEIGHT,
    graph_weight: float = GRAPH_WEIGHT,
) -> SessionPick | None:
    """The next artist to propose to the members in `tastes`, from their tastes and every vote so far
    (oldest first); None when nothing is left. Never an artist in `proposed`, one any member likes or
    marked (votes included), or one `visible` (given an artist id) refuses. Members with no liked
    artist the model knows are skipped; EngineError if that leaves no one."""
    if strategy not in STRATEGIES:
        raise EngineError(f"unknown session strategy {strategy!r}; choose from {', '.join(STRATEGIES)}")
    members = session_tastes(tastes, votes)
    held_ids = {int(a) for a in proposed}
    for member in members:
        held_ids.update(member.liked)
        held_ids.update(member.not_interested)
    usable: list[tuple[SessionTaste, SolvedUser]] = []
    for member in members:
        try:
            row = engine.likes_row(member.liked, member.not_interested, member.plays)
        except EngineError:
            continue
        rejected = engine.interactions.artist_columns(member.rejected)
        solved = solve_member(engine.model, row, rejected, rejection_weight=rejection_weight)
        if solved is not None:
            usable.append((member, solved))
    if not usable:
        raise EngineError(
            "nobody in this session likes an artist Encore knows yet, so there is nothing to go on: "
            "like a few artists first"
        )
    values, spread = member_values(engine.model, [solved for _, solved in usable])
    if graph_weight:
        values = (1.0 - graph_weight) * values + graph_weight * graph_values(engine, [member for member, _ in usable])
    group = blends.aggregate(values, strategy)
    artist_ids = engine.interactions.artist_ids
    shown = None if visible is None else (lambda column: visible(int(artist_ids[column])))
    column = best_visible(group, engine.interactions.artist_columns(held_ids), shown)
    if column is None:
        return None
    column_values = values[:, column]
    order = np.argsort(-column_values, kind="stable")
    suited = [int(i) for i in order if column_values[i] >= column_values.mean()] or [int(order[0])]
    return SessionPick(
        artist=_artist(engine, column),
        score=float(group[column]),
        for_members=tuple(usable[i][0].member for i in suited),
        because=_reasons(engine, [solved for _, solved in usable], spread, column),
    )


def _reasons(engine: Engine, solved: Sequence[SolvedUser], spread: np.ndarray, column: int) -> tuple[Artist, ...]:
    """The liked artists adding most to the pick's group score: each member's shares of their score,
    on the z-scale the blend uses, summed over the members who like the same artist."""
    totals: dict[int, float] = {}
    for member_solve, member_spread in zip(solved, spread):
        if member_spread <= 0:
            continue
        reasons, shares = engine.model.shares(member_solve, np.array([column]))
        for reason, share in zip(reasons.tolist(), shares[:, 0].tolist()):
            totals[reason] = totals.get(reason, 0.0) + share / float(member_spread)
    best = sorted((item for item in totals.items() if item[1] > 0), key=lambda item: -item[1])[:MAX_REASONS]
    return tuple(_artist(engine, reason) for reason, _ in best)


def _artist(engine: Engine, column: int) -> Artist:
    return engine.catalogue.get(int(engine.interactions.artist_ids[column]))
