"""Implicit-feedback ALS (Hu, Koren and Volinsky 2008) on BM25-weighted play counts.

Training uses the `implicit` library. New and changed users are solved exactly against the fitted
artist factors instead (the same least-squares step ALS itself takes), which is what lets a like count
before the next refit, and makes every score decompose exactly into one share per liked artist.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Self

import numpy as np
import scipy.sparse as sp
from implicit.cpu.als import AlternatingLeastSquares

from recommender.models.base import Recommender
from recommender.weighting import Weighting


@dataclass(frozen=True)
class ALSConfig:
    """Defaults tuned on protocol P1 (BENCHMARKS.md); see README, "How the model was tuned"."""

    factors: int = 64
    regularization: float = 40.0
    alpha: float = 1.0
    iterations: int = 15
    weighting: str = "bm25"
    k1: float = 0.5
    b: float = 0.0
    random_state: int = 0


TUTORIAL_CONFIG = ALSConfig(factors=50, regularization=0.01, alpha=1.0, iterations=10, weighting="raw")
LOG_CONFIG = ALSConfig(factors=100, regularization=0.01, alpha=1.0, iterations=15, weighting="log")


class ALSRecommender(Recommender):
    name = "als"

    def __init__(self, config: ALSConfig = ALSConfig()) -> None:
        self.config = config
        self.weighting: Weighting | None = None
        self.user_factors: np.ndarray | None = None
        self.item_factors: np.ndarray | None = None
        self._gram: np.ndarray | None = None

    # -- training -------------------------------------------------------------------------------

    def fit(
        self,
        plays: sp.csr_matrix,
        show_progress: bool = False,
        initial: tuple[np.ndarray, np.ndarray] | None = None,
        iterations: int | None = None,
    ) -> Self:
        """Fit on `plays`. `initial` (user factors, item factors) shaped like the result warm-starts
        the iterations, e.g. from the previous snapshot, so that fewer `iterations` are needed."""
        config = self.config
        self.weighting = Weighting.fit(plays, config.weighting, config.k1, config.b)
        weighted = self.weighting.transform(plays)
        model = AlternatingLeastSquares(
            factors=config.factors,
            regularization=config.regularization,
            alpha=config.alpha,
            iterations=iterations or config.iterations,
            random_state=config.random_state,
            calculate_training_loss=False,
        )
        if initial is not None:
            user_factors, item_factors = initial
            if user_factors.shape != (plays.shape[0], config.factors) or item_factors.shape != (plays.shape[1], config.factors):
                raise ValueError("initial factors do not match the matrix and the configuration")
            # implicit only initialises factors that are None; copies, since it updates them in place.
            model.user_factors = np.array(user_factors, dtype=np.float32)
            model.item_factors = np.array(item_factors, dtype=np.float32)
        model.fit(weighted, show_progress=show_progress)
        self._set_factors(np.asarray(model.user_factors), np.asarray(model.item_factors))
        return self

    def factors_for(self, previous_keys: np.ndarray, previous_artists: np.ndarray, user_keys: np.ndarray, artist_ids: np.ndarray, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """This model's factors re-indexed to another matrix's rows and columns, for a warm start;
        rows and columns it has never seen start small and random, as in a cold fit."""
        assert self.user_factors is not None and self.item_factors is not None
        rng = np.random.default_rng(seed)
        return (
            _reindex(self.user_factors, previous_keys.astype(str), user_keys.astype(str), rng),
            _reindex(self.item_factors, previous_artists, artist_ids, rng),
        )

    def _set_factors(self, user_factors: np.ndarray, item_factors: np.ndarray) -> None:
        self.user_factors = np.ascontiguousarray(user_factors, dtype=np.float32)
        self.item_factors = np.ascontiguousarray(item_factors, dtype=np.float32)
        item64 = self.item_factors.astype(np.float64)
        self._gram = item64.T @ item64

    @property
    def n_items(self) -> int:
        assert self.item_factors is not None, "model used before fit"
        return self.item_factors.shape[0]

    # -- scoring --------------------------------------------------------------------------------

    def score(self, rows: sp.csr_matrix, users: np.ndarray | None = None) -> np.ndarray:
        assert self.item_factors is not None and self.user_factors is not None, "model used before fit"
        if users is not None:
            vectors = self.user_factors[np.asarray(users)]
        else:
            vectors = self.user_vectors(rows)
        return vectors @ self.item_factors.T

    def user_vectors(self, rows: sp.csr_matrix) -> np.ndarray:
        """Exact least-squares user factors for each row, given the fitted artist factors."""
        rows = self._confidences(rows)
        vectors = np.zeros((rows.shape[0], self.config.factors), dtype=np.float32)
        for user in range(rows.shape[0]):
            system, target, _, _ = self._normal_equations(rows, user)
            if target is not None:
                vectors[user] = np.linalg.solve(system, target)
        return vectors

    def contributions(self, row: sp.csr_matrix, item: int) -> tuple[np.ndarray, np.ndarray]:
        """How much each positively weighted artist in `row` adds to the score of `item`.

        score = y_i' A^-1 sum_j c_j y_j, so artist j contributes c_j y_i' A^-1 y_j; the shares sum to
        the score exactly. Returns (artist columns, contributions), largest first.
        """
        columns, shares = self.contribution_matrix(row, np.array([item]))
        order = np.argsort(-shares[:, 0], kind="stable")
        return columns[order], shares[order, 0]

    def contribution_matrix(self, row: sp.csr_matrix, items: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """`contributions` for many items at once, with one solve: (artist columns, shares), where
        shares[k, i] is what the row's artist columns[k] adds to the score of items[i]."""
        confidences = self._confidences(row)
        system, target, columns, weights = self._normal_equations(confidences, 0)
        items = np.asarray(items, dtype=np.int64)
        if target is None:
            return np.empty(0, dtype=np.int64), np.empty((0, items.size))
        assert self.item_factors is not None
        directions = np.linalg.solve(system, self.item_factors[items].astype(np.float64).T)
        positive = weights > 0
        columns, weights = columns[positive], weights[positive]
        shares = weights[:, None] * (self.item_factors[columns].astype(np.float64) @ directions)
        return columns, shares

    def _confidences(self, rows: sp.csr_matrix) -> sp.csr_matrix:
        """alpha * weighting, keeping the sign: negative entries are "not interested" marks."""
        assert self.weighting is not None, "model used before fit"
        rows = sp.csr_matrix(rows, dtype=np.float32)[:, : self.n_items]
        signs = np.sign(rows.data)
        magnitudes = sp.csr_matrix((np.abs(rows.data), rows.indices, rows.indptr), shape=rows.shape)
        weighted = self.weighting.transform(magnitudes, keep_structure=True)
        weighted.data *= self.config.alpha * signs
        weighted.eliminate_zeros()
        return weighted

    def _normal_equations(self, confidences: sp.csr_matrix, user: int):
        """A = Y'Y + reg I + sum_j e_j y_j y_j',  b = sum_{c_j > 0} c_j y_j.

        For a listened or liked artist e_j = c_j - 1, as in implicit's training. A "not interested"
        mark uses e_j = |c_j|: with implicit's |c_j| - 1, a mark on an artist most users play
        (|c_j| < 1) would weigh less than no mark at all and raise the artist's score.
        """
        assert self.item_factors is not None and self._gram is not None
        start, end = confidences.indptr[user], confidences.indptr[user + 1]
        columns = confidences.indices[start:end]
        weights = confidences.data[start:end].astype(np.float64)
        if not np.any(weights > 0):
            return None, None, columns, weights
        factors = self.item_factors[columns].astype(np.float64)
        system = self._gram + self.config.regularization * np.eye(self.config.factors)
        extra = np.where(weights > 0, weights - 1.0, -weights)
        system += (factors.T * extra) @ factors
        target = factors.T @ np.where(weights > 0, weights, 0.0)
        return system, target, columns, weights

    # -- similar artists ------------------------------------------------------------------------

    def similar_items(self, item: int, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Artists whose factors point the same way (cosine), the artist itself left out."""
        assert self.item_factors is not None
        norms = np.linalg.norm(self.item_factors, axis=1)
        norms[norms == 0] = 1.0
        cosine = (self.item_factors @ self.item_factors[item]) / (norms * norms[item])
        cosine[item] = -np.inf
        n = min(n, cosine.size - 1)
        best = np.argpartition(-cosine, n - 1)[:n] if n > 0 else np.empty(0, dtype=np.int64)
        best = best[np.argsort(-cosine[best], kind="stable")]
        return best, cosine[best]

    # -- persistence ----------------------------------------------------------------------------

    def parameters(self) -> dict[str, Any]:
        assert self.weighting is not None
        return {"config": asdict(self.config), "weighting": self.weighting.parameters()}

    def arrays(self) -> dict[str, np.ndarray]:
        assert self.weighting is not None and self.user_factors is not None and self.item_factors is not None
        arrays = {"user_factors": self.user_factors, "item_factors": self.item_factors}
        if self.weighting.idf is not None:
            arrays["idf"] = self.weighting.idf
        return arrays

    @classmethod
    def restore(cls, parameters: dict[str, Any], arrays: dict[str, np.ndarray]) -> Self:
        model = cls(ALSConfig(**parameters["config"]))
        weighting = dict(parameters["weighting"])
        model.weighting = Weighting(idf=arrays.get("idf"), **weighting)
        model._set_factors(arrays["user_factors"], arrays["item_factors"])
        if model.item_factors.shape[1] != model.config.factors:
            raise ValueError("factor arrays do not match the saved configuration")
        return model


def _reindex(factors: np.ndarray, old_ids: np.ndarray, new_ids: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    position = {value: i for i, value in enumerate(old_ids.tolist())}
    out = (rng.random((len(new_ids), factors.shape[1]), dtype=np.float32) * 0.01).astype(np.float32)
    found = [(i, position[v]) for i, v in enumerate(new_ids.tolist()) if v in position]
    if found:
        new_rows, old_rows = map(np.array, zip(*found))
        out[new_rows] = factors[old_rows]
    return out
