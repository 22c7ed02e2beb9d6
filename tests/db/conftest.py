"""Fixtures for the store's tests: a freshly migrated database per test.

By default each test gets a real SQLite file in its `tmp_path` (never ``:memory:``: WAL, locking
and multiple connections only mean something on a file).

Running the db suite on PostgreSQL: point ``ENCORE_TEST_DATABASE_URL`` at an empty database whose
name contains "test" (the fixture drops the store's tables in it before and after every test)
and install the driver with ``.venv/bin/pip install -e ".[postgres]"``::

    ENCORE_TEST_DATABASE_URL=postgresql+asyncpg://encore:encore@127.0.0.1:5432/encore_test .venv/bin/pytest tests/db

SQLite-only checks (WAL, busy timeout) are skipped there.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from db.engine import create_engine
from db.migrations import upgrade
from db.models import metadata

DATABASE_URL_ENV = "ENCORE_TEST_DATABASE_URL"


@pytest.fixture
def empty_database_url(tmp_path: Path) -> Iterator[str]:
    """A database with none of the store's tables, emptied again after the test."""
    configured = os.environ.get(DATABASE_URL_ENV)
    if not configured:
        yield f"sqlite+aiosqlite:///{tmp_path / 'encore.sqlite3'}"
        return
    database = make_url(configured).database or ""
    if "test" not in database:
        pytest.fail(f"{DATABASE_URL_ENV} must name a throwaway database with 'test' in its name")
    asyncio.run(_drop_store_tables(configured))
    try:
        yield configured
    finally:
        asyncio.run(_drop_store_tables(configured))


@pytest.fixture
def database_url(empty_database_url: str) -> str:
    """A database at the newest schema, migrated through `db.migrations.upgrade`."""
    upgrade(empty_database_url)
    return empty_database_url


@pytest.fixture
def is_sqlite(empty_database_url: str) -> bool:
    return make_url(empty_database_url).get_backend_name() == "sqlite"


async def _drop_store_tables(url: str) -> None:
    engine = create_engine(url, poolclass=NullPool)
    try:
        async with engine.begin() as conn:
            # CASCADE: a half-finished earlier run may have left tables in any state.
            for table in [*reversed(metadata.sorted_tables), "alembic_version"]:
                name = table if isinstance(table, str) else table.name
                await conn.exec_driver_sql(f'DROP TABLE IF EXISTS "{name}" CASCADE')
    finally:
        await engine.dispose()
