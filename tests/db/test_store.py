"""db.store.Store, one behaviour at a time, on a real migrated database."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import delete, func, select

from db.models import MEMBER_ARTIST_ID_BASE, likes, memberships, users
from db.rows import Taste
from db.store import Store, UnknownArtistError

from .helpers import run_with_store, seed_artists, table_counts

BIG = 2**63 - 1  # the largest snowflake a signed 64-bit column holds


def test_snowflakes_near_the_64_bit_limit_round_trip(database_url: str) -> None:
    async def scenario(store: Store) -> None:
        await seed_artists(store, 2)
        assert await store.like(BIG, 1, guild_id=BIG - 1)
        await store.set_privacy(BIG - 2, "private")
        assert await store.all_likes() == [(BIG, 1, "discord", None)]
        [row] = await store.likes_of(BIG)
        assert (row.artist_id, row.guild_id) == (1, BIG - 1)
        assert await store.privacy_of(BIG - 2) == "private"
        async with store.engine.connect() as conn:
            assert (await conn.execute(select(memberships))).one()[:2] == (BIG, BIG - 1)
        with pytest.raises(ValueError):
            await store.like(BIG + 1, 1)

    run_with_store(database_url, scenario)


def test_like_is_idempotent(database_url: str) -> None:
    async def scenario(store: Store) -> None:
        await seed_artists(store, 2)
        assert await store.like(7, 1) is True
        assert await store.like(7, 1) is False
        assert await store.like(7, 1, source="lastfm", weight=3.0) is False
        async with store.engine.connect() as conn:
            assert await conn.scalar(select(func.count()).select_from(likes)) == 1
        [row] = await store.likes_of(7)
        assert (row.artist_id, row.name, row.source, row.weight) == (1, "Artist 1", "discord", None)

    run_with_store(database_url, scenario)


def test_like_records_weight_source_and_orders_newest_first(database_url: str) -> None:
    async def scenario(store: Store) -> None:
        await seed_artists(store, 3)
        await store.like(7, 2, source="lastfm", weight=120.0)
        await store.like(7, 3)
        await store.like(7, 1, guild_id=99)
        rows = await store.likes_of(7)
        assert [r.artist_id for r in rows] == [1, 3, 2]
        assert (rows[2].source, rows[2].weight) == ("lastfm", 120.0)
        assert rows[0].guild_id == 99
        assert all(r.created_at.tzinfo is not None for r in rows)
        assert rows[0].created_at >= rows[1].created_at >= rows[2].created_at
        assert await store.likes_of(8) == []

    run_with_store(database_url, scenario)


def test_like_rejects_unknown_artists_and_sources(database_url: str) -> None:
    async def scenario(store: Store) -> None:
        await seed_artists(store, 1)
        with pytest.raises(UnknownArtistError):
            await store.like(7, 999)
        with pytest.raises(ValueError):
            await store.like(7, 1, source="spotify")  # type: ignore[arg-type]
        counts = await table_counts(store)
        assert (counts["likes"], counts["users"]) == (0, 0)  # rolled back whole

    run_with_store(database_url, scenario)


def test_unlike(database_url: str) -> None:
    async def scenario(store: Store) -> None:
        await seed_artists(store, 2)
        await store.like(7, 1)
        await store.like(7, 2)
        assert await store.unlike(7, 1) is True
        assert await store.unlike(7, 1) is False
        assert await store.unlike(8, 1) is False
        assert [r.artist_id for r in await store.likes_of(7)] == [2]

    run_with_store(database_url, scenario)


def test_like_clears_not_interested(database_url: str) -> None:
    async def scenario(store: Store) -> None:
        await seed_artists(store, 3)
        assert await store.mark_not_interested(7, 1) is True
        assert await store.mark_not_interested(7, 1) is False
        assert await store.mark_not_interested(7, 2) is True
        assert await store.not_interested_of(7) == [1, 2]
        await store.like(7, 1)
        assert await store.not_interested_of(7) == [2]
        assert await store.unmark_not_interested(7, 2) is True
        assert await store.not_interested_of(7) == []
        with pytest.raises(UnknownArtistError):
            await store.mark_not_interested(7, 999)

    run_with_store(database_url, scenario)


def test_forget_user_removes_every_row_about_them_only(database_url: str) -> None:
    async def member(store: Store, user_id: int) -> None:
        await store.ensure_user(user_id, guild_id=500, guild_name="Server")
        await store.ensure_user(user_id, guild_id=501)
        await store.like(user_id, 1, guild_id=500)
        await store.like(user_id, 2, source="lastfm", weight=10.0)
        await store.mark_not_interested(user_id, 3)
        await store.link_lastfm(user_id, f"fm{user_id}")

    async def scenario(store: Store) -> None:
        await seed_artists(store, 3)
        await member(store, 7)
        await member(store, 8)
        before = await table_counts(store)
        revision = await store.revision()

        removed = await store.forget_user(7)

        assert removed == {
            "likes": 2,
            "not_interested": 1,
            "memberships": 2,
            "lastfm_links": 1,
            "users": 1,
        }
        after = await table_counts(store)
        assert {name: before[name] - after[name] for name in before} == {name: removed.get(name, 0) for name in before}
        assert await store.likes_of(7) == []
        assert await store.lastfm_link(7) is None
        assert len(await store.likes_of(8)) == 2
        assert await store.not_interested_of(8) == [3]
        assert (await store.lastfm_link(8)) is not None
        assert await store.revision() == revision + 1
        assert set(await store.forget_user(7)) == set(removed)
        assert not any((await store.forget_user(7)).values())
        assert await store.revision() == revision + 1

    run_with_store(database_url, scenario)


def test_deleting_a_user_cascades(database_url: str) -> None:
    """Foreign keys are enforced (on SQLite that needs PRAGMA foreign_keys on every connection)."""

    async def scenario(store: Store) -> None:
        await seed_artists(store, 2)
        await store.like(7, 1, guild_id=500)
        await store.mark_not_interested(7, 2)
        await store.link_lastfm(7, "someone")
        async with store.engine.begin() as conn:
            await conn.execute(delete(users).where(users.c.id == 7))
        counts = await table_counts(store)
        assert [counts[t] for t in ("likes", "not_interested", "memberships", "lastfm_links")] == [0] * 4

    run_with_store(database_url, scenario)


def test_revision_moves_with_changes_only(database_url: str) -> None:
    async def scenario(store: Store) -> None:
        start = await store.revision()
        await seed_artists(store, 3)
        seeded = await store.revision()
        assert seeded > start

        await store.like(7, 1)
        liked = await store.revision()
        assert liked > seeded

        # Reads and repeats change nothing.
        await store.like(7, 1)
        await store.likes_of(7)
        await store.all_likes()
        await store.counts()
        await store.find_artist("artist1")
        await store.unlike(7, 2)
        await store.ensure_user(7)
        await seed_artists(store, 3)
        await store.record_snapshot("v1", "/tmp/v1", datetime.now(UTC), 1, 1, 1, {})
        assert await store.revision() == liked

        await store.unlike(7, 1)
        unliked = await store.revision()
        assert unliked > liked

        await store.mark_not_interested(7, 2)
        marked = await store.revision()
        assert marked > unliked

        await store.forget_user(7)
        assert await store.revision() > marked

    run_with_store(database_url, scenario)


def test_seed_catalogue_is_idempotent_and_fast(database_url: str, is_sqlite: bool) -> None:
    # The HetRec catalogue's size; the bot seeds it at every start-up.
    rows = [(i, f"Artist {i}", f"artist{i}", f"https://www.last.fm/music/A{i}") for i in range(1, 17_633)]

    async def scenario(store: Store) -> tuple[int, int, float]:
        started = time.perf_counter()
        added = await store.seed_catalogue(rows)
        elapsed = time.perf_counter() - started
        again = await store.seed_catalogue(rows)
        return added, again, elapsed

    added, again, elapsed = run_with_store(database_url, scenario)
    assert (added, again) == (17_632, 0)
    # Typically about 0.5 s on SQLite and 1 s on a local PostgreSQL; the bounds catch a
    # regression to per-row statements or transactions, not noise.
    assert elapsed < (2.0 if is_sqlite else 5.0)

    async def check(store: Store) -> None:
        assert (await store.counts())["artists"] == 17_632
        artist = await store.find_artist("artist17632")
        assert artist is not None
        assert (artist.id, artist.name, artist.source) == (17_632, "Artist 17632", "lastfm")
        assert artist.url == "https://www.last.fm/music/A17632"
        with pytest.raises(ValueError):
            await store.seed_catalogue([(MEMBER_ARTIST_ID_BASE, "Too high", "toohigh", None)])

    run_with_store(database_url, check)


def test_add_member_artist_reuses_names_and_allocates_high_ids(database_url: str) -> None:
    async def scenario(store: Store) -> None:
        await seed_artists(store, 3)
        # A catalogue artist's name gives back the catalogue id.
        assert await store.add_member_artist("ARTIST 2", "artist2") == 2
        first = await store.add_member_artist("Obscure Band", "obscureband", "https://example.org/ob")
        second = await store.add_member_artist("Another One", "anotherone")
        assert first >= MEMBER_ARTIST_ID_BASE
        assert second == first + 1
        assert await store.add_member_artist("obscure band!", "obscureband") == first
        found = await store.find_artist("obscureband")
        assert found is not None
        assert (found.id, found.name, found.url, found.source) == (
            first,
            "Obscure Band",
            "https://example.org/ob",
            "member",
        )
        assert [a.id for a in await store.member_artists()] == [first, second]
        assert await store.find_artist("nobody") is None
        assert (await store.get_artist(second)) == (await store.find_artist("anotherone"))
        # Member artists can be liked like any other.
        assert await store.like(7, first)
        with pytest.raises(ValueError):
            await store.add_member_artist("Blank", "")

    run_with_store(database_url, scenario)


def test_privacy(database_url: str) -> None:
    async def scenario(store: Store) -> None:
        assert await store.privacy_of(7) == "public"  # never seen: the default
        await store.ensure_user(7)
        assert await store.privacy_of(7) == "public"
        await store.set_privacy(7, "private")
        assert await store.privacy_of(7) == "private"
        revision = await store.revision()
        await store.set_privacy(7, "private")
        assert await store.revision() == revision
        await store.set_privacy(7, "public")
        assert await store.privacy_of(7) == "public"
        await store.set_privacy(8, "private")  # records the member on the way
        assert await store.privacy_of(8) == "private"
        with pytest.raises(ValueError):
            await store.set_privacy(7, "friends")  # type: ignore[arg-type]

    run_with_store(database_url, scenario)


def test_ensure_user_records_guild_and_membership(database_url: str) -> None:
    async def scenario(store: Store) -> None:
        assert await store.ensure_user(7, guild_id=500, guild_name="Old name") is True
        assert await store.ensure_user(7, guild_id=500, guild_name="Old name") is False
        assert await store.ensure_user(7, guild_id=500) is False
        assert await store.ensure_user(7, guild_id=500, guild_name="New name") is True
        assert await store.ensure_user(8, guild_id=500) is True
        counts = await store.counts()
        assert (counts["members"], counts["guilds"]) == (2, 1)
        async with store.engine.connect() as conn:
            assert sorted((await conn.execute(select(memberships.c.user_id))).scalars()) == [7, 8]

    run_with_store(database_url, scenario)


def test_lastfm_link(database_url: str) -> None:
    async def scenario(store: Store) -> None:
        await seed_artists(store, 2)
        assert await store.lastfm_link(7) is None
        await store.link_lastfm(7, "rj")
        link = await store.lastfm_link(7)
        assert link is not None
        assert (link.user_id, link.username, link.refreshed_at) == (7, "rj", None)

        refreshed = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
        assert await store.mark_lastfm_refreshed(7, refreshed) is True
        assert await store.mark_lastfm_refreshed(8) is False
        assert (await store.lastfm_link(7)).refreshed_at == refreshed  # type: ignore[union-attr]

        revision = await store.revision()
        await store.link_lastfm(7, "rj")  # the same account again: nothing changes
        assert await store.revision() == revision
        assert (await store.lastfm_link(7)).refreshed_at == refreshed  # type: ignore[union-attr]

        await store.link_lastfm(7, "someone_else")
        relinked = await store.lastfm_link(7)
        assert relinked is not None
        assert (relinked.username, relinked.refreshed_at) == ("someone_else", None)

        await store.like(7, 1, source="lastfm", weight=50.0)
        await store.like(7, 2)
        assert await store.unlink_lastfm(7, forget_imported_likes=True) is True
        assert await store.unlink_lastfm(7) is False
        assert await store.lastfm_link(7) is None
        assert [r.artist_id for r in await store.likes_of(7)] == [2]

    run_with_store(database_url, scenario)


def test_snapshots_newest_first(database_url: str) -> None:
    base = datetime(2025, 1, 1, tzinfo=UTC)

    async def scenario(store: Store) -> None:
        # Recorded out of order, and one in another time zone: order is by instant.
        await store.record_snapshot("b", "/s/b", base + timedelta(hours=2), 10, 20, 30, {"ndcg": 0.2})
        await store.record_snapshot("a", "/s/a", base, 1, 2, 3, {"ndcg": 0.1})
        east = timezone(timedelta(hours=5))
        await store.record_snapshot("c", "/s/c", (base + timedelta(hours=3)).astimezone(east), 5, 6, 7, {})
        await store.record_snapshot("d", "/s/d", base + timedelta(hours=1), 0, 0, 0, {}, status="failed")

        rows = await store.snapshots()
        assert [r.version for r in rows] == ["c", "b", "d", "a"]
        assert [r.version for r in await store.snapshots(limit=2)] == ["c", "b"]
        b = rows[1]
        assert (b.path, b.users, b.artists, b.interactions, b.metrics, b.status) == (
            "/s/b",
            10,
            20,
            30,
            {"ndcg": 0.2},
            "ready",
        )
        assert b.created_at == base + timedelta(hours=2)
        assert rows[2].status == "failed"

        # Recording a version again replaces it.
        await store.record_snapshot("d", "/s/d", base + timedelta(hours=1), 0, 0, 0, {"x": 1}, "ready")
        again = [r for r in await store.snapshots() if r.version == "d"]
        assert [(r.status, r.metrics) for r in again] == [("ready", {"x": 1})]

        with pytest.raises(ValueError):
            await store.record_snapshot("e", "/s/e", datetime(2025, 1, 1), 0, 0, 0, {})
        with pytest.raises(ValueError):
            await store.record_snapshot("e", "/s/e", base, 0, 0, 0, {}, status="odd")  # type: ignore[arg-type]

    run_with_store(database_url, scenario)


def test_counts(database_url: str) -> None:
    async def scenario(store: Store) -> None:
        await seed_artists(store, 4)
        await store.add_member_artist("New", "new")
        await store.like(7, 1, guild_id=500)
        await store.like(7, 2)
        await store.like(8, 1)
        await store.mark_not_interested(8, 3)
        await store.link_lastfm(8, "x")
        assert await store.counts() == {
            "members": 2,
            "guilds": 1,
            "likes": 3,
            "artists": 5,
            "member_artists": 1,
            "not_interested": 1,
            "lastfm_links": 1,
            "snapshots": 0,
        }

    run_with_store(database_url, scenario)


def test_import_likes_in_bulk(database_url: str) -> None:
    async def scenario(store: Store) -> None:
        artists = await seed_artists(store, 30)
        await store.like(7, artists[0], source="discord")
        before = await store.revision()
        pairs = [(member, artist) for member in range(1, 11) for artist in artists[:20]]
        added = await store.import_likes(pairs, source="lastfm", weights=[3.0] * len(pairs))
        assert added == len(pairs) - 1  # member 7 already liked artists[0]: kept as it was, not counted
        assert await store.revision() == before + 1
        stored = await store.all_likes()
        assert len(stored) == len(pairs)
        assert (7, artists[0], "discord", None) in stored
        assert all(weight == 3.0 for user, _, source, weight in stored if source == "lastfm")
        assert await store.import_likes(pairs, source="lastfm") == 0
        assert await store.revision() == before + 1  # nothing new: no change
        with pytest.raises(UnknownArtistError):
            await store.import_likes([(1, 10**6)])
        with pytest.raises(ValueError):
            await store.import_likes([(1, artists[0])], weights=[1.0, 2.0])
        assert len(await store.all_likes()) == len(pairs)

    run_with_store(database_url, scenario)


def test_taste_of_reads_likes_and_marks_together(database_url: str) -> None:
    async def scenario(store: Store) -> None:
        artists = await seed_artists(store, 5)
        assert await store.taste_of(1) == Taste((), (), ())
        await store.like(1, artists[0])
        await store.like(1, artists[1], source="lastfm", weight=120.0)
        await store.mark_not_interested(1, artists[2])
        await store.like(2, artists[3])
        taste = await store.taste_of(1)
        assert sorted(taste.liked) == artists[:2] and taste.not_interested == (artists[2],)
        assert dict(zip(taste.liked, taste.plays)) == {artists[0]: None, artists[1]: 120.0}

    run_with_store(database_url, scenario)
