"""ENCORE_MAX_ADDED_ARTISTS_PER_DAY: a member adds so many new artists in 24 hours, by hand or by import."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from bot.app import App, build_app
from bot.services.library import LibraryError
from db.models import artist_additions
from fake_lastfm import DEFAULT_API_KEY, FakeLastFm
from recommender.training import ImplicitTrainer
from tests.helpers.services import FAST, Services, settings_for_tests

MEMBER, OTHER = 8101, 8102
SERVER, ELSEWHERE = 61, 62
DAY = 24 * 3600


@asynccontextmanager
async def app_with_limit(served: Services, limit: int, lastfm: FakeLastFm | None = None) -> AsyncIterator[App]:
    """The App as `encore run` builds it, with ENCORE_MAX_ADDED_ARTISTS_PER_DAY=`limit`."""
    served.seed_base_snapshot()
    settings = settings_for_tests(
        served.snapshot_dir.parent,
        served.url,
        snapshot_dir=served.snapshot_dir,
        max_added_artists_per_day=limit,
        lastfm_api_key=DEFAULT_API_KEY if lastfm else None,
        lastfm_api_base=lastfm.base_url.rstrip("/") if lastfm else None,
    )
    app = await build_app(settings, data=served.data, trainer=ImplicitTrainer(FAST))
    try:
        yield app
    finally:
        await app.close()


async def member_artist_names(app: App) -> list[str]:
    return [a.name for a in await app.store.artists.member_artists()]


async def a_day_passes(app: App) -> None:
    """Every addition so far a day older (SQL date arithmetic differs between SQLite and PostgreSQL)."""
    async with app.store.engine.begin() as conn:
        rows = (await conn.execute(select(artist_additions.c.artist_id, artist_additions.c.added_at))).all()
        for artist_id, added_at in rows:
            await conn.execute(
                update(artist_additions)
                .where(artist_additions.c.artist_id == artist_id)
                .values(added_at=added_at - timedelta(days=1))
            )


def test_a_member_adds_at_most_the_daily_limit_by_hand_in_servers_and_dms_alike(served: Services) -> None:
    async def scenario() -> None:
        async with app_with_limit(served, 2) as app:
            library = app.library
            assert library.max_added_artists_per_day == 2
            await library.add_artist_and_like(MEMBER, "Glimmerfoot Alpha", SERVER)
            await library.add_artist_and_like(MEMBER, "Glimmerfoot Beta")  # a DM counts too
            asked_at = time.time()
            with pytest.raises(LibraryError, match="added 2 new artists in the last 24 hours") as refused:
                await library.add_artist_and_like(MEMBER, "Glimmerfoot Gamma", ELSEWHERE)
            when = re.search(r"<t:(\d+):R>", str(refused.value))
            assert when is not None and asked_at + DAY - 60 < int(when[1]) <= asked_at + DAY + 60
            assert await member_artist_names(app) == ["Glimmerfoot Alpha", "Glimmerfoot Beta"]
            assert {a.name for a in await library.liked_artists(MEMBER)} == {"Glimmerfoot Alpha", "Glimmerfoot Beta"}

            # Names Encore has already are liked as ever: another member's addition, a Last.fm artist.
            await library.add_artist_and_like(OTHER, "Glimmerfoot Gamma", SERVER)
            assert (await library.add_artist_and_like(MEMBER, "glimmerfoot gamma", SERVER)).new
            assert (await library.add_artist_and_like(MEMBER, "Radiohead", SERVER)).artist.name == "Radiohead"

            await a_day_passes(app)
            assert (await library.add_artist_and_like(MEMBER, "Glimmerfoot Delta", SERVER)).new

    served.run(scenario)


def test_artists_a_lastfm_import_adds_count_towards_the_same_limit(served: Services) -> None:
    chart = [
        ("Radiohead", 500),
        ("Glimmerfoot Beta", 90),
        ("Glimmerfoot Alpha", 80),  # added by hand already: no new artist
        ("Glimmerfoot Gamma", 70),
        ("Glimmerfoot Delta", 60),  # past the limit: left for a later refresh
    ]

    async def scenario() -> None:
        async with FakeLastFm(users={"rj": chart}) as fake, app_with_limit(served, 3, fake) as app:
            assert app.lastfm is not None and app.lastfm.max_added_artists_per_day == 3
            await app.library.add_artist_and_like(MEMBER, "Glimmerfoot Alpha", SERVER)
            summary = await app.lastfm.link(MEMBER, "rj", guild_id=SERVER)
            assert (summary.artists, summary.new, summary.over_daily_limit) == (4, 2, 1)
            assert "Glimmerfoot Delta" not in await member_artist_names(app)
            with pytest.raises(LibraryError, match="daily limit"):
                await app.library.add_artist_and_like(MEMBER, "Glimmerfoot Epsilon", SERVER)

            await a_day_passes(app)
            report = await app.lastfm.refresh_due(timedelta(days=1), now=datetime.now(UTC) + timedelta(days=2), pause=0)
            assert report.refreshed == 1
            assert "Glimmerfoot Delta" in {a.name for a in await app.library.liked_artists(MEMBER)}

    served.run(scenario)
