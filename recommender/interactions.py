"""The user x artist interaction matrix and the ids behind its rows and columns."""

from __future__ import annotations

from collections.abc import Iterable
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
    _user_index: dict[str, int] | None = field(init=False, repr=False, compare=False)
    _artist_index: dict[int, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # The user index is built at the first lookup, not here: a served matrix holds every member's
        # key, and the dict of them costs more memory than the keys themselves, for lookups that serving
        # never makes (forgetting matches keys with `rows_of`).
        object.__setattr__(self, "_user_index", None)
        # Through tolist: int() of each numpy scalar costs more than the dict itself (it is rebuilt for
        # every artist placed while serving, recommender/placement.py).
        artist_ids = np.asarray(self.artist_ids).tolist()
        object.__setattr__(self, "_artist_index", {int(a): i for i, a in enumerate(artist_ids)})

    @classmethod
    def from_plays(cls, plays: pd.DataFrame) -> Interactions:
        """From a frame with user_id, artist_id and plays columns (Last.fm users)."""
        user_ids, rows = factorise(plays["user_id"].to_numpy())
        artist_ids, cols = factorise(plays["artist_id"].to_numpy())
        matrix = sp.csr_matrix(
            (plays["plays"].to_numpy(dtype=np.float32), (rows, cols)), shape=(user_ids.size, artist_ids.size)
        )
        keys = np.array([lastfm_user_key(u) for u in user_ids])
        return cls(user_keys=keys, artist_ids=artist_ids.astype(np.int64), plays=matrix)

    @property
    def shape(self) -> tuple[int, int]:
        return self.plays.shape

    def user_row(self, key: str) -> int | None:
        if self._user_index is None:
            object.__setattr__(self, "_user_index", {str(k): i for i, k in enumerate(self.user_keys)})
        return self._user_index.get(key)

    def rows_of(self, keys: Iterable[str]) -> np.ndarray:
        """Sorted rows of these user keys; keys not in the matrix are dropped. One pass over the keys,
        without building the index `user_row` keeps."""
        wanted = np.array([str(k) for k in keys], dtype=str)
        if wanted.size == 0:
            return np.empty(0, dtype=np.int64)
        return np.flatnonzero(np.isin(self.user_keys.astype(str, copy=False), wanted)).astype(np.int64)

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
        self,
        columns: np.ndarray,
        value: float | np.ndarray,
        negative_columns: np.ndarray | None = None,
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
        negative_columns = np.unique(
            np.asarray(negative_columns if negative_columns is not None else [], dtype=np.int64)
        )
        keep = ~np.isin(columns, negative_columns)
        columns, first = np.unique(columns[keep], return_index=True)
        all_columns = np.concatenate([columns, negative_columns])
        all_values = np.concatenate(
            [values[keep][first], np.full(negative_columns.size, -negative_value, dtype=np.float32)]
        )
        order = np.argsort(all_columns, kind="stable")
        return sp.csr_matrix(
            (all_values[order].astype(np.float32), all_columns[order], np.array([0, all_columns.size])),
            shape=(1, self.shape[1]),
        )

    def without_users(self, keys) -> Interactions:
        drop = {str(k) for k in keys}
        keep = np.array([str(k) not in drop for k in self.user_keys])
        return Interactions(user_keys=self.user_keys[keep], artist_ids=self.artist_ids, plays=self.plays[keep])


#: `factorise` maps integer ids through a table as long as it spans at most this many ids per value
#: (or 2**22 in all); wider, it sorts.
TABLE_SPAN_PER_VALUE = 2


def factorise(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(np.unique(values), each value's index in it), as np.unique and np.searchsorted give them.

    On the 17.5 M user ids of a Last.fm-360K-sized matrix np.unique (hashing, in numpy 2.4) took
    5-21 s and np.searchsorted 4 s more; integer ids within a modest span go through a table of the
    span instead (0.5 s), wider ones through np.sort; anything else through np.unique.
    """
    values = np.asarray(values)
    if values.dtype.kind not in "iu" or values.size == 0:
        uniques = np.unique(values)
        return uniques, np.searchsorted(uniques, values)
    low = values.min()
    span = int(values.max()) - int(low) + 1
    if span <= max(TABLE_SPAN_PER_VALUE * values.size, 1 << 22):
        # Offsets in [0, span): in int64 for signed ids (int8's 127 - -128 would wrap), as they are for unsigned.
        offsets = values.astype(np.int64) - np.int64(low) if values.dtype.kind == "i" else values - low
        present = np.zeros(span, dtype=bool)
        present[offsets] = True
        # In the ids' own type; an offset that wraps there wraps back when low is added.
        uniques = np.flatnonzero(present).astype(values.dtype) + low
        index = np.cumsum(present, dtype=np.int64) - 1
        return uniques, index[offsets]
    ordered = np.sort(values)
    first = np.empty(ordered.size, dtype=bool)
    first[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    uniques = ordered[first]
    return uniques, np.searchsorted(uniques, values)
