"""Protocol P3 of the evaluation (benchmarks/README.md, "P3, groups of friends"): recommendations for
groups of friends (blends).

How the groups are drawn, where the protocol leaves it open:
- For each size s in 2..5, `groups_per_size` groups (100 by default): an anchor drawn uniformly among
  the users with at least s - 1 friends, then s - 1 of those friends drawn uniformly. Every member
  must have at least 5 + 5 artists (P2's rule for k = 5 likes); friends with fewer do not count as
  friends here, and anchors left with too few are never drawn. A member set drawn twice is skipped,
  and so is a group whose truth is empty; both are replaced by a new draw, so every size has the full
  count unless `MAX_DRAWS` draws run out (the count reached is reported).
- One `numpy.random.default_rng(seed)` draws, in order: the size-2 groups, the size-3 groups, ...;
  within a group the anchor, the friends, then each member's 5 likes. A user in two groups gets
  independent likes in each.
- All members of all groups are held out of training, as in P2. Holding out 1,400 member slots at once
  would leave little to train on, so the groups are split, in drawing order, into batches whose
  members are at most 10 % of the users (P2's share); one model is fitted per batch without them.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from recommender import groups as blends
from recommender.evaluation.metrics import ranking_metrics
from recommender.evaluation.protocols import K, Progress, like_rows
from recommender.interactions import Interactions, lastfm_user_key
from recommender.models import MostPopular
from recommender.models.registry import MEMBER_MODEL, make_model

GROUP_SIZES = (2, 3, 4, 5)
GROUP_LIKES = 5
GROUPS_PER_SIZE = 100
MIN_ARTISTS = GROUP_LIKES + 5
HELD_OUT_SHARE = 0.1
#: Draws allowed per wanted group before a size gives up with fewer groups.
MAX_DRAWS = 50

DEFAULT_NAME = "encore-blend"
BASELINES = ("most-popular", "merged-lists")


def _variants() -> dict[str, tuple[str, str]]:
    """name -> (strategy, normalisation): every strategy at the default scale as "blend-STRATEGY",
    and the strategies that use a scale at the other scales as "blend-STRATEGY/SCALE"."""
    variants = {}
    for strategy in blends.STRATEGIES:
        variants[f"blend-{strategy}"] = (strategy, blends.DEFAULT_NORMALISATION)
    for strategy in blends.STRATEGIES:
        if strategy in blends.RANK_STRATEGIES:
            continue
        for normalisation in blends.NORMALISATIONS:
            # The average of rank percentiles is the Borda count, measured already.
            if normalisation != blends.DEFAULT_NORMALISATION and (strategy, normalisation) != ("average", "rank"):
                variants[f"blend-{strategy}/{normalisation}"] = (strategy, normalisation)
    return variants


VARIANTS = _variants()
MODEL_NAMES = (DEFAULT_NAME, *BASELINES, *VARIANTS)


def _quiet(_: str) -> None:
    pass


@dataclass(frozen=True)
class Group:
    members: np.ndarray  # rows of the full play matrix; the anchor first
    likes: tuple[np.ndarray, ...]  # per member, sorted artist columns
    truth: np.ndarray  # sorted artist columns

    @property
    def size(self) -> int:
        return int(self.members.size)


# -- data -----------------------------------------------------------------------------------------


def friendship_matrix(interactions: Interactions, user_ids: Iterable[int], friend_ids: Iterable[int]) -> sp.csr_matrix:
    """Users x users, 1 where the pair is friends (either way round) in user_friends.dat; pairs
    with a user not in the play matrix are dropped."""
    pairs = [
        (interactions.user_row(lastfm_user_key(u)), interactions.user_row(lastfm_user_key(f)))
        for u, f in zip(user_ids, friend_ids)
    ]
    pairs = [(a, b) for a, b in pairs if a is not None and b is not None and a != b]
    n = interactions.shape[0]
    rows = np.array([a for a, _ in pairs] + [b for _, b in pairs], dtype=np.int64)
    cols = np.array([b for _, b in pairs] + [a for a, _ in pairs], dtype=np.int64)
    matrix = sp.csr_matrix((np.ones(rows.size, dtype=np.float32), (rows, cols)), shape=(n, n))
    matrix.data[:] = 1.0  # a pair listed both ways is summed by the constructor
    return matrix


def group_truth(plays: sp.csr_matrix, members: np.ndarray, likes: Iterable[np.ndarray]) -> np.ndarray:
    """Artists that at least two members, and at least half of the group, listen to, minus every
    member's likes."""
    rows = sp.csr_matrix(plays[np.asarray(members)])
    listeners = np.bincount(rows.indices[rows.data > 0], minlength=plays.shape[1])
    needed = max(2, math.ceil(len(members) / 2))
    liked = (
        np.concatenate([np.asarray(member_likes, dtype=np.int64) for member_likes in likes])
        if members.size
        else np.empty(0, np.int64)
    )
    return np.setdiff1d(np.flatnonzero(listeners >= needed), liked)


def draw_groups(
    plays: sp.csr_matrix,
    friends: sp.csr_matrix,
    seed: int,
    sizes: Iterable[int] = GROUP_SIZES,
    per_size: int = GROUPS_PER_SIZE,
    likes: int = GROUP_LIKES,
) -> list[Group]:
    """The groups of one seed, as the module docstring describes."""
    rng = np.random.default_rng(seed)
    artist_counts = np.diff(plays.indptr)
    eligible = artist_counts >= likes + 5
    friends = sp.csr_matrix(friends)
    pals = []
    for user in range(plays.shape[0]):
        theirs = friends.indices[friends.indptr[user] : friends.indptr[user + 1]]
        pals.append(theirs[eligible[theirs]] if eligible[user] else np.empty(0, dtype=np.int64))
    pal_counts = np.array([p.size for p in pals])
    groups: list[Group] = []
    seen: set[frozenset[int]] = set()
    for size in sizes:
        anchors = np.flatnonzero(pal_counts >= size - 1)
        found = 0
        for _ in range(per_size * MAX_DRAWS):
            if found == per_size or anchors.size == 0:
                break
            anchor = int(rng.choice(anchors))
            members = np.concatenate([[anchor], rng.choice(pals[anchor], size=size - 1, replace=False)]).astype(
                np.int64
            )
            member_likes = tuple(
                np.sort(rng.choice(plays.indices[plays.indptr[m] : plays.indptr[m + 1]], size=likes, replace=False))
                for m in members
            )
            key = frozenset(members.tolist())
            if key in seen:
                continue
            truth = group_truth(plays, members, member_likes)
            if truth.size == 0:
                continue
            seen.add(key)
            groups.append(Group(members, member_likes, truth))
            found += 1
    return groups


def held_out_batches(groups: list[Group], max_members: int) -> list[list[int]]:
    """Consecutive runs of groups (indices) whose members together are at most `max_members` users."""
    batches: list[list[int]] = []
    members: set[int] = set()
    for index, group in enumerate(groups):
        joined = members | set(group.members.tolist())
        if batches and len(joined) <= max_members:
            batches[-1].append(index)
            members = joined
        else:
            batches.append([index])
            members = set(group.members.tolist())
    return batches


# -- evaluation -----------------------------------------------------------------------------------


def recommend_all(scores: np.ndarray, popular: np.ndarray, group: Group) -> dict[str, np.ndarray]:
    """Every method's top K for one group, from its members' raw scores (members x artists)."""
    held = np.unique(np.concatenate(group.likes))
    top = {
        DEFAULT_NAME: np.array([p.column for p in blends.blend_scores(scores, held, K)], dtype=np.int64),
        "most-popular": blends.best_columns(popular, K, held),
        "merged-lists": blends.merged_lists_from_scores(scores, held, K),
    }
    scales = {normalisation: blends.normalise(scores, normalisation) for normalisation in blends.NORMALISATIONS}
    for name, (strategy, normalisation) in VARIANTS.items():
        values = scales["rank"] if strategy in blends.RANK_STRATEGIES else scales[normalisation]
        top[name] = blends.best_columns(blends.aggregate(values, strategy), K, held)
    return top


def _padded(columns: np.ndarray) -> np.ndarray:
    out = np.full(K, -1, dtype=np.int64)
    out[: min(K, columns.size)] = columns[:K]
    return out


def evaluate_groups(
    plays: sp.csr_matrix,
    friends: sp.csr_matrix,
    seeds: Iterable[int],
    like_plays: float,
    groups_per_size: int = GROUPS_PER_SIZE,
    sizes: Iterable[int] = GROUP_SIZES,
    progress: Progress = _quiet,
) -> dict:
    """P3 for every seed; metrics are means over a seed's groups, then over seeds."""
    seeds, sizes = list(seeds), list(sizes)
    plays = sp.csr_matrix(plays)
    max_members = int(round(HELD_OUT_SHARE * plays.shape[0]))
    per_seed: dict[str, list[dict]] = {name: [] for name in MODEL_NAMES}
    per_seed_size: dict[str, dict[str, list[dict]]] = {name: {str(s): [] for s in sizes} for name in MODEL_NAMES}
    fit_seconds: list[float] = []
    blend_ms: dict[str, list[float]] = {str(s): [] for s in sizes}
    drawn: dict[str, list[int]] = {str(s): [] for s in sizes}
    for seed in seeds:
        groups = draw_groups(plays, friends, seed, sizes, groups_per_size)
        for size in sizes:
            drawn[str(size)].append(sum(g.size == size for g in groups))
        tops = {name: np.full((len(groups), K), -1, dtype=np.int64) for name in MODEL_NAMES}
        batches = held_out_batches(groups, max_members)
        for number, batch in enumerate(batches, 1):
            progress(f"P3 seed {seed}: batch {number} of {len(batches)} ({len(batch)} groups)")
            held_out = np.unique(np.concatenate([groups[i].members for i in batch]))
            train = plays[np.setdiff1d(np.arange(plays.shape[0]), held_out)]
            model = make_model(MEMBER_MODEL)
            started = time.perf_counter()
            model.fit(train)
            fit_seconds.append(time.perf_counter() - started)
            popular = MostPopular().fit(train).listeners
            assert popular is not None
            for index in batch:
                group = groups[index]
                scores = model.score(like_rows(list(group.likes), plays.shape[1], like_plays))
                for name, columns in recommend_all(scores, popular, group).items():
                    tops[name][index] = _padded(columns)
            # The in-process latency of one blend as the bot would run it: rows in, picks out.
            for index in batch:
                group = groups[index]
                rows = like_rows(list(group.likes), plays.shape[1], like_plays)
                started = time.perf_counter()
                blends.blend(model, rows, K)
                blend_ms[str(group.size)].append(1000 * (time.perf_counter() - started))
        truths = [g.truth for g in groups]
        for name in MODEL_NAMES:
            per_seed[name].append(ranking_metrics(tops[name], truths, K) | {"seed": seed})
            for size in sizes:
                chosen = [i for i, g in enumerate(groups) if g.size == size]
                result = ranking_metrics(tops[name][chosen], [truths[i] for i in chosen], K)
                per_seed_size[name][str(size)].append(result | {"seed": seed})
    return {
        "protocol": "groups",
        "seeds": seeds,
        "k": K,
        "like_plays": like_plays,
        "likes_per_member": GROUP_LIKES,
        "groups_per_size": groups_per_size,
        "groups_drawn": drawn,
        "default": {
            "name": DEFAULT_NAME,
            "strategy": blends.DEFAULT_STRATEGY,
            "normalisation": blends.DEFAULT_NORMALISATION,
        },
        "variants": {name: {"strategy": s, "normalisation": n} for name, (s, n) in VARIANTS.items()},
        "fits": len(fit_seconds),
        "fit_seconds_median": float(statistics.median(fit_seconds)) if fit_seconds else 0.0,
        "blend_ms_median": {size: float(statistics.median(ms)) for size, ms in blend_ms.items() if ms},
        "models": {name: _mean(runs) for name, runs in per_seed.items()},
        "per_size": {
            name: {size: _mean(runs) for size, runs in by_size.items()} for name, by_size in per_seed_size.items()
        },
        "per_seed": per_seed,
    }


def _mean(runs: list[dict]) -> dict[str, float]:
    metrics = [key for key in runs[0] if key.endswith(f"@{K}")]
    summary: dict[str, float] = {key: float(np.mean([r[key] for r in runs])) for key in metrics}
    summary["groups"] = int(np.mean([r["users"] for r in runs]))
    return summary
