"""LastFmImporter: /lastfm link imports weighted likes, a relink replaces them, and a failed fetch changes nothing.

Everything runs for real: the client over HTTP against FakeLastFm on 127.0.0.1, the store on a
migrated SQLite file (or ENCORE_TEST_DATABASE_URL), a catalogue built from a few artists, and in the
last test the real Last.fm catalogue and a served model.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pandas as pd
import pytest

from bot.lastfm.client import LastFmClient, LastFmError, LastFmErrorKind, TopArtist
from bot.services.lastfm_import import LastFmImporter
from bot.services.startup import open_store
from db.models import MEMBER_ARTIST_ID_BASE
from db.store import Store
from fake_lastfm import Failure, FakeLastFm
from recommender.catalogue import ArtistCatalogue
from tests.helpers.db import lastfm_link_of, link_lastfm
from tests.helpers.services import Services

T = TypeVar("T")

API_KEY = "0123456789abcdef0123456789abcdef"
ANA, BO = 1001, 1002
GUILD = 555

CATALOGUE_NAMES = ["Radiohead", "Björk", "Sigur Rós", "The Beatles", "AC/DC", "Portishead", "Queen"]
RJ_CHART = [
    ("radiohead", 500),  # case differs from the catalogue
    ("Bjork", 300),  # no accent
    ("Sigur Ros", 120),  # these two are one artist to Encore: their plays add up
    ("Sigur Rós", 80),
    ("Beatles", 150),  # no leading "The"
    ("Obscure Local Band", 40),  # not in the catalogue: becomes a member artist
    ("[unknown]", 30),  # Last.fm's placeholder: left out
]
RJ_NEW_CHART = [("Queen", 900), ("AC/DC", 400), ("Radiohead", 10), ("Another Local Band", 7)]


def run(scenario: Callable[[], Awaitable[T]], timeout: float = 60.0) -> T:
    return asyncio.run(asyncio.wait_for(scenario(), timeout))  # type: ignore[arg-type]


def small_catalogue() -> ArtistCatalogue:
    frame = pd.DataFrame({"artist_id": range(1, len(CATALOGUE_NAMES) + 1), "name": CATALOGUE_NAMES})
    return ArtistCatalogue(frame, {i: 10 for i in range(1, len(CATALOGUE_NAMES) + 1)})


def catalogue_id(name: str) -> int:
    return CATALOGUE_NAMES.index(name) + 1


@dataclass
class World:
    fake: FakeLastFm
    store: Store
    client: LastFmClient
    importer: LastFmImporter

    async def imported(self, user_id: int) -> dict[str, float | None]:
        return {r.name: r.weight for r in await self.store.likes.likes_of(user_id) if r.source == "lastfm"}

    async def snapshot(self, user_id: int) -> tuple[Any, ...]:
        """Everything a failed import must leave exactly as it was."""
        return (
            await self.store.likes.likes_of(user_id),
            await lastfm_link_of(self.store, user_id),
            await self.store.artists.member_artists(),
            await self.store.revision(),
            await self.store.counts(),
        )


@asynccontextmanager
async def world(
    store_url: str, users: dict[str, list[tuple[str, int]]] | None = None, timeout: float = 2.0
) -> AsyncIterator[World]:
    catalogue = small_catalogue()
    store = await open_store(store_url, catalogue)
    try:
        async with FakeLastFm(
            users={"rj": RJ_CHART} if users is None else users, api_key=API_KEY, stall_seconds=10.0
        ) as fake:
            async with LastFmClient(API_KEY, base_url=fake.base_url, timeout=timeout) as client:
                yield World(fake, store, client, LastFmImporter(store, catalogue, client))
    finally:
        await store.close()


# -- link ---------------------------------------------------------------------------------------


def test_link_imports_top_artists_as_weighted_likes(store_url: str) -> None:
    async def scenario() -> None:
        async with world(store_url) as w:
            summary = await w.importer.link(ANA, "RJ", guild_id=GUILD)  # Last.fm names ignore case
            assert await w.imported(ANA) == {
                "Radiohead": 500.0,
                "Björk": 300.0,
                "Sigur Rós": 200.0,
                "The Beatles": 150.0,
                "Obscure Local Band": 40.0,
            }
            assert (summary.username, summary.artists, summary.imported) == ("RJ", 5, 5)
            assert (summary.known, summary.new, summary.skipped, summary.plays) == (4, 1, 1, 1190)
            assert summary.top == ("Radiohead", "Björk", "Sigur Rós", "The Beatles", "Obscure Local Band")

            [band] = await w.store.artists.member_artists()
            assert band.name == "Obscure Local Band" and band.id >= MEMBER_ARTIST_ID_BASE
            assert band.url == "https://www.last.fm/music/Obscure+Local+Band"
            # The serving catalogue now names it, so /likes can show it before any refit.
            assert w.importer.artists.catalogue.get(band.id).name == "Obscure Local Band"

            link = await lastfm_link_of(w.store, ANA)
            assert link is not None and link.username == "RJ" and link.refreshed_at is not None
            assert (await w.store.counts())["guilds"] == 1
            assert [r.query["limit"] for r in w.fake.requests] == ["50"]

    run(scenario)


def test_discord_likes_stay_plain_likes(store_url: str) -> None:
    async def scenario() -> None:
        async with world(store_url) as w:
            await w.store.likes.like(ANA, catalogue_id("Radiohead"))
            summary = await w.importer.link(ANA, "rj")
            assert (summary.artists, summary.imported) == (5, 4)
            sources = {r.name: (r.source, r.weight) for r in await w.store.likes.likes_of(ANA)}
            assert sources["Radiohead"] == ("discord", None)
            await w.importer.unlink(ANA)
            assert [r.name for r in await w.store.likes.likes_of(ANA)] == ["Radiohead"]

    run(scenario)


def test_relink_replaces_the_earlier_import(store_url: str) -> None:
    async def scenario() -> None:
        async with world(store_url, {"rj": RJ_CHART, "other": [("Portishead", 3)]}) as w:
            await w.importer.link(ANA, "rj")
            await w.importer.link(BO, "rj")  # someone else with the same account is left alone
            w.fake.set_user("rj", RJ_NEW_CHART)
            summary = await w.importer.link(ANA, "rj")
            assert await w.imported(ANA) == {
                "Queen": 900.0,
                "AC/DC": 400.0,
                "Radiohead": 10.0,
                "Another Local Band": 7.0,
            }
            assert (summary.known, summary.new) == (3, 1)
            assert len(await w.imported(BO)) == 5

            await w.importer.link(ANA, "other")
            assert await w.imported(ANA) == {"Portishead": 3.0}
            assert (await lastfm_link_of(w.store, ANA)).username == "other"  # type: ignore[union-attr]

    run(scenario)


# -- a failed relink leaves the earlier import exactly as it was (the must-show) -----------

FAILURES = [f for f in Failure]


@pytest.mark.parametrize("failure", FAILURES, ids=[f.value for f in FAILURES])
def test_a_failing_relink_leaves_the_earlier_import_intact(store_url: str, failure: Failure) -> None:
    async def scenario() -> None:
        async with world(store_url, timeout=0.3) as w:
            await w.importer.link(ANA, "rj")
            before = await w.snapshot(ANA)
            w.fake.set_user("rj", RJ_NEW_CHART)  # what a successful relink would have brought
            w.fake.fail(failure, username="rj")
            with pytest.raises(LastFmError) as caught:
                await w.importer.link(ANA, "rj")
            assert API_KEY not in str(caught.value)
            assert await w.snapshot(ANA) == before

            w.fake.recover("rj")  # and once Last.fm answers again, the relink goes through
            await w.importer.link(ANA, "rj")
            assert "Queen" in await w.imported(ANA)

    run(scenario)


def test_a_failure_on_a_later_page_leaves_the_earlier_import_intact(store_url: str) -> None:
    async def scenario() -> None:
        async with world(store_url) as w:
            w.importer.page_size, w.importer.pages = 2, 5
            await w.importer.link(ANA, "rj")
            assert len(await w.imported(ANA)) == 5
            before = await w.snapshot(ANA)
            w.fake.set_user("rj", RJ_NEW_CHART)
            w.fake.fail(Failure.RATE_LIMIT, from_page=2)  # page 1 (with a new artist) arrived fine
            with pytest.raises(LastFmError) as caught:
                await w.importer.link(ANA, "rj")
            assert caught.value.kind is LastFmErrorKind.RATE_LIMITED
            assert await w.snapshot(ANA) == before

    run(scenario)


def test_a_mistyped_new_name_keeps_the_old_link(store_url: str) -> None:
    async def scenario() -> None:
        async with world(store_url) as w:
            await w.importer.link(ANA, "rj")
            before = await w.snapshot(ANA)
            for typo in ("rjj", "", "   "):
                with pytest.raises(LastFmError) as caught:
                    await w.importer.link(ANA, typo)
                assert caught.value.kind in (LastFmErrorKind.USER_NOT_FOUND, LastFmErrorKind.INVALID_USERNAME)
            assert await w.snapshot(ANA) == before

    run(scenario)


def test_last_fm_unreachable_leaves_the_earlier_import_intact(store_url: str) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}/2.0/"

    async def scenario() -> None:
        async with world(store_url) as w:
            await w.importer.link(ANA, "rj")
            before = await w.snapshot(ANA)
            async with LastFmClient(API_KEY, base_url=dead, timeout=2.0) as unreachable:
                importer = LastFmImporter(w.store, small_catalogue(), unreachable)
                with pytest.raises(LastFmError) as caught:
                    await importer.link(ANA, "rj")
            assert caught.value.kind is LastFmErrorKind.UNREACHABLE
            assert await w.snapshot(ANA) == before

    run(scenario)


# -- unlink and forget --------------------------------------------------------------------------


def test_unlink_removes_the_link_and_the_imported_likes(store_url: str) -> None:
    async def scenario() -> None:
        async with world(store_url) as w:
            await w.store.likes.like(ANA, catalogue_id("Queen"))
            await w.importer.link(ANA, "rj")
            await w.importer.link(BO, "rj")
            assert await w.importer.unlink(ANA) is True
            assert await lastfm_link_of(w.store, ANA) is None
            assert [(r.name, r.source) for r in await w.store.likes.likes_of(ANA)] == [("Queen", "discord")]
            assert len(await w.imported(BO)) == 5
            assert await w.importer.unlink(ANA) is False

    run(scenario)


def test_forget_user_removes_the_link_and_the_imported_likes(store_url: str) -> None:
    async def scenario() -> None:
        async with world(store_url) as w:
            await w.importer.link(ANA, "rj", guild_id=GUILD)
            counts = await w.store.members.forget_user(ANA)
            assert (counts["likes"], counts["lastfm_links"], counts["users"]) == (5, 1, 1)
            assert await w.store.likes.likes_of(ANA) == []
            assert await lastfm_link_of(w.store, ANA) is None
            assert await w.store.lastfm.lastfm_links_due(datetime.now(UTC) + timedelta(days=9)) == []

    run(scenario)


def test_a_link_and_an_unlink_at_once_end_in_the_order_given(store_url: str) -> None:
    async def scenario() -> None:
        async with world(store_url) as w:
            linked, unlinked = await asyncio.gather(w.importer.link(ANA, "rj"), w.importer.unlink(ANA))
            assert linked.imported == 5 and unlinked is True
            assert await lastfm_link_of(w.store, ANA) is None and await w.imported(ANA) == {}

    run(scenario)


# -- the refresh loop ---------------------------------------------------------------------------


def test_refresh_due_reimports_stale_links_only(store_url: str) -> None:
    async def scenario() -> None:
        async with world(store_url, {"rj": RJ_CHART, "other": [("Portishead", 3)]}) as w:
            await w.importer.link(ANA, "rj")
            await w.importer.link(BO, "other")
            now = datetime.now(UTC)
            assert (await w.importer.refresh_due(timedelta(days=1), now=now, pause=0)).due == 0

            w.fake.set_user("rj", RJ_NEW_CHART)
            w.fake.set_user("other", [("Portishead", 5), ("Queen", 1)])
            report = await w.importer.refresh_due(timedelta(days=1), now=now + timedelta(days=2), pause=0)
            assert (report.due, report.refreshed, report.failed, report.stopped_by) == (2, 2, {}, None)
            assert await w.imported(ANA) == {
                "Queen": 900.0,
                "AC/DC": 400.0,
                "Radiohead": 10.0,
                "Another Local Band": 7.0,
            }
            assert await w.imported(BO) == {"Portishead": 5.0, "Queen": 1.0}

    run(scenario)


def test_refresh_keeps_a_failed_members_import_and_goes_on(store_url: str) -> None:
    async def scenario() -> None:
        async with world(store_url, {"rj": RJ_CHART, "other": [("Portishead", 3)]}) as w:
            await w.importer.link(ANA, "rj")
            await w.importer.link(BO, "other")
            before = await w.imported(ANA)
            del w.fake.users["rj"]  # the account was deleted on Last.fm
            w.fake.set_user("other", [("Queen", 2)])
            later = datetime.now(UTC) + timedelta(days=2)
            report = await w.importer.refresh_due(timedelta(days=1), now=later, pause=0)
            assert report.failed == {ANA: LastFmErrorKind.USER_NOT_FOUND}
            assert (report.refreshed, report.stopped_by) == (1, None)
            assert await w.imported(ANA) == before
            assert await w.imported(BO) == {"Queen": 2.0}

    run(scenario)


def test_refresh_stops_at_a_failure_everyone_would_meet(store_url: str) -> None:
    async def scenario() -> None:
        async with world(store_url, {"rj": RJ_CHART, "other": [("Portishead", 3)]}) as w:
            await w.importer.link(ANA, "rj")
            await w.importer.link(BO, "other")
            before = (await w.snapshot(ANA), await w.snapshot(BO))
            w.fake.fail(Failure.RATE_LIMIT)
            asked = len(w.fake.requests)
            later = datetime.now(UTC) + timedelta(days=2)
            report = await w.importer.refresh_due(timedelta(days=1), now=later, pause=0)
            assert report.stopped_by is LastFmErrorKind.RATE_LIMITED
            assert (report.due, report.refreshed, len(report.failed)) == (2, 0, 1)
            assert len(w.fake.requests) == asked + 1  # no second request into the rate limit
            assert (await w.snapshot(ANA), await w.snapshot(BO)) == before

    run(scenario)


def test_a_member_forgotten_during_a_refresh_stays_forgotten(store_url: str) -> None:
    class ForgetsMidFetch:
        """A client that, while fetching, lets the member run /forget-me."""

        def __init__(self, inner: LastFmClient, store: Store) -> None:
            self.inner, self.store = inner, store

        async def top_artists(self, username: str, limit: int, max_pages: int) -> list[TopArtist]:
            chart = await self.inner.top_artists(username, limit, max_pages)
            await self.store.members.forget_user(ANA)
            return chart

    async def scenario() -> None:
        async with world(store_url) as w:
            await w.importer.link(ANA, "rj")
            forgetful = ForgetsMidFetch(w.client, w.store)
            importer = LastFmImporter(w.store, small_catalogue(), forgetful)  # type: ignore[arg-type]
            later = datetime.now(UTC) + timedelta(days=2)
            report = await importer.refresh_due(timedelta(days=1), now=later, pause=0)
            assert (report.due, report.refreshed, report.gone) == (1, 0, 1)
            assert await w.store.likes.likes_of(ANA) == []
            assert await lastfm_link_of(w.store, ANA) is None
            assert (await w.store.counts())["members"] == 0

    run(scenario)


def test_the_refresh_loop_runs_until_stopped(store_url: str) -> None:
    async def scenario() -> None:
        async with world(store_url) as w:
            await link_lastfm(w.store, ANA, "rj")  # linked, never imported: due at once
            stop = asyncio.Event()
            loop = asyncio.create_task(w.importer.run(stop, every=0.05))
            for _ in range(100):
                if await w.imported(ANA):
                    break
                await asyncio.sleep(0.05)
            stop.set()
            await asyncio.wait_for(loop, 5)
            assert len(await w.imported(ANA)) == 5

    run(scenario)


# -- on the real catalogue, with a served model ---------------------------------------------------


def test_imported_artists_count_in_the_very_next_recommendation(served: Services, forbid_fitting: list[int]) -> None:
    chart = [
        ("Radiohead", 812),
        ("Bjork", 430),
        ("Sigur Ros", 220),
        ("Portishead", 180),
        ("Massive Attack", 95),
        ("Zzz Encore Test Garage Band", 12),
    ]

    async def scenario() -> None:
        async with served.library() as (service, library):
            async with FakeLastFm(users={"rj": chart}, api_key=API_KEY) as fake:
                async with LastFmClient(API_KEY, base_url=fake.base_url) as client:
                    importer = LastFmImporter(service.store, service, client)
                    summary = await importer.link(ANA, "rj")
            assert (summary.known, summary.new) == (5, 1)
            names = {r.name: r.weight for r in await service.store.likes.likes_of(ANA)}
            assert names["Björk"] == 430.0 and names["Sigur Rós"] == 220.0
            [band] = await service.store.artists.member_artists()
            assert band.id in service.catalogue  # ModelService.include_artists ran
            shown = {a.name for a in await library.liked_artists(ANA)}
            assert shown == {
                "Radiohead",
                "Björk",
                "Sigur Rós",
                "Portishead",
                "Massive Attack",
                "Zzz Encore Test Garage Band",
            }
            recommendations = await library.recommend(ANA, 10)
            assert len(recommendations) == 10
            assert not {r.artist.name for r in recommendations} & shown

    served.run(scenario)
    assert forbid_fitting == []
