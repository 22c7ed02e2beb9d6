"""RefitService: serve the newest good snapshot, refit from the store off the event loop, fail safely."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from pathlib import Path

import numpy as np
import pytest

from bot.services.refit import STALE_STAGING_SECONDS, RefitService, RefitTimings, remove_stale_staging
from db.models import MEMBER_ARTIST_ID_BASE
from recommender.engine import LIKE_PLAYS
from recommender.merge import member_key
from recommender.models.als import ALSConfig, ALSRecommender
from recommender.snapshot import MODEL_FILE, snapshot_paths
from recommender.text import normalize_name

from .conftest import RealData, Services

LASTFM_USERS, LASTFM_ARTISTS, LASTFM_PLAYS = 1892, 17632, 92834  # HetRec 2011 Last.fm


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
                service.engine  # nothing served before start()
            assert snapshot_paths(services.snapshot_dir) == []
            state = await service.start()
            assert state is service.state
            paths = snapshot_paths(services.snapshot_dir)
            assert paths == [state.snapshot.path]
            rows = await service.store.snapshots()
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
            assert [row.version for row in await service.store.snapshots()] == [version]

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
            with caplog.at_level(logging.WARNING, logger="bot.services.refit"):
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

            assert await service.store.like(4242, radiohead)
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
    """A snapshot written without the store (`fit_snapshot`) says nothing of members: refit it."""
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
            await service.store.like(7, radiohead)

            # 1. The fit fails.
            raise_on_fit(monkeypatch, "boom in fit")
            with caplog.at_level(logging.ERROR, logger="bot.services.refit"):
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

            monkeypatch.setattr("bot.services.refit.save_snapshot", disk_full)
            assert await service.refit() is None
            assert "No space left on device" in service.last_error
            assert service.state is old_state
            assert service.engine.recommend_for_likes([radiohead, bjork], 5) == before
            monkeypatch.undo()

            assert len(snapshot_paths(services.snapshot_dir)) == 1
            assert staging_dirs(services.snapshot_dir) == []
            assert [row.version for row in await service.store.snapshots()] == [old_version]

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
                    assert await service.store.like(user, artist, guild_id=99)
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
            rows = await service.store.snapshots()
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
            new_id = await service.store.add_member_artist(name, normalize_name(name))
            assert new_id >= MEMBER_ARTIST_ID_BASE and new_id not in service.catalogue
            for user in (501, 502, 503):
                await service.store.like(user, new_id)
                await service.store.like(user, radiohead)
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


def test_the_refit_runs_off_the_event_loop(services: Services) -> None:
    """While a refit runs, a task ticking every 10 ms keeps ticking (the bot keeps answering)."""
    radiohead = artist_id(services.data, "Radiohead")
    slower = ALSConfig(iterations=20)  # long enough (>1 s) that a blocked loop would show

    async def scenario() -> tuple[list[float], float, float]:
        async with services.service(config=slower) as service:
            for user in range(1, 51):
                await service.store.like(user, radiohead)
            ticks: list[float] = []
            done = asyncio.Event()

            async def ticker() -> None:
                while not done.is_set():
                    ticks.append(time.perf_counter())
                    await asyncio.sleep(0.01)

            task = asyncio.create_task(ticker())
            await asyncio.sleep(0.05)
            started = time.perf_counter()
            timings = await service.refit()
            ended = time.perf_counter()
            await asyncio.sleep(0.05)
            done.set()
            await task
            assert timings is not None and timings.fit > 0.5
            return ticks, started, ended

    ticks, started, ended = services.run(scenario)
    assert ended - started > 1.0, "the refit was too quick to tell a blocked loop from a free one"
    gaps = np.diff(np.array(ticks))
    during = [t for t in ticks if started <= t <= ended]
    assert gaps.max() < 0.5, f"the event loop stalled for {gaps.max():.2f} s during a refit"
    assert len(during) >= 0.3 * (ended - started) / 0.01


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


def test_run_checks_until_stop_is_set_and_outlives_a_bad_check(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async def scenario() -> None:
        service = RefitService(
            store=None,
            lastfm=None,
            lastfm_fingerprint="x",
            catalogue=None,  # type: ignore[arg-type]
            snapshot_dir=tmp_path,
        )
        checks: list[float] = []

        async def refit_if_due(now: float | None = None) -> bool:
            checks.append(time.perf_counter())
            if len(checks) == 2:
                raise RuntimeError("a bad check")
            return False

        service.refit_if_due = refit_if_due  # type: ignore[method-assign]

        # Already stopped: returns without checking.
        stopped = asyncio.Event()
        stopped.set()
        await asyncio.wait_for(service.run(stopped, poll_seconds=30), 1)
        assert checks == []

        # Short polls: keeps checking, even after a check raised.
        stop = asyncio.Event()
        task = asyncio.create_task(service.run(stop, poll_seconds=0.02))
        await asyncio.sleep(0.3)
        assert not task.done()
        assert len(checks) >= 4
        stop.set()
        await asyncio.wait_for(task, 1)

        # A long poll: setting stop ends the loop at once, not when the poll is over.
        stop = asyncio.Event()
        task = asyncio.create_task(service.run(stop, poll_seconds=30))
        await asyncio.sleep(0.05)
        count = len(checks)
        set_at = time.perf_counter()
        stop.set()
        await asyncio.wait_for(task, 2)
        assert time.perf_counter() - set_at < 0.5
        assert len(checks) == count

    with caplog.at_level(logging.ERROR, logger="bot.services.refit"):
        asyncio.run(scenario())
    assert any("refit check failed" in r.getMessage() for r in caplog.records)
