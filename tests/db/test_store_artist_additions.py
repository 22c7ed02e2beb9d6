"""Member artists: each id given once ever, and at most so many new ones per member in 24 hours."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from db.artists import LIMIT_WINDOW, AddedArtistLimitReached
from db.models import MEMBER_ARTIST_ID_BASE, artist_additions
from db.store import Store
from recommender.text import normalize_name
from tests.helpers.db import run_with_store, seed_artists

MEMBER, OTHER = 7, 8
GUILD = 900


async def add(store: Store, name: str, added_by: int | None = None, daily_limit: int | None = None) -> int:
    if added_by is None:
        return await store.artists.add_member_artist(name, normalize_name(name))
    return await store.artists.add_member_artist(name, normalize_name(name), added_by=added_by, daily_limit=daily_limit)


async def additions_of(store: Store, user_id: int) -> list[tuple[int, object]]:
    query = (
        select(artist_additions.c.artist_id, artist_additions.c.added_at)
        .where(artist_additions.c.user_id == user_id)
        .order_by(artist_additions.c.added_at)
    )
    async with store.engine.connect() as conn:
        return [tuple(row) for row in await conn.execute(query)]


def test_a_deleted_artists_id_is_never_given_to_the_next_one(database_url: str) -> None:
    async def scenario(store: Store) -> None:
        await seed_artists(store, 2)
        first = await add(store, "Kept Band")
        await store.likes.like(OTHER, first)
        forgotten = await add(store, "Forgotten Band")
        await store.likes.like(MEMBER, forgotten)
        assert (await store.members.forget_user(MEMBER))["artists"] == 1
        assert await store.artists.get_artist(forgotten) is None
        after_forget = await add(store, "Next Band")
        assert after_forget > forgotten > first >= MEMBER_ARTIST_ID_BASE
        # Removed by a server's moderators, where nothing else refers to it: deleted, and its id stays used.
        await store.likes.like(OTHER, after_forget, guild_id=GUILD)
        await store.likes.unlike(OTHER, after_forget)
        assert await store.artists.remove_from_server(GUILD, after_forget) == "deleted"
        assert await add(store, "Band After That") > after_forget
        assert [a.name for a in await store.artists.member_artists()] == ["Kept Band", "Band After That"]

    run_with_store(database_url, scenario)


def test_a_member_adds_at_most_the_daily_limit_of_new_artists(database_url: str) -> None:
    async def scenario(store: Store) -> None:
        await seed_artists(store, 2)
        first = await add(store, "First New", MEMBER, daily_limit=2)
        await add(store, "Second New", MEMBER, daily_limit=2)
        # Names Encore has already never count: a Last.fm artist's, or one added before.
        assert await add(store, "Artist 1", MEMBER, daily_limit=2) == 1
        assert await add(store, "first new", MEMBER, daily_limit=2) == first
        revision = await store.revision()
        with pytest.raises(AddedArtistLimitReached) as reached:
            await add(store, "Third New", MEMBER, daily_limit=2)
        oldest = (await additions_of(store, MEMBER))[0]
        assert oldest[0] == first
        assert reached.value.limit == 2 and reached.value.retry_at == oldest[1] + LIMIT_WINDOW
        assert await store.revision() == revision, "a refused add wrote something"
        assert [a.name for a in await store.artists.member_artists()] == ["First New", "Second New"]
        # Another member has a limit of their own; a lower limit counts what was already added.
        assert await add(store, "Third New", OTHER, daily_limit=2) > first
        with pytest.raises(AddedArtistLimitReached) as lowered:
            await add(store, "Fourth New", MEMBER, daily_limit=1)
        assert lowered.value.retry_at == (await additions_of(store, MEMBER))[1][1] + LIMIT_WINDOW

        # A day later the oldest addition has left the window: one more may be added.
        async with store.engine.begin() as conn:
            await conn.execute(
                update(artist_additions)
                .where(artist_additions.c.artist_id == first)
                .values(added_at=oldest[1] - LIMIT_WINDOW - timedelta(minutes=1))
            )
        assert await add(store, "Fourth New", MEMBER, daily_limit=2) > first
        with pytest.raises(AddedArtistLimitReached):
            await add(store, "Fifth New", MEMBER, daily_limit=2)

    run_with_store(database_url, scenario)


def test_an_addition_records_the_member_and_goes_when_they_are_forgotten(database_url: str) -> None:
    async def scenario(store: Store) -> None:
        # The member's first act may be an addition: it records them.
        added = await add(store, "Their Own Band", MEMBER, daily_limit=5)
        assert [artist_id for artist_id, _ in await additions_of(store, MEMBER)] == [added]
        assert (await store.counts())["members"] == 1
        await store.likes.like(OTHER, added)
        await store.members.forget_user(MEMBER)
        # The artist stays (someone else likes it); who added it does not.
        assert await store.artists.get_artist(added) is not None
        assert await additions_of(store, MEMBER) == []

    run_with_store(database_url, scenario)
