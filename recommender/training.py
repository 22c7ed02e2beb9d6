"""Fitting a model on the Last.fm data and publishing it as a snapshot.

A trainer turns a play matrix into an `ALSRecommender`; every trainer's model is saved and served the
same way, so a bot cannot tell which engine fitted the snapshot it serves.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

import numpy as np
import scipy.sparse as sp

from recommender.datasets import LastFmDataset
from recommender.interactions import Interactions
from recommender.models.als import ALSConfig, ALSRecommender
from recommender.snapshot import Snapshot, load_snapshot, save_snapshot

#: `encore train --engine` choices; "spark" needs the `spark` extra (pyspark and a Java runtime).
TRAINING_ENGINES = ("implicit", "spark")


class Trainer(Protocol):
    #: Recorded in each snapshot's meta.json as "trainer".
    name: str
    config: ALSConfig
    #: Whether `fit` can start from earlier factors (`initial`), which makes periodic refits cheaper.
    warm_starts: bool

    def fit(
        self, plays: sp.csr_matrix, initial: tuple[np.ndarray, np.ndarray] | None = None, iterations: int | None = None
    ) -> ALSRecommender: ...


class ImplicitTrainer:
    """The `implicit` library's ALS on one machine: Encore's default."""

    name = "implicit"
    warm_starts = True

    def __init__(self, config: ALSConfig = ALSConfig()) -> None:
        self.config = config

    def fit(
        self, plays: sp.csr_matrix, initial: tuple[np.ndarray, np.ndarray] | None = None, iterations: int | None = None
    ) -> ALSRecommender:
        return ALSRecommender(self.config).fit(plays, initial=initial, iterations=iterations)


class TrainingEngineError(Exception):
    """The asked-for training engine is unknown or cannot run here; the message says what to install."""


def make_trainer(engine: str = "implicit", config: ALSConfig = ALSConfig()) -> Trainer:
    if engine == "implicit":
        return ImplicitTrainer(config)
    if engine == "spark":
        try:
            from recommender.models.spark_als import SparkALSTrainer
        except ImportError as error:
            raise TrainingEngineError(
                f"the spark engine needs pyspark ({error}); install it with: pip install 'encore[spark]' "
                "(and a Java 17 runtime, e.g. apt-get install openjdk-17-jre-headless)"
            ) from None
        return SparkALSTrainer(config)
    raise TrainingEngineError(f"unknown training engine {engine!r}; choose one of {', '.join(TRAINING_ENGINES)}")


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
