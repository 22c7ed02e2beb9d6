"""Protocol P4 of the evaluation (benchmarks/README.md, "P4, listening sessions"): sequential group
discovery, one proposed artist a round.

The groups, their held-out members, their 5 likes each and the held-out batches (one model fitted per
batch without its members) are P3's (recommender/evaluation/groups.py): the same seeds draw the same
groups. A session runs `ROUNDS` rounds; each round a method proposes one artist, never one proposed
before or liked by a member, and every member votes Into it if the artist is among their own held-out
artists (what they play beyond their likes), else Not for me. A group hit is an artist that at least
half of the group votes Into it (one of two, two of three or four, three of five).

Methods: "session" is `recommender.sessions.next_pick`, called once a round with every vote so far, as
the bot calls it; "static-blend" proposes P3's default blend's top `ROUNDS` in order, computed once
from the likes; "most-popular" the artists with most listeners in the training data.
"""

from __future__ import annotations

import statistics
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recommender import groups as blends
from recommender.catalogue import ArtistCatalogue
from recommender.engine import Engine
from recommender.evaluation.groups import (
    GROUP_LIKES,
    GROUP_SIZES,
    GROUPS_PER_SIZE,
    HELD_OUT_SHARE,
    Group,
    draw_groups,
    held_out_batches,
)
from recommender.evaluation.protocols import Progress, like_rows
from recommender.interactions import Interactions
from recommender.models import MostPopular
from recommender.models.registry import MEMBER_MODEL, make_model
from recommender.sessions import GRAPH_WEIGHT, REJECTION_WEIGHT, SessionVote, next_pick

ROUNDS = 20
REPORTED_ROUNDS = (5, 10, 20)
MODEL_NAMES = ("session", "static-blend", "most-popular")


def _quiet(_: str) -> None:
    pass


@dataclass(frozen=True)
class LikesOnly:
    """A held-out member's taste as `next_pick` reads it: their drawn likes, nothing marked."""

    liked: tuple[int, ...]
    not_interested: tuple[int, ...] = ()
    plays: tuple[float | None, ...] | None = None


def is_group_hit(into_it_votes: int, size: int) -> bool:
    return 2 * into_it_votes >= size


def held_out_artists(plays: sp.csr_matrix, group: Group) -> list[frozenset[int]]:
    """Each member's artists beyond their likes: what they vote Into it."""
    return [
        frozenset(np.setdiff1d(plays.indices[plays.indptr[m] : plays.indptr[m + 1]], likes).tolist())
        for m, likes in zip(group.members, group.likes)
    ]


def into_it_counts(columns: Iterable[int], held_out: Sequence[frozenset[int]]) -> np.ndarray:
    """Per proposed artist, how many members vote Into it."""
    return np.array([sum(int(c) in artists for artists in held_out) for c in columns], dtype=np.int64)


def ceiling(group: Group, held_out: Sequence[frozenset[int]], rounds: int = ROUNDS) -> np.ndarray:
    """The most group hits any method could have after each round: one a round while artists that
    half the group votes Into it last (a member's like is never proposed)."""
    liked = set(np.concatenate(group.likes).tolist())
    voters = Counter(artist for artists in held_out for artist in artists if artist not in liked)
    available = sum(is_group_hit(count, group.size) for count in voters.values())
    return np.minimum(np.arange(1, rounds + 1), available)


def run_session(
    engine: Engine,
    group: Group,
    held_out: Sequence[frozenset[int]],
    *,
    rounds: int,
    rejection_weight: float,
    graph_weight: float = GRAPH_WEIGHT,
) -> tuple[np.ndarray, list[float]]:
    """(Into it votes per round, milliseconds per `next_pick`) of one session; the artist ids of the
    evaluation's engine are the matrix columns, and the members their row numbers."""
    members = [int(m) for m in group.members]
    tastes = {m: LikesOnly(tuple(int(a) for a in likes)) for m, likes in zip(members, group.likes)}
    votes: list[SessionVote] = []
    proposed: list[int] = []
    counts: list[int] = []
    timings: list[float] = []
    for _ in range(rounds):
        started = time.perf_counter()
        pick = next_pick(
            engine, tastes, votes=votes, proposed=proposed, rejection_weight=rejection_weight, graph_weight=graph_weight
        )
        timings.append(1000 * (time.perf_counter() - started))
        if pick is None:
            break
        artist = pick.artist.artist_id
        proposed.append(artist)
        into_it = [artist in artists for artists in held_out]
        votes.extend(SessionVote(member, artist, vote) for member, vote in zip(members, into_it))
        counts.append(sum(into_it))
    return np.array(counts, dtype=np.int64), timings


def column_catalogue(n_items: int) -> ArtistCatalogue:
    """A catalogue whose artist ids are the matrix columns: P4 reads no names."""
    ids = np.arange(n_items)
    return ArtistCatalogue(pd.DataFrame({"artist_id": ids, "name": [f"artist {i}" for i in ids]}))


def evaluate_sessions(
    plays: sp.csr_matrix,
    friends: sp.csr_matrix,
    seeds: Iterable[int],
    *,
    like_plays: float,
    groups_per_size: int = GROUPS_PER_SIZE,
    sizes: Iterable[int] = GROUP_SIZES,
    rounds: int = ROUNDS,
    rejection_weight: float = REJECTION_WEIGHT,
    graph_weight: float = GRAPH_WEIGHT,
    progress: Progress = _quiet,
) -> dict:
    """P4 for every seed; figures are means over a seed's groups, then over seeds."""
    seeds, sizes = list(seeds), list(sizes)
    plays = sp.csr_matrix(plays)
    n_items = plays.shape[1]
    catalogue = column_catalogue(n_items)
    max_members = int(round(HELD_OUT_SHARE * plays.shape[0]))
    per_seed: dict[str, list[dict]] = {name: [] for name in (*MODEL_NAMES, "ceiling")}
    per_seed_size: dict[str, dict[str, list[dict]]] = {name: {str(s): [] for s in sizes} for name in per_seed}
    pick_ms: dict[str, list[float]] = {str(s): [] for s in sizes}
    drawn: dict[str, list[int]] = {str(s): [] for s in sizes}
    for seed in seeds:
        groups = draw_groups(plays, friends, seed, sizes, groups_per_size)
        for size in sizes:
            drawn[str(size)].append(sum(g.size == size for g in groups))
        counts: dict[str, list[np.ndarray]] = {name: [np.empty(0, np.int64)] * len(groups) for name in MODEL_NAMES}
        ceilings = np.zeros((len(groups), rounds), dtype=np.int64)
        batches = held_out_batches(groups, max_members)
        for number, batch in enumerate(batches, 1):
            progress(f"P4 seed {seed}: batch {number} of {len(batches)} ({len(batch)} groups)")
            held_out_users = np.unique(np.concatenate([groups[i].members for i in batch]))
            train = sp.csr_matrix(plays[np.setdiff1d(np.arange(plays.shape[0]), held_out_users)])
            model = make_model(MEMBER_MODEL).fit(train)
            keys = np.array([f"train:{row}" for row in range(train.shape[0])])
            engine = Engine(model, Interactions(keys, np.arange(n_items), train), catalogue, like_plays=like_plays)
            popular = MostPopular().fit(train).listeners
            assert popular is not None
            for index in batch:
                group = groups[index]
                held_out = held_out_artists(plays, group)
                held = np.unique(np.concatenate(group.likes))
                scores = model.score(like_rows(list(group.likes), n_items, like_plays))
                static = [p.column for p in blends.blend_scores(scores, held, rounds)]
                counts["static-blend"][index] = into_it_counts(static, held_out)
                counts["most-popular"][index] = into_it_counts(blends.best_columns(popular, rounds, held), held_out)
                session, timings = run_session(
                    engine, group, held_out, rounds=rounds, rejection_weight=rejection_weight, graph_weight=graph_weight
                )
                counts["session"][index] = session
                pick_ms[str(group.size)].extend(timings)
                ceilings[index] = ceiling(group, held_out, rounds)
        sizes_of = np.array([g.size for g in groups])
        hits = {name: _cumulative_hits(counts[name], sizes_of, rounds) for name in MODEL_NAMES}
        tables = {**hits, "ceiling": ceilings}
        everyone = np.arange(len(groups))
        for name in per_seed:
            figures = _figures(tables[name], counts.get(name), sizes_of, chosen=everyone)
            per_seed[name].append(figures | {"seed": seed})
            for size in sizes:
                chosen = np.flatnonzero(sizes_of == size)
                figures = _figures(tables[name], counts.get(name), sizes_of, chosen=chosen)
                per_seed_size[name][str(size)].append(figures)
    return {
        "protocol": "sessions",
        "seeds": seeds,
        "rounds": rounds,
        "like_plays": like_plays,
        "likes_per_member": GROUP_LIKES,
        "groups_per_size": groups_per_size,
        "groups_drawn": drawn,
        "rejection_weight": rejection_weight,
        "graph_weight": graph_weight,
        "pick_ms_median": {size: float(statistics.median(ms)) for size, ms in pick_ms.items() if ms},
        "models": {name: _mean(per_seed[name]) for name in MODEL_NAMES},
        "ceiling": _mean(per_seed["ceiling"]),
        "per_size": {name: {s: _mean(runs) for s, runs in by_size.items()} for name, by_size in per_seed_size.items()},
        "per_seed": per_seed,
    }


def _cumulative_hits(counts: list[np.ndarray], sizes_of: np.ndarray, rounds: int) -> np.ndarray:
    """Groups x rounds: group hits after each round (a session that ran out keeps its count)."""
    hits = np.zeros((len(counts), rounds), dtype=np.int64)
    for index, (into_it, size) in enumerate(zip(counts, sizes_of)):
        per_round = np.zeros(rounds, dtype=np.int64)
        per_round[: into_it.size] = [is_group_hit(int(c), int(size)) for c in into_it]
        hits[index] = np.cumsum(per_round)
    return hits


def _figures(
    hits: np.ndarray, into_it: list[np.ndarray] | None, sizes_of: np.ndarray, *, chosen: np.ndarray
) -> dict[str, float]:
    """The reported figures of the `chosen` groups: hits (groups x rounds) after the reported rounds and,
    for a method (`into_it`: its Into it votes per group and round), the share of votes that are Into it."""
    figures = {f"hits@{r}": float(hits[chosen, r - 1].mean()) for r in REPORTED_ROUNDS if r <= hits.shape[1]}
    if into_it is not None:
        yes = sum(int(into_it[i].sum()) for i in chosen)
        votes = sum(int(into_it[i].size * sizes_of[i]) for i in chosen)
        figures["into_it_rate"] = yes / votes if votes else 0.0
    figures["groups"] = int(chosen.size)
    return figures


def _mean(runs: list[dict]) -> dict[str, float]:
    keys = [key for key in runs[0] if key not in ("seed", "groups")]
    summary: dict[str, float] = {key: float(np.mean([r[key] for r in runs])) for key in keys}
    summary["groups"] = int(np.mean([r["groups"] for r in runs]))
    return summary
