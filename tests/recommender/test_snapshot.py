"""Snapshots on disk: round trip, damage detection, atomic publication."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

import recommender.snapshot as snapshot_module
from recommender.interactions import Interactions
from recommender.models import ALSConfig, ALSRecommender
from recommender.snapshot import (
    FORMAT_VERSION,
    META_FILE,
    MODEL_FILE,
    SnapshotError,
    load_latest,
    load_snapshot,
    save_snapshot,
    snapshot_paths,
)
from tests.helpers.matrices import planted_clusters

OLD, NEW = "20240101T000000000000Z", "20250101T000000000000Z"


@pytest.fixture(scope="module")
def interactions() -> Interactions:
    plays, _, _ = planted_clusters(n_users=30, n_items=20, seed=4)
    keys = np.array([f"lastfm:{2 + 3 * u}" for u in range(30)])
    return Interactions(user_keys=keys, artist_ids=np.arange(20, dtype=np.int64) * 10 + 1, plays=plays)


@pytest.fixture(scope="module")
def model(interactions: Interactions) -> ALSRecommender:
    return ALSRecommender(ALSConfig(factors=6, regularization=1.0, iterations=5)).fit(interactions.plays)


def save(directory: Path, model, interactions, version: str | None = None, **meta) -> Path:
    meta = {"data_fingerprint": "abc123"} | meta
    if version:
        meta["version"] = version
    return save_snapshot(directory, model, interactions, meta)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def flip_byte(path: Path, offset: int | None = None) -> None:
    data = bytearray(path.read_bytes())
    offset = len(data) // 2 if offset is None else offset
    data[offset] ^= 0xFF
    path.write_bytes(bytes(data))


def test_round_trip(tmp_path: Path, model: ALSRecommender, interactions: Interactions) -> None:
    path = save(tmp_path, model, interactions, fit_seconds=1.5)
    assert path.parent == tmp_path and (path / MODEL_FILE).is_file() and (path / META_FILE).is_file()
    loaded = load_snapshot(path)
    assert loaded.path == path
    rows = sp.vstack(
        [interactions.plays[:5], interactions.row_from_columns(np.array([0, 3]), 50.0, np.array([1]))]
    ).tocsr()
    np.testing.assert_array_equal(loaded.model.score(rows), model.score(rows))
    np.testing.assert_array_equal(
        loaded.model.score(rows[:5], users=np.arange(5)), model.score(rows[:5], users=np.arange(5))
    )
    # Interactions come back equal, field by field.
    np.testing.assert_array_equal(loaded.interactions.user_keys, interactions.user_keys)
    np.testing.assert_array_equal(loaded.interactions.artist_ids, interactions.artist_ids)
    assert (loaded.interactions.plays != interactions.plays).nnz == 0
    assert loaded.interactions.plays.shape == interactions.plays.shape
    assert loaded.interactions.user_row("lastfm:5") == 1
    assert loaded.interactions.artist_column(31) == 3

    meta = loaded.meta
    assert meta["version"] == path.name == loaded.version
    assert meta["format"] == FORMAT_VERSION
    assert meta["created"] and "T" in meta["created"]
    assert meta["data_fingerprint"] == "abc123"
    assert meta["fit_seconds"] == 1.5
    assert meta["model_sha256"] == sha256(path / MODEL_FILE)
    assert meta["parameters"] == json.loads(json.dumps(model.parameters()))
    assert meta["model"] == "als"
    assert (meta["users"], meta["artists"], meta["interactions"]) == (30, 20, interactions.plays.nnz)
    # Nothing is left behind but the snapshot itself.
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_explicit_version_and_duplicate(tmp_path: Path, model, interactions) -> None:
    path = save(tmp_path, model, interactions, version=OLD)
    assert path.name == OLD
    with pytest.raises(SnapshotError, match="already exists"):
        save(tmp_path, model, interactions, version=OLD)


def test_flipped_byte_is_refused_as_damaged(tmp_path: Path, model, interactions) -> None:
    path = save(tmp_path, model, interactions)
    flip_byte(path / MODEL_FILE)
    with pytest.raises(SnapshotError, match="damaged"):
        load_snapshot(path)


def test_missing_meta(tmp_path: Path, model, interactions) -> None:
    path = save(tmp_path, model, interactions)
    (path / META_FILE).unlink()
    with pytest.raises(SnapshotError, match="no meta.json"):
        load_snapshot(path)


def test_missing_model_file(tmp_path: Path, model, interactions) -> None:
    path = save(tmp_path, model, interactions)
    (path / MODEL_FILE).unlink()
    with pytest.raises(SnapshotError, match="no model.npz"):
        load_snapshot(path)


@pytest.mark.parametrize(
    "content",
    [b"{not json", b"", b"\xff\xfe\x00garbage", b'{"format": 1, "version": '],
    ids=["syntax", "empty", "binary", "truncated"],
)
def test_garbage_meta(tmp_path: Path, model, interactions, content: bytes) -> None:
    path = save(tmp_path, model, interactions)
    (path / META_FILE).write_bytes(content)
    with pytest.raises(SnapshotError, match="unreadable"):
        load_snapshot(path)


@pytest.mark.parametrize("meta", [{"format": 2}, {"format": "1"}, [], "hello", None], ids=repr)
def test_wrong_format(tmp_path: Path, model, interactions, meta) -> None:
    path = save(tmp_path, model, interactions)
    if isinstance(meta, dict):
        meta = json.loads((path / META_FILE).read_text()) | meta
    (path / META_FILE).write_text(json.dumps(meta))
    with pytest.raises(SnapshotError, match="unknown format"):
        load_snapshot(path)


def rewrite_meta(path: Path, **changes) -> None:
    meta = json.loads((path / META_FILE).read_text()) | changes
    (path / META_FILE).write_text(json.dumps(meta))


def test_unknown_model_class(tmp_path: Path, model, interactions) -> None:
    path = save(tmp_path, model, interactions)
    rewrite_meta(path, model="bpr")
    with pytest.raises(SnapshotError, match="unknown model 'bpr'"):
        load_snapshot(path)


@pytest.mark.parametrize(
    "parameters",
    [
        {},
        {"config": {"factors": 6, "bogus": 1}, "weighting": {}},
        ["config"],
        {"config": {"factors": 99}, "weighting": {}},
    ],
    ids=["empty", "unknown-key", "list", "wrong-factors"],
)
def test_bad_parameters_are_a_snapshot_error(tmp_path: Path, model, interactions, parameters) -> None:
    path = save(tmp_path, model, interactions)
    rewrite_meta(path, parameters=parameters)
    with pytest.raises(SnapshotError, match="unreadable"):
        load_snapshot(path)


def write_npz_with_matching_checksum(path: Path, arrays: dict[str, np.ndarray]) -> None:
    with open(path / MODEL_FILE, "wb") as handle:
        np.savez(handle, **arrays)
    rewrite_meta(path, model_sha256=sha256(path / MODEL_FILE))


def test_object_array_is_refused_without_unpickling(tmp_path: Path, model, interactions) -> None:
    path = save(tmp_path, model, interactions)
    with np.load(path / MODEL_FILE) as archive:
        arrays = {name: archive[name] for name in archive.files}
    arrays["model.user_factors"] = np.array([{"pickled": "payload"}, None], dtype=object)
    write_npz_with_matching_checksum(path, arrays)
    with pytest.raises(SnapshotError, match="unreadable"):
        load_snapshot(path)


def test_missing_array_is_a_snapshot_error(tmp_path: Path, model, interactions) -> None:
    path = save(tmp_path, model, interactions)
    with np.load(path / MODEL_FILE) as archive:
        arrays = {name: archive[name] for name in archive.files if name != "interactions.indptr"}
    write_npz_with_matching_checksum(path, arrays)
    with pytest.raises(SnapshotError, match="unreadable"):
        load_snapshot(path)


def test_truncated_npz_with_matching_checksum(tmp_path: Path, model, interactions) -> None:
    path = save(tmp_path, model, interactions)
    model_path = path / MODEL_FILE
    model_path.write_bytes(model_path.read_bytes()[:200])
    rewrite_meta(path, model_sha256=sha256(model_path))
    with pytest.raises(SnapshotError, match="unreadable"):
        load_snapshot(path)


def test_snapshot_paths_newest_first_and_ignore_staging(tmp_path: Path, model, interactions) -> None:
    assert snapshot_paths(tmp_path / "missing") == []
    old = save(tmp_path, model, interactions, version=OLD)
    new = save(tmp_path, model, interactions, version=NEW)
    staging = tmp_path / ".incoming-abc123"
    staging.mkdir()
    (staging / MODEL_FILE).write_bytes(b"half a file")
    (tmp_path / "notes.txt").write_text("not a snapshot")
    assert snapshot_paths(tmp_path) == [new, old]
    snapshot, skipped = load_latest(tmp_path)
    assert snapshot.path == new and skipped == []


def test_load_latest_skips_a_damaged_newest_snapshot(tmp_path: Path, model, interactions) -> None:
    old = save(tmp_path, model, interactions, version=OLD)
    new = save(tmp_path, model, interactions, version=NEW)
    flip_byte(new / MODEL_FILE)
    snapshot, skipped = load_latest(tmp_path)
    assert snapshot is not None and snapshot.path == old
    assert len(skipped) == 1 and "damaged" in skipped[0] and NEW in skipped[0]
    np.testing.assert_array_equal(snapshot.model.score(interactions.plays[:3]), model.score(interactions.plays[:3]))


def test_load_latest_checks_the_fingerprint(tmp_path: Path, model, interactions) -> None:
    old = save(tmp_path, model, interactions, version=OLD, data_fingerprint="abc123")
    save(tmp_path, model, interactions, version=NEW, data_fingerprint="other")
    snapshot, skipped = load_latest(tmp_path, fingerprint="abc123")
    assert snapshot.path == old
    assert skipped == [f"snapshot {tmp_path / NEW} was fitted on other data"]
    snapshot, skipped = load_latest(tmp_path, fingerprint="nothing-matches")
    assert snapshot is None and len(skipped) == 2


def test_load_latest_with_nothing_good(tmp_path: Path, model, interactions) -> None:
    assert load_latest(tmp_path) == (None, [])
    path = save(tmp_path, model, interactions)
    (path / META_FILE).unlink()
    snapshot, skipped = load_latest(tmp_path)
    assert snapshot is None and skipped and "meta.json" in skipped[0]


def test_writer_killed_before_publishing_leaves_the_previous_snapshot(
    tmp_path: Path, model, interactions, monkeypatch
) -> None:
    old = save(tmp_path, model, interactions, version=OLD)

    def killed(src, dst):
        # What a reader sees if the writer dies here: the staging directory is complete but unpublished.
        assert Path(src).name.startswith(".incoming-")
        assert {p.name for p in Path(src).iterdir()} == {MODEL_FILE, META_FILE}
        raise OSError("writer killed")

    monkeypatch.setattr(snapshot_module.os, "rename", killed)
    with pytest.raises(OSError, match="writer killed"):
        save(tmp_path, model, interactions, version=NEW)
    monkeypatch.undo()
    assert not (tmp_path / NEW).exists()
    assert snapshot_paths(tmp_path) == [old]
    # The staging directory was cleaned up.
    assert [p.name for p in tmp_path.iterdir()] == [OLD]
    snapshot, skipped = load_latest(tmp_path)
    assert snapshot.path == old and skipped == []


def test_writer_killed_hard_leaves_only_an_ignored_staging_directory(
    tmp_path: Path, model, interactions, monkeypatch
) -> None:
    """A SIGKILL skips the cleanup: simulate it by making rmtree a no-op as well."""
    old = save(tmp_path, model, interactions, version=OLD)

    def killed(src, dst):
        raise OSError("writer killed")

    monkeypatch.setattr(snapshot_module.os, "rename", killed)
    monkeypatch.setattr(snapshot_module.shutil, "rmtree", lambda *a, **k: None)
    with pytest.raises(OSError):
        save(tmp_path, model, interactions, version=NEW)
    monkeypatch.undo()
    leftovers = [p for p in tmp_path.iterdir() if p.name.startswith(".incoming-")]
    assert len(leftovers) == 1
    assert snapshot_paths(tmp_path) == [old]
    assert load_latest(tmp_path)[0].path == old
    shutil.rmtree(leftovers[0])


def test_extra_meta_is_kept(tmp_path: Path, model, interactions) -> None:
    path = save(tmp_path, model, interactions, excluded_lastfm_users=3)
    assert load_snapshot(path).meta["excluded_lastfm_users"] == 3


def test_a_loaded_snapshot_reads_its_user_factors_from_its_file_at_each_use(
    tmp_path: Path, model, interactions
) -> None:
    loaded = load_snapshot(save(tmp_path, model, interactions))
    assert not loaded.model.holds_user_factors
    np.testing.assert_array_equal(loaded.model.user_factors, model.user_factors)
    assert not loaded.model.holds_user_factors, "a read must not keep them"
    # Serving solves rows from likes, which needs no user factors: the same scores as the fitted model.
    np.testing.assert_allclose(
        loaded.model.score(interactions.plays[:3]), model.score(interactions.plays[:3]), rtol=1e-5
    )
    np.testing.assert_allclose(
        loaded.model.score(interactions.plays[:3], users=np.arange(3)),
        model.score(interactions.plays[:3], users=np.arange(3)),
    )


def test_user_factors_of_a_removed_snapshot_are_a_snapshot_error(tmp_path: Path, model, interactions) -> None:
    loaded = load_snapshot(save(tmp_path, model, interactions))
    shutil.rmtree(loaded.path)
    assert loaded.model.score(interactions.plays[:1]).shape == (1, interactions.shape[1])
    with pytest.raises(SnapshotError, match="user factors are unreadable"):
        _ = loaded.model.user_factors


@pytest.mark.parametrize(
    "factors",
    [np.zeros((29, 6), dtype=np.float32), np.zeros((30, 6), dtype=np.int32), np.zeros(30 * 6, dtype=np.float32)],
    ids=["a-row-short", "integers", "flat"],
)
def test_user_factors_that_do_not_fit_the_matrix_are_refused_at_load(
    tmp_path: Path, model, interactions, factors
) -> None:
    path = save(tmp_path, model, interactions)
    with np.load(path / MODEL_FILE) as archive:
        arrays = {name: archive[name] for name in archive.files}
    arrays["model.user_factors"] = factors
    write_npz_with_matching_checksum(path, arrays)
    with pytest.raises(SnapshotError, match="unreadable"):
        load_snapshot(path)
