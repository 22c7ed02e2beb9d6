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

import pytest
from sqlalchemy.engine import make_url

from db.migrations import upgrade


@pytest.fixture
def database_url(empty_database_url: str) -> str:
    """A database at the newest schema, migrated through `db.migrations.upgrade`."""
    upgrade(empty_database_url)
    return empty_database_url


@pytest.fixture
def is_sqlite(empty_database_url: str) -> bool:
    return make_url(empty_database_url).get_backend_name() == "sqlite"
