"""recommender.merge: Discord members joined to the Last.fm users in one interaction matrix."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from recommender.interactions import Interactions
from recommender.merge import MEMBER_PREFIX, MemberPlays, member_key, merge_members

LIKE = 50.0
BIG = 2**63 - 1  # the largest snowflake the store's signed 64-bit columns hold


def lastfm_interactions() -> Interactions:
    """Two Last.fm users over artists 10, 20, 30 (sorted ids, as Interactions.from_plays makes them)."""
    plays = sp.csr_matrix(np.array([[1, 0, 3], [0, 2, 0]], dtype=np.float32))
    return Interactions(
        user_keys=np.array(["lastfm:2", "lastfm:5"]), artist_ids=np.array([10, 20, 30], dtype=np.int64), plays=plays
    )


def dense(interactions: Interactions) -> np.ndarray:
    return interactions.plays.toarray()


# -- member_key and MemberPlays.from_likes ----------------------------------------------------------


def test_member_key() -> None:
    assert member_key(42) == "discord:42"
    assert member_key(np.int64(7)) == "discord:7"
    assert member_key(BIG) == f"discord:{BIG}"
    assert MEMBER_PREFIX == "discord:"


def test_from_likes_no_rows_is_empty() -> None:
    members = MemberPlays.from_likes([], LIKE)
    assert members.user_ids.size == members.artist_ids.size == members.plays.size == 0


def test_from_likes_imported_weight_wins_over_like_plays() -> None:
    members = MemberPlays.from_likes(
        [(1, 10, "discord", None), (1, 20, "lastfm", 12.5), (2, 10, "lastfm", 0.0), (3, 30, "lastfm", -4.0)], LIKE
    )
    assert members.user_ids.tolist() == [1, 1, 2, 3]
    assert members.artist_ids.tolist() == [10, 20, 10, 30]
    # A real play count is kept; a missing, zero or negative weight counts as one like.
    assert members.plays.tolist() == [LIKE, 12.5, LIKE, LIKE]
    assert members.plays.dtype == np.float32


def test_from_likes_keeps_snowflakes_exact() -> None:
    members = MemberPlays.from_likes([(BIG, 10, "discord", None), (BIG - 1, 10, "discord", None)], LIKE)
    assert members.user_ids.dtype == np.int64
    assert members.user_ids.tolist() == [BIG, BIG - 1]


# -- merge_members ----------------------------------------------------------------------------------


def test_no_members_returns_the_same_interactions() -> None:
    lastfm = lastfm_interactions()
    assert merge_members(lastfm, MemberPlays.from_likes([], LIKE)) is lastfm


def test_members_are_appended_after_lastfm_rows_in_ascending_id_order() -> None:
    lastfm = lastfm_interactions()
    # Given out of order, as a caller might: rows must still come out by ascending member id.
    likes = [
        (300, 20, "discord", None),
        (100, 10, "discord", None),
        (200, 30, "discord", None),
        (100, 30, "discord", None),
    ]
    merged = merge_members(lastfm, MemberPlays.from_likes(likes, LIKE))

    assert merged.user_keys.tolist() == ["lastfm:2", "lastfm:5", "discord:100", "discord:200", "discord:300"]
    assert merged.user_row("lastfm:2") == 0 and merged.user_row("discord:300") == 4
    # Only Last.fm artists were liked: no new columns, same order.
    assert merged.artist_ids.tolist() == [10, 20, 30]
    assert merged.shape == (5, 3)
    expected = np.array([[1, 0, 3], [0, 2, 0], [LIKE, 0, LIKE], [0, 0, LIKE], [0, LIKE, 0]], dtype=np.float32)
    np.testing.assert_array_equal(dense(merged), expected)


def test_unknown_artists_become_new_columns_after_the_lastfm_columns() -> None:
    lastfm = lastfm_interactions()
    likes = [
        (100, 10, "discord", None),
        (100, 10_000_007, "discord", None),
        (200, 10_000_003, "discord", None),
        (200, 10_000_007, "discord", None),
        (200, 30, "lastfm", 7.0),
    ]
    merged = merge_members(lastfm, MemberPlays.from_likes(likes, LIKE))

    # Last.fm columns first and unchanged; member-only artists after them, ascending.
    assert merged.artist_ids.tolist() == [10, 20, 30, 10_000_003, 10_000_007]
    assert merged.artist_ids.dtype == np.int64
    assert merged.artist_column(10) == 0 and merged.artist_column(30) == 2
    assert merged.artist_column(10_000_003) == 3 and merged.artist_column(10_000_007) == 4
    expected = np.array(
        [
            [1, 0, 3, 0, 0],
            [0, 2, 0, 0, 0],
            [LIKE, 0, 0, 0, LIKE],
            [0, 0, 7.0, LIKE, LIKE],  # the imported play count wins over a like's pseudo plays
        ],
        dtype=np.float32,
    )
    np.testing.assert_array_equal(dense(merged), expected)
    # Last.fm users have nothing in the new columns.
    assert merged.plays[:2, 3:].nnz == 0


def test_shapes_and_nnz_are_consistent() -> None:
    lastfm = lastfm_interactions()
    rng = np.random.default_rng(0)
    likes = []
    for user in rng.choice(np.arange(1_000, 2_000), size=40, replace=False):
        for artist in rng.choice([10, 20, 30, 10_000_001, 10_000_002, 10_000_005], size=3, replace=False):
            weight = float(rng.integers(1, 100)) if rng.random() < 0.3 else None
            likes.append((int(user), int(artist), "discord", weight))
    members = MemberPlays.from_likes(likes, LIKE)
    merged = merge_members(lastfm, members)

    assert merged.shape == (2 + 40, 3 + 3)
    assert merged.plays.shape == (merged.user_keys.size, merged.artist_ids.size)
    assert merged.plays.nnz == lastfm.plays.nnz + len(likes)
    assert isinstance(merged.plays, sp.csr_matrix) and merged.plays.dtype == np.float32
    assert np.all(merged.plays.data > 0)
    assert len(set(merged.user_keys.tolist())) == merged.user_keys.size
    assert len(set(merged.artist_ids.tolist())) == merged.artist_ids.size
    # Every like sits at its member's row and artist's column.
    for user, artist, _, weight in likes:
        value = merged.plays[merged.user_row(member_key(user)), merged.artist_column(artist)]
        assert value == (weight if weight else LIKE)
    # The Last.fm block is untouched.
    np.testing.assert_array_equal(merged.plays[:2, :3].toarray(), dense(lastfm))


def test_merge_does_not_change_the_lastfm_interactions() -> None:
    """The refit service merges into the same Last.fm Interactions on every refit."""
    lastfm = lastfm_interactions()
    before = dense(lastfm).copy()
    merge_members(lastfm, MemberPlays.from_likes([(1, 99, "discord", None), (2, 10, "discord", None)], LIKE))
    assert lastfm.shape == (2, 3)
    assert lastfm.artist_ids.tolist() == [10, 20, 30]
    assert lastfm.user_keys.tolist() == ["lastfm:2", "lastfm:5"]
    np.testing.assert_array_equal(dense(lastfm), before)
    # And a second merge gives the same answer as the first.
    again = merge_members(lastfm, MemberPlays.from_likes([(2, 10, "discord", None)], LIKE))
    assert again.shape == (3, 3)


def test_large_snowflakes_keep_their_keys() -> None:
    merged = merge_members(lastfm_interactions(), MemberPlays.from_likes([(BIG, 20, "discord", None)], LIKE))
    assert merged.user_keys[-1] == f"discord:{BIG}"
    assert merged.user_row(f"discord:{BIG}") == 2


@pytest.mark.parametrize("like_plays", [1.0, 50.0, 500.0])
def test_like_plays_is_the_value_of_a_like(like_plays: float) -> None:
    merged = merge_members(lastfm_interactions(), MemberPlays.from_likes([(5, 20, "discord", None)], like_plays))
    assert merged.plays[2, 1] == like_plays
