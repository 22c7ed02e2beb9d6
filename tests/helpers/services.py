"""Building the services the way production does (through `bot.app.build_app`), over a test's store.

The store is a real SQLite file in the test's `tmp_path`, or, when ``ENCORE_TEST_DATABASE_URL`` is
set, that PostgreSQL database. A Store belongs to one event loop, so `Services` opens it inside the
test's own ``asyncio.run``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import pytest

from bot.app import App, build_app
from bot.services.library import MemberLibrary
from bot.services.models import ModelService
from bot.settings import Settings
from recommender.catalogue import ArtistCatalogue
from recommender.interactions import Interactions
from recommender.models.als import ALSConfig, ALSRecommender
from recommender.snapshot import META_FILE
from recommender.training import ImplicitTrainer, LastFmData, Trainer, fit_and_save

T = TypeVar("T")

#: A quick model for tests about plumbing rather than quality.
FAST = ALSConfig(iterations=3)
LASTFM_USERS, LASTFM_ARTISTS, LASTFM_PLAYS = 1892, 17632, 92834  # HetRec 2011 Last.fm


class RealData(LastFmData):
    """The real Last.fm data, as `build_app` takes it; `lastfm` is its play matrix."""

    @property
    def lastfm(self) -> Interactions:
        return self.interactions


def settings_for_tests(
    home: Path,
    database_url: str,
    *,
    lastfm_dir: Path | None = None,
    snapshot_dir: Path | None = None,
    refit_minutes: float = 30.0,
    **overrides: Any,
) -> Settings:
    return Settings(
        home=home,
        lastfm_dir=lastfm_dir,
        database_url=database_url,
        refit_minutes=refit_minutes,
        snapshot_dir_override=snapshot_dir,
        **overrides,
    )


def fit_base_snapshot(data: LastFmData, directory: Path, config: ALSConfig = FAST) -> Path:
    """A snapshot of the Last.fm data alone, without a store (so without a store revision)."""
    result = fit_and_save(
        data.interactions, directory, data_fingerprint=data.fingerprint, trainer=ImplicitTrainer(config)
    )
    assert result.snapshot.path is not None
    return result.snapshot.path


def raise_on_fit(monkeypatch: pytest.MonkeyPatch, message: str = "boom") -> list[int]:
    """Make every ALS fit raise `message`; the returned list grows by one per attempt."""
    attempts: list[int] = []

    def fit(self, *args, **kwargs):
        attempts.append(1)
        raise RuntimeError(message)

    monkeypatch.setattr(ALSRecommender, "fit", fit)
    return attempts


def copy_snapshot(source: Path, snapshot_dir: Path, version: str) -> Path:
    """Copy a snapshot directory under `snapshot_dir/version`, its meta saying that version."""
    target = snapshot_dir / version
    shutil.copytree(source, target)
    meta_path = target / META_FILE
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta["version"] = version
    meta_path.write_text(json.dumps(meta), encoding="utf-8")  # meta.json is not checksummed, model.npz is
    return target


class Services:
    """Builds Apps over the test's store and snapshot folder, and hands out their model services."""

    def __init__(self, data: RealData, url: str, snapshot_dir: Path, base: Path | None) -> None:
        self.data = data
        self.url = url
        self.snapshot_dir = snapshot_dir
        self._base = base

    @asynccontextmanager
    async def app(
        self,
        *,
        snapshot_dir: Path | None = None,
        config: ALSConfig = FAST,
        refit_minutes: float = 30.0,
        catalogue: ArtistCatalogue | None = None,
        trainer: Trainer | None = None,
        start: bool = False,
        **settings_overrides: Any,
    ) -> AsyncIterator[App]:
        """An App over a freshly opened store (its models not started unless `start`), closed afterwards;
        `settings_overrides` are further `Settings` fields (a Last.fm key and base, say)."""
        data = self.data if catalogue is None else dataclasses.replace(self.data, catalogue=catalogue)
        settings = settings_for_tests(
            self.snapshot_dir.parent,
            self.url,
            snapshot_dir=snapshot_dir or self.snapshot_dir,
            refit_minutes=refit_minutes,
            **settings_overrides,
        )
        app = await build_app(settings, data=data, trainer=trainer or ImplicitTrainer(config), start=start)
        try:
            yield app
        finally:
            await app.close()

    @asynccontextmanager
    async def service(self, **kwargs: Any) -> AsyncIterator[ModelService]:
        """The model service of a fresh App (not started), closed afterwards."""
        async with self.app(**kwargs) as app:
            yield app.models

    def seed_base_snapshot(self, version: str = "20000101T000000000000Z") -> Path:
        """Put a copy of the session's base snapshot in the snapshot folder (no fit)."""
        assert self._base is not None, "request the base_snapshot fixture"
        self.snapshot_dir.mkdir(parents=True, exist_ok=True)
        return copy_snapshot(self._base, self.snapshot_dir, version)

    @asynccontextmanager
    async def library(self, **kwargs: Any) -> AsyncIterator[tuple[ModelService, MemberLibrary]]:
        """A started service serving a copy of the base snapshot, and the App's MemberLibrary over it."""
        if not any(self.snapshot_dir.glob("2*")):
            self.seed_base_snapshot()
        async with self.app(start=True, **kwargs) as app:
            yield app.models, app.library

    @staticmethod
    def run(scenario: Callable[[], Awaitable[T]]) -> T:
        return asyncio.run(scenario())  # type: ignore[arg-type]
