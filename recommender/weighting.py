"""Confidence weighting: how much a (user, artist) play count should count in training.

Raw play counts span six orders of magnitude (1 to 352,698), so a model fit on them chases a few heavy
listeners. BM25 saturates counts (k1) and discounts artists everyone plays (idf). On protocol P1 a
small k1 won clearly: it is then nearly "listened or not, weighted by rarity".

A weighting is fitted once on the training matrix and applied unchanged to new rows, so that a member
scored without refit is weighted exactly as they will be after the next refit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

SCHEMES = ("raw", "binary", "log", "bm25")


@dataclass(frozen=True)
class Weighting:
    """A fitted weighting. `idf` is only used by bm25; `average_length` only when b > 0."""

    scheme: str = "bm25"
    k1: float = 0.5
    b: float = 0.0
    idf: np.ndarray | None = None
    average_length: float = 1.0

    @classmethod
    def fit(cls, plays: sp.csr_matrix, scheme: str = "bm25", k1: float = 0.5, b: float = 0.0) -> Weighting:
        if scheme not in SCHEMES:
            raise ValueError(f"unknown weighting {scheme!r}; choose one of {', '.join(SCHEMES)}")
        if scheme != "bm25":
            return cls(scheme=scheme)
        n_users = max(plays.shape[0], 1)
        document_frequency = np.bincount(plays.indices, minlength=plays.shape[1])
        # Clamp at 0 so an artist played by (nearly) everyone never counts against a user.
        idf = np.maximum(np.log(n_users) - np.log1p(document_frequency), 0.0).astype(np.float32)
        row_sums = np.asarray(plays.sum(axis=1)).ravel()
        average_length = float(row_sums.mean()) if row_sums.size else 1.0
        return cls(scheme=scheme, k1=k1, b=b, idf=idf, average_length=average_length or 1.0)

    def transform(self, plays: sp.csr_matrix, keep_structure: bool = False) -> sp.csr_matrix:
        """Weight every stored entry of `plays` (users x artists, play counts > 0).

        With `keep_structure`, entries whose weight is 0 stay stored, aligned with the input's.
        """
        weighted = sp.csr_matrix(plays, dtype=np.float32, copy=True)
        values = weighted.data
        if self.scheme == "binary":
            values[:] = 1.0
        elif self.scheme == "log":
            np.log1p(values, out=values)
        elif self.scheme == "bm25":
            assert self.idf is not None, "bm25 weighting used before fit"
            row_of_entry = np.repeat(np.arange(weighted.shape[0]), np.diff(weighted.indptr))
            idf = _extend(self.idf, weighted.shape[1])
            if self.b:
                row_sums = np.asarray(plays.sum(axis=1)).ravel()
                length_norm = (1.0 - self.b) + self.b * row_sums / self.average_length
            else:
                length_norm = np.ones(weighted.shape[0], dtype=np.float32)
            saturated = values * (self.k1 + 1.0) / (self.k1 * length_norm[row_of_entry] + values)
            values[:] = saturated * idf[weighted.indices]
        if not keep_structure:
            weighted.eliminate_zeros()
        return weighted

    def weigh_row(self, columns: np.ndarray, plays: np.ndarray) -> np.ndarray:
        """`transform` for one user's entries as arrays (plays > 0), without sparse-matrix overhead:
        the recommendation hot path."""
        plays = np.asarray(plays, dtype=np.float64)
        if self.scheme == "binary":
            return np.ones_like(plays)
        if self.scheme == "log":
            return np.log1p(plays)
        if self.scheme == "raw":
            return plays
        assert self.idf is not None, "bm25 weighting used before fit"
        length_norm = (1.0 - self.b) + self.b * plays.sum() / self.average_length if self.b else 1.0
        idf = _extend(self.idf, int(columns.max()) + 1 if columns.size else 0)
        return plays * (self.k1 + 1.0) / (self.k1 * length_norm + plays) * idf[columns]

    def parameters(self) -> dict:
        return {"scheme": self.scheme, "k1": self.k1, "b": self.b, "average_length": self.average_length}


def _extend(idf: np.ndarray, n_items: int) -> np.ndarray:
    """Artists added after the fit have no document frequency yet: give them the rarest artist's idf."""
    if n_items <= idf.size:
        return idf
    filler = idf.max() if idf.size else 1.0
    return np.concatenate([idf, np.full(n_items - idf.size, filler, dtype=np.float32)])
