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
    if scores.shape[0] == 1 and n * SAMPLE_STRIDE * 4 <= n_columns:
        found = _top_of_one_row(scores[0], n)
        if found is not None:
            return found
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


#: One row's top n: a bound from every SAMPLE_STRIDE-th score first, so that only the few hundred
#: scores above it are sorted (a serving request ranks one member over every artist).
SAMPLE_STRIDE = 64


def _top_of_one_row(row: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray] | None:
    """`top_n` of one row, or None when the sample gives no usable bound (too few finite scores).

    The n-th best of a sample is at most the n-th best of the row, so every artist of the row's top n
    scores at least that much: sorting those candidates alone gives the same answer."""
    sample = row[::SAMPLE_STRIDE]
    bound = np.partition(sample, sample.size - n)[sample.size - n]
    if not np.isfinite(bound):
        return None
    candidates = np.flatnonzero(row >= bound)
    # Best first; among equal scores the lower column first (candidates are in column order).
    order = np.argsort(-row[candidates], kind="stable")[:n]
    ids = candidates[order]
    return ids[None, :].astype(np.int64), row[ids][None, :]
