"""Forgetting in snapshots: a user's row and artists dropped from the matrix, the factors and meta.json."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from recommender.forgetting import mentions, save_without, without
from recommender.interactions import Interactions
from recommender.models import ALSConfig, ALSRecommender
from recommender.snapshot import META_FILE, MODEL_FILE, Snapshot, load_snapshot, save_snapshot
from tests.helpers.matrices import planted_clusters

GONE = "discord:912345678901234567"
STAYS = "discord:55"
#: Member artists: the first only GONE liked, the second both members.
SECRET, SHARED = 10_000_000, 10_000_001
SECRET_NAME = "Qwertzuiop Zebra Quartet"


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Snapshot:
    plays, _, _ = planted_clusters(n_users=30, n_items=20, seed=4)
    members = sp.csr_matrix(
        np.array([[0] * 20 + [50, 50], [50] * 3 + [0] * 17 + [0, 50]], dtype=np.float32)
    )  # GONE likes SECRET and SHARED; STAYS likes three Last.fm artists and SHARED
    matrix = sp.vstack([sp.hstack([plays, sp.csr_matrix((30, 2))]), members]).tocsr().astype(np.float32)
    keys = np.array([f"lastfm:{u}" for u in range(30)] + [GONE, STAYS])
    artist_ids = np.concatenate([np.arange(20, dtype=np.int64) + 1, [SECRET, SHARED]])
    interactions = Interactions(user_keys=keys, artist_ids=artist_ids, plays=matrix)
    model = ALSRecommender(ALSConfig(factors=6, regularization=1.0, iterations=5)).fit(matrix)
    meta = {
        "data_fingerprint": "abc123",
        "store_revision": 7,
        "member_artists": [[SECRET, SECRET_NAME, None], [SHARED, "Shared Band", "https://example.org"]],
    }
    return load_snapshot(save_snapshot(tmp_path_factory.mktemp("snapshots"), model, interactions, meta))


def file_bytes(path: Path) -> bytes:
    return (path / MODEL_FILE).read_bytes() + (path / META_FILE).read_bytes()


def traces(content: bytes) -> set[str]:
    """Which of GONE and SECRET_NAME `content` holds, as UTF-8 (meta.json) or UTF-32 (numpy's strings)."""
    return {text for text in (GONE, SECRET_NAME) if any(text.encode(e) in content for e in ("utf-8", "utf-32-le"))}


def test_without_drops_the_row_the_columns_their_factors_and_names(snapshot: Snapshot) -> None:
    reduced = without(snapshot, [GONE, "discord:unknown"], [SECRET, 999])

    before, after = snapshot.interactions, reduced.interactions
    assert after.user_keys.tolist() == [k for k in before.user_keys.tolist() if k != GONE]
    assert after.artist_ids.tolist() == [a for a in before.artist_ids.tolist() if a != SECRET]
    assert reduced.model.user_factors.shape == (before.shape[0] - 1, 6)
    assert reduced.model.item_factors.shape == (before.shape[1] - 1, 6)
    assert reduced.model.weighting.idf.shape == (before.shape[1] - 1,)
    # Everyone else is as fitted: the same plays and the same factors, row for row.
    stays = before.user_row(STAYS)
    np.testing.assert_array_equal(after.row_of(STAYS).toarray()[0], np.delete(before.row_of(STAYS).toarray()[0], 20))
    np.testing.assert_array_equal(reduced.model.user_factors[after.user_row(STAYS)], snapshot.model.user_factors[stays])
    np.testing.assert_array_equal(reduced.model.item_factors[:20], snapshot.model.item_factors[:20])
    assert reduced.member_artists == [(SHARED, "Shared Band", "https://example.org")]
    assert reduced.meta["store_revision"] == 7 and reduced.meta["data_fingerprint"] == "abc123"
    assert reduced.meta["rewritten_from"] == snapshot.version
    assert reduced.path is None
    # Unchanged: the snapshot it came from.
    assert GONE in snapshot.interactions.user_keys.tolist() and len(snapshot.member_artists) == 2


def test_save_without_writes_a_newer_verified_snapshot_with_no_bytes_of_them(
    snapshot: Snapshot, tmp_path: Path
) -> None:
    assert snapshot.path is not None
    original = file_bytes(snapshot.path)
    assert traces(original) == {GONE, SECRET_NAME}  # the search below can find them

    saved = save_without(snapshot, tmp_path, [GONE], [SECRET])

    assert saved.path is not None and saved.path.parent == tmp_path
    assert saved.version > snapshot.version
    assert (saved.meta["users"], saved.meta["artists"]) == (snapshot.meta["users"] - 1, snapshot.meta["artists"] - 1)
    assert saved.meta["interactions"] == snapshot.meta["interactions"] - 2
    content = file_bytes(saved.path)
    assert traces(content) == set()
    assert load_snapshot(saved.path).interactions.user_row(GONE) is None  # its checksum holds


def test_mentions_reads_whether_a_snapshot_holds_a_user_or_an_artist(snapshot: Snapshot, tmp_path: Path) -> None:
    assert snapshot.path is not None
    assert mentions(snapshot.path, [GONE]) and mentions(snapshot.path, [STAYS])
    assert mentions(snapshot.path, artist_ids=[SECRET]) and mentions(snapshot.path, artist_ids=[1])
    assert not mentions(snapshot.path, ["discord:1"], [999])
    saved = save_without(snapshot, tmp_path, [GONE], [SECRET])
    assert saved.path is not None
    assert not mentions(saved.path, [GONE], [SECRET])
    assert mentions(saved.path, [STAYS], [SHARED])
    (saved.path / META_FILE).write_text("{not json", encoding="utf-8")
    assert mentions(saved.path, [GONE])  # unreadable: it may hold them
