"""Fixtures shared by the recommender tests: small synthetic matrices and one fitted real-data Engine."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from tests.helpers.matrices import planted_clusters


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
