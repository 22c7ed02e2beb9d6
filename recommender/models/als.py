"""Implicit-feedback ALS (Hu, Koren and Volinsky 2008) on BM25-weighted play counts.

Training uses the `implicit` library. New and changed users are solved exactly against the fitted
artist factors instead (the same least-squares step ALS itself takes), which is what lets a like count
before the next refit, and makes every score decompose exactly into one share per liked artist.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Self

import numpy as np
import scipy.sparse as sp
from implicit.cpu.als import AlternatingLeastSquares
from threadpoolctl import threadpool_limits

from recommender.models.base import Recommender
from recommender.weighting import Weighting


@dataclass(frozen=True)
class ALSConfig:
    """Defaults tuned on protocol P1; see benchmarks/README.md, "How Encore recommends (the model measured)"."""

    factors: int = 64
    regularization: float = 40.0
    alpha: float = 1.0
    iterations: int = 15
    weighting: str = "bm25"
    k1: float = 0.5
    b: float = 0.0
    random_state: int = 0


#: (user factors, artist factors), one row per user and one per artist of the matrix.
Factors = tuple[np.ndarray, np.ndarray]

TUTORIAL_CONFIG = ALSConfig(factors=50, regularization=0.01, alpha=1.0, iterations=10, weighting="raw")
LOG_CONFIG = ALSConfig(factors=100, regularization=0.01, alpha=1.0, iterations=15, weighting="log")


@dataclass(frozen=True)
class SolvedUser:
    """One user's exact solve, kept so that scores and their explanations come from one solve."""

    vector: np.ndarray
    #: Column k is what the user's liked artist `columns[k]` adds to `vector`; they sum to it.
    per_artist: np.ndarray
    columns: np.ndarray


class ALSRecommender(Recommender):
    name = "als"

    def __init__(self, config: ALSConfig = ALSConfig()) -> None:
        self.config = config
        self.weighting: Weighting | None = None
        self._user_factors: np.ndarray | None = None
        #: Where the user factors are read from when they are not held (see `user_factors`).
        self._read_user_factors: Callable[[], np.ndarray] | None = None
        self.item_factors: np.ndarray | None = None
        self._gram: np.ndarray | None = None

    @property
    def user_factors(self) -> np.ndarray | None:
        """One row per user of the fitted matrix. Held after a fit; a model restored without them (a
        served snapshot, `restore` with `read_user_factors`) reads them from the snapshot's file at each
        use instead. Serving solves members from their likes and never needs them, and at a million
        members they are a bot process's largest array; only a warm start, a rewrite without some users
        and scoring by training row read them."""
        if self._user_factors is None and self._read_user_factors is not None:
            return self._read_user_factors()
        return self._user_factors

    @user_factors.setter
    def user_factors(self, factors: np.ndarray | None) -> None:
        self._user_factors, self._read_user_factors = factors, None

    @property
    def holds_user_factors(self) -> bool:
        """Whether the user factors are in memory (not read from a file on each use)."""
        return self._user_factors is not None

    # -- training -------------------------------------------------------------------------------

    def fit(
        self,
        plays: sp.csr_matrix,
        show_progress: bool = False,
        initial: Factors | None = None,
        iterations: int | None = None,
    ) -> Self:
        """Fit on `plays`. `initial` (user factors, item factors) shaped like the result warm-starts
        the iterations, e.g. from the previous snapshot, so that fewer `iterations` are needed."""
        config = self.config
        self.weighting = Weighting.fit(plays, config.weighting, config.k1, config.b)
        weighted = self.weighting.transform(plays)
        self._set_factors(*self._train(weighted, show_progress=show_progress, initial=initial, iterations=iterations))
        return self

    def _train(
        self, weighted: sp.csr_matrix, *, show_progress: bool, initial: Factors | None, iterations: int | None
    ) -> Factors:
        """(user factors, artist factors) fitted on the weighted matrix, with implicit; a subclass
        trains with another library by overriding this alone."""
        config = self.config
        # implicit runs its own threads and is slower (and warns, when built) if each also starts BLAS
        # threads; limiting BLAS here rather than by OPENBLAS_NUM_THREADS works whatever was imported first.
        with threadpool_limits(1, "blas"):
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
                if user_factors.shape != (weighted.shape[0], config.factors) or item_factors.shape != (
                    weighted.shape[1],
                    config.factors,
                ):
                    raise ValueError("initial factors do not match the matrix and the configuration")
                # implicit only initialises factors that are None; copies, since it updates them in place.
                model.user_factors = np.array(user_factors, dtype=np.float32)
                model.item_factors = np.array(item_factors, dtype=np.float32)
            model.fit(weighted, show_progress=show_progress)
        return np.asarray(model.user_factors), np.asarray(model.item_factors)

    def factors_for(
        self,
        previous_keys: np.ndarray,
        previous_artists: np.ndarray,
        user_keys: np.ndarray,
        artist_ids: np.ndarray,
        seed: int = 0,
    ) -> Factors:
        """This model's factors re-indexed to another matrix's rows and columns, for a warm start;
        rows and columns it has never seen start small and random, as in a cold fit."""
        user_factors = self.user_factors
        assert user_factors is not None and self.item_factors is not None
        rng = np.random.default_rng(seed)
        return (
            _reindex(user_factors, previous_keys.astype(str), user_keys.astype(str), rng),
            _reindex(self.item_factors, previous_artists, artist_ids, rng),
        )

    def _set_factors(self, user_factors: np.ndarray | None, item_factors: np.ndarray) -> None:
        if user_factors is not None:
            self.user_factors = np.ascontiguousarray(user_factors, dtype=np.float32)
        self.item_factors = np.ascontiguousarray(item_factors, dtype=np.float32)
        item64 = self.item_factors.astype(np.float64)
        self._gram = item64.T @ item64

    def with_items(self, factors: np.ndarray) -> Self:
        """A copy of this fitted model with artists appended, their factors given (placed ones, see
        recommender/placement.py); the Gram matrix is updated by theirs rather than recomputed."""
        assert self.item_factors is not None and self._gram is not None, "model used before fit"
        extra = np.ascontiguousarray(factors, dtype=np.float32).reshape(-1, self.item_factors.shape[1])
        model = copy.copy(self)
        model.item_factors = np.vstack([self.item_factors, extra])
        extra64 = extra.astype(np.float64)
        model._gram = self._gram + extra64.T @ extra64
        return model

    @property
    def n_items(self) -> int:
        assert self.item_factors is not None, "model used before fit"
        return self.item_factors.shape[0]

    # -- scoring --------------------------------------------------------------------------------

    def score(self, rows: sp.csr_matrix, users: np.ndarray | None = None) -> np.ndarray:
        assert self.item_factors is not None, "model used before fit"
        if users is not None:
            user_factors = self.user_factors
            assert user_factors is not None, "model used before fit"
            vectors = user_factors[np.asarray(users)]
        else:
            vectors = self.user_vectors(rows)
        return vectors @ self.item_factors.T

    def user_vectors(self, rows: sp.csr_matrix) -> np.ndarray:
        """Exact least-squares user factors for each row, given the fitted artist factors."""
        rows = sp.csr_matrix(rows)
        vectors = np.zeros((rows.shape[0], self.config.factors), dtype=np.float32)
        for user in range(rows.shape[0]):
            solved = self.solve(*_row_entries(rows, user))
            if solved is not None:
                vectors[user] = solved.vector
        return vectors

    def solve(
        self, columns: np.ndarray, plays: np.ndarray, confidence_scale: np.ndarray | None = None
    ) -> SolvedUser | None:
        """One user's exact solve from their entries (artist columns, plays; negative plays are
        "not interested" marks); None when nothing is liked or played. `confidence_scale`, one factor
        per entry, multiplies the entries' confidences (a listening session's "Not for me" votes count
        more than a standing mark: recommender/sessions.py).

        A = Y'Y + reg I + sum_j e_j y_j y_j' and the user vector is A^-1 sum_j c_j y_j, so artist j
        adds A^-1 c_j y_j to it. For a listened or liked artist e_j = c_j - 1, as in implicit's
        training. A "not interested" mark uses e_j = |c_j|: with implicit's |c_j| - 1, a mark on an
        artist most users play (|c_j| < 1) would weigh less than no mark at all and raise its score.
        """
        assert self.item_factors is not None and self._gram is not None and self.weighting is not None
        columns = np.asarray(columns, dtype=np.int64)
        plays = np.asarray(plays, dtype=np.float64)
        known = columns < self.n_items
        columns, plays = columns[known], plays[known]
        confidences = self.config.alpha * np.sign(plays) * self.weighting.weigh_row(columns, np.abs(plays))
        if confidence_scale is not None:
            confidences = confidences * np.asarray(confidence_scale, dtype=np.float64)[known]
        if not np.any(confidences > 0):
            return None
        factors = self.item_factors[columns].astype(np.float64)
        system = self._gram + self.config.regularization * np.eye(self.config.factors)
        extra = np.where(confidences > 0, confidences - 1.0, -confidences)
        system += (factors.T * extra) @ factors
        positive = confidences > 0
        per_artist = np.linalg.solve(system, (factors[positive] * confidences[positive, None]).T)
        return SolvedUser(per_artist.sum(axis=1), per_artist, columns[positive])

    def solve_row(self, row: sp.csr_matrix) -> SolvedUser | None:
        return self.solve(*_row_entries(sp.csr_matrix(row), 0))

    def scores_of(self, solved: SolvedUser | None) -> np.ndarray:
        """Scores of every artist for a solved user (all zero for None)."""
        assert self.item_factors is not None
        if solved is None:
            return np.zeros(self.n_items, dtype=np.float32)
        return self.item_factors @ solved.vector.astype(np.float32)

    def contributions(self, row: sp.csr_matrix, item: int) -> tuple[np.ndarray, np.ndarray]:
        """How much each positively weighted artist in `row` adds to the score of `item`: artist j
        adds y_i' A^-1 c_j y_j, and the shares sum to the score exactly. Returns (artist columns,
        contributions), largest first."""
        columns, shares = self.contribution_matrix(row, np.array([item]))
        order = np.argsort(-shares[:, 0], kind="stable")
        return columns[order], shares[order, 0]

    def contribution_matrix(self, row: sp.csr_matrix, items: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """`contributions` for many items at once: (artist columns, shares), where shares[k, i] is
        what the row's artist columns[k] adds to the score of items[i]."""
        return self.shares(self.solve_row(row), items)

    def shares(self, solved: SolvedUser | None, items: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """`contribution_matrix` for a user already solved."""
        items = np.asarray(items, dtype=np.int64)
        if solved is None:
            return np.empty(0, dtype=np.int64), np.empty((0, items.size))
        assert self.item_factors is not None
        return solved.columns, (self.item_factors[items].astype(np.float64) @ solved.per_artist).T

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
        user_factors = self.user_factors
        assert self.weighting is not None and user_factors is not None and self.item_factors is not None
        arrays = {"user_factors": user_factors, "item_factors": self.item_factors}
        if self.weighting.idf is not None:
            arrays["idf"] = self.weighting.idf
        return arrays

    @classmethod
    def restore(
        cls,
        parameters: dict[str, Any],
        arrays: dict[str, np.ndarray],
        read_user_factors: Callable[[], np.ndarray] | None = None,
    ) -> Self:
        """From `parameters()` and `arrays()`; without "user_factors" in `arrays`, `read_user_factors`
        reads them where they are kept, at each use (see `user_factors`)."""
        model = cls(ALSConfig(**parameters["config"]))
        weighting = dict(parameters["weighting"])
        model.weighting = Weighting(idf=arrays.get("idf"), **weighting)
        if "user_factors" not in arrays and read_user_factors is None:
            raise KeyError("user_factors")
        model._set_factors(arrays.get("user_factors"), arrays["item_factors"])
        if "user_factors" not in arrays:
            model._read_user_factors = read_user_factors
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


def _row_entries(rows: sp.csr_matrix, user: int) -> tuple[np.ndarray, np.ndarray]:
    start, end = rows.indptr[user], rows.indptr[user + 1]
    return rows.indices[start:end], rows.data[start:end]
