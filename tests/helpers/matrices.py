"""Small synthetic play matrices with known structure, for quick model tests."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


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
