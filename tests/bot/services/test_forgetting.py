"""/forget-me and /lastfm unlink in the model: the served engine and every snapshot on disk forget at once,
without a refit, and the log never joins a member's id to their Last.fm name.

Real data, a real store and refits with the FAST model: the member must be in fitted snapshots first.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from bot.app import App
from bot.lastfm.client import LastFmClient
from bot.services.lastfm_import import LastFmImporter
from bot.services.models import ModelService
from fake_lastfm import FakeLastFm
from recommender.merge import member_key
from recommender.models.als import ALSRecommender
from recommender.snapshot import load_snapshot, snapshot_paths
from tests.helpers.db import link_lastfm
from tests.helpers.services import Services

API_KEY = "0123456789abcdef0123456789abcdef"
GUILD = 4242
#: Ids and names that occur nowhere else, so a byte search of the snapshot folder means something.
MEMBER = 912_345_678_901_234_567
OTHER, THIRD = 8_100_000_000_000_001, 8_100_000_000_000_002
ADDED = "Qwertzuiop Zebra Quartet"
USERNAME = "xylophone_secret_fm"
BAND = "Zzz Unheard Forgettable Garage Band"
CHART = [("Radiohead", 812), ("Bjork", 430), ("Portishead", 180), (BAND, 12)]


def traces(folder: Path, texts: list[str]) -> dict[str, list[str]]:
    """Files under `folder` holding any of `texts`, as UTF-8 (meta.json) or UTF-32 (numpy's strings)."""
    found = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        content = path.read_bytes()
        hits = [t for t in texts if t.encode() in content or t.encode("utf-32-le") in content]
        if hits:
            found[str(path.relative_to(folder))] = hits
    return found


@asynccontextmanager
async def linked(models: App | ModelService) -> AsyncIterator[LastFmImporter]:
    """A Last.fm importer over the served models (and a fake Last.fm), the member linked to USERNAME."""
    service = models.models if isinstance(models, App) else models
    async with FakeLastFm(users={USERNAME: CHART}, api_key=API_KEY) as fake:
        async with LastFmClient(API_KEY, base_url=fake.base_url) as client:
            importer = LastFmImporter(service.store, service, client)
            await importer.link(MEMBER, USERNAME, guild_id=GUILD)
            yield importer


def forbid_fitting_from_now(monkeypatch: pytest.MonkeyPatch) -> None:
    def fit(*_: Any, **__: Any) -> Any:
        raise AssertionError("forgetting must not refit")

    monkeypatch.setattr(ALSRecommender, "fit", fit)


async def others_like(app: App) -> None:
    for user_id, names in ((OTHER, ["Radiohead", "Portishead", "Björk"]), (THIRD, ["Radiohead", "Massive Attack"])):
        for name in names:
            await app.library.like(user_id, name, guild_id=GUILD)
    # Someone else likes the member's added artist too: it must stay.
    await app.library.add_artist_and_like(THIRD, "Shared Garage Collective", guild_id=GUILD)


def test_forget_me_drops_the_member_from_the_served_model_and_every_snapshot(
    served: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = member_key(MEMBER)
    texts = [key, str(MEMBER), ADDED]
    served.seed_base_snapshot()

    async def scenario() -> None:
        async with served.app(start=True) as app:
            models, store = app.models, app.store
            for name in ("Radiohead", "Portishead", "Björk", "Sigur Rós"):
                await app.library.like(MEMBER, name, guild_id=GUILD)
            await app.library.add_artist_and_like(MEMBER, ADDED, guild_id=GUILD)
            await app.library.add_artist_and_like(MEMBER, "Shared Garage Collective", guild_id=GUILD)
            await others_like(app)
            await link_lastfm(store, MEMBER, USERNAME)
            assert await models.refit() is not None
            await app.library.like(OTHER, "Coldplay", guild_id=GUILD)
            assert await models.refit() is not None  # two snapshots that hold the member, and the base
            before = traces(served.snapshot_dir, texts)
            assert len(before) >= 4 and {t for hits in before.values() for t in hits} == set(texts)
            assert MEMBER in {n.user_id for n in await app.social.neighbours(OTHER, GUILD)}
            forbid_fitting_from_now(monkeypatch)
            old_version = models.state.snapshot.version

            removed = await app.library.forget(MEMBER)

            assert removed["likes"] == 6 and removed["artists"] == 1
            engine = models.engine
            assert engine.interactions.user_row(key) is None
            assert engine.model.user_factors.shape[0] == engine.interactions.shape[0]
            assert all(name != ADDED for _, name, _ in models.state.snapshot.member_artists)
            assert models.catalogue.lookup(ADDED) is None
            assert models.catalogue.lookup("Shared Garage Collective") is not None
            assert models.state.snapshot.version > old_version
            assert models.state.snapshot.meta["rewritten_from"] == old_version
            assert MEMBER not in {n.user_id for n in await app.social.neighbours(OTHER, GUILD)}
            assert [r.artist.name for r in await app.library.recommend(OTHER, 5)]
            taste = await app.social.compare(OTHER, THIRD)
            assert -1.0 <= taste.compatibility.similarity <= 1.0

            assert traces(served.snapshot_dir, texts) == {}
            served_path = models.state.snapshot.path
            assert served_path in snapshot_paths(served.snapshot_dir)
            assert load_snapshot(served_path).interactions.user_row(key) is None  # its checksum holds
            [published] = await store.snapshots.recent(limit=1)
            assert published.version == models.state.snapshot.version

            # The next refit starts warm from the rewritten snapshot, and the member stays out.
            monkeypatch.undo()
            await app.library.like(OTHER, "Air", guild_id=GUILD)
            assert await models.refit() is not None
            assert models.engine.interactions.user_row(key) is None
            assert models.state.snapshot.meta["warm_chain"] >= 1

        # A restart serves the rewritten snapshot: nothing on disk brings the member back.
        async with served.app(start=True) as app:
            assert app.models.engine.interactions.user_row(key) is None

    served.run(scenario)


def test_unlink_drops_the_imported_plays_from_the_model_and_every_snapshot(
    served: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = member_key(MEMBER)
    served.seed_base_snapshot()

    async def scenario() -> None:
        async with served.app(start=True) as app, linked(app) as importer:
            await others_like(app)
            assert await app.models.refit() is not None
            assert app.models.engine.interactions.user_row(key) is not None
            assert traces(served.snapshot_dir, [BAND])
            forbid_fitting_from_now(monkeypatch)

            assert await importer.unlink(MEMBER) is True

            assert app.models.engine.interactions.user_row(key) is None
            assert app.models.catalogue.lookup(BAND) is None
            assert [a.name for a in await app.store.artists.member_artists()] == ["Shared Garage Collective"]
            assert traces(served.snapshot_dir, [key, BAND]) == {}

    served.run(scenario)


def test_the_log_never_joins_a_member_id_to_their_lastfm_username(
    served: Services, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)  # what the bot logs (aiosqlite logs every query with its values at DEBUG)

    async def scenario() -> None:
        async with served.library() as (service, library), linked(service) as importer:
            assert await importer.unlink(MEMBER) is True

    served.run(scenario)
    messages = [record.getMessage() for record in caplog.records]
    assert [m for m in messages if "linked Last.fm" in m]  # the line is still there...
    assert [m for m in messages if str(MEMBER) in m and USERNAME in m] == []  # ...without the two together
    assert [m for m in messages if USERNAME in m] == []
