"""The module-scoped ``encore`` fixture (tests/helpers/e2e.py) and the check after every test that drives it.

The store is a real SQLite file in the module's temporary folder, or the PostgreSQL database named by
``ENCORE_TEST_DATABASE_URL`` (emptied before and after, see tests.support.throwaway_database).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.settings import Settings
from tests.helpers.e2e import Encore, ErrorLog, LoopThread, start_encore, stop_encore
from tests.support import throwaway_database


@pytest.fixture(scope="module")
def encore_env() -> dict[str, str]:
    """More environment for the module's bot (a module overrides this, e.g. to add a Last.fm key)."""
    return {}


@pytest.fixture(scope="module")
def encore(lastfm_dir: Path, tmp_path_factory: pytest.TempPathFactory, encore_env: dict[str, str]) -> Iterator[Encore]:
    """The real bot (real data, real store, real model) logged in to a fresh emulator, for one module."""
    home = tmp_path_factory.mktemp("encore-e2e")
    errors = ErrorLog()
    errors.attach()
    loop = LoopThread()
    try:
        with throwaway_database(home / "encore.sqlite3") as url:
            assert url is not None
            settings = Settings.from_env(
                {"ENCORE_HOME": str(home), "ENCORE_LASTFM_DIR": str(lastfm_dir), "ENCORE_DATABASE_URL": url}
                | encore_env
            )
            harness = loop.run(start_encore(settings, errors, loop), timeout=180)
            try:
                yield harness
            finally:
                loop.run(stop_encore(harness), timeout=60)
    finally:
        loop.close()
        errors.detach()


@pytest.fixture(autouse=True)
def _nothing_crashed(request: pytest.FixtureRequest) -> Iterator[None]:
    """After every test that drives the bot: no ERROR logged by discord.py or Encore, no emulator crash."""
    if "encore" not in request.fixturenames:
        yield
        return
    harness: Encore = request.getfixturevalue("encore")
    logged, crashed = len(harness.errors.records), len(harness.emulator.internal_errors)
    yield
    new_logged = harness.errors.records[logged:]
    new_crashes = harness.emulator.internal_errors[crashed:]
    assert not new_logged, "the bot logged errors:\n" + harness.errors.describe(new_logged)
    assert not new_crashes, "the emulator crashed:\n" + "\n".join(new_crashes)
