"""ALSRecommender on a small planted-cluster matrix: scoring, exact user solve, explanations, persistence."""

from __future__ import annotations

import json

import numpy as np
import pytest
import scipy.sparse as sp

from recommender.models import ALSConfig, ALSRecommender
from tests.helpers.matrices import planted_clusters

CONFIG = ALSConfig(factors=8, regularization=1.0, iterations=15, random_state=0)


@pytest.fixture(scope="module")
def data():
    return planted_clusters(n_users=60, n_items=40, clusters=3, p_in=0.8, seed=0)


@pytest.fixture(scope="module")
def model(data) -> ALSRecommender:
    plays, _, _ = data
    return ALSRecommender(CONFIG).fit(plays)


@pytest.fixture(scope="module")
def default_model(data) -> ALSRecommender:
    """Encore's own configuration (64 factors, reg 40, BM25)."""
    plays, _, _ = data
    return ALSRecommender().fit(plays)


def likes(columns, n_items: int = 40, value: float = 50.0, negative=()) -> sp.csr_matrix:
    columns, negative = list(columns), list(negative)
    data = [value] * len(columns) + [-value] * len(negative)
    return sp.csr_matrix(
        (np.array(data, dtype=np.float32), (np.zeros(len(data), dtype=int), columns + negative)), shape=(1, n_items)
    )


def test_fit_shapes_and_scores(model: ALSRecommender, data) -> None:
    plays, user_cluster, item_cluster = data
    assert model.user_factors.shape == (60, 8) and model.item_factors.shape == (40, 8)
    assert model.n_items == 40
    scores = model.score(plays, users=np.arange(60))
    assert scores.shape == (60, 40)
    # Each user scores their own cluster's items above the others on average.
    for user in range(60):
        own = item_cluster == user_cluster[user]
        assert scores[user, own].mean() > scores[user, ~own].mean()


def test_recommend_stays_in_cluster_and_excludes_known(model: ALSRecommender, data) -> None:
    plays, user_cluster, item_cluster = data
    ids, _ = model.recommend(plays, 3, users=np.arange(60))
    known = plays.toarray() > 0
    assert np.all(ids >= 0)
    for user in range(60):
        assert not known[user, ids[user]].any()
    # Among users with an unheard artist of their own cluster left, the top pick is one almost always.
    users = [u for u in range(60) if (~known[u] & (item_cluster == user_cluster[u])).any()]
    hits = [item_cluster[ids[u, 0]] == user_cluster[u] for u in users]
    assert len(users) > 40 and np.mean(hits) > 0.85


def test_exact_user_vectors_reproduce_fitted_user_scores(model: ALSRecommender, data) -> None:
    plays, _, _ = data
    fitted = model.score(plays, users=np.arange(60))
    solved = model.score(plays)  # no user ids: the exact least-squares step on the rows
    vectors = model.user_vectors(plays)
    np.testing.assert_allclose(solved, vectors @ model.item_factors.T, rtol=1e-5, atol=1e-6)
    for user in range(60):
        assert np.corrcoef(fitted[user], solved[user])[0, 1] > 0.99
        top_fitted = set(np.argsort(-fitted[user])[:5])
        top_solved = set(np.argsort(-solved[user])[:5])
        assert len(top_fitted & top_solved) >= 4
    assert np.abs(fitted - solved).max() < 0.1


def test_user_vectors_solve_the_als_normal_equations(model: ALSRecommender, data) -> None:
    """x = (Y'Y + reg I + Y' (C - I) Y)^-1 Y' C p, written out independently of the model's helpers."""
    plays, _, _ = data
    row = plays[4]
    confidences = model.weighting.transform(row).toarray()[0] * CONFIG.alpha
    Y = model.item_factors.astype(np.float64)
    # (c - 1) may be negative for a small confidence; the ALS step adds it as it is.
    A = (
        Y.T @ Y
        + CONFIG.regularization * np.eye(CONFIG.factors)
        + (Y.T * np.where(confidences > 0, confidences - 1, 0)) @ Y
    )
    b = Y.T @ confidences
    np.testing.assert_allclose(model.user_vectors(row)[0], np.linalg.solve(A, b), rtol=1e-4, atol=1e-6)


def test_empty_row_scores_zero(model: ALSRecommender) -> None:
    empty = sp.csr_matrix((2, 40), dtype=np.float32)
    assert np.all(model.user_vectors(empty) == 0)
    assert np.all(model.score(empty) == 0)
    columns, shares = model.contributions(empty[:1], 0)
    assert columns.size == 0 and shares.size == 0


@pytest.mark.parametrize("which", ["model", "default_model"])
def test_contributions_sum_to_the_score(which: str, request, data) -> None:
    """The key invariant of explanations: the shares of the liked artists add up to the score."""
    model: ALSRecommender = request.getfixturevalue(which)
    plays, _, item_cluster = data
    rows = [likes([0, 3, 6]), likes([1, 4, 7, 10, 2]), plays[5], likes([0, 3, 6], negative=[9, 1])]
    for row in rows:
        scores = model.score(row)[0]
        for item in range(40):
            columns, shares = model.contributions(row, item)
            assert np.isclose(shares.sum(), scores[item], rtol=1e-4, atol=1e-6), (item, shares.sum(), scores[item])
            # Only positively weighted artists of the row contribute, largest share first.
            positive = set(row.indices[row.data > 0])
            assert set(columns.tolist()) <= positive
            assert np.all(np.diff(shares) <= 0)


def test_contributions_name_the_liked_cluster(model: ALSRecommender, data) -> None:
    _, _, item_cluster = data
    row = likes([0, 3, 1])  # two artists of cluster 0, one of cluster 1
    target = 6  # cluster 0
    columns, shares = model.contributions(row, target)
    assert columns.size == 3
    assert item_cluster[columns[0]] == 0 and item_cluster[columns[1]] == 0
    assert shares[0] > shares[-1]


def test_not_interested_lowers_that_items_score(model: ALSRecommender, data) -> None:
    _, _, item_cluster = data
    liked = [0, 3, 6, 9]
    target = 12  # cluster 0, not liked: it scores high, and its idf is well above 1 / (k1 + 1)
    assert item_cluster[target] == 0 and model.weighting.idf[target] > 1.0
    plain = model.score(likes(liked))[0]
    marked = model.score(likes(liked, negative=[target]))[0]
    assert plain[target] > 0.1
    assert marked[target] < plain[target] - 0.01
    # And it is never recommended.
    ids, _ = model.recommend(likes(liked, negative=[target]), 40)
    assert target not in ids[0]


def test_not_interested_lowers_the_score_of_a_very_popular_item() -> None:
    plays, _, item_cluster = planted_clusters(n_users=60, n_items=40, clusters=3, p_in=0.8, seed=0)
    dense = plays.toarray()
    rng = np.random.default_rng(1)
    dense[:, 0] = np.where(rng.random(60) < 0.9, 100.0, 0.0)  # item 0: played by ~90 % of users
    model = ALSRecommender(CONFIG).fit(sp.csr_matrix(dense))
    assert 0 < model.weighting.idf[0] < 0.5
    liked = [3, 6, 9, 12, 15]
    plain = model.score(likes(liked))[0, 0]
    marked = model.score(likes(liked, negative=[0]))[0, 0]
    assert plain > 0
    assert marked < plain


def test_row_wider_than_the_model_is_cut(model: ALSRecommender) -> None:
    wide = likes([0, 3, 45], n_items=50)
    np.testing.assert_allclose(model.score(wide), model.score(likes([0, 3])), rtol=1e-6)


def test_similar_items_excludes_itself_and_is_sorted(model: ALSRecommender, data) -> None:
    _, _, item_cluster = data
    for item in (0, 1, 2, 17):
        columns, similarity = model.similar_items(item, 10)
        assert columns.size == 10 and item not in columns
        assert np.all(np.diff(similarity) <= 1e-7)
        assert np.all(similarity <= 1.0 + 1e-6)
        # The nearest artists share the item's cluster.
        assert np.mean(item_cluster[columns[:5]] == item_cluster[item]) >= 0.8
        # Cosine, computed directly.
        y = model.item_factors
        expected = y[columns] @ y[item] / (np.linalg.norm(y[columns], axis=1) * np.linalg.norm(y[item]))
        np.testing.assert_allclose(similarity, expected, rtol=1e-4)


def test_similar_items_with_n_at_least_all_others(model: ALSRecommender) -> None:
    columns, _ = model.similar_items(5, 1000)
    assert sorted(columns.tolist()) == [c for c in range(40) if c != 5]
    assert model.similar_items(5, 0)[0].size == 0


def test_persistence_round_trip_gives_identical_scores(model: ALSRecommender, data) -> None:
    plays, _, _ = data
    parameters = json.loads(json.dumps(model.parameters()))  # must survive meta.json
    arrays = {name: np.array(value) for name, value in model.arrays().items()}
    assert all(a.dtype != object for a in arrays.values())
    restored = ALSRecommender.restore(parameters, arrays)
    assert restored.config == model.config
    rows = sp.vstack([plays[:10], likes([0, 3], negative=[1])]).tocsr()
    np.testing.assert_array_equal(restored.score(rows), model.score(rows))
    np.testing.assert_array_equal(
        restored.score(plays[:10], users=np.arange(10)), model.score(plays[:10], users=np.arange(10))
    )
    np.testing.assert_array_equal(restored.similar_items(3, 5)[0], model.similar_items(3, 5)[0])
    np.testing.assert_array_equal(restored.contributions(rows[10:], 6)[1], model.contributions(rows[10:], 6)[1])


def test_restore_rejects_arrays_that_do_not_match_the_configuration(model: ALSRecommender) -> None:
    parameters = model.parameters()
    parameters["config"] = dict(parameters["config"], factors=16)
    with pytest.raises(ValueError, match="do not match"):
        ALSRecommender.restore(parameters, model.arrays())
