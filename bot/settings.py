"""Encore's configuration, read once from the environment into one typed object."""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from db.engine import UnsupportedDatabaseURL, async_url, default_sqlite_url
from recommender.models.spark_settings import MASTER_PREFIXES, SparkSettings


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
    #: The bot's token (DISCORD_TOKEN); only `encore run` needs it.
    discord_token: str | None = None
    #: Sync the slash commands to this server only (ENCORE_DEV_GUILD): instant, for development.
    dev_guild: int | None = None
    #: Another Discord-compatible REST base, e.g. http://127.0.0.1:8765/api/v10 (ENCORE_DISCORD_API_BASE).
    discord_api_base: str | None = None
    #: Another gateway URL, e.g. ws://127.0.0.1:8765/gateway (ENCORE_DISCORD_GATEWAY).
    discord_gateway: str | None = None
    #: Last.fm API key for /lastfm link (LASTFM_API_KEY); without one the command says it is off.
    lastfm_api_key: str | None = None
    #: Another Last.fm API endpoint, e.g. a local fake (ENCORE_LASTFM_API_BASE).
    lastfm_api_base: str | None = None
    #: Where snapshots are written and read (ENCORE_SNAPSHOT_DIR); default `home`/snapshots. With
    #: `encore train` on another machine, a folder both see (e.g. an NFS mount).
    snapshot_dir_override: Path | None = None
    #: Seconds between a sharded bot's checks for a newer published snapshot (ENCORE_SNAPSHOT_POLL_SECONDS).
    snapshot_poll_seconds: float = 10.0
    #: How many likes one member may store (ENCORE_MAX_LIKES).
    max_likes_per_member: int = 2_000
    #: How many new artists one member may add in 24 hours, Last.fm imports included (ENCORE_MAX_ADDED_ARTISTS_PER_DAY).
    max_added_artists_per_day: int = 20
    #: Where `encore train/fit --engine spark` fits (ENCORE_SPARK_MASTER and the other ENCORE_SPARK_ settings).
    spark: SparkSettings = SparkSettings()
    #: Ask Discord for members' presences (ENCORE_PRESENCE=1; the privileged presence intent), so that a
    #: Spotify artist an opted-in member plays during a listening session counts as their Into it.
    presence: bool = False

    def require_token(self) -> str:
        if not self.discord_token:
            raise SettingsError(
                "DISCORD_TOKEN is not set; create a bot at https://discord.com/developers/applications "
                "and put its token in DISCORD_TOKEN (see the README, 'Running the bot')"
            )
        return self.discord_token

    @property
    def snapshot_dir(self) -> Path:
        return self.snapshot_dir_override or self.home / "snapshots"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        environ = os.environ if environ is None else environ
        home = _path(environ, "ENCORE_HOME") or Path(platformdirs.user_data_dir("encore"))
        database_url = environ.get("ENCORE_DATABASE_URL", "").strip() or default_sqlite_url(home)
        try:
            database_url = async_url(database_url)
        except UnsupportedDatabaseURL:
            raise SettingsError(
                f"ENCORE_DATABASE_URL={redact_url(database_url)} is not supported; use sqlite:///PATH "
                "or postgresql://USER:PASSWORD@HOST/DB"
            ) from None
        return cls(
            home=home,
            lastfm_dir=_path(environ, "ENCORE_LASTFM_DIR"),
            database_url=database_url,
            refit_minutes=_positive_number(environ, "ENCORE_REFIT_MINUTES", 30.0),
            discord_token=environ.get("DISCORD_TOKEN", "").strip() or None,
            dev_guild=_snowflake(environ, "ENCORE_DEV_GUILD"),
            discord_api_base=_url(environ, "ENCORE_DISCORD_API_BASE", ("http://", "https://")),
            discord_gateway=_url(environ, "ENCORE_DISCORD_GATEWAY", ("ws://", "wss://")),
            lastfm_api_key=environ.get("LASTFM_API_KEY", "").strip() or None,
            lastfm_api_base=_url(environ, "ENCORE_LASTFM_API_BASE", ("http://", "https://")),
            snapshot_dir_override=_path(environ, "ENCORE_SNAPSHOT_DIR"),
            snapshot_poll_seconds=_positive_number(environ, "ENCORE_SNAPSHOT_POLL_SECONDS", 10.0),
            max_likes_per_member=_positive_int(environ, "ENCORE_MAX_LIKES", 2_000),
            max_added_artists_per_day=_positive_int(environ, "ENCORE_MAX_ADDED_ARTISTS_PER_DAY", 20),
            spark=_spark(environ),
            presence=_flag(environ, "ENCORE_PRESENCE"),
        )


def redact_url(url: str) -> str:
    """The URL with any password replaced, fit to print in a log or an error message."""
    return re.sub(r"(://[^/:@]*:)[^/@]*@", r"\1***@", url)


def _snowflake(environ: Mapping[str, str], name: str) -> int | None:
    value = environ.get(name, "").strip()
    if not value:
        return None
    if not value.isdigit() or not 0 < int(value) < 2**63:
        raise SettingsError(f"{name}={value} is not a Discord server id (a number like 123456789012345678)")
    return int(value)


def _url(environ: Mapping[str, str], name: str, schemes: tuple[str, ...]) -> str | None:
    value = environ.get(name, "").strip().rstrip("/")
    if not value:
        return None
    if not value.startswith(schemes):
        raise SettingsError(f"{name}={value} must start with {' or '.join(schemes)}")
    return value


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


def _positive_int(environ: Mapping[str, str], name: str, default: int) -> int:
    value = environ.get(name, "").strip()
    if not value:
        return default
    if not value.isdigit() or int(value) == 0:
        raise SettingsError(f"{name}={value} must be a whole number above 0")
    return int(value)


_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def _flag(environ: Mapping[str, str], name: str) -> bool:
    value = environ.get(name, "").strip().lower()
    if not value or value in _FALSE:
        return False
    if value in _TRUE:
        return True
    raise SettingsError(f"{name}={value} must be 1 (on) or 0 (off)")


def _path(environ: Mapping[str, str], name: str) -> Path | None:
    value = environ.get(name, "").strip()
    if not value:
        return None
    path = Path(value).expanduser()
    if path.exists() and not path.is_dir():
        raise SettingsError(f"{name}={value} is a file; it must name a folder")
    return path


_SPARK_MEMORY = re.compile(r"[1-9][0-9]*[kmgt]?", re.IGNORECASE)


def _spark(environ: Mapping[str, str]) -> SparkSettings:
    defaults = SparkSettings()
    master = environ.get("ENCORE_SPARK_MASTER", "").strip() or defaults.master
    if not master.startswith(MASTER_PREFIXES):
        raise SettingsError(
            f"ENCORE_SPARK_MASTER={master} is not a Spark master URL; use local[N], spark://HOST:PORT, "
            "k8s://https://HOST:PORT or yarn"
        )
    cores = environ.get("ENCORE_SPARK_EXECUTOR_CORES", "").strip()
    driver_host = environ.get("ENCORE_SPARK_DRIVER_HOST", "").strip()
    if any(character.isspace() or character == "/" for character in driver_host):
        raise SettingsError(f"ENCORE_SPARK_DRIVER_HOST={driver_host} must be a host name or IP address")
    return SparkSettings(
        master=master,
        driver_memory=_spark_memory(environ, "ENCORE_SPARK_DRIVER_MEMORY") or defaults.driver_memory,
        executor_memory=_spark_memory(environ, "ENCORE_SPARK_EXECUTOR_MEMORY"),
        executor_cores=_positive_int(environ, "ENCORE_SPARK_EXECUTOR_CORES", 1) if cores else None,
        driver_host=driver_host or None,
        extra_conf=_spark_conf(environ.get("ENCORE_SPARK_CONF", "")),
    )


def _spark_memory(environ: Mapping[str, str], name: str) -> str | None:
    value = environ.get(name, "").strip()
    if value and not _SPARK_MEMORY.fullmatch(value):
        raise SettingsError(f"{name}={value} must be a size as Spark writes it, e.g. 512m or 4g")
    return value or None


def _spark_conf(value: str) -> tuple[tuple[str, str], ...]:
    """ENCORE_SPARK_CONF: KEY=VALUE pairs separated by spaces, quoted as in a shell where a value has spaces."""
    try:
        words = shlex.split(value)
    except ValueError as error:
        raise SettingsError(f"ENCORE_SPARK_CONF is not valid: {error}") from None
    pairs = []
    for word in words:
        key, equals, setting = word.partition("=")
        if not equals or not key.startswith("spark.") or not setting:
            raise SettingsError(f"ENCORE_SPARK_CONF: {word} is not a KEY=VALUE pair with a spark.* key")
        pairs.append((key, setting))
    return tuple(pairs)
