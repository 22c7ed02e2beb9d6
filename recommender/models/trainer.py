"""Trainers: what fits Encore's ALS model for serving, warm-started or not.

A trainer turns a play matrix into an `ALSRecommender`; every trainer's model is saved and served the
same way, so a bot cannot tell which engine fitted the snapshot it serves.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import scipy.sparse as sp

from recommender.models.als import ALSConfig, ALSRecommender


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
