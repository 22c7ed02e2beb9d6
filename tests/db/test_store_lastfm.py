"""store.lastfm: an import replaced whole or not at all, unlinking, and the links due a refresh."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from db.store import Store, UnknownArtistError
from tests.helpers.db import lastfm_link_of, link_lastfm, run_with_store, seed_artists, table_counts


async def lastfm_likes(store: Store, user_id: int) -> dict[int, float | None]:
    return {r.artist_id: r.weight for r in await store.likes.likes_of(user_id) if r.source == "lastfm"}


def test_an_import_links_the_member_and_stores_plays_as_weights(database_url: str) -> None:
    async def scenario(store: Store) -> None:
        await seed_artists(store, 5)
        revision = await store.revision()
        before = datetime.now(UTC)
        assert await store.lastfm.replace_lastfm_import(7, "rj", [(1, 120), (2, 80.0)], guild_id=99) == 2
        assert await lastfm_likes(store, 7) == {1: 120.0, 2: 80.0}
        link = await lastfm_link_of(store, 7)
        assert link is not None and link.username == "rj"
        assert link.refreshed_at is not None and link.refreshed_at >= before
        assert link.linked_at == link.refreshed_at
        assert await store.revision() > revision
        assert (await store.counts())["guilds"] == 1  # the member was seen in that server
        assert all(r.guild_id is None for r in await store.likes.likes_of(7))

    run_with_store(database_url, scenario)


def test_a_new_import_replaces_the_old_one_and_keeps_discord_likes(database_url: str) -> None:
    async def scenario(store: Store) -> None:
        await seed_artists(store, 5)
        await store.lastfm.replace_lastfm_import(7, "rj", [(1, 120), (2, 80), (3, 10)])
        await store.likes.like(7, 4)  # liked in Discord...
        await store.likes.like(8, 1)  # ...and someone else's like must not move
        # 4 is in the new chart too: the member's own like stays a plain like.
        assert await store.lastfm.replace_lastfm_import(7, "rj", [(2, 90), (4, 60), (5, 5)]) == 2
        assert await lastfm_likes(store, 7) == {2: 90.0, 5: 5.0}
        own = [r for r in await store.likes.likes_of(7) if r.source == "discord"]
        assert [(r.artist_id, r.weight) for r in own] == [(4, None)]
        assert [(r.artist_id, r.source) for r in await store.likes.likes_of(8)] == [(1, "discord")]

    run_with_store(database_url, scenario)


def test_the_same_chart_again_only_moves_the_refresh_time(database_url: str) -> None:
    async def scenario(store: Store) -> None:
        await seed_artists(store, 3)
        await store.lastfm.replace_lastfm_import(7, "rj", [(1, 120), (2, 80)])
        first = await lastfm_link_of(store, 7)
        revision = await store.revision()
        assert await store.lastfm.replace_lastfm_import(7, "rj", [(2, 80), (1, 120)]) == 2
        again = await lastfm_link_of(store, 7)
        assert first is not None and again is not None
        assert again.refreshed_at > first.refreshed_at  # type: ignore[operator]
        assert again.linked_at == first.linked_at
        # Nothing the model reads changed, so no refit should follow.
        assert await store.revision() == revision
        await store.lastfm.replace_lastfm_import(7, "rj", [(2, 81), (1, 120)])
        assert await store.revision() > revision

    run_with_store(database_url, scenario)


def test_another_username_relinks(database_url: str) -> None:
    async def scenario(store: Store) -> None:
        await seed_artists(store, 3)
        await store.lastfm.replace_lastfm_import(7, "rj", [(1, 120)])
        first = await lastfm_link_of(store, 7)
        await store.lastfm.replace_lastfm_import(7, "someone_else", [(3, 4)])
        relinked = await lastfm_link_of(store, 7)
        assert first is not None and relinked is not None
        assert relinked.username == "someone_else" and relinked.linked_at > first.linked_at
        assert await lastfm_likes(store, 7) == {3: 4.0}

    run_with_store(database_url, scenario)


def test_a_failed_import_writes_nothing(database_url: str) -> None:
    async def scenario(store: Store) -> None:
        await seed_artists(store, 3)
        await store.lastfm.replace_lastfm_import(7, "rj", [(1, 120), (2, 80)])
        link = await lastfm_link_of(store, 7)
        counts, revision = await table_counts(store), await store.revision()
        with pytest.raises(UnknownArtistError):
            await store.lastfm.replace_lastfm_import(7, "other", [(3, 5), (999, 1)])
        for bad in ([(3, 5), (3, 6)], [(3, 0)], [(3, -1)], [(3, float("nan"))], [(3, float("inf"))]):
            with pytest.raises(ValueError):
                await store.lastfm.replace_lastfm_import(7, "other", bad)
        with pytest.raises(ValueError):
            await store.lastfm.replace_lastfm_import(7, "", [(3, 5)])
        assert await lastfm_likes(store, 7) == {1: 120.0, 2: 80.0}
        assert await lastfm_link_of(store, 7) == link
        assert await table_counts(store) == counts
        assert await store.revision() == revision

    run_with_store(database_url, scenario)


def test_an_empty_chart_leaves_the_link_and_no_imported_likes(database_url: str) -> None:
    async def scenario(store: Store) -> None:
        await seed_artists(store, 2)
        await store.lastfm.replace_lastfm_import(7, "rj", [(1, 120)])
        await store.likes.like(7, 2)
        assert await store.lastfm.replace_lastfm_import(7, "rj", []) == 0
        assert await lastfm_likes(store, 7) == {}
        assert [r.artist_id for r in await store.likes.likes_of(7)] == [2]
        assert (await lastfm_link_of(store, 7)) is not None

    run_with_store(database_url, scenario)


def test_only_if_linked_refuses_to_bring_back_what_was_removed(database_url: str) -> None:
    async def scenario(store: Store) -> None:
        await seed_artists(store, 3)
        # Never linked (or forgotten): nothing at all is written, not even the member.
        assert await store.lastfm.replace_lastfm_import(7, "rj", [(1, 5)], only_if_linked=True) is None
        assert (await table_counts(store))["users"] == 0

        await store.lastfm.replace_lastfm_import(7, "rj", [(1, 5)])
        await store.lastfm.replace_lastfm_import(7, "new_name", [(2, 5)])
        # A refresh of the old name, fetched before the relink, must not overwrite the new import.
        assert await store.lastfm.replace_lastfm_import(7, "rj", [(3, 9)], only_if_linked=True) is None
        assert await lastfm_likes(store, 7) == {2: 5.0}
        assert await store.lastfm.replace_lastfm_import(7, "new_name", [(3, 9)], only_if_linked=True) == 1
        assert await lastfm_likes(store, 7) == {3: 9.0}

        await store.lastfm.unlink_lastfm(7, forget_imported_likes=True)
        assert await store.lastfm.replace_lastfm_import(7, "new_name", [(1, 1)], only_if_linked=True) is None
        assert await lastfm_likes(store, 7) == {}
        assert await lastfm_link_of(store, 7) is None

    run_with_store(database_url, scenario)


def test_unlink_and_forget_remove_the_import(database_url: str) -> None:
    async def scenario(store: Store) -> None:
        await seed_artists(store, 3)
        await store.lastfm.replace_lastfm_import(7, "rj", [(1, 5), (2, 6)])
        await store.likes.like(7, 3)
        assert await store.lastfm.unlink_lastfm(7, forget_imported_likes=True) is True
        assert [(r.artist_id, r.source) for r in await store.likes.likes_of(7)] == [(3, "discord")]

        await store.lastfm.replace_lastfm_import(7, "rj", [(1, 5), (2, 6)])
        counts = await store.members.forget_user(7)
        assert (counts["likes"], counts["lastfm_links"], counts["users"]) == (3, 1, 1)
        assert await store.likes.likes_of(7) == []
        assert await lastfm_link_of(store, 7) is None

    run_with_store(database_url, scenario)


def test_links_due_are_the_never_refreshed_and_the_stalest_first(database_url: str) -> None:
    async def scenario(store: Store) -> None:
        await seed_artists(store, 1)
        now = datetime.now(UTC)
        await link_lastfm(store, 1, "never")
        for user_id, name, age in ((2, "old", 3), (3, "older", 5), (4, "fresh", 0)):
            await link_lastfm(store, user_id, name, refreshed_at=now - timedelta(days=age))
        due = await store.lastfm.lastfm_links_due(now - timedelta(days=1))
        assert [link.username for link in due] == ["never", "older", "old"]
        assert [link.username for link in await store.lastfm.lastfm_links_due(now - timedelta(days=1), limit=2)] == [
            "never",
            "older",
        ]
        assert [link.username for link in await store.lastfm.lastfm_links_due(now - timedelta(days=4))] == [
            "never",
            "older",
        ]
        with pytest.raises(ValueError):
            await store.lastfm.lastfm_links_due(datetime(2025, 1, 1))  # naive

    run_with_store(database_url, scenario)


def test_unlink_without_forgetting_keeps_the_imported_likes(database_url: str) -> None:
    async def scenario(store: Store) -> None:
        await seed_artists(store, 2)
        assert await store.lastfm.unlink_lastfm(7) is False
        await store.lastfm.replace_lastfm_import(7, "rj", [(1, 50)])
        await store.likes.like(7, 2)
        revision = await store.revision()
        assert await store.lastfm.unlink_lastfm(7) is True
        assert await store.revision() > revision
        assert await lastfm_link_of(store, 7) is None
        assert await lastfm_likes(store, 7) == {1: 50.0}
        revision = await store.revision()
        assert await store.lastfm.unlink_lastfm(7, forget_imported_likes=True) is False  # no link left...
        assert await lastfm_likes(store, 7) == {}  # ...but the imported likes still go
        assert await store.revision() > revision
        assert [r.artist_id for r in await store.likes.likes_of(7)] == [2]

    run_with_store(database_url, scenario)
