"""The interface every Encore model implements.

Users are given to a model as rows of play counts, not ids, so that a Last.fm user, a Discord member
who joined a minute ago and a user held out in an evaluation all go through one path. A model that
keeps per-user state (ALS) may use `users`, the rows' indices in the training matrix, to skip work.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar, Self

import numpy as np
import scipy.sparse as sp

from recommender.ranking import top_n


class Recommender(ABC):
    name: ClassVar[str]
    #: False for models that can only score users they were trained on.
    scores_new_users: ClassVar[bool] = True

    @abstractmethod
    def fit(self, plays: sp.csr_matrix) -> Self:
        """Learn from a users x artists matrix of play counts (> 0)."""

    @abstractmethod
    def score(self, rows: sp.csr_matrix, users: np.ndarray | None = None) -> np.ndarray:
        """Dense scores (len(rows) x artists). Negative entries in `rows` mean "not interested"."""

    def recommend(self, rows: sp.csr_matrix, n: int, users: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top `n` artists per row, never one the row already holds (liked or marked)."""
        return top_n(self.score(rows, users), n, exclude=rows)

    def similar_items(self, item: int, n: int) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError(f"{self.name} has no notion of similar artists")

    @abstractmethod
    def parameters(self) -> dict[str, Any]:
        """JSON-serialisable settings, enough with `arrays()` to rebuild the fitted model."""

    @abstractmethod
    def arrays(self) -> dict[str, np.ndarray]:
        """The fitted state as plain numeric arrays (saved as .npz, never pickled)."""

    @classmethod
    @abstractmethod
    def restore(cls, parameters: dict[str, Any], arrays: dict[str, np.ndarray]) -> Self:
        """Inverse of parameters() + arrays()."""
