"""Async engines for the store: SQLite (aiosqlite) tuned for concurrent writers, or PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool

SQLITE_FILENAME: Final = "encore.sqlite3"
# How long a SQLite writer waits for the lock before "database is locked" (milliseconds).
SQLITE_BUSY_TIMEOUT_MS: Final = 10_000
# Execution option naming the SQLite BEGIN mode a transaction starts with; see `writer`.
SQLITE_BEGIN_OPTION: Final = "encore_sqlite_begin"


def default_sqlite_url(home: Path) -> str:
    """The URL of the store's SQLite file inside Encore's home folder."""
    return f"sqlite+aiosqlite:///{Path(home).expanduser() / SQLITE_FILENAME}"


# Plain URLs as hosts and guides write them, and the async driver each maps to.
_ASYNC_DRIVERS: Final = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
    "postgres": "postgresql+asyncpg",
    "postgresql": "postgresql+asyncpg",
    "postgresql+psycopg2": "postgresql+asyncpg",
    "postgresql+asyncpg": "postgresql+asyncpg",
}


class UnsupportedDatabaseURL(ValueError):
    """The URL names neither SQLite nor PostgreSQL."""


def async_url(url: str) -> str:
    """`url` with the async driver the store runs on: ``sqlite:///f`` → ``sqlite+aiosqlite:///f``,
    ``postgres://…`` / ``postgresql://…`` → ``postgresql+asyncpg://…``."""
    scheme, separator, rest = url.partition("://")
    driver = _ASYNC_DRIVERS.get(scheme.lower()) if separator else None
    if driver is None:
        raise UnsupportedDatabaseURL(scheme or url)
    return f"{driver}://{rest}"


def to_sync_url(url: str) -> str:
    """The same database through the dialect's default synchronous driver (sqlite3, psycopg2)."""
    parsed = make_url(url)
    return parsed.set(drivername=parsed.get_backend_name()).render_as_string(hide_password=False)


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An AsyncEngine for `url`; extra keyword arguments go to `create_async_engine`.

    SQLite files get WAL (readers never block the writer), a busy timeout (writers queue instead
    of failing), enforced foreign keys (cascades) and secure_delete (deleted rows are zeroed) on every
    connection; the file's folder is created if missing.
    """
    parsed = make_url(async_url(url))
    if parsed.get_backend_name() != "sqlite":
        return create_async_engine(parsed, **kwargs)
    _make_parent(parsed)
    if "poolclass" not in kwargs:
        # SQLAlchemy's default for aiosqlite files is NullPool: every query would open a connection
        # (a thread, the file, the PRAGMAs). Keeping them open made /recommend cheaper and steadier.
        kwargs = {"poolclass": AsyncAdaptedQueuePool, "pool_size": 10, "max_overflow": 10} | kwargs
    engine = create_async_engine(parsed, **kwargs)
    _configure_sqlite(engine)
    return engine


def writer(engine: AsyncEngine) -> AsyncEngine:
    """The same engine (same pool) whose transactions are meant to write.

    On SQLite they start with BEGIN IMMEDIATE, taking the write lock up front: a transaction that
    reads first and then upgrades to writing can fail at once with "database is locked" when
    another writer committed meanwhile, whereas waiting for the lock at BEGIN honours the busy
    timeout. Other databases ignore the option.
    """
    return engine.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})


def _make_parent(url: URL) -> None:
    database = url.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def _configure_sqlite(engine: AsyncEngine) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # SQLAlchemy emits BEGIN itself (below); the driver's own transaction handling
        # skips BEGIN before SELECTs and would make read-then-write transactions unsafe.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            # busy_timeout first, so switching the journal mode waits for other connections too.
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute("PRAGMA journal_mode = WAL")
            # In WAL mode NORMAL cannot corrupt the database; it only skips an fsync per commit.
            cursor.execute("PRAGMA synchronous = NORMAL")
            # Deleted rows are overwritten with zeros rather than left in free space: /forget-me must
            # leave no bytes of the member in the file (see Database.purge_journal for the WAL).
            cursor.execute("PRAGMA secure_delete = ON")
        finally:
            cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        mode = connection.get_execution_options().get(SQLITE_BEGIN_OPTION, "DEFERRED")
        if mode not in ("DEFERRED", "IMMEDIATE", "EXCLUSIVE"):
            raise ValueError(f"unknown SQLite BEGIN mode {mode!r}")
        connection.exec_driver_sql(f"BEGIN {mode}")
