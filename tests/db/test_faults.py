"""A full or read-only disk is one `StorageUnavailable`, changes nothing, is logged once, and passes."""

from __future__ import annotations

import asyncio
import errno
import logging
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from db.engine import create_engine
from db.faults import StorageUnavailable, storage_problem
from db.migrations import upgrade
from db.store import Store
from tests.helpers.db import seed_artists, table_counts


@pytest.fixture
def sqlite_file(tmp_path: Path) -> Path:
    path = tmp_path / "encore.sqlite3"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


def test_a_full_disk_changes_nothing_is_logged_once_and_recovers_without_a_restart(
    sqlite_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    page_limit: dict[str, int | None] = {"pages": None}

    async def scenario() -> None:
        store = Store(create_engine(f"sqlite+aiosqlite:///{sqlite_file}"))

        @event.listens_for(store.engine.sync_engine, "connect")
        def limit_pages(dbapi_connection: Any, _record: Any) -> None:
            if page_limit["pages"] is not None:
                dbapi_connection.cursor().execute(f"PRAGMA max_page_count = {page_limit['pages']}")

        try:
            await seed_artists(store, 3)
            before = await table_counts(store)
            async with store.engine.connect() as conn:
                page_limit["pages"] = (await conn.exec_driver_sql("PRAGMA page_count")).scalar()
            await store.engine.dispose()  # new connections get the limit: the disk is now "full"
            many = [(user_id, 1) for user_id in range(1, 20_001)]
            for _ in range(2):
                with pytest.raises(StorageUnavailable) as raised:
                    await store.likes.import_likes(many)
                assert raised.value.problem == "full"
            assert await table_counts(store) == before, "a failed write changes nothing"

            page_limit["pages"] = None
            await store.engine.dispose()  # room again; the same Store carries on
            assert await store.likes.like(7, 2)
        finally:
            await store.close()

    with caplog.at_level(logging.INFO, logger="db.faults"):
        asyncio.run(scenario())
    messages = [record.getMessage() for record in caplog.records if record.name == "db.faults"]
    assert len([m for m in messages if "disk is full" in m]) == 1, messages
    assert messages[-1] == "the database accepts writes again"


def test_a_read_only_database_is_reported_as_read_only(sqlite_file: Path) -> None:
    async def scenario() -> None:
        async with Store(create_engine(f"sqlite+aiosqlite:///{sqlite_file}")) as writable:
            await seed_artists(writable, 2)
        read_only = Store(create_engine(f"sqlite+aiosqlite:///file:{sqlite_file}?mode=ro&uri=true"))
        try:
            with pytest.raises(StorageUnavailable) as raised:
                await read_only.likes.like(1, 1)
            assert raised.value.problem == "read-only"
            assert await read_only.likes.all_likes() == []
        finally:
            await read_only.close()

    asyncio.run(scenario())


@pytest.mark.parametrize(
    ("error", "problem"),
    [
        (OSError(errno.ENOSPC, "No space left on device"), "full"),
        (OSError(errno.EROFS, "Read-only file system"), "read-only"),
        (OSError(errno.ENOENT, "No such file"), None),
        (ValueError("not storage"), None),
    ],
)
def test_os_errors_name_the_problem(error: BaseException, problem: str | None) -> None:
    assert storage_problem(error) == problem
