"""Fixtures shared by the recommender tests: small synthetic matrices and one fitted real-data Engine."""

from __future__ import annotations

import os

# Before numpy (and OpenBLAS) is first imported: implicit is slower and warns with threaded BLAS.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import scipy.sparse as sp  # noqa: E402


def planted_clusters(
    n_users: int = 60,
    n_items: int = 40,
    clusters: int = 3,
    p_in: float = 0.8,
    p_out: float = 0.03,
    seed: int = 0,
) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    """Play counts with planted blocks: user u mostly plays items of cluster u % clusters.

    Returns (plays, user cluster, item cluster).
    """
    rng = np.random.default_rng(seed)
    user_cluster = np.arange(n_users) % clusters
    item_cluster = np.arange(n_items) % clusters
    probability = np.where(user_cluster[:, None] == item_cluster[None, :], p_in, p_out)
    listened = rng.random((n_users, n_items)) < probability
    plays = np.where(listened, rng.integers(1, 200, size=(n_users, n_items)), 0).astype(np.float32)
    return sp.csr_matrix(plays), user_cluster, item_cluster


@pytest.fixture(scope="session")
def planted() -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    return planted_clusters()


@pytest.fixture(scope="session")
def lastfm_dataset(lastfm_dir: Path):
    from recommender.datasets import load_hetrec

    return load_hetrec(lastfm_dir)


@pytest.fixture(scope="session")
def lastfm_catalogue(lastfm_dataset):
    from recommender.catalogue import ArtistCatalogue

    return ArtistCatalogue.from_dataset(lastfm_dataset)


@pytest.fixture(scope="session")
def lastfm_engine(lastfm_dataset, lastfm_catalogue):
    """One Encore engine (default ALS config) fitted on the full Last.fm data, shared by the session."""
    from recommender.engine import Engine
    from recommender.models import ALSRecommender
    from recommender.training import lastfm_interactions

    interactions = lastfm_interactions(lastfm_dataset)
    model = ALSRecommender().fit(interactions.plays)
    return Engine(model, interactions, lastfm_catalogue)
