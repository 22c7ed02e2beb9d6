"""`encore db` and `encore fit` with the SQL store, and configuration mistakes, run as a user runs them.

The store is SQLite at its default place in ENCORE_HOME, or, when ``ENCORE_TEST_DATABASE_URL`` is set,
that PostgreSQL database (emptied before and after each test, as in tests/db/conftest.py).
"""

from __future__ import annotations

import asyncio
import csv
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.settings import Settings, SettingsError
from db.engine import create_engine, default_sqlite_url
from db.migrations import head, upgrade
from db.store import Store
from recommender.text import normalize_name
from tests.helpers.cli import assert_one_line_error, run_encore
from tests.support import throwaway_database

FIT_LINE = re.compile(
    r"^Fitted (?P<users>[\d,]+) users \((?P<members>[\d,]+) members\) x (?P<artists>[\d,]+) artists "
    r"\((?P<interactions>[\d,]+) interactions\) in (?P<total>\d+\.\d) s "
    r"\(read (?P<read>\d+\.\d\d), build (?P<build>\d+\.\d\d), fit (?P<fit>\d+\.\d\d), save (?P<save>\d+\.\d\d)\); "
    r"snapshot (?P<path>\S.*)$"
)
MEMBER_LIKES = {101: ["Radiohead", "Björk"], 102: ["Daft Punk"], 2**63 - 1: ["Radiohead", "Muse", "Coldplay"]}


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str | None]:
    """None: the default SQLite file in ENCORE_HOME; else the PostgreSQL test database, emptied."""
    with throwaway_database(None) as url:
        yield url


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "encore-home"


def store_url(home: Path, database_url: str | None) -> str:
    return database_url or default_sqlite_url(home)


# -- encore db ------------------------------------------------------------------------------------


def test_db_current_on_a_fresh_home_says_none(home: Path, database_url: str | None) -> None:
    result = run_encore("db", "current", home=home, data=home / "no-data-needed", database_url=database_url)
    assert result.returncode == 0, result.stderr
    assert "schema revision none" in result.stdout
    assert "encore db upgrade" in result.stdout  # says what to do about it


def test_db_upgrade_then_current_shows_the_newest_revision(home: Path, database_url: str | None) -> None:
    data = home / "no-data-needed"
    upgraded = run_encore("db", "upgrade", home=home, data=data, database_url=database_url)
    assert upgraded.returncode == 0, upgraded.stderr
    assert f"schema revision {head()}" in upgraded.stdout
    if database_url is None:
        assert (home / "encore.sqlite3").is_file()  # the default place
    current = run_encore("db", "current", home=home, data=data, database_url=database_url)
    assert current.returncode == 0, current.stderr
    assert current.stdout.strip().endswith(f"schema revision {head()}")
    assert "none" not in current.stdout
    again = run_encore("db", "upgrade", home=home, data=data, database_url=database_url)
    assert again.returncode == 0 and f"schema revision {head()}" in again.stdout  # a no-op at head


# -- encore fit -----------------------------------------------------------------------------------


def lastfm_artist_rows(lastfm_dir: Path, names: set[str]) -> dict[str, tuple[int, str, str, str]]:
    """(id, name, normalised name, url) of these artists, read from artists.dat independently of the code."""
    with open(lastfm_dir / "artists.dat", encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))[1:]
    found = {row[1]: (int(row[0]), row[1], normalize_name(row[1]), row[2]) for row in rows if row[1] in names}
    assert set(found) == names
    return found


async def add_member_likes(url: str, lastfm_dir: Path) -> int:
    artists = lastfm_artist_rows(lastfm_dir, {n for names in MEMBER_LIKES.values() for n in names})
    async with Store(create_engine(url)) as store:
        await store.artists.seed_catalogue(artists.values())
        for user, names in MEMBER_LIKES.items():
            for name in names:
                assert await store.likes.like(user, artists[name][0], guild_id=7)
        return len(await store.likes.all_likes())


async def recorded_snapshots(url: str) -> list:
    async with Store(create_engine(url)) as store:
        return await store.snapshots.recent()


@pytest.mark.slow
def test_fit_reports_its_phases_and_the_members_in_the_store(
    home: Path, database_url: str | None, lastfm_dir: Path
) -> None:
    url = store_url(home, database_url)
    upgrade(url)
    likes = asyncio.run(add_member_likes(url, lastfm_dir))
    assert likes == sum(map(len, MEMBER_LIKES.values()))

    result = run_encore("fit", home=home, data=lastfm_dir, database_url=database_url)

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1, result.stdout
    match = FIT_LINE.match(lines[0])
    assert match, lines[0]
    number = lambda key: int(match[key].replace(",", ""))  # noqa: E731
    assert number("members") == len(MEMBER_LIKES)
    assert number("users") == 1892 + len(MEMBER_LIKES)
    assert number("artists") == 17632
    assert number("interactions") == 92834 + likes
    phases = [float(match[key]) for key in ("read", "build", "fit", "save")]
    assert all(p >= 0 for p in phases) and float(match["fit"]) > 0
    assert sum(phases) <= float(match["total"]) + 0.1
    snapshot = Path(match["path"])
    assert snapshot.parent == home / "snapshots" and snapshot.is_dir()
    meta = json.loads((snapshot / "meta.json").read_text(encoding="utf-8"))
    assert (meta["members"], meta["member_likes"]) == (len(MEMBER_LIKES), likes)
    assert [row.version for row in asyncio.run(recorded_snapshots(url))] == [snapshot.name]


# -- configuration mistakes -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("ENCORE_DATABASE_URL", "mysql://x", "not supported"),
        ("ENCORE_REFIT_MINUTES", "-1", "positive"),
        ("ENCORE_REFIT_MINUTES", "abc", "not a number"),
    ],
)
def test_a_bad_setting_is_one_line_naming_the_variable(home: Path, variable: str, value: str, says: str) -> None:
    result = run_encore("db", "current", home=home, data=home / "no-data", extra={variable: value})
    line = assert_one_line_error(result, variable, value, says)
    assert line.startswith(f"encore: error: {variable}=")
    assert not home.exists()  # refused before touching anything


@pytest.mark.parametrize("value", ["0", "-0.5", "nan", "inf", "-inf", "1e999", "thirty"])
def test_refit_minutes_must_be_a_positive_finite_number(tmp_path: Path, value: str) -> None:
    with pytest.raises(SettingsError, match="ENCORE_REFIT_MINUTES"):
        Settings.from_env({"ENCORE_HOME": str(tmp_path), "ENCORE_REFIT_MINUTES": value})


def test_settings_defaults_and_accepted_values(tmp_path: Path) -> None:
    settings = Settings.from_env({"ENCORE_HOME": str(tmp_path), "ENCORE_REFIT_MINUTES": " 2.5 "})
    assert settings.refit_minutes == 2.5
    assert settings.database_url == default_sqlite_url(tmp_path)
    assert settings.snapshot_dir == tmp_path / "snapshots"
    default = Settings.from_env({"ENCORE_HOME": str(tmp_path), "ENCORE_REFIT_MINUTES": "", "ENCORE_DATABASE_URL": " "})
    assert default.refit_minutes == 30.0 and default.database_url == default_sqlite_url(tmp_path)
    pg = "postgresql+asyncpg://encore:secret@db.example:5432/encore"
    assert Settings.from_env({"ENCORE_HOME": str(tmp_path), "ENCORE_DATABASE_URL": pg}).database_url == pg


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+asyncpg://encore:hunter2@127.0.0.1:1/encore_test",  # nothing listens on port 1
        "mysql://encore:hunter2@127.0.0.1/encore",  # a scheme Encore does not support
    ],
)
def test_a_database_error_does_not_print_the_password(home: Path, url: str) -> None:
    if url.startswith("postgresql"):
        pytest.importorskip("asyncpg")
    result = run_encore("db", "current", home=home, data=home / "no-data", database_url=url)
    assert_one_line_error(result, "encore")
    assert "hunter2" not in result.stderr


def test_a_snapshot_folder_that_cannot_be_written_is_named_as_such(tmp_path: Path, lastfm_dir: Path) -> None:
    home = tmp_path / "home"
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    result = run_encore("train", home=home, data=lastfm_dir, extra={"ENCORE_SNAPSHOT_DIR": str(blocker / "snapshots")})
    # The trainer logs as it starts, so its last line is the answer.
    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines()[-1].startswith(
        f"encore: error: cannot write snapshots to {blocker / 'snapshots'}"
    )
    assert "cannot open the database" not in result.stderr
