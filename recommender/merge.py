"""Members of Discord servers joined to the Last.fm users in one interaction matrix.

Members become extra rows after the Last.fm users; artists that only members know become extra columns
after the Last.fm artists. A like has no play count, so it enters as `like_plays` pseudo plays (see
`recommender.engine.LIKE_PLAYS`); a Last.fm import keeps its real play count.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from recommender.interactions import Interactions

MEMBER_PREFIX = "discord:"


def member_key(user_id: int) -> str:
    return f"{MEMBER_PREFIX}{int(user_id)}"


@dataclass(frozen=True)
class MemberPlays:
    """Column-wise member data: one entry per (member, artist), value in plays (> 0)."""

    user_ids: np.ndarray
    artist_ids: np.ndarray
    plays: np.ndarray

    @classmethod
    def from_likes(cls, likes: list[tuple[int, int, str, float | None]], like_plays: float) -> MemberPlays:
        """From (user_id, artist_id, source, weight) rows: a weight (imported plays) wins over a like."""
        if not likes:
            empty = np.empty(0, dtype=np.int64)
            return cls(empty, empty, np.empty(0, dtype=np.float32))
        users, artists, _, weights = zip(*likes)
        plays = np.array([w if w is not None and w > 0 else like_plays for w in weights], dtype=np.float32)
        return cls(np.asarray(users, dtype=np.int64), np.asarray(artists, dtype=np.int64), plays)

    @classmethod
    def from_columns(cls, user_ids, artist_ids, weights, like_plays: float) -> MemberPlays:
        """`from_likes` for likes as packed columns (buffers of int64, int64 and float64, NaN for a
        plain like), as the store streams them for a refit: no Python object per like."""
        weight = np.frombuffer(weights, dtype=np.float64)
        plays = np.where(weight > 0, weight, like_plays).astype(np.float32)  # NaN > 0 is False
        return cls(np.frombuffer(user_ids, dtype=np.int64), np.frombuffer(artist_ids, dtype=np.int64), plays)


def merge_members(lastfm: Interactions, members: MemberPlays) -> Interactions:
    """Last.fm rows first, in their order, then one row per member (ascending id)."""
    if members.user_ids.size == 0:
        return lastfm
    member_ids, member_rows = np.unique(members.user_ids, return_inverse=True)
    liked = np.unique(members.artist_ids)
    new_artists = liked[~np.isin(liked, lastfm.artist_ids)]
    artist_ids = np.concatenate([lastfm.artist_ids, new_artists]).astype(np.int64)
    order = np.argsort(artist_ids, kind="stable")
    columns = order[np.searchsorted(artist_ids, members.artist_ids, sorter=order)]
    member_matrix = sp.csr_matrix(
        (members.plays, (member_rows, columns)), shape=(member_ids.size, artist_ids.size), dtype=np.float32
    )
    lastfm_matrix = sp.csr_matrix(lastfm.plays, dtype=np.float32)
    lastfm_matrix.resize((lastfm_matrix.shape[0], artist_ids.size))
    keys = np.concatenate([lastfm.user_keys.astype(str), np.array([member_key(u) for u in member_ids], dtype=str)])
    return Interactions(user_keys=keys, artist_ids=artist_ids, plays=sp.vstack([lastfm_matrix, member_matrix]).tocsr())
