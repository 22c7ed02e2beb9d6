"""The model service starting: one fit on an empty folder and none on a restart, skipping damaged or
foreign snapshots, refusing to serve with nothing to fall back on, and sweeping staging folders that
no writer will finish."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.services.models import STALE_STAGING_SECONDS, remove_stale_staging
from recommender.snapshot import MODEL_FILE, snapshot_paths, staging_prefix
from tests.helpers.services import LASTFM_ARTISTS, LASTFM_PLAYS, LASTFM_USERS, Services, raise_on_fit

# -- start ----------------------------------------------------------------------------------------


def test_start_on_an_empty_folder_fits_once_and_a_restart_loads_that_snapshot(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def first_start() -> str:
        async with services.service() as service:
            with pytest.raises(RuntimeError):
                _ = service.engine  # nothing served before start()
            assert snapshot_paths(services.snapshot_dir) == []
            state = await service.start()
            assert state is service.state
            paths = snapshot_paths(services.snapshot_dir)
            assert paths == [state.snapshot.path]
            rows = await service.store.snapshots.recent()
            assert [row.version for row in rows] == [state.snapshot.version]
            assert rows[0].status == "ready" and rows[0].path == str(state.snapshot.path)
            assert (rows[0].users, rows[0].artists, rows[0].interactions) == (
                LASTFM_USERS,
                LASTFM_ARTISTS,
                LASTFM_PLAYS,
            )
            assert "fit_seconds" in rows[0].metrics
            meta = state.snapshot.meta
            assert meta["store_revision"] == await service.store.revision()
            assert meta["data_fingerprint"] == services.data.fingerprint
            assert (meta["members"], meta["member_likes"]) == (0, 0)
            assert service.last_timings is not None and service.last_timings.fit > 0
            assert len(service.engine.recommend_for_user("lastfm:2", 5)) == 5
            return state.snapshot.version

    version = services.run(first_start)

    attempts = raise_on_fit(monkeypatch, "a restart must not fit")

    async def restart() -> None:
        async with services.service() as service:
            state = await service.start()
            assert state.snapshot.version == version
            assert service.last_timings is None  # loaded, not refitted
            assert len(service.engine.recommend_for_user("lastfm:2", 5)) == 5
            assert [row.version for row in await service.store.snapshots.recent()] == [version]

    services.run(restart)
    assert attempts == []
    assert len(snapshot_paths(services.snapshot_dir)) == 1


def test_start_skips_a_damaged_or_foreign_snapshot_and_serves_the_older_one(
    served: Services, forbid_fitting: list[int], caplog: pytest.LogCaptureFixture
) -> None:
    older = served.seed_base_snapshot("20240101T000000000000Z")
    damaged = served.seed_base_snapshot("20250101T000000000000Z")
    model = damaged / MODEL_FILE
    data = bytearray(model.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 64] = bytes(b ^ 0xFF for b in data[middle : middle + 64])
    model.write_bytes(bytes(data))
    # The newest of all was fitted on other data: also not to be served.
    foreign = served.seed_base_snapshot("20260101T000000000000Z")
    meta = foreign / "meta.json"
    meta.write_text(
        meta.read_text(encoding="utf-8").replace(served.data.fingerprint, "0123456789abcdef"), encoding="utf-8"
    )
    # A half-written snapshot from a process killed long ago is swept away by start().
    leftover = served.snapshot_dir / ".incoming-killed"
    leftover.mkdir()
    (leftover / MODEL_FILE).write_bytes(b"half")
    long_ago = time.time() - STALE_STAGING_SECONDS - 60
    os.utime(leftover, (long_ago, long_ago))

    async def scenario() -> None:
        async with served.service() as service:
            with caplog.at_level(logging.WARNING, logger="bot.services.models"):
                state = await service.start()
            assert state.snapshot.version == "20240101T000000000000Z"
            assert state.snapshot.path == older
            assert len(service.engine.recommend_for_user("lastfm:2", 5)) == 5

    served.run(scenario)
    assert forbid_fitting == []
    skipped = " ".join(r.getMessage() for r in caplog.records if "skipped a snapshot" in r.getMessage())
    assert "damaged" in skipped and "other data" in skipped
    assert not leftover.exists()


def test_start_with_no_snapshot_and_a_failing_fit_raises(services: Services, forbid_fitting: list[int]) -> None:
    """With nothing to fall back on, start() must not pretend to serve."""

    async def scenario() -> None:
        async with services.service() as service:
            with pytest.raises(RuntimeError, match="forbidden"):
                await service.start()
            assert service.state is None

    services.run(scenario)
    assert forbid_fitting == [1]


# -- housekeeping ---------------------------------------------------------------------------------


def test_remove_stale_staging_removes_only_old_staging_folders(tmp_path: Path) -> None:
    directory = tmp_path / "snapshots"
    directory.mkdir()
    old = directory / ".incoming-old"
    young = directory / ".incoming-young"
    fresh = directory / ".incoming-fresh"
    snapshot = directory / "20200101T000000000000Z"
    other_hidden = directory / ".other"
    for path in (old, young, fresh, snapshot, other_hidden):
        path.mkdir()
        (path / MODEL_FILE).write_bytes(b"x")
    now = time.time()
    for path, age in (
        (old, STALE_STAGING_SECONDS + 60),
        (young, STALE_STAGING_SECONDS - 60),
        (snapshot, STALE_STAGING_SECONDS * 10),
        (other_hidden, STALE_STAGING_SECONDS * 10),
    ):
        os.utime(path, (now - age, now - age))

    remove_stale_staging(directory)

    assert not old.exists()
    assert young.exists() and fresh.exists()  # may belong to a process saving right now
    assert snapshot.exists() and other_hidden.exists()
    remove_stale_staging(tmp_path / "missing")  # no folder: nothing to do, no error


def test_a_dead_writers_staging_folder_on_this_host_goes_at_once(tmp_path: Path) -> None:
    directory = tmp_path / "snapshots"
    directory.mkdir()
    dead_writer = subprocess.Popen([sys.executable, "-c", "pass"])
    dead_writer.wait()
    dead = directory / (staging_prefix(pid=dead_writer.pid) + "abc")
    alive = directory / (staging_prefix() + "def")  # this very process: it may be saving right now
    elsewhere = directory / (staging_prefix(host="another-host", pid=dead_writer.pid) + "ghi")
    for path in (dead, alive, elsewhere):
        path.mkdir()
        (path / MODEL_FILE).write_bytes(b"half")

    remove_stale_staging(directory)

    assert not dead.exists(), "its writer is gone: nothing will finish it"
    assert alive.exists() and elsewhere.exists(), "a live writer's, or another host's, may still be saving"
