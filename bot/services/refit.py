"""Deprecated: the model service moved to bot/services/models/ (`ModelService`, built by bot/app.py).

`RefitService(...)` keeps the old positional call of bot/cli_actions.py and tests/bot/test_cli_roles.py
working until they build through `bot.app.build_app`; then delete this module."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.services.models import KEEP_SNAPSHOTS, ModelService, RefitTimings, ServingState
from db.store import Store
from recommender.catalogue import ArtistCatalogue
from recommender.interactions import Interactions
from recommender.training import Trainer

__all__ = ["KEEP_SNAPSHOTS", "ModelService", "RefitService", "RefitTimings", "ServingState"]


@dataclass(frozen=True)
class _Data:
    interactions: Interactions
    fingerprint: str
    catalogue: ArtistCatalogue


def RefitService(  # noqa: N802 - the old class name, kept for its last callers
    store: Store,
    lastfm: Interactions,
    lastfm_fingerprint: str,
    catalogue: ArtistCatalogue,
    snapshot_dir: Path,
    refit_minutes: float = 30.0,
    *,
    trainer: Trainer | None = None,
) -> ModelService:
    return ModelService(
        store=store,
        data=_Data(lastfm, lastfm_fingerprint, catalogue),  # type: ignore[arg-type]
        snapshot_dir=snapshot_dir,
        refit_minutes=refit_minutes,
        trainer=trainer,
    )
