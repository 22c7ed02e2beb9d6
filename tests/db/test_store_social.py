"""The store's server-wide reads for /neighbours and /trending: who is here, what they like lately."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import update

from db.models import likes
from db.store import Store
from tests.helpers.db import add_member, run_with_store, seed_artists

GUILD, OTHER_GUILD = 500, 600
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


async def set_like_time(store: Store, user_id: int, artist_id: int, at: datetime) -> None:
    async with store.engine.begin() as conn:
        await conn.execute(
            update(likes).where(likes.c.user_id == user_id, likes.c.artist_id == artist_id).values(created_at=at)
        )


def test_guild_member_ids_knows_memberships_and_likes_made_there(database_url: str) -> None:
    async def scenario(store: Store) -> None:
        await seed_artists(store, 3)
        await add_member(store, 1, GUILD)  # a membership without likes
        await store.likes.like(2, 1, guild_id=GUILD)  # a like made there
        await store.likes.like(3, 1, guild_id=OTHER_GUILD)
        await store.likes.like(4, 2)  # no server at all
        await store.likes.like(5, 3, guild_id=GUILD)
        await store.members.set_privacy(5, "private")
        assert await store.guilds.guild_member_ids(GUILD) == [1, 2]
        assert await store.guilds.guild_member_ids(GUILD, public_only=False) == [1, 2, 5]
        assert await store.guilds.guild_member_ids(OTHER_GUILD) == [3]
        assert await store.guilds.guild_member_ids(999) == []

    run_with_store(database_url, scenario)


def test_guild_member_ids_lists_a_member_once_and_forgets_the_forgotten(database_url: str) -> None:
    async def scenario(store: Store) -> None:
        await seed_artists(store, 2)
        await store.likes.like(7, 1, guild_id=GUILD)
        await store.likes.like(7, 2, guild_id=GUILD)
        await store.likes.like(8, 1, guild_id=GUILD)
        assert await store.guilds.guild_member_ids(GUILD) == [7, 8]
        await store.members.forget_user(8)
        assert await store.guilds.guild_member_ids(GUILD) == [7]

    run_with_store(database_url, scenario)


def test_guild_like_counts_counts_members_in_the_window_of_that_server(database_url: str) -> None:
    async def scenario(store: Store) -> None:
        await seed_artists(store, 4)
        for user, artist, days_ago, guild in [
            (1, 1, 1, GUILD),
            (2, 1, 2, GUILD),
            (3, 1, 3, GUILD),  # artist 1: three members this week
            (1, 2, 6, GUILD),  # artist 2: one this week
            (2, 2, 10, GUILD),
            (3, 2, 12, GUILD),  # ... and two the week before
            (1, 3, 1, OTHER_GUILD),  # another server
            (4, 4, 1, GUILD),  # a private member
        ]:
            await store.likes.like(user, artist, guild_id=guild)
            await set_like_time(store, user, artist, NOW - timedelta(days=days_ago))
        await store.likes.like(5, 4)  # no server: never counted
        await store.members.set_privacy(4, "private")
        week = timedelta(days=7)
        assert await store.guilds.guild_like_counts(GUILD, NOW - week, NOW) == {1: 3, 2: 1}
        assert await store.guilds.guild_like_counts(GUILD, NOW - 2 * week, NOW - week) == {2: 2}
        assert await store.guilds.guild_like_counts(GUILD, NOW - week, NOW, public_only=False) == {1: 3, 2: 1, 4: 1}
        assert await store.guilds.guild_like_counts(OTHER_GUILD, NOW - week, NOW) == {3: 1}
        # The window is half-open and any time zone means the same instant.
        east = timezone(timedelta(hours=5))
        exactly = NOW - timedelta(days=1)
        assert await store.guilds.guild_like_counts(GUILD, exactly.astimezone(east), NOW) == {1: 1}
        assert await store.guilds.guild_like_counts(GUILD, NOW - week, exactly) == {1: 2, 2: 1}

    run_with_store(database_url, scenario)


def test_guild_like_counts_wants_aware_times(database_url: str) -> None:
    async def scenario(store: Store) -> None:
        with pytest.raises(ValueError):
            await store.guilds.guild_like_counts(GUILD, datetime(2026, 1, 1), datetime(2026, 2, 1))

    run_with_store(database_url, scenario)
