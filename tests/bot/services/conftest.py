"""Fixtures for the services: the real Last.fm data once per session, and RefitServices over fresh stores.

Real fits cost about 0.5 s with `FAST` (3 iterations) and 2.3 s with the default config, so tests
about plumbing use `FAST`, and tests that only need *a* model copy the session's `base_snapshot`
instead of fitting.

The store is a real SQLite file in the test's `tmp_path`, or, when ``ENCORE_TEST_DATABASE_URL`` is
set, that PostgreSQL database (emptied before and after each test, as in tests/db/conftest.py).
A Store belongs to one event loop, so the helpers open it inside the test's own ``asyncio.run``.
"""

from __future__ import annotations

import os

# Before numpy (and OpenBLAS) is first imported: implicit is slower and warns with threaded BLAS.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import asyncio  # noqa: E402
import json  # noqa: E402
import shutil  # noqa: E402
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator  # noqa: E402
from contextlib import asynccontextmanager  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any, TypeVar  # noqa: E402

import pytest  # noqa: E402

from bot.services.library import MemberLibrary  # noqa: E402
from bot.services.refit import RefitService  # noqa: E402
from bot.services.startup import open_store  # noqa: E402
from recommender.catalogue import ArtistCatalogue  # noqa: E402
from recommender.datasets import LastFmDataset, load_hetrec  # noqa: E402
from recommender.interactions import Interactions  # noqa: E402
from recommender.models.als import ALSConfig, ALSRecommender  # noqa: E402
from recommender.snapshot import META_FILE  # noqa: E402
from recommender.training import fit_snapshot, lastfm_interactions  # noqa: E402
from tests.support import throwaway_database  # noqa: E402

T = TypeVar("T")

#: A quick model for tests about plumbing rather than quality (~0.5 s on the full data).
FAST = ALSConfig(iterations=3)


@dataclass(frozen=True)
class RealData:
    dataset: LastFmDataset
    lastfm: Interactions
    catalogue: ArtistCatalogue

    @property
    def fingerprint(self) -> str:
        return self.dataset.fingerprint


@pytest.fixture(scope="session")
def real_data(lastfm_dir: Path) -> RealData:
    dataset = load_hetrec(lastfm_dir)
    return RealData(dataset, lastfm_interactions(dataset), ArtistCatalogue.from_dataset(dataset))


@pytest.fixture(scope="session")
def base_snapshot(real_data: RealData, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A snapshot of the Last.fm data alone (FAST config), fitted once; copy it with `copy_snapshot`."""
    snapshot = fit_snapshot(real_data.lastfm, tmp_path_factory.mktemp("base-snapshot"), real_data.fingerprint, FAST)
    assert snapshot.path is not None
    return snapshot.path


def copy_snapshot(source: Path, snapshot_dir: Path, version: str) -> Path:
    """Copy a snapshot directory under `snapshot_dir/version`, its meta saying that version."""
    target = snapshot_dir / version
    shutil.copytree(source, target)
    meta_path = target / META_FILE
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta["version"] = version
    meta_path.write_text(json.dumps(meta), encoding="utf-8")  # meta.json is not checksummed, model.npz is
    return target


@pytest.fixture
def store_url(tmp_path: Path) -> Iterator[str]:
    """An empty database for one test; `open_store` migrates it."""
    with throwaway_database(tmp_path / "encore.sqlite3") as url:
        assert url is not None
        yield url


@pytest.fixture
def forbid_fitting(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Make every ALS fit raise; the returned list grows by one per attempt."""
    attempts: list[int] = []

    def fit(self, *args: Any, **kwargs: Any) -> Any:
        attempts.append(1)
        raise RuntimeError("fitting is forbidden in this test")

    monkeypatch.setattr(ALSRecommender, "fit", fit)
    return attempts


class Services:
    """Builds RefitServices (and MemberLibraries) over the test's store and snapshot folder."""

    def __init__(self, data: RealData, url: str, snapshot_dir: Path, base: Path | None) -> None:
        self.data = data
        self.url = url
        self.snapshot_dir = snapshot_dir
        self._base = base

    @asynccontextmanager
    async def service(
        self,
        snapshot_dir: Path | None = None,
        config: ALSConfig = FAST,
        refit_minutes: float = 30.0,
        catalogue: ArtistCatalogue | None = None,
    ) -> AsyncIterator[RefitService]:
        """A RefitService over a freshly opened store (not started), closed afterwards."""
        store = await open_store(self.url, self.data.catalogue)
        try:
            yield RefitService(
                store,
                self.data.lastfm,
                self.data.fingerprint,
                catalogue or self.data.catalogue,
                snapshot_dir or self.snapshot_dir,
                refit_minutes,
                config=config,
            )
        finally:
            await store.close()

    def seed_base_snapshot(self, version: str = "20000101T000000000000Z") -> Path:
        """Put a copy of the session's base snapshot in the snapshot folder (no fit)."""
        assert self._base is not None, "request the base_snapshot fixture"
        self.snapshot_dir.mkdir(parents=True, exist_ok=True)
        return copy_snapshot(self._base, self.snapshot_dir, version)

    @asynccontextmanager
    async def library(self, **kwargs: Any) -> AsyncIterator[tuple[RefitService, MemberLibrary]]:
        """A started service serving a copy of the base snapshot, and a MemberLibrary over it."""
        if not any(self.snapshot_dir.glob("2*")):
            self.seed_base_snapshot()
        async with self.service(**kwargs) as service:
            await service.start()
            yield service, MemberLibrary(service.store, service)

    @staticmethod
    def run(scenario: Callable[[], Awaitable[T]]) -> T:
        return asyncio.run(scenario())  # type: ignore[arg-type]


@pytest.fixture
def services(real_data: RealData, store_url: str, tmp_path: Path) -> Services:
    return Services(real_data, store_url, tmp_path / "snapshots", None)


@pytest.fixture
def served(real_data: RealData, store_url: str, tmp_path: Path, base_snapshot: Path) -> Services:
    """Like `services`, able to serve a copy of the base snapshot without fitting."""
    return Services(real_data, store_url, tmp_path / "snapshots", base_snapshot)
