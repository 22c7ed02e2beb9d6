"""db.store.Store and its aggregates, one behaviour at a time, on a real migrated database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import delete, func, select

from db.models import MEMBER_ARTIST_ID_BASE, likes, memberships, users
from db.rows import Taste
from db.store import Store, UnknownArtistError
from tests.helpers.db import (
    StatementCounter,
    add_member,
    lastfm_link_of,
    link_lastfm,
    run_with_store,
    seed_artists,
    table_counts,
)

BIG = 2**63 - 1  # the largest snowflake a signed 64-bit column holds


def test_snowflakes_near_the_64_bit_limit_round_trip(database_url: str) -> None:
    async def scenario(store: Store) -> None:
        await seed_artists(store, 2)
        assert await store.likes.like(BIG, 1, guild_id=BIG - 1)
        await store.members.set_privacy(BIG - 2, "private")
        assert await store.likes.all_likes() == [(BIG, 1, "discord", None)]
        [row] = await store.likes.likes_of(BIG)
        assert (row.artist_id, row.guild_id) == (1, BIG - 1)
        assert await store.members.privacy_of(BIG - 2) == "private"
        async with store.engine.connect() as conn:
            assert (await conn.execute(select(memberships))).one()[:2] == (BIG, BIG - 1)
        with pytest.raises(ValueError):
            await store.likes.like(BIG + 1, 1)

    run_with_store(database_url, scenario)


def test_like_is_idempotent(database_url: str) -> None:
    async def scenario(store: Store) -> None:
        await seed_artists(store, 2)
        assert await store.likes.like(7, 1) is True
        assert await store.likes.like(7, 1) is False
        assert await store.likes.like(7, 1, source="lastfm", weight=3.0) is False
        async with store.engine.connect() as conn:
            assert await conn.scalar(select(func.count()).select_from(likes)) == 1
        [row] = await store.likes.likes_of(7)
        assert (row.artist_id, row.name, row.source, row.weight) == (1, "Artist 1", "discord", None)

    run_with_store(database_url, scenario)


def test_like_records_weight_source_and_orders_newest_first(database_url: str) -> None:
    async def scenario(store: Store) -> None:
        await seed_artists(store, 3)
        await store.likes.like(7, 2, source="lastfm", weight=120.0)
        await store.likes.like(7, 3)
        await store.likes.like(7, 1, guild_id=99)
        rows = await store.likes.likes_of(7)
        assert [r.artist_id for r in rows] == [1, 3, 2]
        assert (rows[2].source, rows[2].weight) == ("lastfm", 120.0)
        assert rows[0].guild_id == 99
        assert all(r.created_at.tzinfo is not None for r in rows)
        assert rows[0].created_at >= rows[1].created_at >= rows[2].created_at
        assert await store.likes.likes_of(8) == []

    run_with_store(database_url, scenario)


def test_like_rejects_unknown_artists_and_sources(database_url: str) -> None:
    async def scenario(store: Store) -> None:
        await seed_artists(store, 1)
        with pytest.raises(UnknownArtistError):
            await store.likes.like(7, 999)
        with pytest.raises(ValueError):
            await store.likes.like(7, 1, source="spotify")  # type: ignore[arg-type]
        counts = await table_counts(store)
        assert (counts["likes"], counts["users"]) == (0, 0)  # rolled back whole

    run_with_store(database_url, scenario)


def test_unlike(database_url: str) -> None:
    async def scenario(store: Store) -> None:
        await seed_artists(store, 2)
        await store.likes.like(7, 1)
        await store.likes.like(7, 2)
        assert await store.likes.unlike(7, 1) is True
        assert await store.likes.unlike(7, 1) is False
        assert await store.likes.unlike(8, 1) is False
        assert [r.artist_id for r in await store.likes.likes_of(7)] == [2]

    run_with_store(database_url, scenario)


def test_like_clears_not_interested(database_url: str) -> None:
    async def scenario(store: Store) -> None:
        await seed_artists(store, 3)
        assert await store.likes.mark_not_interested(7, 1) is True
        assert await store.likes.mark_not_interested(7, 1) is False
        assert await store.likes.mark_not_interested(7, 2) is True
        assert (await store.likes.taste_of(7)).not_interested == (1, 2)
        await store.likes.like(7, 1)
        assert (await store.likes.taste_of(7)).not_interested == (2,)
        assert (await store.likes.taste_of(7)).liked == (1,)
        with pytest.raises(UnknownArtistError):
            await store.likes.mark_not_interested(7, 999)

    run_with_store(database_url, scenario)


def test_forget_user_removes_every_row_about_them_only(database_url: str) -> None:
    async def member(store: Store, user_id: int) -> None:
        await add_member(store, user_id, 500, "Server")
        await add_member(store, user_id, 501)
        await store.likes.like(user_id, 1, guild_id=500)
        await store.likes.like(user_id, 2, source="lastfm", weight=10.0)
        await store.likes.mark_not_interested(user_id, 3)
        await link_lastfm(store, user_id, f"fm{user_id}")

    async def scenario(store: Store) -> None:
        await seed_artists(store, 3)
        await member(store, 7)
        await member(store, 8)
        before = await table_counts(store)
        revision = await store.revision()

        removed = await store.members.forget_user(7)

        assert removed == {
            "likes": 2,
            "not_interested": 1,
            "memberships": 2,
            "lastfm_links": 1,
            "users": 1,
            "artists": 0,
            "session_votes": 0,
            "session_members": 0,
        }
        after = await table_counts(store)
        assert {name: before[name] - after[name] for name in before} == {name: removed.get(name, 0) for name in before}
        assert await store.likes.likes_of(7) == []
        assert await lastfm_link_of(store, 7) is None
        assert len(await store.likes.likes_of(8)) == 2
        assert (await store.likes.taste_of(8)).not_interested == (3,)
        assert (await lastfm_link_of(store, 8)) is not None
        assert await store.revision() == revision + 1
        assert set(await store.members.forget_user(7)) == set(removed)
        assert not any((await store.members.forget_user(7)).values())
        assert await store.revision() == revision + 1

    run_with_store(database_url, scenario)


def test_deleting_a_user_cascades(database_url: str) -> None:
    """Foreign keys are enforced (on SQLite that needs PRAGMA foreign_keys on every connection)."""

    async def scenario(store: Store) -> None:
        await seed_artists(store, 2)
        await store.likes.like(7, 1, guild_id=500)
        await store.likes.mark_not_interested(7, 2)
        await link_lastfm(store, 7, "someone")
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

        await store.likes.like(7, 1)
        liked = await store.revision()
        assert liked > seeded

        # Reads and repeats change nothing.
        await store.likes.like(7, 1)
        await store.likes.likes_of(7)
        await store.likes.all_likes()
        await store.counts()
        await store.artists.get_artist(1)
        await store.likes.tastes_of([7, 8])
        await store.members.privacies_of([7, 8])
        await store.likes.unlike(7, 2)
        await store.members.set_privacy(7, "public")
        await seed_artists(store, 3)
        await store.snapshots.record_snapshot("v1", "/tmp/v1", datetime.now(UTC), 1, 1, 1, {})
        assert await store.revision() == liked

        await store.likes.unlike(7, 1)
        unliked = await store.revision()
        assert unliked > liked

        await store.likes.mark_not_interested(7, 2)
        marked = await store.revision()
        assert marked > unliked

        await store.members.forget_user(7)
        assert await store.revision() > marked

    run_with_store(database_url, scenario)


def test_seed_catalogue_is_idempotent_and_batched(database_url: str) -> None:
    # The HetRec catalogue's size; the bot seeds it at every start-up.
    rows = [(i, f"Artist {i}", f"artist{i}", f"https://www.last.fm/music/A{i}") for i in range(1, 17_633)]

    async def scenario(store: Store) -> tuple[int, int, int, int, int]:
        counter = StatementCounter(store.engine)
        added = await store.artists.seed_catalogue(rows)
        statements, commits = counter.statements, counter.commits
        counter.reset()
        again = await store.artists.seed_catalogue(rows)
        statements_again = counter.statements
        counter.close()
        return added, again, statements, commits, statements_again

    added, again, statements, commits, statements_again = run_with_store(database_url, scenario)
    assert (added, again) == (17_632, 0)
    # What makes seeding fast: one transaction, and inserts sent in multi-row batches rather than
    # a statement per row (which would be 17,632 of them).
    assert commits == 1
    assert statements <= 50
    # Seeding an already seeded catalogue sends no insert at all, only the read of the stored ids.
    assert statements_again == 1

    async def check(store: Store) -> None:
        assert (await store.counts())["artists"] == 17_632
        artist = await store.artists.get_artist(17_632)
        assert artist is not None
        assert (artist.name, artist.normalized_name, artist.source) == ("Artist 17632", "artist17632", "lastfm")
        assert artist.url == "https://www.last.fm/music/A17632"
        with pytest.raises(ValueError):
            await store.artists.seed_catalogue([(MEMBER_ARTIST_ID_BASE, "Too high", "toohigh", None)])

    run_with_store(database_url, check)


def test_add_member_artist_reuses_names_and_allocates_high_ids(database_url: str) -> None:
    async def scenario(store: Store) -> None:
        await seed_artists(store, 3)
        # A catalogue artist's name gives back the catalogue id.
        assert await store.artists.add_member_artist("ARTIST 2", "artist2") == 2
        first = await store.artists.add_member_artist("Obscure Band", "obscureband", "https://example.org/ob")
        second = await store.artists.add_member_artist("Another One", "anotherone")
        assert first >= MEMBER_ARTIST_ID_BASE
        assert second == first + 1
        assert await store.artists.add_member_artist("obscure band!", "obscureband") == first
        found = await store.artists.get_artist(first)
        assert found is not None
        assert (found.id, found.name, found.url, found.source) == (
            first,
            "Obscure Band",
            "https://example.org/ob",
            "member",
        )
        assert [a.id for a in await store.artists.member_artists()] == [first, second]
        assert await store.artists.get_artist(second + 1) is None
        assert (await store.artists.get_artist(second)).normalized_name == "anotherone"  # type: ignore[union-attr]
        # Member artists can be liked like any other.
        assert await store.likes.like(7, first)
        with pytest.raises(ValueError):
            await store.artists.add_member_artist("Blank", "")

    run_with_store(database_url, scenario)


def test_privacy(database_url: str) -> None:
    async def scenario(store: Store) -> None:
        assert await store.members.privacy_of(7) == "public"  # never seen: the default
        await add_member(store, 7, 500)
        assert await store.members.privacy_of(7) == "public"
        await store.members.set_privacy(7, "private")
        assert await store.members.privacy_of(7) == "private"
        revision = await store.revision()
        await store.members.set_privacy(7, "private")
        assert await store.revision() == revision
        await store.members.set_privacy(7, "public")
        assert await store.members.privacy_of(7) == "public"
        await store.members.set_privacy(8, "private")  # records the member on the way
        assert await store.members.privacy_of(8) == "private"
        with pytest.raises(ValueError):
            await store.members.set_privacy(7, "friends")  # type: ignore[arg-type]

    run_with_store(database_url, scenario)


def test_privacies_of_answers_for_many_members_in_one_query(database_url: str) -> None:
    async def scenario(store: Store) -> None:
        await store.members.set_privacy(7, "private")
        await store.members.set_privacy(8, "public")
        await store.members.set_privacy(BIG, "private")
        counter = StatementCounter(store.engine)
        assert await store.members.privacies_of([8, 7, 9, BIG, 7]) == {
            7: "private",
            8: "public",
            9: "public",  # never seen: the default
            BIG: "private",
        }
        assert counter.statements == 1
        counter.close()
        assert await store.members.privacies_of([]) == {}
        with pytest.raises(ValueError):
            await store.members.privacies_of([BIG + 1])

    run_with_store(database_url, scenario)


def test_snapshots_newest_first(database_url: str) -> None:
    base = datetime(2025, 1, 1, tzinfo=UTC)

    async def scenario(store: Store) -> None:
        # Recorded out of order, and one in another time zone: order is by instant.
        await store.snapshots.record_snapshot("b", "/s/b", base + timedelta(hours=2), 10, 20, 30, {"ndcg": 0.2})
        await store.snapshots.record_snapshot("a", "/s/a", base, 1, 2, 3, {"ndcg": 0.1})
        east = timezone(timedelta(hours=5))
        await store.snapshots.record_snapshot("c", "/s/c", (base + timedelta(hours=3)).astimezone(east), 5, 6, 7, {})
        await store.snapshots.record_snapshot("d", "/s/d", base + timedelta(hours=1), 0, 0, 0, {}, status="failed")

        rows = await store.snapshots.recent()
        assert [r.version for r in rows] == ["c", "b", "d", "a"]
        assert [r.version for r in await store.snapshots.recent(limit=2)] == ["c", "b"]
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
        await store.snapshots.record_snapshot("d", "/s/d", base + timedelta(hours=1), 0, 0, 0, {"x": 1}, "ready")
        again = [r for r in await store.snapshots.recent() if r.version == "d"]
        assert [(r.status, r.metrics) for r in again] == [("ready", {"x": 1})]

        with pytest.raises(ValueError):
            await store.snapshots.record_snapshot("e", "/s/e", datetime(2025, 1, 1), 0, 0, 0, {})
        with pytest.raises(ValueError):
            await store.snapshots.record_snapshot("e", "/s/e", base, 0, 0, 0, {}, status="odd")  # type: ignore[arg-type]

    run_with_store(database_url, scenario)


def test_counts(database_url: str) -> None:
    async def scenario(store: Store) -> None:
        await seed_artists(store, 4)
        await store.artists.add_member_artist("New", "new")
        await store.likes.like(7, 1, guild_id=500)
        await store.likes.like(7, 2)
        await store.likes.like(8, 1)
        await store.likes.mark_not_interested(8, 3)
        await link_lastfm(store, 8, "x")
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
        await store.likes.like(7, artists[0], source="discord")
        before = await store.revision()
        pairs = [(member, artist) for member in range(1, 11) for artist in artists[:20]]
        added = await store.likes.import_likes(pairs, source="lastfm", weights=[3.0] * len(pairs))
        assert added == len(pairs) - 1  # member 7 already liked artists[0]: kept as it was, not counted
        assert await store.revision() == before + 1
        stored = await store.likes.all_likes()
        assert len(stored) == len(pairs)
        assert (7, artists[0], "discord", None) in stored
        assert all(weight == 3.0 for user, _, source, weight in stored if source == "lastfm")
        assert await store.likes.import_likes(pairs, source="lastfm") == 0
        assert await store.revision() == before + 1  # nothing new: no change
        with pytest.raises(UnknownArtistError):
            await store.likes.import_likes([(1, 10**6)])
        with pytest.raises(ValueError):
            await store.likes.import_likes([(1, artists[0])], weights=[1.0, 2.0])
        assert len(await store.likes.all_likes()) == len(pairs)

    run_with_store(database_url, scenario)


def test_taste_of_reads_likes_and_marks_together(database_url: str) -> None:
    async def scenario(store: Store) -> None:
        artists = await seed_artists(store, 5)
        assert await store.likes.taste_of(1) == Taste((), (), ())
        await store.likes.like(1, artists[0])
        await store.likes.like(1, artists[1], source="lastfm", weight=120.0)
        await store.likes.mark_not_interested(1, artists[2])
        await store.likes.like(2, artists[3])
        taste = await store.likes.taste_of(1)
        assert sorted(taste.liked) == artists[:2] and taste.not_interested == (artists[2],)
        assert dict(zip(taste.liked, taste.plays)) == {artists[0]: None, artists[1]: 120.0}

    run_with_store(database_url, scenario)
