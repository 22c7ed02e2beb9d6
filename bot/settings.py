"""Encore's configuration, read once from the environment into one typed object."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import platformdirs


class SettingsError(ValueError):
    """A configuration value is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    #: Where snapshots and the default database live (ENCORE_HOME).
    home: Path
    #: The HetRec Last.fm folder (ENCORE_LASTFM_DIR); None means the cache, downloading if needed.
    lastfm_dir: Path | None

    @property
    def snapshot_dir(self) -> Path:
        return self.home / "snapshots"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Settings":
        environ = os.environ if environ is None else environ
        home = _path(environ, "ENCORE_HOME") or Path(platformdirs.user_data_dir("encore"))
        return cls(home=home, lastfm_dir=_path(environ, "ENCORE_LASTFM_DIR"))


def _path(environ: Mapping[str, str], name: str) -> Path | None:
    value = environ.get(name, "").strip()
    if not value:
        return None
    path = Path(value).expanduser()
    if path.exists() and not path.is_dir():
        raise SettingsError(f"{name}={value} is a file; it must name a folder")
    return path
