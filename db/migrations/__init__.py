"""Schema migrations (Alembic), configured in code: no alembic.ini needed.

`upgrade(url)` brings a database to the newest schema; `current(url)` says where it is. Both take
the store's async URL and are plain sync functions: call them from sync code, or from async code
through `asyncio.to_thread` (called straight from a running event loop they still work, by
running in a helper thread, but block that loop meanwhile).

To write a new revision, bring a scratch database to head and autogenerate against it::

    from alembic import command
    from db.migrations import config
    command.revision(config("sqlite+aiosqlite:///scratch.sqlite3"), "message", autogenerate=True)

then review the file it writes in ``versions/``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.pool import NullPool

from db.engine import create_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent
T = TypeVar("T")


def config(url: str) -> Config:
    """An Alembic config for this package's migrations against `url` (an async URL)."""
    cfg = Config()
    # configparser interpolates '%'; the path is the only value that goes through it.
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    # Passed as an attribute, not an option, so passwords with '%' survive; env.py reads it.
    cfg.attributes["url"] = url
    return cfg


def head() -> str:
    """The newest revision the package ships."""
    revision = ScriptDirectory.from_config(config("sqlite://")).get_current_head()
    assert revision is not None
    return revision


def upgrade(url: str) -> None:
    """Apply every migration the database at `url` lacks; a no-op at head."""
    _outside_event_loop(lambda: command.upgrade(config(url), "head"))


def current(url: str) -> str | None:
    """The database's revision, or None if it was never migrated."""
    return _outside_event_loop(lambda: asyncio.run(_current(url)))


async def _current(url: str) -> str | None:
    engine = create_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(_revision_of)
    finally:
        await engine.dispose()


def _revision_of(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _outside_event_loop(work: Callable[[], T]) -> T:
    # The async engine is driven by asyncio.run, which refuses to nest in a running loop.
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return work()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="encore-migrations") as pool:
        return pool.submit(work).result()
