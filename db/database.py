"""What the store's aggregates share: the engine, the write transaction, the read cache, id checks.

Each aggregate method is one short transaction. Idempotence comes from the schema (primary keys,
the partial unique index on member artists) through ``INSERT ... ON CONFLICT DO NOTHING``, so it
holds under concurrent callers, across processes, on SQLite and PostgreSQL alike.

Every call that changes member data bumps ``store_revision`` in the same transaction, and only
when a row actually changed: `Database.revision()` then answers "did anything change since N" for
a refit loop and for the read cache.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import operator
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any, Final, cast

from sqlalchemy import Table, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from db.engine import writer
from db.faults import FaultLog, StorageUnavailable, storage_problem
from db.models import guilds, memberships, store_revision, users, utcnow
from db.read_cache import ReadCache

log = logging.getLogger(__name__)

# Bounds a parameter list per statement: memory stays flat and SQLite's variable limit is safe.
CHUNK: Final = 2_000
# `purge_journal`: each attempt already waits up to the busy timeout for readers.
_CHECKPOINT_ATTEMPTS: Final = 3
_CHECKPOINT_PAUSE_SECONDS: Final = 0.1
_MAX_SNOWFLAKE: Final = 2**63 - 1


class UnknownArtistError(LookupError):
    """A like or mark named an artist id the store does not have."""


class Database:
    """One engine shared by the store's aggregates, with the write path every change goes through."""

    def __init__(self, engine: AsyncEngine, revision_poll_seconds: float = 1.0) -> None:
        dialect = engine.dialect.name
        if dialect not in ("sqlite", "postgresql"):
            raise ValueError(f"unsupported database {dialect!r}: use SQLite or PostgreSQL")
        self.engine = engine
        self._writer = writer(engine)
        # SQLite admits one writer at a time anyway. Queueing this process's writers here is
        # FIFO and wakes at once, whereas SQLite's busy handler polls with sleeps of up to 100 ms,
        # so a burst of writes finishes sooner. The busy timeout still covers other processes
        # sharing the file.
        self._write_lock: asyncio.Lock | None = asyncio.Lock() if dialect == "sqlite" else None
        self._dialect_insert = sqlite.insert if dialect == "sqlite" else postgresql.insert
        # Other processes' writes are seen within this many seconds; see db.read_cache.
        self.cache = ReadCache(revision_poll_seconds)
        self.faults = FaultLog()

    def connect(self) -> Any:
        """A connection for reads (``async with db.connect() as conn``)."""
        return self.engine.connect()

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """One write transaction; cached reads are cleared before it starts and after it ends."""
        # Before: reads overlapping the write are not kept. After: it has committed or failed.
        self.cache.invalidate()
        try:
            # The writer engine takes SQLite's write lock at BEGIN; see db.engine.writer.
            async with self._write_lock or contextlib.nullcontext(), self._writer.begin() as conn:
                yield conn
        except (DBAPIError, OSError) as error:
            problem = storage_problem(error)
            if problem is None:
                raise
            self.faults.failed(problem, error)
            raise StorageUnavailable(problem) from error
        else:
            self.faults.succeeded()
        finally:
            self.cache.invalidate()

    async def purge_journal(self) -> bool:
        """Leave no copy of deleted rows in SQLite's write-ahead log; True when the log is empty.

        The ``-wal`` file keeps the page images of earlier transactions (a forgotten member's likes,
        say) until a checkpoint copies them into the main file, where secure_delete has zeroed the
        rows. ``wal_checkpoint(TRUNCATE)`` does that and cuts the log to 0 bytes; it waits (busy
        timeout) for readers of an older snapshot, and is retried a few times if some remain, e.g.
        in another process. PostgreSQL: nothing to do here (True).
        """
        if self._write_lock is None:
            return True
        # This process's writers wait meanwhile, so the log stays empty until the call returns.
        async with self._write_lock:
            for attempt in range(_CHECKPOINT_ATTEMPTS):
                if attempt:
                    await asyncio.sleep(_CHECKPOINT_PAUSE_SECONDS)
                async with self.engine.connect() as conn:
                    busy, _, _ = (await conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")).one()
                if not busy:
                    return True
        log.warning("the SQLite write-ahead log could not be emptied: another connection is still reading")
        return False

    def insert(self, table: Table) -> Any:
        """The dialect's INSERT: both offer on_conflict_do_nothing / on_conflict_do_update."""
        return self._dialect_insert(table)

    async def insert_new(self, conn: AsyncConnection, table: Table, **values: Any) -> bool:
        """Insert one row unless its key is taken (``ON CONFLICT DO NOTHING``); True if it is new."""
        result = await run(conn, self.insert(table).values(**values).on_conflict_do_nothing())
        return result.rowcount > 0

    async def revision(self) -> int:
        """A number that grows whenever member data changes (deletions included)."""
        async with self.engine.connect() as conn:
            value = await conn.scalar(select(store_revision.c.revision).where(store_revision.c.id == 1))
        if value is None:
            raise RuntimeError("store_revision row missing: run db.migrations.upgrade first")
        return int(value)

    async def check_cache(self) -> None:
        """Clear the read cache if another process changed the data (at most one query per poll)."""
        await self.cache.check_revision(self.revision)

    async def ensure_member(self, conn: AsyncConnection, user_id: int, guild_id: int | None) -> bool:
        """Record the member, and the server and membership when given; True if a row was new."""
        now = utcnow()
        new_user = await self.insert_new(conn, users, id=user_id, created_at=now)
        if guild_id is None:
            return new_user
        new_guild = await self.insert_new(conn, guilds, id=guild_id, created_at=now)
        joined = await self.insert_new(conn, memberships, user_id=user_id, guild_id=guild_id, joined_at=now)
        return new_user or new_guild or joined


async def run(conn: AsyncConnection, statement: Any) -> CursorResult[Any]:
    """Execute a DML statement; typed so `.rowcount` is available."""
    return cast(CursorResult[Any], await conn.execute(statement))


async def bump_revision(conn: AsyncConnection) -> None:
    """Mark member data changed; call it last in the transaction."""
    # Last on purpose: on PostgreSQL this row lock serialises writers, and taking it last keeps it
    # held only for the commit.
    await conn.execute(
        update(store_revision).where(store_revision.c.id == 1).values(revision=store_revision.c.revision + 1)
    )


def snowflake(value: int) -> int:
    """A Discord id as a plain int, checked to fit the signed 64-bit column."""
    number = operator.index(value)
    if not 0 <= number <= _MAX_SNOWFLAKE:
        raise ValueError(f"id {number} does not fit a signed 64-bit column")
    return number


def optional_snowflake(value: int | None) -> int | None:
    return None if value is None else snowflake(value)


def unique_snowflakes(values: Iterable[int]) -> list[int]:
    """Distinct checked ids in ascending order, for an ``IN (...)`` list."""
    return sorted({snowflake(value) for value in values})


def check_choice(value: str, allowed: Sequence[str], what: str) -> None:
    if value not in allowed:
        raise ValueError(f"{what} must be one of {', '.join(allowed)}; got {value!r}")


def aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: pass a timezone-aware one")
    return value
