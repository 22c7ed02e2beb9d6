"""Reference models that Encore is measured against (protocol P1, benchmarks/README.md)."""

from __future__ import annotations

from typing import Any, Self

import numpy as np
import scipy.sparse as sp
from implicit.cpu.bpr import BayesianPersonalizedRanking
from implicit.nearest_neighbours import CosineRecommender

from recommender.models.base import Recommender


def _binary(plays: sp.csr_matrix) -> sp.csr_matrix:
    binary = sp.csr_matrix(plays, dtype=np.float32, copy=True)
    binary.data = (binary.data > 0).astype(np.float32)
    binary.eliminate_zeros()
    return binary


class MostPopular(Recommender):
    """Every user gets the artists with the most listeners."""

    name = "most-popular"

    def __init__(self) -> None:
        self.listeners: np.ndarray | None = None

    def fit(self, plays: sp.csr_matrix) -> Self:
        self.listeners = np.bincount(_binary(plays).indices, minlength=plays.shape[1]).astype(np.float32)
        return self

    def score(self, rows: sp.csr_matrix, users: np.ndarray | None = None) -> np.ndarray:
        assert self.listeners is not None
        return np.broadcast_to(self.listeners, (rows.shape[0], self.listeners.size))

    def parameters(self) -> dict[str, Any]:
        return {}

    def arrays(self) -> dict[str, np.ndarray]:
        assert self.listeners is not None
        return {"listeners": self.listeners}

    @classmethod
    def restore(cls, parameters: dict[str, Any], arrays: dict[str, np.ndarray]) -> Self:
        model = cls()
        model.listeners = arrays["listeners"]
        return model


class ItemKNNRecommender(Recommender):
    """Item-based nearest neighbours: cosine similarity on binary listening, K neighbours kept."""

    name = "item-knn"

    def __init__(self, neighbours: int = 100) -> None:
        self.neighbours = neighbours
        self.similarity: sp.csr_matrix | None = None

    def fit(self, plays: sp.csr_matrix) -> Self:
        model = CosineRecommender(K=self.neighbours)
        model.fit(_binary(plays), show_progress=False)
        self.similarity = sp.csr_matrix(model.similarity, dtype=np.float32)
        return self

    def score(self, rows: sp.csr_matrix, users: np.ndarray | None = None) -> np.ndarray:
        assert self.similarity is not None
        liked = _binary(rows.maximum(0))[:, : self.similarity.shape[0]]
        return np.asarray((liked @ self.similarity).todense())

    def similar_items(self, item: int, n: int) -> tuple[np.ndarray, np.ndarray]:
        assert self.similarity is not None
        row = self.similarity[item].toarray().ravel()
        row[item] = -np.inf
        best = np.argsort(-row, kind="stable")[:n]
        best = best[row[best] > 0]
        return best, row[best]

    def parameters(self) -> dict[str, Any]:
        return {"neighbours": self.neighbours}

    def arrays(self) -> dict[str, np.ndarray]:
        assert self.similarity is not None
        s = self.similarity
        return {"data": s.data, "indices": s.indices, "indptr": s.indptr, "shape": np.array(s.shape)}

    @classmethod
    def restore(cls, parameters: dict[str, Any], arrays: dict[str, np.ndarray]) -> Self:
        model = cls(**parameters)
        shape = tuple(int(x) for x in arrays["shape"])
        model.similarity = sp.csr_matrix((arrays["data"], arrays["indices"], arrays["indptr"]), shape=shape)
        return model


class BPRRecommender(Recommender):
    """Bayesian personalised ranking on binary listening (implicit's implementation)."""

    name = "bpr"
    scores_new_users = False

    def __init__(self, factors: int = 64, iterations: int = 100, random_state: int = 0) -> None:
        self.factors, self.iterations, self.random_state = factors, iterations, random_state
        self.user_factors: np.ndarray | None = None
        self.item_factors: np.ndarray | None = None

    def fit(self, plays: sp.csr_matrix) -> Self:
        model = BayesianPersonalizedRanking(
            factors=self.factors, iterations=self.iterations, random_state=self.random_state
        )
        model.fit(_binary(plays), show_progress=False)
        self.user_factors, self.item_factors = np.asarray(model.user_factors), np.asarray(model.item_factors)
        return self

    def score(self, rows: sp.csr_matrix, users: np.ndarray | None = None) -> np.ndarray:
        if users is None:
            raise NotImplementedError("BPR scores only users it was trained on")
        assert self.user_factors is not None and self.item_factors is not None
        return self.user_factors[np.asarray(users)] @ self.item_factors.T

    def parameters(self) -> dict[str, Any]:
        return {"factors": self.factors, "iterations": self.iterations, "random_state": self.random_state}

    def arrays(self) -> dict[str, np.ndarray]:
        assert self.user_factors is not None and self.item_factors is not None
        return {"user_factors": self.user_factors, "item_factors": self.item_factors}

    @classmethod
    def restore(cls, parameters: dict[str, Any], arrays: dict[str, np.ndarray]) -> Self:
        model = cls(**parameters)
        model.user_factors, model.item_factors = arrays["user_factors"], arrays["item_factors"]
        return model
