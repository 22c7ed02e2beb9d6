"""Fitting a model on the Last.fm data and publishing it as a snapshot."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Iterable

from recommender.datasets import LastFmDataset
from recommender.interactions import Interactions
from recommender.models.als import ALSConfig, ALSRecommender
from recommender.snapshot import Snapshot, load_snapshot, save_snapshot


def lastfm_interactions(dataset: LastFmDataset, exclude_users: Iterable[str] = ()) -> Interactions:
    interactions = Interactions.from_plays(dataset.plays)
    exclude_users = list(exclude_users)
    return interactions.without_users(exclude_users) if exclude_users else interactions


def fit_snapshot(
    interactions: Interactions,
    directory: Path,
    data_fingerprint: str,
    config: ALSConfig = ALSConfig(),
    extra_meta: dict | None = None,
) -> Snapshot:
    """Fit, save atomically under `directory`, and return the loaded snapshot."""
    started = time.perf_counter()
    model = ALSRecommender(config).fit(interactions.plays)
    fit_seconds = time.perf_counter() - started
    meta = {"data_fingerprint": data_fingerprint, "fit_seconds": round(fit_seconds, 3)} | (extra_meta or {})
    path = save_snapshot(directory, model, interactions, meta)
    return load_snapshot(path)
