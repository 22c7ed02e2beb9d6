"""Interactions.from_plays and the id factorisation behind it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

import recommender.interactions as interactions_module
from recommender.interactions import Interactions, factorise


def by_unique(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    uniques = np.unique(values)
    return uniques, np.searchsorted(uniques, values)


def assert_factorised_as_unique(values: np.ndarray) -> None:
    uniques, index = factorise(values)
    expected_uniques, expected_index = by_unique(values)
    np.testing.assert_array_equal(uniques, expected_uniques)
    assert uniques.dtype == expected_uniques.dtype
    np.testing.assert_array_equal(index, expected_index)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint32, np.int16, np.uint64])
def test_factorise_is_unique_and_searchsorted(seed: int, dtype) -> None:
    rng = np.random.default_rng(seed)
    info = np.iinfo(dtype)
    size = int(rng.integers(1, 5_000))
    # Narrow spans (the table) and spans as wide as the type (the sort), negatives where there are any.
    for low, high in [(0, 50), (max(info.min, -1_000), 1_000), (info.min, info.max), (info.max - 10, info.max)]:
        values = rng.integers(low, high, size=size, dtype=dtype, endpoint=True)
        assert_factorised_as_unique(values)


def test_factorise_small_types_over_their_whole_range() -> None:
    for dtype in (np.int8, np.uint8):
        info = np.iinfo(dtype)
        assert_factorised_as_unique(np.arange(info.min, info.max + 1, dtype=dtype)[::-1].copy())
        assert_factorised_as_unique(np.array([info.max, info.min, info.max, 0], dtype=dtype))


def test_factorise_anything_else_as_unique() -> None:
    assert_factorised_as_unique(np.array([], dtype=np.int64))
    assert_factorised_as_unique(np.array([3.5, -1.0, 3.5, np.nan, 2.0, np.nan]))
    assert_factorised_as_unique(np.array(["b", "a", "b", "c"]))
    assert_factorised_as_unique(np.array([7]))


def from_plays_by_unique(plays: pd.DataFrame, monkeypatch: pytest.MonkeyPatch) -> Interactions:
    """from_plays as it was written with np.unique, the reference."""
    with monkeypatch.context() as patched:
        patched.setattr(interactions_module, "factorise", by_unique)
        return Interactions.from_plays(plays)


@pytest.mark.parametrize("seed", range(4))
def test_from_plays_is_what_unique_gave(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(seed)
    size = 3_000
    users = rng.integers(1, 2_100, size=size) * (10**12 if seed == 3 else 1)  # wide ids too
    artists = rng.integers(1, 18_000, size=size)
    frame = pd.DataFrame({"user_id": users, "artist_id": artists, "plays": rng.integers(1, 10_000, size=size)})
    frame = frame.drop_duplicates(["user_id", "artist_id"])
    got, expected = Interactions.from_plays(frame), from_plays_by_unique(frame, monkeypatch)
    np.testing.assert_array_equal(got.user_keys, expected.user_keys)
    np.testing.assert_array_equal(got.artist_ids, expected.artist_ids)
    assert got.artist_ids.dtype == expected.artist_ids.dtype
    assert got.plays.shape == expected.plays.shape
    assert (got.plays != expected.plays).nnz == 0
    np.testing.assert_array_equal(got.plays.indptr, expected.plays.indptr)
    np.testing.assert_array_equal(got.plays.indices, expected.plays.indices)
    np.testing.assert_array_equal(got.plays.data, expected.plays.data)


def test_rows_of_matches_keys_without_building_the_user_index() -> None:
    keys = np.array(["lastfm:2", "discord:7", "lastfm:9", "discord:1"])
    interactions = Interactions(user_keys=keys, artist_ids=np.arange(3, dtype=np.int64), plays=sp.csr_matrix((4, 3)))
    np.testing.assert_array_equal(interactions.rows_of(["discord:1", "nobody", "lastfm:2"]), [0, 3])
    assert interactions.rows_of([]).size == 0
    assert interactions._user_index is None, "a served matrix must not pay for the index of every member"
    assert interactions.user_row("lastfm:9") == 2
    assert interactions.user_row("nobody") is None
