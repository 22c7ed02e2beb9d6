"""The model service refitting from the store: only when due, a failed refit leaving the old snapshot
serving, members and their added artists in the refitted model, the fit off the event loop, and the
loop that checks for a due refit."""

from __future__ import annotations

import asyncio
import logging
import threading
from pathlib import Path

import numpy as np
import pytest

from bot.services.models import RefitTimings
from db.models import MEMBER_ARTIST_ID_BASE
from recommender.engine import LIKE_PLAYS
from recommender.merge import member_key
from recommender.snapshot import snapshot_paths
from recommender.text import normalize_name
from recommender.training import ImplicitTrainer
from tests.helpers.services import (
    FAST,
    LASTFM_ARTISTS,
    LASTFM_PLAYS,
    LASTFM_USERS,
    RealData,
    Services,
    raise_on_fit,
)

#: Seconds after which a wait that should end at once fails the test instead of hanging it.
HANG_GUARD = 60


def artist_id(data: RealData, name: str) -> int:
    artist = data.catalogue.lookup(name)
    assert artist is not None, name
    return artist.artist_id


def staging_dirs(directory: Path) -> list[Path]:
    return list(directory.glob(".incoming-*"))


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


# -- the refit loop --------------------------------------------------------------------------------


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
