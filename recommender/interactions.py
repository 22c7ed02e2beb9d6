"""The user x artist interaction matrix and the ids behind its rows and columns."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp

LASTFM_USER_PREFIX = "lastfm:"


def lastfm_user_key(user_id: int) -> str:
    return f"{LASTFM_USER_PREFIX}{int(user_id)}"


@dataclass(frozen=True)
class Interactions:
    """Play counts (users x artists) with the keys of the users and the ids of the artists.

    User keys are strings so that Last.fm users ("lastfm:2") and Discord members ("discord:…") share
    one index. Artist columns are catalogue artist ids, sorted.
    """

    user_keys: np.ndarray
    artist_ids: np.ndarray
    plays: sp.csr_matrix
    _user_index: dict[str, int] = field(init=False, repr=False, compare=False)
    _artist_index: dict[int, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_user_index", {str(k): i for i, k in enumerate(self.user_keys)})
        object.__setattr__(self, "_artist_index", {int(a): i for i, a in enumerate(self.artist_ids)})

    @classmethod
    def from_plays(cls, plays: pd.DataFrame) -> "Interactions":
        """From a frame with user_id, artist_id and plays columns (Last.fm users)."""
        user_ids = np.unique(plays["user_id"].to_numpy())
        artist_ids = np.unique(plays["artist_id"].to_numpy())
        rows = np.searchsorted(user_ids, plays["user_id"].to_numpy())
        cols = np.searchsorted(artist_ids, plays["artist_id"].to_numpy())
        matrix = sp.csr_matrix(
            (plays["plays"].to_numpy(dtype=np.float32), (rows, cols)), shape=(user_ids.size, artist_ids.size)
        )
        keys = np.array([lastfm_user_key(u) for u in user_ids])
        return cls(user_keys=keys, artist_ids=artist_ids.astype(np.int64), plays=matrix)

    @property
    def shape(self) -> tuple[int, int]:
        return self.plays.shape

    def user_row(self, key: str) -> int | None:
        return self._user_index.get(key)

    def artist_column(self, artist_id: int) -> int | None:
        return self._artist_index.get(int(artist_id))

    def artist_columns(self, artist_ids) -> np.ndarray:
        """Columns of the given artists; artists unknown to the matrix are dropped."""
        columns = [self._artist_index.get(int(a)) for a in artist_ids]
        return np.array([c for c in columns if c is not None], dtype=np.int64)

    def row_of(self, key: str) -> sp.csr_matrix:
        row = self.user_row(key)
        if row is None:
            raise KeyError(key)
        return self.plays[row]

    def row_from_columns(
        self, columns: np.ndarray, value: float | np.ndarray, negative_columns: np.ndarray | None = None,
        negative_value: float | None = None,
    ) -> sp.csr_matrix:
        """A one-user row with `value` (one for all, or one per column) at `columns`, and
        -`negative_value` (default: the scalar `value`) at `negative_columns` ("not interested")."""
        if negative_value is None:
            if np.ndim(value):
                raise ValueError("give negative_value when value is one per column")
            negative_value = float(value)
        columns = np.asarray(columns, dtype=np.int64)
        values = np.broadcast_to(np.asarray(value, dtype=np.float32), columns.shape)
        negative_columns = np.unique(np.asarray(negative_columns if negative_columns is not None else [], dtype=np.int64))
        keep = ~np.isin(columns, negative_columns)
        columns, first = np.unique(columns[keep], return_index=True)
        all_columns = np.concatenate([columns, negative_columns])
        all_values = np.concatenate([values[keep][first], np.full(negative_columns.size, -negative_value, dtype=np.float32)])
        order = np.argsort(all_columns, kind="stable")
        return sp.csr_matrix(
            (all_values[order].astype(np.float32), all_columns[order], np.array([0, all_columns.size])),
            shape=(1, self.shape[1]),
        )

    def without_users(self, keys) -> "Interactions":
        drop = {str(k) for k in keys}
        keep = np.array([str(k) not in drop for k in self.user_keys])
        return Interactions(user_keys=self.user_keys[keep], artist_ids=self.artist_ids, plays=self.plays[keep])
