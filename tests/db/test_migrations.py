"""db.migrations: the packaged Alembic revisions build exactly the models' schema."""

from __future__ import annotations

import asyncio
import importlib
from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.pool import NullPool

import db.migrations
from db.engine import create_engine
from db.migrations import current, head, upgrade
from db.models import metadata
from db.store import Store
from tests.helpers.db import run_with_store, seed_artists

EXPECTED_TABLES = {
    "users",
    "guilds",
    "memberships",
    "artists",
    "artist_additions",
    "member_artist_ids",
    "likes",
    "not_interested",
    "server_artists",
    "lastfm_links",
    "model_snapshots",
    "store_revision",
    "listening_sessions",
    "session_members",
    "session_picks",
    "session_votes",
    "server_digests",
}


def _inspect(url: str, work: Any) -> Any:
    async def main() -> Any:
        engine = create_engine(url, poolclass=NullPool)
        try:
            async with engine.connect() as conn:
                return await conn.run_sync(work)
        finally:
            await engine.dispose()

    return asyncio.run(main())


def test_migrations_ship_inside_the_package() -> None:
    folder = Path(db.migrations.__file__).parent
    assert (folder / "env.py").is_file()
    assert (folder / "versions" / "0001_initial.py").is_file()
    importlib.import_module("db.migrations.versions")
    assert (folder / "versions" / "0002_server_popularity_penalty.py").is_file()
    assert (folder / "versions" / "0003_server_artists.py").is_file()
    assert (folder / "versions" / "0004_artist_additions.py").is_file()
    assert (folder / "versions" / "0005_listening_sessions.py").is_file()
    assert (folder / "versions" / "0006_listening_opt_in.py").is_file()
    assert (folder / "versions" / "0007_server_digests.py").is_file()
    assert head() == "0008"


def test_upgrade_from_the_first_revision_keeps_the_data(empty_database_url: str) -> None:
    from alembic import command

    from db.migrations import config

    command.upgrade(config(empty_database_url), "0001")
    assert current(empty_database_url) == "0001"

    async def read_back(store: Store) -> tuple[list[int], float | None]:
        return [row.artist_id for row in await store.likes.likes_of(1)], await store.guilds.server_popularity_penalty(9)

    async def without_the_new_column(store: Store) -> None:
        await seed_artists(store, 2)
        async with store.engine.begin() as conn:
            await conn.exec_driver_sql("INSERT INTO users (id) VALUES (1)")
            await conn.exec_driver_sql("INSERT INTO guilds (id) VALUES (9)")
            await conn.exec_driver_sql("INSERT INTO likes (user_id, artist_id, guild_id) VALUES (1, 1, 9)")

    run_with_store(empty_database_url, without_the_new_column)
    upgrade(empty_database_url)
    assert current(empty_database_url) == head()
    assert run_with_store(empty_database_url, read_back) == ([1], None)


def test_upgrade_to_server_artists_shows_member_artists_where_they_were_liked(empty_database_url: str) -> None:
    from alembic import command

    from db.migrations import config

    command.upgrade(config(empty_database_url), "0002")

    async def before(store: Store) -> None:
        await seed_artists(store, 1)
        async with store.engine.begin() as conn:
            for statement in (
                "INSERT INTO users (id) VALUES (1), (2)",
                "INSERT INTO guilds (id) VALUES (9)",
                "INSERT INTO artists (id, name, normalized_name, source) VALUES (10000000, 'Liked Here', 'liked here', "
                "'member'), (10000001, 'Liked In A DM', 'liked in a dm', 'member')",
                "INSERT INTO likes (user_id, artist_id, guild_id) VALUES (1, 10000000, 9), (2, 10000000, 9), "
                "(1, 10000001, NULL), (1, 1, 9)",
            ):
                await conn.exec_driver_sql(statement)

    run_with_store(empty_database_url, before)
    upgrade(empty_database_url)
    # One row per server and member artist; none for a like in a DM or of a Last.fm artist.
    assert run_with_store(empty_database_url, lambda store: store.artists.server_visibility()) == [(10000000, 9, False)]


def test_upgrade_to_artist_additions_gives_new_artists_ids_after_the_stored_ones(empty_database_url: str) -> None:
    from alembic import command

    from db.migrations import config

    command.upgrade(config(empty_database_url), "0003")

    async def before(store: Store) -> None:
        async with store.engine.begin() as conn:
            await conn.exec_driver_sql(
                "INSERT INTO artists (id, name, normalized_name, source) VALUES (10000004, 'Old', 'old', 'member')"
            )

    async def add(store: Store) -> list[int]:
        return [
            await store.artists.add_member_artist("Newer", "newer", added_by=1, daily_limit=1),
            await store.artists.add_member_artist("Old", "old", added_by=1, daily_limit=1),
        ]

    run_with_store(empty_database_url, before)
    upgrade(empty_database_url)
    # The old artist counts towards no one's limit, and its id is not given again.
    assert run_with_store(empty_database_url, add) == [10000005, 10000004]


def test_upgrade_creates_every_table_and_reports_head(empty_database_url: str) -> None:
    assert current(empty_database_url) is None
    upgrade(empty_database_url)
    assert current(empty_database_url) == head()
    tables = set(_inspect(empty_database_url, lambda c: inspect(c).get_table_names()))
    assert tables >= EXPECTED_TABLES
    assert {t.name for t in metadata.sorted_tables} == EXPECTED_TABLES


def test_migrated_schema_matches_the_models(database_url: str) -> None:
    def diff(conn: Connection) -> list[Any]:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))

    assert _inspect(database_url, diff) == []


def test_upgrade_again_is_a_no_op(database_url: str) -> None:
    def liked(store: Store) -> Any:
        async def scenario() -> list[tuple[int, int, str, float | None]]:
            await seed_artists(store, 3)
            await store.likes.like(1, 2)
            return await store.likes.all_likes()

        return scenario()

    before = run_with_store(database_url, liked)
    upgrade(database_url)
    assert current(database_url) == head()
    assert run_with_store(database_url, lambda store: store.likes.all_likes()) == before


def test_upgrade_from_inside_a_running_loop(empty_database_url: str) -> None:
    async def startup() -> str | None:
        # The bot's way: off the loop through a thread...
        await asyncio.to_thread(upgrade, empty_database_url)
        # ...and a careless direct call must not break either.
        upgrade(empty_database_url)
        return current(empty_database_url)

    assert asyncio.run(startup()) == head()
