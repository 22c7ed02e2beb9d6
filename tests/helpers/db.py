"""Helpers for tests that use the store: run a scenario against a Store, seed and read rows directly.

The direct writes (`add_member`, `link_lastfm`) set up states no public store method makes on its own,
such as a membership without likes or a link never refreshed; they bypass the revision and read cache.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import create_engine
from db.models import guilds, lastfm_links, memberships, metadata, users, utcnow
from db.rows import LastFmLinkRow
from db.store import Store

T = TypeVar("T")


def run_with_store(url: str, scenario: Callable[[Store], Awaitable[T]]) -> T:
    """Run `scenario(store)` in a fresh event loop with its own Store, closed afterwards."""

    async def main() -> T:
        async with Store(create_engine(url)) as store:
            return await scenario(store)

    return asyncio.run(main())


async def table_counts(store: Store) -> dict[str, int]:
    """Rows in every table of the schema, by table name."""
    async with store.engine.connect() as conn:
        return {
            table.name: int(await conn.scalar(select(func.count()).select_from(table)) or 0)
            for table in metadata.sorted_tables
        }


async def seed_artists(store: Store, count: int) -> list[int]:
    """Catalogue artists 1..count named "Artist <id>"; returns their ids."""
    await store.artists.seed_catalogue((i, f"Artist {i}", f"artist{i}", None) for i in range(1, count + 1))
    return list(range(1, count + 1))


async def add_member(store: Store, user_id: int, guild_id: int, guild_name: str | None = None) -> None:
    """The member, the server and the membership, as if seen there without liking anything yet."""
    now = utcnow()
    async with store.engine.begin() as conn:
        for table, values in (
            (users, {"id": user_id, "created_at": now}),
            (guilds, {"id": guild_id, "name": guild_name, "created_at": now}),
            (memberships, {"user_id": user_id, "guild_id": guild_id, "joined_at": now}),
        ):
            key = table.primary_key.columns
            exists = select(func.count()).select_from(table).where(*(column == values[column.name] for column in key))
            if not await conn.scalar(exists):
                await conn.execute(table.insert().values(**values))


async def link_lastfm(store: Store, user_id: int, username: str, refreshed_at: datetime | None = None) -> None:
    """A Last.fm link with no import behind it (never refreshed unless `refreshed_at` is given)."""
    now = utcnow()
    async with store.engine.begin() as conn:
        if not await conn.scalar(select(func.count()).select_from(users).where(users.c.id == user_id)):
            await conn.execute(users.insert().values(id=user_id, created_at=now))
        await conn.execute(
            lastfm_links.insert().values(user_id=user_id, username=username, linked_at=now, refreshed_at=refreshed_at)
        )


async def lastfm_link_of(store: Store, user_id: int) -> LastFmLinkRow | None:
    """The member's Last.fm link as stored, if any."""
    async with store.engine.connect() as conn:
        row = (
            await conn.execute(
                select(
                    lastfm_links.c.user_id,
                    lastfm_links.c.username,
                    lastfm_links.c.linked_at,
                    lastfm_links.c.refreshed_at,
                ).where(lastfm_links.c.user_id == user_id)
            )
        ).first()
    return None if row is None else LastFmLinkRow(*row)


class StatementCounter:
    """Counts the SQL statements and committed transactions on an engine from now on.

    BEGIN is not counted as a statement: SQLite's goes through the cursor (see db.engine), PostgreSQL's
    does not, and the counts should mean the same on both.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self.statements = 0
        self.commits = 0
        self._engine = engine.sync_engine
        event.listen(self._engine, "before_cursor_execute", self._on_statement)
        event.listen(self._engine, "commit", self._on_commit)

    def reset(self) -> None:
        self.statements = 0
        self.commits = 0

    def close(self) -> None:
        event.remove(self._engine, "before_cursor_execute", self._on_statement)
        event.remove(self._engine, "commit", self._on_commit)

    def _on_statement(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if not statement.lstrip().upper().startswith("BEGIN"):
            self.statements += 1

    def _on_commit(self, *_: Any) -> None:
        self.commits += 1
