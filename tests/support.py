"""Helpers several test packages share: a throwaway database, and running the real `encore`."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from db.engine import create_engine
from db.models import metadata

DATABASE_URL_ENV = "ENCORE_TEST_DATABASE_URL"
DEFAULT_OPENAPI_SPEC = Path(__file__).resolve().parents[2] / "shared" / "specs" / "discord-openapi.json"


def openapi_spec_path() -> Path:
    """Discord's OpenAPI spec: ENCORE_DISCORD_OPENAPI or ../shared/specs; a failure under CI=true when missing."""
    configured = os.environ.get("ENCORE_DISCORD_OPENAPI")
    path = Path(configured) if configured else DEFAULT_OPENAPI_SPEC
    if not path.is_file():
        message = f"Discord OpenAPI spec not found at {path}; set ENCORE_DISCORD_OPENAPI"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


@contextmanager
def throwaway_database(sqlite_file: Path | None) -> Iterator[str | None]:
    """The database for one test, with none of the store's tables.

    The PostgreSQL database named by ENCORE_TEST_DATABASE_URL, emptied before and after; else the
    SQLite file `sqlite_file` (or None, meaning "Encore's default file", when it is None).
    """
    configured = os.environ.get(DATABASE_URL_ENV)
    if not configured:
        yield f"sqlite+aiosqlite:///{sqlite_file}" if sqlite_file is not None else None
        return
    if "test" not in (make_url(configured).database or ""):
        pytest.fail(f"{DATABASE_URL_ENV} must name a throwaway database with 'test' in its name")
    asyncio.run(drop_store_tables(configured))
    try:
        yield configured
    finally:
        asyncio.run(drop_store_tables(configured))


async def drop_store_tables(url: str) -> None:
    engine = create_engine(url, poolclass=NullPool)
    try:
        async with engine.begin() as conn:
            # CASCADE: a half-finished earlier run may have left tables in any state.
            for table in [*reversed(metadata.sorted_tables), "alembic_version"]:
                name = table if isinstance(table, str) else table.name
                await conn.exec_driver_sql(f'DROP TABLE IF EXISTS "{name}" CASCADE')
    finally:
        await engine.dispose()


def encore_command() -> list[str]:
    """The installed console script beside this Python, else on PATH, else the module."""
    beside_python = Path(sys.executable).with_name("encore")
    if beside_python.is_file():
        return [str(beside_python)]
    found = shutil.which("encore")
    return [found] if found else [sys.executable, "-m", "bot.cli"]


def encore_env(home: Path, lastfm_dir: Path | str, database_url: str | None = None) -> dict[str, str]:
    """This process's environment without any ENCORE_ setting, plus the given ones.

    The per-user folders point beside `home`, so nothing lands in the real ones.
    """
    home = Path(home)
    env = {key: value for key, value in os.environ.items() if not key.startswith("ENCORE_")}
    env |= {
        "ENCORE_HOME": str(home),
        "ENCORE_LASTFM_DIR": str(lastfm_dir),
        "OPENBLAS_NUM_THREADS": "1",
        "PYTHONIOENCODING": "utf-8",
        "XDG_CACHE_HOME": str(home.parent / "xdg-cache"),
        "XDG_DATA_HOME": str(home.parent / "xdg-data"),
    }
    if database_url:
        env["ENCORE_DATABASE_URL"] = database_url
    return env
