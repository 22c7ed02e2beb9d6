"""fit_and_save: warm starts from a served snapshot, whose user factors stay in its file."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from recommender.interactions import Interactions
from recommender.models import ALSConfig
from recommender.training import ImplicitTrainer, fit_and_save
from tests.helpers.matrices import planted_clusters

CONFIG = ALSConfig(factors=6, regularization=1.0, iterations=4)


def lastfm() -> Interactions:
    plays, _, _ = planted_clusters(n_users=40, n_items=25, seed=3)
    keys = np.array([f"lastfm:{u}" for u in range(40)])
    return Interactions(user_keys=keys, artist_ids=np.arange(25, dtype=np.int64) + 1, plays=plays)


def fit(directory: Path, warm_start=None):
    return fit_and_save(
        lastfm(),
        directory,
        data_fingerprint="f",
        trainer=ImplicitTrainer(CONFIG),
        warm_start=warm_start,
        warm_iterations=1,
    ).snapshot


def test_a_warm_start_reads_the_served_snapshots_user_factors(tmp_path: Path) -> None:
    first = fit(tmp_path)
    assert not first.model.holds_user_factors
    second = fit(tmp_path, warm_start=first)
    assert second.meta["warm_start_from"] == first.version
    assert second.meta["iterations"] == 1


def test_a_warm_start_whose_snapshot_is_gone_fits_cold(tmp_path: Path) -> None:
    first = fit(tmp_path)
    shutil.rmtree(first.path)
    second = fit(tmp_path, warm_start=first)
    assert second.meta["warm_start_from"] is None
    assert second.meta["iterations"] == CONFIG.iterations
    assert second.meta["warm_chain"] == 0
