"""The model service: serve the newest good snapshot, refit from the store off the event loop, fail safely."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from bot.services.models import STALE_STAGING_SECONDS, RefitTimings, remove_stale_staging
from db.models import MEMBER_ARTIST_ID_BASE
from recommender.engine import LIKE_PLAYS
from recommender.merge import member_key
from recommender.models.als import ALSRecommender
from recommender.snapshot import MODEL_FILE, snapshot_paths, staging_prefix
from recommender.text import normalize_name
from recommender.training import ImplicitTrainer
from tests.helpers.services import FAST, RealData, Services

LASTFM_USERS, LASTFM_ARTISTS, LASTFM_PLAYS = 1892, 17632, 92834  # HetRec 2011 Last.fm
#: Seconds after which a wait that should end at once fails the test instead of hanging it.
HANG_GUARD = 60


def artist_id(data: RealData, name: str) -> int:
    artist = data.catalogue.lookup(name)
    assert artist is not None, name
    return artist.artist_id


def staging_dirs(directory: Path) -> list[Path]:
    return list(directory.glob(".incoming-*"))


def raise_on_fit(monkeypatch: pytest.MonkeyPatch, message: str = "boom") -> list[int]:
    attempts: list[int] = []

    def fit(self, *args, **kwargs):
        attempts.append(1)
        raise RuntimeError(message)

    monkeypatch.setattr(ALSRecommender, "fit", fit)
    return attempts


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


# -- refit_if_due -----------------------------------------------------------------------------------


def test_refit_if_due_needs_a_change_and_the_interval(services: Services) -> None:
    radiohead = artist_id(services.data, "Radiohead")

    async def scenario() -> None:
        async with services.service(refit_minutes=1.0) as service:
            await service.start()
            first = service.state.snapshot.version
            fitted_at = service.last_refit_at
            assert fitted_at is not None

            # Nothing changed since the served snapshot: no refit, however long ago the last was.
            assert await service.refit_if_due(now=fitted_at + 3600) is False
            assert service.state.snapshot.version == first

            assert await service.store.likes.like(4242, radiohead)
            assert await service.store.revision() != service.state.snapshot.meta["store_revision"]
            # Changed, but the interval has not passed yet.
            assert await service.refit_if_due(now=fitted_at + 30) is False
            assert service.state.snapshot.version == first

            # Changed and the interval passed.
            assert await service.refit_if_due(now=fitted_at + 61) is True
            snapshot = service.state.snapshot
            assert snapshot.version != first
            assert snapshot.meta["store_revision"] == await service.store.revision()
            assert member_key(4242) in snapshot.interactions.user_keys.tolist()

            # And with nothing new since, no refit again.
            assert await service.refit_if_due(now=service.last_refit_at + 3600) is False
            assert service.state.snapshot.version == snapshot.version
            assert len(snapshot_paths(services.snapshot_dir)) == 2

    services.run(scenario)


def test_a_snapshot_without_a_store_revision_is_refitted_when_due(served: Services) -> None:
    """A snapshot written without the store (`fit_and_save` without a revision) says nothing of members: refit it."""
    served.seed_base_snapshot()

    async def scenario() -> None:
        async with served.service() as service:
            await service.start()
            assert "store_revision" not in service.state.snapshot.meta
            assert service.last_refit_at is None
            assert await service.refit_if_due() is True
            assert service.state.snapshot.meta["store_revision"] == await service.store.revision()

    served.run(scenario)


# -- failures -------------------------------------------------------------------------------------


def test_a_failed_refit_leaves_the_old_snapshot_serving(
    services: Services, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    radiohead = artist_id(services.data, "Radiohead")
    bjork = artist_id(services.data, "Björk")

    async def scenario() -> None:
        async with services.service() as service:
            await service.start()
            old_state = service.state
            old_version = old_state.snapshot.version
            before = service.engine.recommend_for_likes([radiohead, bjork], 5)
            await service.store.likes.like(7, radiohead)

            # 1. The fit fails.
            raise_on_fit(monkeypatch, "boom in fit")
            with caplog.at_level(logging.ERROR, logger="bot.services.models"):
                assert await service.refit() is None
            assert service.last_error is not None and "boom in fit" in service.last_error
            assert "RuntimeError" in service.last_error
            assert any("refit failed" in r.getMessage() for r in caplog.records)
            assert service.state is old_state and service.state.snapshot.version == old_version
            assert service.engine.recommend_for_likes([radiohead, bjork], 5) == before
            # refit_if_due reports the failure as "no refit" and the old model still serves.
            assert await service.refit_if_due(now=service.last_refit_at + 3600) is False
            assert service.state.snapshot.version == old_version
            monkeypatch.undo()

            # 2. The save fails (say, the disk is full).
            def disk_full(*args, **kwargs):
                raise OSError(28, "No space left on device")

            monkeypatch.setattr("recommender.training.save_snapshot", disk_full)
            assert await service.refit() is None
            assert service.last_error == "Encore cannot save right now (the disk is full); nothing was changed."
            assert service.state is old_state
            assert service.engine.recommend_for_likes([radiohead, bjork], 5) == before
            monkeypatch.undo()

            assert len(snapshot_paths(services.snapshot_dir)) == 1
            assert staging_dirs(services.snapshot_dir) == []
            assert [row.version for row in await service.store.snapshots.recent()] == [old_version]

            # 3. The next refit that works replaces the model and clears the error.
            timings = await service.refit()
            assert timings is not None and service.last_error is None
            assert service.state.snapshot.version != old_version
            assert member_key(7) in service.state.snapshot.interactions.user_keys.tolist()

    services.run(scenario)


def test_start_with_no_snapshot_and_a_failing_fit_raises(services: Services, forbid_fitting: list[int]) -> None:
    """With nothing to fall back on, start() must not pretend to serve."""

    async def scenario() -> None:
        async with services.service() as service:
            with pytest.raises(RuntimeError, match="forbidden"):
                await service.start()
            assert service.state is None

    services.run(scenario)
    assert forbid_fitting == [1]


# -- what a refit puts in the model -----------------------------------------------------------------


def test_members_become_rows_of_the_refitted_model(services: Services) -> None:
    data = services.data
    radiohead, bjork, muse = (artist_id(data, n) for n in ("Radiohead", "Björk", "Muse"))
    big = 2**62 + 12345
    liked = {111: {radiohead, bjork}, 222: {radiohead, muse}, big: {bjork}}

    async def scenario() -> None:
        async with services.service() as service:
            await service.start()
            for user, artists in liked.items():
                for artist in artists:
                    assert await service.store.likes.like(user, artist, guild_id=99)
            timings = await service.refit()
            assert isinstance(timings, RefitTimings)
            parts = timings.as_dict()
            assert set(parts) == {"read", "build", "fit", "save", "swap", "total"}
            assert all(value >= 0 for value in parts.values())
            assert parts["total"] == pytest.approx(sum(v for k, v in parts.items() if k != "total"))

            snapshot = service.state.snapshot
            interactions = snapshot.interactions
            keys = interactions.user_keys.tolist()
            assert keys[:LASTFM_USERS] == data.lastfm.user_keys.tolist()
            assert keys[LASTFM_USERS:] == [member_key(u) for u in sorted(liked)]
            assert interactions.shape == (LASTFM_USERS + 3, LASTFM_ARTISTS)
            for user, artists in liked.items():
                row = interactions.row_of(member_key(user))
                assert set(interactions.artist_ids[row.indices].tolist()) == artists
                assert np.all(row.data == LIKE_PLAYS)
            meta = snapshot.meta
            assert meta["store_revision"] == await service.store.revision()
            assert (meta["members"], meta["member_likes"]) == (3, 5)
            assert meta["users"] == LASTFM_USERS + 3 and meta["interactions"] == LASTFM_PLAYS + 5
            rows = await service.store.snapshots.recent()
            assert [row.version for row in rows][:1] == [snapshot.version] and len(rows) == 2
            assert rows[0].users == LASTFM_USERS + 3
            # The served engine knows the member as a user of the matrix.
            results = service.engine.recommend_for_user(member_key(222), 5)
            assert len(results) == 5 and not {r.artist.artist_id for r in results} & liked[222]

    services.run(scenario)


def test_a_member_added_artist_becomes_a_named_column(services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    data = services.data
    radiohead = artist_id(data, "Radiohead")
    name = "Zzyzx Quartet of Tests"

    async def scenario() -> tuple[int, str]:
        async with services.service() as service:
            await service.start()
            new_id = await service.store.artists.add_member_artist(name, normalize_name(name))
            assert new_id >= MEMBER_ARTIST_ID_BASE and new_id not in service.catalogue
            for user in (501, 502, 503):
                await service.store.likes.like(user, new_id)
                await service.store.likes.like(user, radiohead)
            assert await service.refit() is not None

            snapshot = service.state.snapshot
            assert snapshot.interactions.artist_column(new_id) == LASTFM_ARTISTS  # after the Last.fm columns
            assert snapshot.model.n_items == LASTFM_ARTISTS + 1
            assert (new_id, name, None) in snapshot.member_artists
            artist = service.catalogue.get(new_id)
            assert artist.name == name and artist.url.startswith("https://www.last.fm/music/")
            # The engine can name it wherever it shows up.
            assert [a.name for a, _ in service.engine.similar(new_id, 3)]
            explanation = service.engine.explain_for_likes([radiohead], new_id)
            assert explanation.artist.name == name
            return new_id, snapshot.version

    new_id, version = services.run(scenario)

    # A restart with the plain Last.fm catalogue names it from the snapshot alone, without a fit.
    attempts = raise_on_fit(monkeypatch, "a restart must not fit")
    assert new_id not in data.catalogue

    async def restart() -> None:
        async with services.service(catalogue=data.catalogue) as service:
            await service.start()
            assert service.state.snapshot.version == version
            assert service.catalogue.get(new_id).name == name
            assert service.engine.similar(new_id, 1)[0][0].name

    services.run(restart)
    assert attempts == []


# -- the event loop -------------------------------------------------------------------------------


class BlockingTrainer(ImplicitTrainer):
    """Holds every fit until the test releases it, and says when a fit has begun."""

    def __init__(self) -> None:
        super().__init__(FAST)
        self.fitting = threading.Event()
        self.release = threading.Event()

    def fit(self, plays, initial=None, iterations=None):
        self.fitting.set()
        assert self.release.wait(HANG_GUARD), "the test never released the fit"
        return super().fit(plays, initial=initial, iterations=iterations)


def test_the_refit_runs_off_the_event_loop(services: Services) -> None:
    """While a fit is provably in progress, a task on the event loop keeps running (the bot keeps answering).

    Had the fit run on the loop's thread, it would hold the loop until released, the ticker could not
    tick, and the release would never come: the fit's hang guard would fail the test."""
    radiohead = artist_id(services.data, "Radiohead")
    trainer = BlockingTrainer()

    async def scenario() -> None:
        async with services.service(trainer=trainer) as service:
            for user in range(1, 6):
                await service.store.likes.like(user, radiohead)
            ticks = 0
            ticked_enough = asyncio.Event()

            async def ticker() -> None:
                nonlocal ticks
                while True:
                    ticks += 1
                    if ticks >= 20:
                        ticked_enough.set()
                    await asyncio.sleep(0)

            refit = asyncio.create_task(service.refit())
            assert await asyncio.to_thread(trainer.fitting.wait, HANG_GUARD), "the fit never began"
            ticks_at_fit = ticks
            task = asyncio.create_task(ticker())
            await asyncio.wait_for(ticked_enough.wait(), HANG_GUARD)
            assert not refit.done() and not trainer.release.is_set(), "the fit must still be in progress"
            assert ticks - ticks_at_fit >= 20
            trainer.release.set()
            timings = await asyncio.wait_for(refit, HANG_GUARD)
            task.cancel()
            assert timings is not None and service.state is not None

    try:
        services.run(scenario)
    finally:
        trainer.release.set()


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


def test_run_checks_at_once_then_until_stop_is_set_and_outlives_a_bad_check(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    """The loop itself (waits, stop, surviving a raising step) is tested in test_periodic.py."""

    async def scenario() -> None:
        async with services.service() as service:
            checks: list[int] = []
            checked = asyncio.Event()

            async def refit_if_due(now: float | None = None) -> bool:
                checks.append(1)
                checked.set()
                raise RuntimeError("a bad check")

            service.refit_if_due = refit_if_due  # type: ignore[method-assign]

            # Already stopped: returns without checking.
            stopped = asyncio.Event()
            stopped.set()
            await asyncio.wait_for(service.run(stopped, poll_seconds=3600), HANG_GUARD)
            assert checks == []

            # Checks at once, survives the raising check, and ends as soon as stop is set.
            stop = asyncio.Event()
            task = asyncio.create_task(service.run(stop, poll_seconds=3600))
            await asyncio.wait_for(checked.wait(), HANG_GUARD)
            assert not task.done()
            stop.set()
            await asyncio.wait_for(task, HANG_GUARD)
            assert checks == [1]

    with caplog.at_level(logging.ERROR, logger="bot.services.models"):
        services.run(scenario)
    assert any("refit check failed" in r.getMessage() for r in caplog.records)


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
