"""Shared fixtures. See tests/README.md for how the suite is organised."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.paths import DEFAULT_LASTFM_DIR
from tests.support import throwaway_database


@pytest.fixture(scope="session")
def lastfm_dir() -> Path:
    """The real HetRec 2011 Last.fm data set.

    Under CI=true a missing data set is a failure, not a skip: CI must measure on real data.
    """
    configured = os.environ.get("ENCORE_LASTFM_DIR")
    directory = Path(configured) if configured else DEFAULT_LASTFM_DIR
    if not (directory / "user_artists.dat").is_file():
        message = f"Last.fm data set not found at {directory}; set ENCORE_LASTFM_DIR"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return directory


@pytest.fixture(scope="session")
def spark_als():
    """recommender.models.spark_als, which needs the optional `spark` extra: pyspark and a Java runtime.

    Without them the Spark tests skip, saying what is missing; under CI=true that is a failure, as for
    the data set: CI must run them.
    """
    try:
        import recommender.models.spark_als as module
    except ImportError as error:
        message = f"Spark is not available here: {error}. The Spark tests need pip install -e '.[spark]' and Java 17+"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return module


@pytest.fixture
def empty_database_url(tmp_path: Path) -> Iterator[str]:
    """A database with none of the store's tables for one test: a SQLite file, or the PostgreSQL database
    named by ENCORE_TEST_DATABASE_URL emptied before and after (tests.support.throwaway_database)."""
    with throwaway_database(tmp_path / "encore.sqlite3") as url:
        assert url is not None
        yield url
