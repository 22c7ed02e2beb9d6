"""Top-k ranking metrics with binary relevance.

Definitions (k = 10 in every protocol):
- precision@k: hits / k.
- recall@k: hits / |relevant|.
- NDCG@k: DCG over the k positions with 1/log2(rank + 1) discount, divided by the DCG of an ideal
  list that puts min(k, |relevant|) hits first.
- MAP@k: the mean over users of sum over hit positions of precision@position, divided by
  min(k, |relevant|).
Users with no relevant items are skipped.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

METRIC_NAMES = ("ndcg", "precision", "recall", "map")


def ranking_metrics(
    recommended: np.ndarray, relevant: sp.csr_matrix | list[np.ndarray], k: int = 10
) -> dict[str, float]:
    """Mean metrics over users. `recommended[u]` is user u's ranked item list (length >= k, -1 pads)."""
    per_user = per_user_metrics(recommended, relevant, k)
    if not per_user["ndcg"].size:
        return {f"{name}@{k}": 0.0 for name in METRIC_NAMES} | {"users": 0}
    return {f"{name}@{k}": float(values.mean()) for name, values in per_user.items()} | {
        "users": int(per_user["ndcg"].size)
    }


def per_user_metrics(
    recommended: np.ndarray, relevant: sp.csr_matrix | list[np.ndarray], k: int = 10
) -> dict[str, np.ndarray]:
    rows = _as_lists(relevant)
    discount = 1.0 / np.log2(np.arange(2, k + 2))
    positions = np.arange(1, k + 1)
    out: dict[str, list[float]] = {name: [] for name in METRIC_NAMES}
    for user, truth in enumerate(rows):
        if len(truth) == 0:
            continue
        top = np.asarray(recommended[user][:k])
        hits = np.isin(top, truth).astype(np.float64)
        if hits.size < k:
            hits = np.pad(hits, (0, k - hits.size))
        ideal_hits = min(k, len(truth))
        out["ndcg"].append(float(hits @ discount / discount[:ideal_hits].sum()))
        out["precision"].append(hits.sum() / k)
        out["recall"].append(hits.sum() / len(truth))
        out["map"].append(float((hits * np.cumsum(hits) / positions).sum() / ideal_hits))
    return {name: np.asarray(values) for name, values in out.items()}


def _as_lists(relevant: sp.csr_matrix | list[np.ndarray]) -> list[np.ndarray]:
    if sp.issparse(relevant):
        matrix = sp.csr_matrix(relevant)
        return [matrix.indices[matrix.indptr[u] : matrix.indptr[u + 1]] for u in range(matrix.shape[0])]
    return [np.asarray(r) for r in relevant]
