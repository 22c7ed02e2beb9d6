"""Protocol P4 (listening sessions): votes, hits, the ceiling, and a run on a planted-cluster matrix."""

from __future__ import annotations

import json

import numpy as np
import pytest
import scipy.sparse as sp

from recommender.engine import LIKE_PLAYS
from recommender.evaluation import groups as p3
from recommender.evaluation import sessions as p4
from recommender.models.als import ALSConfig, ALSRecommender
from tests.helpers.matrices import planted_clusters


def test_a_group_hit_needs_half_the_group() -> None:
    assert p4.is_group_hit(1, 2) and not p4.is_group_hit(0, 2)
    assert p4.is_group_hit(2, 3) and not p4.is_group_hit(1, 3)
    assert p4.is_group_hit(2, 4) and not p4.is_group_hit(1, 4)
    assert p4.is_group_hit(3, 5) and not p4.is_group_hit(2, 5)


def test_votes_come_from_each_members_held_out_artists() -> None:
    plays = sp.csr_matrix(np.array([[5, 5, 5, 0, 0], [0, 5, 5, 5, 0], [0, 0, 0, 5, 5]], dtype=np.float32))
    group = p3.Group(np.array([0, 1, 2]), (np.array([0]), np.array([3]), np.array([4])), np.array([1, 2]))
    held_out = p4.held_out_artists(plays, group)
    assert held_out == [frozenset({1, 2}), frozenset({1, 2}), frozenset({3})]
    assert p4.into_it_counts([1, 3, 4, 0], held_out).tolist() == [2, 1, 0, 0]
    # Artists 1 and 2 reach two of three members; artist 3 only one (and member 1 likes it).
    assert p4.ceiling(group, held_out, rounds=4).tolist() == [1, 2, 2, 2]


def friends_within(user_cluster: np.ndarray) -> sp.csr_matrix:
    """Everyone is friends with everyone of their own cluster."""
    same = (user_cluster[:, None] == user_cluster[None, :]).astype(np.float32)
    np.fill_diagonal(same, 0.0)
    return sp.csr_matrix(same)


@pytest.fixture(scope="module")
def planted_results() -> dict:
    # Likes drawn at random among a member's artists often point at another cluster than their own
    # (a quarter of what anyone plays lies outside it): what the votes can correct, and a list fixed
    # in advance cannot. The served ALS's settings suit the Last.fm matrix, not 200 x 60.
    plays, user_cluster, _ = planted_clusters(n_users=200, n_items=60, clusters=3, p_in=0.6, p_out=0.25, seed=0)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(p4, "make_model", lambda _: ALSRecommender(ALSConfig(factors=8, regularization=1.0)))
        return p4.evaluate_sessions(
            plays, friends_within(user_cluster), [0, 1], like_plays=LIKE_PLAYS, groups_per_size=10
        )


def test_planted_run_json_shape(planted_results: dict) -> None:
    results = json.loads(json.dumps(planted_results))
    assert results["protocol"] == "sessions" and results["seeds"] == [0, 1] and results["rounds"] == p4.ROUNDS
    assert results["groups_drawn"] == {"2": [10, 10], "3": [10, 10], "4": [10, 10], "5": [10, 10]}
    assert set(results["models"]) == set(p4.MODEL_NAMES)
    for metrics in (*results["models"].values(), results["ceiling"]):
        assert metrics["hits@5"] <= metrics["hits@10"] <= metrics["hits@20"] <= results["ceiling"]["hits@20"]
        assert metrics["groups"] == 40
    for name in p4.MODEL_NAMES:
        assert 0.0 < results["models"][name]["into_it_rate"] < 1.0
        assert set(results["per_size"][name]) == {"2", "3", "4", "5"}
        assert [run["seed"] for run in results["per_seed"][name]] == [0, 1]
    assert set(results["pick_ms_median"]) == {"2", "3", "4", "5"}


def test_planted_run_session_beats_the_static_blend_and_most_popular(planted_results: dict) -> None:
    models = planted_results["models"]
    assert models["session"]["hits@20"] > 1.03 * models["static-blend"]["hits@20"]
    assert models["session"]["hits@20"] > 1.3 * models["most-popular"]["hits@20"]
    assert models["session"]["into_it_rate"] > models["static-blend"]["into_it_rate"]
