"""Fixtures for the services: the real Last.fm data once per session, and Apps over fresh stores.

Tests about plumbing use `FAST` (3 iterations), and tests that only need *a* model copy the
session's `base_snapshot` instead of fitting. The helpers live in tests/helpers/services.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from recommender.models.als import ALSRecommender
from recommender.training import LastFmData
from tests.helpers.services import RealData, Services, fit_base_snapshot


@pytest.fixture(scope="session")
def real_data(lastfm_dir: Path) -> RealData:
    data = LastFmData.load(lastfm_dir)
    return RealData(data.dataset, data.catalogue, data.interactions)


@pytest.fixture(scope="session")
def base_snapshot(real_data: RealData, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A snapshot of the Last.fm data alone (FAST config), fitted once; copy it with `seed_base_snapshot`."""
    return fit_base_snapshot(real_data, tmp_path_factory.mktemp("base-snapshot"))


@pytest.fixture
def store_url(empty_database_url: str) -> str:
    """An empty database for one test; `open_store` migrates it."""
    return empty_database_url


@pytest.fixture
def forbid_fitting(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Make every ALS fit raise; the returned list grows by one per attempt."""
    attempts: list[int] = []

    def fit(self, *args: Any, **kwargs: Any) -> Any:
        attempts.append(1)
        raise RuntimeError("fitting is forbidden in this test")

    monkeypatch.setattr(ALSRecommender, "fit", fit)
    return attempts


@pytest.fixture
def services(real_data: RealData, store_url: str, tmp_path: Path) -> Services:
    return Services(real_data, store_url, tmp_path / "snapshots", None)


@pytest.fixture
def served(real_data: RealData, store_url: str, tmp_path: Path, base_snapshot: Path) -> Services:
    """Like `services`, able to serve a copy of the base snapshot without fitting."""
    return Services(real_data, store_url, tmp_path / "snapshots", base_snapshot)
