"""Protocols P1 and P2 on small synthetic matrices, and the model registry."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse as sp

from recommender.evaluation.protocols import (
    P1_MODELS,
    K,
    evaluate_p1,
    evaluate_p2,
    like_rows,
    new_member_split,
    recommend_in_batches,
)
from recommender.models import MostPopular
from recommender.models.registry import MODEL_DESCRIPTIONS, MODELS, make_model
from tests.helpers.matrices import planted_clusters

METRIC_KEYS = {"ndcg@10", "precision@10", "recall@10", "map@10", "fit_seconds", "users"}


def varied_matrix(n_users: int = 100, n_items: int = 60, seed: int = 5) -> sp.csr_matrix:
    """Users with 2 to 40 artists, so some are too small for the larger like counts."""
    rng = np.random.default_rng(seed)
    dense = np.zeros((n_users, n_items), dtype=np.float32)
    for user in range(n_users):
        count = int(rng.integers(2, 41))
        dense[user, rng.choice(n_items, size=count, replace=False)] = rng.integers(1, 500, size=count)
    return sp.csr_matrix(dense)


def user_artists(plays: sp.csr_matrix, user: int) -> np.ndarray:
    return plays.indices[plays.indptr[user] : plays.indptr[user + 1]]


# -- new_member_split ----------------------------------------------------------------------------


def test_new_member_split_holds_out_ten_percent_absent_from_train() -> None:
    plays = varied_matrix()
    split = new_member_split(plays, seed=0)
    assert split.held_out.size == 10
    assert np.all(np.diff(split.held_out) > 0), "held-out users are sorted and distinct"
    keep = np.setdiff1d(np.arange(plays.shape[0]), split.held_out)
    assert split.train.shape == (plays.shape[0] - 10, plays.shape[1])
    # The training matrix is exactly the other users' rows: no held-out row leaks in.
    assert (split.train != plays[keep]).nnz == 0
    train_rows = {tuple(user_artists(split.train, u)) for u in range(split.train.shape[0])}
    held_rows = {tuple(user_artists(plays, u)) for u in split.held_out}
    all_rows = [tuple(user_artists(plays, u)) for u in range(plays.shape[0])]
    unique_held = {row for row in held_rows if all_rows.count(row) == 1}
    assert unique_held and not (unique_held & train_rows)


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_new_member_split_likes_and_truth_partition_each_users_artists(seed: int) -> None:
    plays = varied_matrix()
    like_counts = (1, 3, 5, 10, 30)
    split = new_member_split(plays, seed=seed, like_counts=like_counts)
    assert set(split.likes) == set(split.truth) == set(like_counts)
    for k in like_counts:
        # Listed users are the held-out users with at least k + 5 artists, in order.
        eligible = [u for u in split.held_out if user_artists(plays, u).size >= k + 5]
        assert len(split.likes[k]) == len(split.truth[k]) == len(eligible)
        for user, likes, truth in zip(eligible, split.likes[k], split.truth[k]):
            artists = user_artists(plays, user)
            assert artists.size >= k + 5
            assert likes.size == k and np.unique(likes).size == k
            assert np.all(np.isin(likes, artists)), "likes are drawn from the user's own artists"
            np.testing.assert_array_equal(np.sort(truth), np.setdiff1d(artists, likes))
            assert truth.size >= 5
    # With users of 2..40 artists, the largest like count must leave someone out.
    assert len(split.likes[30]) < len(split.likes[1])


def test_new_member_split_is_deterministic_per_seed() -> None:
    plays = varied_matrix()
    first, again, other = (new_member_split(plays, seed=s) for s in (3, 3, 4))
    np.testing.assert_array_equal(first.held_out, again.held_out)
    for k in first.likes:
        for a, b in zip(first.likes[k], again.likes[k], strict=True):
            np.testing.assert_array_equal(a, b)
        for a, b in zip(first.truth[k], again.truth[k], strict=True):
            np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first.held_out, other.held_out)


def test_new_member_split_draw_for_one_k_does_not_depend_on_the_others() -> None:
    plays = varied_matrix()
    alone = new_member_split(plays, seed=2, like_counts=(5,))
    beside = new_member_split(plays, seed=2, like_counts=(1, 3, 5, 10))
    np.testing.assert_array_equal(alone.held_out, beside.held_out)
    assert len(alone.likes[5]) == len(beside.likes[5]) > 0
    for a, b in zip(alone.likes[5], beside.likes[5], strict=True):
        np.testing.assert_array_equal(a, b)


def test_new_member_split_share() -> None:
    plays = varied_matrix(n_users=55)
    assert new_member_split(plays, seed=0, held_out_share=0.2).held_out.size == 11
    assert new_member_split(plays, seed=0).held_out.size == 6  # round(5.5)


def test_like_rows() -> None:
    rows = like_rows([np.array([1, 4]), np.array([0]), np.array([2, 3, 5])], 7, 50.0)
    assert rows.shape == (3, 7)
    expected = np.zeros((3, 7), dtype=np.float32)
    expected[0, [1, 4]] = 50
    expected[1, 0] = 50
    expected[2, [2, 3, 5]] = 50
    np.testing.assert_array_equal(rows.toarray(), expected)
    assert like_rows([], 7, 50.0).shape == (0, 7)


def test_recommend_in_batches_matches_one_batch() -> None:
    plays, _, _ = planted_clusters()
    model = MostPopular().fit(plays)
    whole = model.recommend(plays, 5)[0]
    np.testing.assert_array_equal(recommend_in_batches(model, plays, 5, batch=7), whole)


# -- evaluate_p1 / evaluate_p2 -------------------------------------------------------------------


@pytest.fixture(scope="module")
def p1_result() -> dict:
    plays, _, _ = planted_clusters(n_users=60, n_items=40, clusters=3, p_in=0.8, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # implicit's train_test_split hands itself a COO matrix
        return evaluate_p1(plays, [0, 1], ["encore", "most-popular", "item-knn"])


def test_evaluate_p1_reports_the_documented_keys(p1_result: dict) -> None:
    assert {"protocol", "seeds", "k", "models", "per_seed"} <= set(p1_result)
    assert p1_result["protocol"] == "p1" and p1_result["seeds"] == [0, 1] and p1_result["k"] == K == 10
    assert list(p1_result["models"]) == ["encore", "most-popular", "item-knn"]
    for name, summary in p1_result["models"].items():
        assert set(summary) == METRIC_KEYS, name
        for key in ("ndcg@10", "precision@10", "recall@10", "map@10"):
            assert 0.0 <= summary[key] <= 1.0
        assert summary["users"] > 0
        runs = p1_result["per_seed"][name]
        assert [r["seed"] for r in runs] == [0, 1]
        assert summary["ndcg@10"] == pytest.approx(np.mean([r["ndcg@10"] for r in runs]))


def test_evaluate_p1_encore_beats_most_popular_on_planted_clusters(p1_result: dict) -> None:
    models = p1_result["models"]
    assert models["encore"]["ndcg@10"] > models["most-popular"]["ndcg@10"] + 0.03
    assert models["encore"]["recall@10"] > models["most-popular"]["recall@10"]
    # Item-kNN sees the blocks directly; it must be far above popularity.
    assert models["item-knn"]["ndcg@10"] > 2 * models["most-popular"]["ndcg@10"]


def test_evaluate_p1_rejects_unknown_models() -> None:
    plays, _, _ = planted_clusters()
    with pytest.raises(ValueError, match="unknown model 'nope'"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            evaluate_p1(plays, [0], ["nope"])


def test_evaluate_p2_reports_every_model_and_like_count() -> None:
    plays, _, _ = planted_clusters(n_users=80, n_items=40, clusters=3, p_in=0.8, seed=2)
    result = evaluate_p2(plays, [0], like_plays=50.0, like_counts=(1, 3), refit=False)
    assert result["protocol"] == "p2" and result["like_plays"] == 50.0
    assert set(result["models"]) == {"encore-instant", "most-popular"}
    for by_k in result["models"].values():
        assert set(by_k) == {"k1", "k3"}
        for summary in by_k.values():
            assert set(summary) == METRIC_KEYS
            assert summary["users"] == 8


# -- registry ------------------------------------------------------------------------------------


def test_registry_builds_every_p1_model_and_describes_it() -> None:
    # encore-spark is registered but left out of P1's default run: it needs the optional Spark extra.
    assert set(P1_MODELS) | {"encore-spark"} == set(MODELS) == set(MODEL_DESCRIPTIONS)
    for name in P1_MODELS:
        first, second = make_model(name), make_model(name)
        assert first is not second, "each call builds a fresh, unfitted model"


def test_registry_unknown_name() -> None:
    with pytest.raises(ValueError, match="unknown model 'als2'"):
        make_model("als2")
