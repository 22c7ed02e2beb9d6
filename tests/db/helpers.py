"""Helpers shared by the store's tests: run a scenario against a Store, count rows."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy import func, select

from db.engine import create_engine
from db.models import metadata
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
    await store.seed_catalogue((i, f"Artist {i}", f"artist{i}", None) for i in range(1, count + 1))
    return list(range(1, count + 1))
