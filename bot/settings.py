"""Encore's configuration, read once from the environment into one typed object."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import platformdirs

from db.engine import default_sqlite_url


class SettingsError(ValueError):
    """A configuration value is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    #: Where snapshots and the default database live (ENCORE_HOME).
    home: Path
    #: The HetRec Last.fm folder (ENCORE_LASTFM_DIR); None means the cache, downloading if needed.
    lastfm_dir: Path | None
    #: SQLAlchemy async URL of the store (ENCORE_DATABASE_URL); default a SQLite file in `home`.
    database_url: str
    #: Minutes between refits when something changed (ENCORE_REFIT_MINUTES).
    refit_minutes: float = 30.0

    @property
    def snapshot_dir(self) -> Path:
        return self.home / "snapshots"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Settings":
        environ = os.environ if environ is None else environ
        home = _path(environ, "ENCORE_HOME") or Path(platformdirs.user_data_dir("encore"))
        database_url = environ.get("ENCORE_DATABASE_URL", "").strip() or default_sqlite_url(home)
        if not database_url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise SettingsError(
                f"ENCORE_DATABASE_URL={redact_url(database_url)} is not supported; use sqlite+aiosqlite:///PATH "
                "or postgresql+asyncpg://USER:PASSWORD@HOST/DB"
            )
        return cls(
            home=home,
            lastfm_dir=_path(environ, "ENCORE_LASTFM_DIR"),
            database_url=database_url,
            refit_minutes=_positive_number(environ, "ENCORE_REFIT_MINUTES", 30.0),
        )


def redact_url(url: str) -> str:
    """The URL with any password replaced, fit to print in a log or an error message."""
    return re.sub(r"(://[^/:@]*:)[^/@]*@", r"\1***@", url)


def _positive_number(environ: Mapping[str, str], name: str, default: float) -> float:
    value = environ.get(name, "").strip()
    if not value:
        return default
    try:
        number = float(value)
    except ValueError:
        raise SettingsError(f"{name}={value} is not a number") from None
    if not number > 0 or number == float("inf"):
        raise SettingsError(f"{name}={value} must be a positive number")
    return number


def _path(environ: Mapping[str, str], name: str) -> Path | None:
    value = environ.get(name, "").strip()
    if not value:
        return None
    path = Path(value).expanduser()
    if path.exists() and not path.is_dir():
        raise SettingsError(f"{name}={value} is a file; it must name a folder")
    return path
