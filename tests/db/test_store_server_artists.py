"""Store: the servers member-added artists are seen in (``server_artists``), on SQLite and PostgreSQL."""

from __future__ import annotations

from db.store import Store
from tests.helpers.db import run_with_store, seed_artists


async def member_artist(store: Store, name: str) -> int:
    return await store.artists.add_member_artist(name, name.casefold().replace(" ", ""))


def test_a_like_in_a_server_shows_a_member_artist_there(database_url: str) -> None:
    async def scenario(store: Store) -> None:
        await seed_artists(store, 2)
        added = await member_artist(store, "Unheard Band")
        revision = await store.revision()
        assert await store.likes.like(1, added, guild_id=10) is True
        await store.likes.like(1, 2, guild_id=10)  # a Last.fm artist needs no row
        await store.likes.like(2, added)  # nor does a like in a DM
        assert await store.artists.server_visibility() == [(added, 10, False)]
        # A repeated like, from another server, still shows it there.
        assert await store.likes.like(1, added, guild_id=20) is False
        assert sorted(await store.artists.server_visibility()) == [(added, 10, False), (added, 20, False)]
        assert await store.revision() > revision
        (row,) = await store.artists.server_artists(10)
        assert (row.artist_id, row.name, row.added_by) == (added, "Unheard Band", 1)
        assert await store.artists.server_artists(30) == []

    run_with_store(database_url, scenario)


def test_removing_hides_for_good_and_deletes_what_nothing_else_refers_to(database_url: str) -> None:
    async def scenario(store: Store) -> None:
        await seed_artists(store, 1)
        only_here = await member_artist(store, "Only Here")
        elsewhere = await member_artist(store, "Elsewhere Too")
        await store.likes.like(1, only_here, guild_id=10)
        await store.likes.mark_not_interested(2, only_here)
        await store.likes.like(1, elsewhere, guild_id=10)
        await store.likes.like(2, elsewhere, guild_id=20)

        assert await store.artists.remove_from_server(10, 1) is None  # a Last.fm artist is not removed
        assert await store.artists.remove_from_server(10, only_here) == "deleted"
        assert await store.artists.get_artist(only_here) is None
        assert await store.likes.likes_of(1) != [] and only_here not in (await store.likes.taste_of(1)).liked
        assert (await store.likes.taste_of(2)).not_interested == ()

        assert await store.artists.remove_from_server(10, elsewhere) == "hidden"
        assert await store.artists.get_artist(elsewhere) is not None
        assert await store.artists.server_artists(10) == []
        assert [r.artist_id for r in await store.artists.server_artists(20)] == [elsewhere]
        # Liked there again, it stays removed there.
        await store.likes.like(3, elsewhere, guild_id=10)
        assert sorted(await store.artists.server_visibility()) == [(elsewhere, 10, True), (elsewhere, 20, False)]

        # Removed where it had no row (seen everywhere, say): the row records the removal.
        assert await store.artists.remove_from_server(30, elsewhere) == "hidden"
        assert (elsewhere, 30, True) in await store.artists.server_visibility()

    run_with_store(database_url, scenario)


def test_show_in_server_records_the_member_and_only_member_artists(database_url: str) -> None:
    async def scenario(store: Store) -> None:
        await seed_artists(store, 1)
        added = await member_artist(store, "Imported Band")
        assert await store.artists.show_in_server(10, 7, [1, added, added]) == 1
        assert await store.artists.show_in_server(10, 7, [added]) == 0
        assert await store.artists.server_visibility() == [(added, 10, False)]
        assert (await store.counts())["members"] == 1

    run_with_store(database_url, scenario)
