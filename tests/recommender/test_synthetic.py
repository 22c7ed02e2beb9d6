from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from recommender.lastfm360k import read_lastfm_360k
from recommender.synthetic import FIRST_ARTIST_ID, artist_mbid, artist_name, generate, user_sha1, write_lastfm_360k_tsv

USERS, ARTISTS, PAIRS = 2_000, 1_000, 96_000


@pytest.fixture(scope="module")
def small():
    return generate(users=USERS, artists=ARTISTS, pairs=PAIRS, seed=3)


def test_shape_and_keys(small):
    assert small.shape == (USERS, ARTISTS)
    assert small.plays.nnz == PAIRS
    assert small.user_keys[0] == "lastfm:0" and len(set(small.user_keys.tolist())) == USERS
    assert np.array_equal(small.artist_ids, FIRST_ARTIST_ID + np.arange(ARTISTS))
    assert small.plays.has_sorted_indices
    # Distinct (user, artist) pairs, every user and every artist has at least one.
    copy = small.plays.copy()
    copy.sum_duplicates()
    assert copy.nnz == PAIRS
    assert np.diff(small.plays.indptr).min() >= 1
    assert np.bincount(small.plays.indices, minlength=ARTISTS).min() >= 1
    # Whole, positive play counts.
    assert small.plays.data.min() >= 1 and np.all(small.plays.data == np.floor(small.plays.data))


def test_deterministic_given_seed(small):
    again = generate(users=USERS, artists=ARTISTS, pairs=PAIRS, seed=3)
    assert (again.plays != small.plays).nnz == 0
    other = generate(users=USERS, artists=ARTISTS, pairs=PAIRS, seed=4)
    assert (other.plays != small.plays).nnz > 0


def test_power_law_sanity(small):
    per_user = np.diff(small.plays.indptr)
    assert per_user.mean() == pytest.approx(PAIRS / USERS)
    assert per_user.max() > 3 * np.median(per_user)  # a long right tail
    listeners = np.sort(np.bincount(small.plays.indices, minlength=ARTISTS))[::-1]
    # Zipf-like popularity: the head is far above the median artist, and log listeners fall roughly
    # linearly in log rank over the middle ranks.
    assert listeners[0] > 5 * np.median(listeners)
    ranks = np.arange(1, ARTISTS + 1)
    middle = slice(50, 500)
    slope = np.polyfit(np.log(ranks[middle]), np.log(listeners[middle]), 1)[0]
    assert -3.0 < slope < -0.5
    plays = small.plays.data
    assert np.mean(plays) > 2 * np.median(plays)  # heavy tail
    assert np.max(plays) > 100 * np.median(plays)


def test_scales_down_and_checks_arguments():
    tiny = generate(users=50, artists=30, pairs=300, seed=0)
    assert tiny.shape == (50, 30) and tiny.plays.nnz == 300
    with pytest.raises(ValueError):
        generate(users=10, artists=100, pairs=50)  # fewer pairs than artists


def test_tsv_round_trip(small, tmp_path):
    part = generate(users=300, artists=200, pairs=9_000, seed=5)
    path = write_lastfm_360k_tsv(part, tmp_path / "usersha1-artmbid-artname-plays.tsv", rows_per_chunk=1_000)
    frame = read_lastfm_360k(path)
    assert frame.attrs["skipped"] == 0
    assert len(frame) == part.plays.nnz
    user_row = {user_sha1(k): i for i, k in enumerate(part.user_keys.tolist())}
    artist_column = {artist_name(a): j for j, a in enumerate(part.artist_ids.tolist())}
    rows = frame["user"].map(user_row).to_numpy()
    columns = frame["artist_name"].map(artist_column).to_numpy()
    back = sp.csr_matrix((frame["plays"].to_numpy(dtype=np.float32), (rows, columns)), shape=part.shape)
    assert (back != part.plays).nnz == 0
    mbids = dict(zip(frame["artist_name"], frame["artist_mbid"]))
    assert all(mbids[artist_name(a)] == artist_mbid(a) for a in part.artist_ids.tolist())
    assert sum(m == "" for m in mbids.values()) > 0  # some artists have no MusicBrainz id, as in the real file
