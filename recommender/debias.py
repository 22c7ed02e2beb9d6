"""Popularity debiasing: a re-ranking penalty on artists that everyone already listens to.

penalised score = score - penalty * scale * log(1 + listeners) / log(1 + most listeners)

where `scale` is the row's best score. Scaling by the best score makes a penalty mean the same for a
heavy listener (scores near 1) and for a member with three likes (scores near 0.05): penalty 0.1
costs the most popular artist a tenth of the best score the row has. The log follows the long tail:
from 1 to 10 listeners matters as much as from 100 to 1,000. The penalty only reorders; the scores
a member sees (and their explanations) stay the model's own.
"""

from __future__ import annotations

from typing import Any, Self

import numpy as np
import scipy.sparse as sp

from recommender.models.base import Recommender

#: Chosen by measurement (benchmarks/results/report/report.md, which gives the figures): the most
#: long-tail exposure whose NDCG@10 stays within the report's tolerance of the best penalty's on P1 and
#: on P2 (`report.choose_penalty`), on the validation seeds and on seeds 0-2 alike.
DEFAULT_POPULARITY_PENALTY = 0.5


def listener_counts(plays: sp.csr_matrix) -> np.ndarray:
    """Distinct listeners per artist (column)."""
    plays = sp.csr_matrix(plays)
    return np.bincount(plays.indices[plays.data > 0], minlength=plays.shape[1]).astype(np.float64)


def normalised_log_popularity(listeners: np.ndarray) -> np.ndarray:
    """log(1 + listeners) / log(1 + max listeners), in [0, 1]."""
    listeners = np.asarray(listeners, dtype=np.float64)
    top = np.log1p(listeners.max()) if listeners.size else 0.0
    if top <= 0:
        return np.zeros_like(listeners)
    return np.log1p(listeners) / top


def rerank(scores: np.ndarray, popularity: np.ndarray, penalty: float) -> np.ndarray:
    """Scores to rank by: `scores` (users x artists, or one row) minus the popularity penalty.

    `popularity` is `normalised_log_popularity(...)`, one entry per column. Penalty 0 returns the
    scores unchanged (the same array)."""
    if penalty < 0:
        raise ValueError("the popularity penalty must be >= 0")
    if penalty == 0:
        return scores
    scores = np.asarray(scores)
    finite = np.where(np.isfinite(scores), scores, -np.inf)
    scale = np.max(finite, axis=-1, keepdims=True)
    # A row with no positive score has nothing to be a share of; its order is left alone.
    scale = np.where(np.isfinite(scale) & (scale > 0), scale, 0.0)
    return (scores - penalty * scale * np.asarray(popularity, dtype=np.float32)).astype(np.float32, copy=False)


class PopularityPenalised(Recommender):
    """Any model, re-ranked with `rerank`; the popularity is counted on the training matrix."""

    name = "popularity-penalised"

    def __init__(
        self, base: Recommender, penalty: float = DEFAULT_POPULARITY_PENALTY, popularity: np.ndarray | None = None
    ) -> None:
        """`popularity` (normalised, one per artist) with an already fitted `base` skips `fit`, so one
        fitted model can be re-ranked at several penalties."""
        if penalty < 0:
            raise ValueError("the popularity penalty must be >= 0")
        self.base = base
        self.penalty = penalty
        self.popularity = popularity

    @property
    def scores_new_users(self) -> bool:  # type: ignore[override]
        return self.base.scores_new_users

    def fit(self, plays: sp.csr_matrix) -> Self:
        self.base.fit(plays)
        self.popularity = normalised_log_popularity(listener_counts(plays))
        return self

    def score(self, rows: sp.csr_matrix, users: np.ndarray | None = None) -> np.ndarray:
        assert self.popularity is not None, "model used before fit"
        return rerank(self.base.score(rows, users), self.popularity, self.penalty)

    def parameters(self) -> dict[str, Any]:
        return {"penalty": self.penalty, "base": self.base.name, "base_parameters": self.base.parameters()}

    def arrays(self) -> dict[str, np.ndarray]:
        assert self.popularity is not None
        return self.base.arrays() | {"popularity": self.popularity}

    @classmethod
    def restore(cls, parameters: dict[str, Any], arrays: dict[str, np.ndarray]) -> Self:
        raise NotImplementedError("snapshots keep the base model; wrap it again after loading")
