"""Forgetting a member for good: their rows, the artists only they added, and no bytes left in SQLite's files."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import make_url

from db.engine import create_engine
from db.store import Store
from recommender.text import normalize_name
from tests.helpers.db import add_member, link_lastfm, run_with_store, seed_artists

#: A member id and names that occur nowhere else, so a byte search of the files means something.
MEMBER = 912_345_678_901_234_567
OTHER = 7
ADDED = "Qwertzuiop Zebra Quartet"
USERNAME = "xylophone_secret_fm"


async def add_artist(store: Store, name: str) -> int:
    return await store.artists.add_member_artist(name, normalize_name(name))


async def member_artist_names(store: Store) -> set[str]:
    return {row.name for row in await store.artists.member_artists()}


def test_forget_removes_the_member_artists_nobody_else_likes_or_marked(database_url: str) -> None:
    async def scenario(store: Store) -> None:
        await seed_artists(store, 3)
        only_theirs = await add_artist(store, "Only Theirs")
        shared = await add_artist(store, "Shared Band")
        marked_by_other = await add_artist(store, "Marked Elsewhere")
        marked_by_them = await add_artist(store, "Marked By Them")
        # Added by someone else a moment ago and not liked yet: not the forgotten member's to remove.
        await add_artist(store, "Being Added")
        for artist_id in (1, only_theirs, shared, marked_by_other):
            await store.likes.like(MEMBER, artist_id)
        await store.likes.mark_not_interested(MEMBER, marked_by_them)
        await store.likes.like(OTHER, shared)
        await store.likes.mark_not_interested(OTHER, marked_by_other)

        removed = await store.members.forget_user(MEMBER)

        assert removed["artists"] == 2
        assert await member_artist_names(store) == {"Shared Band", "Marked Elsewhere", "Being Added"}
        assert await store.artists.get_artist(only_theirs) is None
        assert await store.artists.get_artist(1) is not None  # the catalogue stays
        assert [row.artist_id for row in await store.likes.likes_of(OTHER)] == [shared]
        assert (await store.likes.taste_of(OTHER)).not_interested == (marked_by_other,)

    run_with_store(database_url, scenario)


def test_unlinking_removes_the_artists_only_the_import_added(database_url: str) -> None:
    async def scenario(store: Store) -> None:
        await seed_artists(store, 2)
        imported = await add_artist(store, "Imported Only")
        also_liked = await add_artist(store, "Also Liked By Other")
        liked_in_discord = await add_artist(store, "Liked In Discord")
        await store.lastfm.replace_lastfm_import(MEMBER, USERNAME, [(1, 10), (imported, 5), (also_liked, 3)])
        await store.likes.like(MEMBER, liked_in_discord)
        await store.likes.like(OTHER, also_liked)

        assert await store.lastfm.unlink_lastfm(MEMBER, forget_imported_likes=True) is True

        assert await member_artist_names(store) == {"Also Liked By Other", "Liked In Discord"}
        assert [row.artist_id for row in await store.likes.likes_of(MEMBER)] == [liked_in_discord]

    run_with_store(database_url, scenario)


def store_as_if_secure_delete_were_off(url: str) -> Store:
    """A store whose connections start with secure_delete off, as SQLite builds without
    SQLITE_SECURE_DELETE have it (Debian's has it on), before Encore's own settings run."""
    engine = create_engine(url)

    def secure_delete_off(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA secure_delete = OFF")
        cursor.close()

    event.listen(engine.sync_engine, "connect", secure_delete_off, insert=True)
    return Store(engine)


def test_every_sqlite_connection_zeroes_what_it_deletes(database_url: str, is_sqlite: bool) -> None:
    if not is_sqlite:
        pytest.skip("a SQLite setting")

    async def scenario() -> None:
        async with store_as_if_secure_delete_were_off(database_url) as store:
            async with store.engine.connect() as first, store.engine.connect() as second:
                assert [await conn.scalar(text("PRAGMA secure_delete")) for conn in (first, second)] == [1, 1]

    asyncio.run(scenario())


def sqlite_files(url: str) -> list[Path]:
    database = Path(make_url(url).database or "")
    return [database, *(database.with_name(database.name + suffix) for suffix in ("-wal", "-shm"))]


def traces(files: list[Path], needles: list[bytes]) -> dict[str, list[bytes]]:
    """Which of `needles` (compared case-insensitively) each existing file holds."""
    found = {}
    for path in files:
        if path.exists():
            content = path.read_bytes().lower()
            found[path.name] = [needle for needle in needles if needle.lower() in content]
    return found


@pytest.mark.parametrize("how", ["forget", "unlink"])
def test_nothing_of_the_member_is_left_in_the_sqlite_files(database_url: str, is_sqlite: bool, how: str) -> None:
    """secure_delete zeroes the deleted rows, and the checkpoint empties the -wal file of older copies."""
    if not is_sqlite:
        pytest.skip("SQLite's files only")
    files = sqlite_files(database_url)
    needles = [str(MEMBER).encode(), MEMBER.to_bytes(8, "big"), ADDED.encode(), USERNAME.encode()]
    if how == "unlink":
        needles = needles[2:]  # the member stays, with their own likes

    async def scenario() -> None:
        async with store_as_if_secure_delete_were_off(database_url) as store:
            await forget_and_search(store)

    async def forget_and_search(store: Store) -> None:
        await seed_artists(store, 50)
        # Others' rows around the member's, on the same pages.
        for other in range(100, 140):
            await add_member(store, other, 500)
            await store.likes.like(other, other % 50 + 1)
            await link_lastfm(store, other, f"listener{other}")
        added = await add_artist(store, ADDED)
        await add_member(store, MEMBER, 500)
        await store.lastfm.replace_lastfm_import(MEMBER, USERNAME, [(added, 40), (3, 20)])
        await store.likes.like(MEMBER, 4, guild_id=500)
        await store.likes.mark_not_interested(MEMBER, 5)
        await store.members.set_privacy(MEMBER, "private")
        # As a bot that ran a while has: the rows are in the main file too, not only in the log.
        async with store.engine.connect() as conn:
            await conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
        before = traces(files, needles)
        # The id is stored as an 8-byte integer rather than as text; the names are there as typed.
        assert {needle for found in before.values() for needle in found} >= set(needles[-3:]), before

        if how == "forget":
            await store.members.forget_user(MEMBER)
        else:
            await store.lastfm.unlink_lastfm(MEMBER, forget_imported_likes=True)

        # Read while the store is open, as a running bot's files are (closing checkpoints anyway).
        assert traces(files, needles) == dict.fromkeys(before, [])
        wal = files[1]
        assert not wal.exists() or wal.stat().st_size == 0

    asyncio.run(scenario())
