"""Store.digests: a server's weekly digest schedule, claiming a week's post once, who was active."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from db.models import guilds, likes, server_digests
from db.store import Store
from tests.helpers.db import run_with_store, seed_artists

GUILD, OTHER_GUILD, CHANNEL = 500, 600, 700
T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)  # a Monday


async def like_at(store: Store, user_id: int, artist_id: int, guild_id: int | None, at: datetime) -> None:
    await store.likes.like(user_id, artist_id, guild_id=guild_id)
    async with store.engine.begin() as conn:
        await conn.execute(
            update(likes).where(likes.c.user_id == user_id, likes.c.artist_id == artist_id).values(created_at=at)
        )


def test_set_get_replace_and_off(database_url: str) -> None:
    async def scenario(store: Store) -> None:
        assert await store.digests.get(GUILD) is None
        first = await store.digests.set(GUILD, CHANNEL, 0, 9, now=T0)
        assert (first.guild_id, first.channel_id, first.weekday, first.hour) == (GUILD, CHANNEL, 0, 9)
        assert first.set_at == T0 and first.last_posted_at is None
        assert await store.digests.claim(GUILD, T0, T0 + timedelta(minutes=1))
        # Setting it again replaces channel and time, but remembers when it last posted.
        second = await store.digests.set(GUILD, CHANNEL + 1, 6, 23, now=T0 + timedelta(hours=1))
        assert (second.channel_id, second.weekday, second.hour) == (CHANNEL + 1, 6, 23)
        assert second.set_at == T0 + timedelta(hours=1)
        assert second.last_posted_at == T0 + timedelta(minutes=1)
        await store.digests.set(OTHER_GUILD, CHANNEL, 3, 0, now=T0)
        assert [s.guild_id for s in await store.digests.scheduled()] == [GUILD, OTHER_GUILD]
        assert await store.digests.off(GUILD)
        assert not await store.digests.off(GUILD)
        assert await store.digests.get(GUILD) is None
        assert [s.guild_id for s in await store.digests.scheduled()] == [OTHER_GUILD]

    run_with_store(database_url, scenario)


def test_out_of_range_times_are_refused_by_the_store_and_the_database(database_url: str) -> None:
    async def scenario(store: Store) -> None:
        for weekday, hour in [(7, 0), (-1, 0), (0, 24), (0, -1)]:
            with pytest.raises(ValueError):
                await store.digests.set(GUILD, CHANNEL, weekday, hour)
        await store.digests.set(GUILD, CHANNEL, 1, 1)
        # A write that skips the store's check still meets the CHECK constraint.
        with pytest.raises(IntegrityError):
            async with store.engine.begin() as conn:
                await conn.execute(update(server_digests).values(hour=24))
        assert (await store.digests.get(GUILD)).hour == 1

    run_with_store(database_url, scenario)


def test_a_weeks_digest_is_claimed_once_even_by_racing_callers(database_url: str) -> None:
    async def scenario(store: Store) -> None:
        await store.digests.set(GUILD, CHANNEL, 0, 9, now=T0 - timedelta(days=3))
        claims = await asyncio.gather(*(store.digests.claim(GUILD, T0, T0 + timedelta(seconds=i)) for i in range(4)))
        assert sorted(claims) == [False, False, False, True]
        assert not await store.digests.claim(GUILD, T0, T0 + timedelta(hours=2))
        # Next week's is a new one.
        assert await store.digests.claim(GUILD, T0 + timedelta(days=7), T0 + timedelta(days=7, minutes=3))
        # No schedule, nothing to claim.
        assert not await store.digests.claim(OTHER_GUILD, T0, T0)

    run_with_store(database_url, scenario)


def test_active_members_counts_likes_and_votes_in_the_window_of_that_server(database_url: str) -> None:
    async def scenario(store: Store) -> None:
        await seed_artists(store, 6)
        since, until = T0 - timedelta(days=7), T0
        await like_at(store, 1, 1, GUILD, T0 - timedelta(days=1))
        await like_at(store, 1, 2, GUILD, T0 - timedelta(days=2))
        await like_at(store, 2, 1, GUILD, T0 - timedelta(days=3))
        await like_at(store, 3, 1, GUILD, T0 - timedelta(days=8))  # before the window
        await like_at(store, 4, 1, OTHER_GUILD, T0 - timedelta(days=1))  # another server
        await like_at(store, 5, 1, None, T0 - timedelta(days=1))  # no server
        await like_at(store, 6, 1, GUILD, T0 + timedelta(minutes=1))  # after the window
        await like_at(store, 7, 3, GUILD, T0 - timedelta(days=1))
        await store.members.set_privacy(7, "private")
        # Member 8 only voted in one of the server's listening sessions, twice.
        session = await store.sessions.open(
            guild_id=GUILD,
            voice_channel_id=900,
            text_channel_id=CHANNEL,
            strategy="average",
            started_by=8,
            members=(8, 2),
            now=T0 - timedelta(days=2),
        )
        for artist in (4, 5):
            pick = await store.sessions.add_pick(session.id, artist, now=T0 - timedelta(days=2))
            await store.sessions.vote(session.id, pick.id, 8, into_it=False, now=T0 - timedelta(days=2))
        old = await store.sessions.add_pick(session.id, 6, now=T0 - timedelta(days=9))
        await store.sessions.vote(session.id, old.id, 3, into_it=False, now=T0 - timedelta(days=9))

        assert await store.digests.active_members(GUILD, since, until) == [1, 8, 2]
        assert await store.digests.active_members(GUILD, since, until, public_only=False) == [1, 8, 2, 7]
        assert await store.digests.active_members(OTHER_GUILD, since, until) == [4]
        await store.members.forget_user(8)
        assert await store.digests.active_members(GUILD, since, until) == [1, 2]

    run_with_store(database_url, scenario)


def test_a_server_leaving_the_store_takes_its_schedule(database_url: str) -> None:
    async def scenario(store: Store) -> None:
        await store.digests.set(GUILD, CHANNEL, 2, 12)
        async with store.engine.begin() as conn:
            await conn.execute(guilds.delete().where(guilds.c.id == GUILD))
        assert await store.digests.get(GUILD) is None

    run_with_store(database_url, scenario)
