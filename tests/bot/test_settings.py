"""The one settings object: defaults, every variable read, and one clear line for a bad value."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import Settings, SettingsError


def test_defaults_need_nothing_but_a_home(tmp_path: Path) -> None:
    settings = Settings.from_env({"ENCORE_HOME": str(tmp_path)})
    assert settings.database_url.startswith("sqlite+aiosqlite:///") and str(tmp_path) in settings.database_url
    assert settings.refit_minutes == 30.0
    assert settings.discord_token is None and settings.lastfm_api_key is None and settings.lastfm_api_base is None


def test_every_variable_is_read(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "ENCORE_HOME": str(tmp_path),
            "ENCORE_REFIT_MINUTES": "5",
            "DISCORD_TOKEN": " t ",
            "ENCORE_DEV_GUILD": "123456789012345678",
            "ENCORE_DISCORD_API_BASE": "http://127.0.0.1:1/api/v10/",
            "ENCORE_DISCORD_GATEWAY": "ws://127.0.0.1:1/gateway",
            "LASTFM_API_KEY": "k",
            "ENCORE_LASTFM_API_BASE": "http://127.0.0.1:2/2.0/",
        }
    )
    assert (settings.refit_minutes, settings.discord_token, settings.dev_guild) == (5.0, "t", 123456789012345678)
    assert settings.discord_api_base == "http://127.0.0.1:1/api/v10"
    assert (settings.lastfm_api_key, settings.lastfm_api_base) == ("k", "http://127.0.0.1:2/2.0")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ENCORE_REFIT_MINUTES", "soon"),
        ("ENCORE_REFIT_MINUTES", "-1"),
        ("ENCORE_DEV_GUILD", "my server"),
        ("ENCORE_DISCORD_GATEWAY", "http://x"),
        ("ENCORE_LASTFM_API_BASE", "ftp://x"),
        ("ENCORE_DATABASE_URL", "mysql://x"),
    ],
)
def test_a_bad_value_names_its_variable(tmp_path: Path, name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({"ENCORE_HOME": str(tmp_path), name: value})


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("sqlite:////srv/encore.sqlite3", "sqlite+aiosqlite:////srv/encore.sqlite3"),
        ("sqlite+aiosqlite:///e.db", "sqlite+aiosqlite:///e.db"),
        ("postgres://u:p@db/encore", "postgresql+asyncpg://u:p@db/encore"),
        ("postgresql://u:p@db:5433/encore", "postgresql+asyncpg://u:p@db:5433/encore"),
        ("postgresql+psycopg2://u@db/encore", "postgresql+asyncpg://u@db/encore"),
        ("postgresql+asyncpg://u@db/encore", "postgresql+asyncpg://u@db/encore"),
    ],
)
def test_plain_database_urls_map_to_the_async_drivers(tmp_path: Path, given: str, used: str) -> None:
    settings = Settings.from_env({"ENCORE_HOME": str(tmp_path), "ENCORE_DATABASE_URL": given})
    assert settings.database_url == used


def test_caps_default_and_can_be_changed(tmp_path: Path) -> None:
    defaults = Settings.from_env({"ENCORE_HOME": str(tmp_path)})
    assert (defaults.max_likes_per_member, defaults.max_added_artists_per_day) == (2_000, 20)
    changed = Settings.from_env(
        {"ENCORE_HOME": str(tmp_path), "ENCORE_MAX_LIKES": "50", "ENCORE_MAX_ADDED_ARTISTS_PER_DAY": "3"}
    )
    assert (changed.max_likes_per_member, changed.max_added_artists_per_day) == (50, 3)
    for bad in ("0", "-5", "many", "1.5"):
        with pytest.raises(SettingsError, match="ENCORE_MAX_LIKES"):
            Settings.from_env({"ENCORE_HOME": str(tmp_path), "ENCORE_MAX_LIKES": bad})


def test_presence_is_off_unless_asked_for(tmp_path: Path) -> None:
    home = {"ENCORE_HOME": str(tmp_path)}
    assert Settings.from_env(home).presence is False
    for on in ("1", "true", " YES ", "on"):
        assert Settings.from_env(home | {"ENCORE_PRESENCE": on}).presence is True
    for off in ("0", "false", "no", "off", ""):
        assert Settings.from_env(home | {"ENCORE_PRESENCE": off}).presence is False
    with pytest.raises(SettingsError, match="ENCORE_PRESENCE"):
        Settings.from_env(home | {"ENCORE_PRESENCE": "maybe"})
