"""db.engine: URLs, and the SQLite settings every connection must carry."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import text

from db.engine import SQLITE_BUSY_TIMEOUT_MS, create_engine, default_sqlite_url, to_sync_url


def test_default_sqlite_url_is_a_file_in_home(tmp_path: Path) -> None:
    assert default_sqlite_url(tmp_path) == f"sqlite+aiosqlite:///{tmp_path}/encore.sqlite3"


def test_to_sync_url_swaps_only_the_driver() -> None:
    assert to_sync_url("sqlite+aiosqlite:////srv/encore.sqlite3") == "sqlite:////srv/encore.sqlite3"
    assert (
        to_sync_url("postgresql+asyncpg://encore:p%40ss@db:5432/encore") == "postgresql://encore:p%40ss@db:5432/encore"
    )


def test_create_engine_makes_the_sqlite_folder(tmp_path: Path) -> None:
    path = tmp_path / "not" / "yet" / "there" / "encore.sqlite3"

    async def touch() -> None:
        engine = create_engine(default_sqlite_url(path.parent))
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        await engine.dispose()

    asyncio.run(touch())
    assert path.is_file()


def test_every_sqlite_connection_has_wal_busy_timeout_and_foreign_keys(database_url: str, is_sqlite: bool) -> None:
    if not is_sqlite:
        pytest.skip("SQLite pragmas")

    async def pragmas() -> list[tuple[str, int, int]]:
        engine = create_engine(database_url)
        found = []
        try:
            # Two connections held at once: the pragmas must be per connection, not a lucky first.
            async with engine.connect() as first, engine.connect() as second:
                for conn in (first, second):
                    found.append(
                        (
                            await conn.scalar(text("PRAGMA journal_mode")),
                            await conn.scalar(text("PRAGMA busy_timeout")),
                            await conn.scalar(text("PRAGMA foreign_keys")),
                        )
                    )
        finally:
            await engine.dispose()
        return found

    assert asyncio.run(pragmas()) == [("wal", SQLITE_BUSY_TIMEOUT_MS, 1)] * 2
    assert SQLITE_BUSY_TIMEOUT_MS == 10_000
