"""Protocols P1 (known users) and P2 (new members) of the evaluation (benchmarks/README.md, "P1, known users"
and "P2, new members")."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from implicit.evaluation import train_test_split

from recommender.evaluation.metrics import ranking_metrics
from recommender.models import MostPopular, Recommender
from recommender.models.registry import MEMBER_MODEL, make_model
from recommender.ranking import top_n

K = 10
P1_MODELS = ("encore", "encore-als", "most-popular", "tutorial", "item-knn", "bpr", "als-log")
P2_LIKE_COUNTS = (1, 3, 5, 10)
Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


def recommend_in_batches(
    model: Recommender, rows: sp.csr_matrix, n: int, users: np.ndarray | None = None, batch: int = 512
) -> np.ndarray:
    parts = []
    for start in range(0, rows.shape[0], batch):
        stop = min(start + batch, rows.shape[0])
        chunk_users = users[start:stop] if users is not None else None
        ids, _ = model.recommend(rows[start:stop], n, users=chunk_users)
        parts.append(ids)
    return np.vstack(parts) if parts else np.empty((0, n), dtype=np.int64)


def _timed_fit(model: Recommender, plays: sp.csr_matrix) -> float:
    started = time.perf_counter()
    model.fit(plays)
    return time.perf_counter() - started


def evaluate_p1(
    plays: sp.csr_matrix, seeds: Iterable[int], models: Iterable[str] = P1_MODELS, progress: Progress = _quiet
) -> dict:
    """Random 80/20 split of the (user, artist) pairs; rank every artist the user has not trained on."""
    seeds, models = list(seeds), list(models)
    for name in models:
        make_model(name)  # reject an unknown name before any work
    per_seed: dict[str, list[dict]] = {name: [] for name in models}
    for seed in seeds:
        train, test = train_test_split(plays, 0.8, random_state=seed)
        train, test = sp.csr_matrix(train), sp.csr_matrix(test)
        users = np.flatnonzero(np.diff(test.indptr))
        for name in models:
            progress(f"P1 seed {seed}: {name}")
            model = make_model(name)
            fit_seconds = _timed_fit(model, train)
            top = recommend_in_batches(model, train[users], K, users=users)
            result = ranking_metrics(top, test[users], K)
            per_seed[name].append(result | {"fit_seconds": fit_seconds, "seed": seed})
    return {"protocol": "p1", "seeds": seeds, "k": K, "models": _summarise(per_seed), "per_seed": per_seed}


@dataclass(frozen=True)
class NewMemberSplit:
    """Held-out users of one P2 seed, with their drawn likes and the truth for each like count."""

    train: sp.csr_matrix
    held_out: np.ndarray
    likes: dict[int, list[np.ndarray]]
    truth: dict[int, list[np.ndarray]]


def new_member_split(
    plays: sp.csr_matrix, seed: int, like_counts: Iterable[int] = P2_LIKE_COUNTS, held_out_share: float = 0.1
) -> NewMemberSplit:
    """Each k replays the seed's generator from the start, so the k = 5 draw is the same whether it is
    evaluated alone (benchmarks/p2_batch.py) or beside k = 1, 3 and 10 (`encore evaluate`)."""
    n_users = plays.shape[0]
    size = int(round(held_out_share * n_users))
    held_out = np.sort(np.random.default_rng(seed).choice(n_users, size=size, replace=False))
    keep = np.setdiff1d(np.arange(n_users), held_out)
    likes: dict[int, list[np.ndarray]] = {}
    truth: dict[int, list[np.ndarray]] = {}
    for k in like_counts:
        rng = np.random.default_rng(seed)
        rng.choice(n_users, size=size, replace=False)  # the held-out draw above
        likes[k], truth[k] = [], []
        for user in held_out:
            artists = plays.indices[plays.indptr[user] : plays.indptr[user + 1]]
            if artists.size < k + 5:
                continue
            drawn = rng.choice(artists, size=k, replace=False)
            likes[k].append(np.sort(drawn))
            truth[k].append(np.setdiff1d(artists, drawn))
    return NewMemberSplit(train=sp.csr_matrix(plays[keep]), held_out=held_out, likes=likes, truth=truth)


def like_rows(likes: list[np.ndarray], n_items: int, like_plays: float) -> sp.csr_matrix:
    """One row per member with `like_plays` pseudo plays on each liked artist."""
    indptr = np.concatenate([[0], np.cumsum([len(user_likes) for user_likes in likes])])
    indices = np.concatenate(likes) if likes else np.empty(0, dtype=np.int64)
    data = np.full(indices.size, like_plays, dtype=np.float32)
    return sp.csr_matrix((data, indices, indptr), shape=(len(likes), n_items))


def evaluate_p2(
    plays: sp.csr_matrix,
    seeds: Iterable[int],
    like_plays: float,
    like_counts: Iterable[int] = P2_LIKE_COUNTS,
    refit: bool = True,
    progress: Progress = _quiet,
) -> dict:
    """New members: hold out 10 % of users, give each k random likes, rank everything but the likes."""
    seeds, like_counts = list(seeds), list(like_counts)
    names = ["encore-instant"] + (["encore-refit"] if refit else []) + ["most-popular"]
    per_seed: dict[str, dict[str, list[dict]]] = {name: {f"k{k}": [] for k in like_counts} for name in names}
    for seed in seeds:
        split = new_member_split(plays, seed, like_counts)
        progress(f"P2 seed {seed}: fit")
        model = make_model(MEMBER_MODEL)
        fit_seconds = _timed_fit(model, split.train)
        popular = MostPopular().fit(split.train)
        for k in like_counts:
            rows = like_rows(split.likes[k], plays.shape[1], like_plays)
            progress(f"P2 seed {seed}: k={k}")
            results = {
                "encore-instant": recommend_in_batches(model, rows, K),
                "most-popular": top_n(popular.score(rows), K, exclude=rows)[0],
            }
            if refit:
                refitted = make_model(MEMBER_MODEL)
                combined = sp.vstack([split.train, rows]).tocsr()
                refit_seconds = _timed_fit(refitted, combined)
                members = np.arange(split.train.shape[0], combined.shape[0])
                results["encore-refit"] = recommend_in_batches(refitted, rows, K, users=members)
            for name, top in results.items():
                extra = {
                    "fit_seconds": fit_seconds
                    if name == "encore-instant"
                    else (refit_seconds if name == "encore-refit" else 0.0)
                }
                per_seed[name][f"k{k}"].append(ranking_metrics(top, split.truth[k], K) | extra | {"seed": seed})
    models = {name: {k: _summarise({"_": runs})["_"] for k, runs in by_k.items()} for name, by_k in per_seed.items()}
    return {"protocol": "p2", "seeds": seeds, "k": K, "like_plays": like_plays, "models": models, "per_seed": per_seed}


def _summarise(per_seed: dict[str, list[dict]]) -> dict[str, dict[str, float]]:
    """Mean of each metric over seeds; median fit time (timings are noisy, quality is not)."""
    summary = {}
    for name, runs in per_seed.items():
        metrics = [key for key in runs[0] if key.endswith(f"@{K}")]
        summary[name] = {key: float(np.mean([r[key] for r in runs])) for key in metrics}
        summary[name]["fit_seconds"] = float(statistics.median(r["fit_seconds"] for r in runs))
        summary[name]["users"] = int(np.mean([r["users"] for r in runs]))
    return summary
