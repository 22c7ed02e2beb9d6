"""Turning score matrices into top-n lists."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def top_n(scores: np.ndarray, n: int, exclude: sp.csr_matrix | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Best `n` columns of each row of `scores`, best first; columns stored in `exclude` never appear.

    Rows with fewer than `n` eligible columns are padded with index -1 and score -inf.
    """
    scores = np.array(scores, dtype=np.float32, copy=True, ndmin=2)
    if exclude is not None and exclude.nnz:
        rows, cols = exclude.nonzero()
        scores[rows, cols] = -np.inf
    n_columns = scores.shape[1]
    n = max(0, min(n, n_columns))
    if n == 0:
        return np.empty((scores.shape[0], 0), dtype=np.int64), np.empty((scores.shape[0], 0), dtype=np.float32)
    if n < n_columns:
        candidates = np.argpartition(-scores, n - 1, axis=1)[:, :n]
    else:
        candidates = np.tile(np.arange(n_columns), (scores.shape[0], 1))
    candidate_scores = np.take_along_axis(scores, candidates, axis=1)
    order = np.argsort(-candidate_scores, axis=1, kind="stable")
    ids = np.take_along_axis(candidates, order, axis=1)
    best = np.take_along_axis(candidate_scores, order, axis=1)
    ids[~np.isfinite(best)] = -1
    return ids, best
