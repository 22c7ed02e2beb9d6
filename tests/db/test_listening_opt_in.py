"""`users.listening_opt_in` (revision 0006): off by default, set per member, gone with /forget-me, and its
migration keeps every row both ways."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect

from db.migrations import config, current, upgrade
from db.store import Store
from tests.helpers.db import add_member, run_with_store, seed_artists, table_counts


def test_the_choice_is_off_until_the_member_makes_it(database_url: str) -> None:
    async def scenario(store: Store) -> list[bool]:
        seen = [await store.members.listening_opt_in(7)]  # never seen: off
        await add_member(store, 7, 500)
        seen.append(await store.members.listening_opt_in(7))
        revision = await store.revision()
        await store.members.set_listening_opt_in(7, True)
        seen.append(await store.members.listening_opt_in(7))
        # Nothing the model reads changed, so no refit is asked for.
        assert await store.revision() == revision
        await store.members.set_listening_opt_in(7, False)
        seen.append(await store.members.listening_opt_in(7))
        await store.members.set_listening_opt_in(8, True)  # records the member on the way
        seen.append(await store.members.listening_opt_in(8))
        assert await store.revision() == revision + 1
        assert await store.members.privacy_of(8) == "public"
        return seen

    assert run_with_store(database_url, scenario) == [False, False, True, False, True]


def test_forgetting_a_member_forgets_their_choice(database_url: str) -> None:
    async def scenario(store: Store) -> tuple[dict[str, int], bool, int]:
        await store.members.set_listening_opt_in(7, True)
        await store.members.set_listening_opt_in(8, True)
        counts = await store.members.forget_user(7)
        return counts, await store.members.listening_opt_in(7), (await table_counts(store))["users"]

    counts, opted_in, users_left = run_with_store(database_url, scenario)
    assert counts["users"] == 1 and not opted_in and users_left == 1


def test_the_migration_adds_the_column_off_and_its_downgrade_keeps_every_row(empty_database_url: str) -> None:
    command.upgrade(config(empty_database_url), "0005")

    async def before(store: Store) -> None:
        await seed_artists(store, 2)
        async with store.engine.begin() as conn:
            await conn.exec_driver_sql("INSERT INTO users (id, privacy) VALUES (1, 'private'), (2, 'public')")
            await conn.exec_driver_sql("INSERT INTO likes (user_id, artist_id) VALUES (1, 1), (2, 2)")

    async def after(store: Store) -> tuple[list[bool], str, int]:
        choices = [await store.members.listening_opt_in(u) for u in (1, 2)]
        await store.members.set_listening_opt_in(2, True)
        return choices, await store.members.privacy_of(1), len(await store.likes.all_likes())

    run_with_store(empty_database_url, before)
    command.upgrade(config(empty_database_url), "0006")
    assert current(empty_database_url) == "0006"
    assert run_with_store(empty_database_url, after) == ([False, False], "private", 2)

    command.downgrade(config(empty_database_url), "0005")

    async def downgraded(store: Store) -> tuple[list[str], dict[str, int]]:
        # Only the tables of revision 0005: later revisions' tables are not there.
        async with store.engine.connect() as conn:
            columns = await conn.run_sync(lambda c: [col["name"] for col in inspect(c).get_columns("users")])
            counts = {
                t: (await conn.exec_driver_sql(f"SELECT count(*) FROM {t}")).scalar_one() for t in ("users", "likes")
            }
        return columns, counts

    columns, counts = run_with_store(empty_database_url, downgraded)
    # The column is gone, and no row went with it (a rebuilt users table would cascade to the likes).
    assert "listening_opt_in" not in columns and "privacy" in columns
    assert counts["users"] == 2 and counts["likes"] == 2
    upgrade(empty_database_url)
    assert run_with_store(empty_database_url, lambda store: store.members.listening_opt_in(2)) is False
