"""The reference models: most popular, item-kNN and BPR."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from recommender.models import BPRRecommender, ItemKNNRecommender, MostPopular
from tests.helpers.matrices import planted_clusters

# implicit's CosineRecommender transposes its input internally and then warns about it.
pytestmark = pytest.mark.filterwarnings("ignore:Method expects CSR input")

# Listeners per artist: 4, 1, 3, 0, 2 (play counts do not matter, only who listens).
PLAYS = sp.csr_matrix(
    np.array(
        [
            [5, 0, 1, 0, 0],
            [1, 0, 9, 0, 3],
            [2, 900, 4, 0, 0],
            [7, 0, 0, 0, 1],
        ],
        dtype=np.float32,
    )
)


def test_most_popular_ranks_by_listeners_not_plays() -> None:
    model = MostPopular().fit(PLAYS)
    np.testing.assert_array_equal(model.listeners, [4, 1, 3, 0, 2])
    new_row = sp.csr_matrix((1, 5), dtype=np.float32)
    ids, scores = model.recommend(new_row, 5)
    np.testing.assert_array_equal(ids[0], [0, 2, 4, 1, 3])
    np.testing.assert_array_equal(scores[0], [4, 3, 2, 1, 0])


def test_most_popular_is_the_same_for_everyone_minus_their_artists() -> None:
    model = MostPopular().fit(PLAYS)
    ids, _ = model.recommend(PLAYS, 2)
    np.testing.assert_array_equal(ids, [[4, 1], [1, 3], [4, 3], [2, 1]])
    scores = model.score(PLAYS)
    assert scores.shape == (4, 5) and np.all(scores == scores[0])


def test_most_popular_restore() -> None:
    model = MostPopular().fit(PLAYS)
    restored = MostPopular.restore(model.parameters(), model.arrays())
    np.testing.assert_array_equal(restored.score(PLAYS), model.score(PLAYS))


def test_item_knn_similarity_is_cosine_of_binary_columns() -> None:
    plays, _, _ = planted_clusters(n_users=30, n_items=12, seed=3)
    model = ItemKNNRecommender().fit(plays)
    binary = (plays.toarray() > 0).astype(np.float64)
    norms = np.linalg.norm(binary, axis=0)
    norms[norms == 0] = 1.0
    cosine = binary.T @ binary / np.outer(norms, norms)
    np.testing.assert_allclose(model.similarity.toarray(), cosine, rtol=1e-5, atol=1e-6)


def test_item_knn_scores_a_new_row_from_its_liked_artists() -> None:
    plays, _, _ = planted_clusters(n_users=30, n_items=12, seed=3)
    model = ItemKNNRecommender().fit(plays)
    similarity = model.similarity.toarray()
    # Play counts do not matter, and a negative ("not interested") entry adds nothing.
    row = sp.csr_matrix(np.array([[0, 7, 0, 0, 1, 0, 0, 0, 0, 0, -50, 0]], dtype=np.float32))
    expected = similarity[1] + similarity[4]
    np.testing.assert_allclose(model.score(row)[0], expected, rtol=1e-5)
    ids, _ = model.recommend(row, 3)
    assert not {1, 4, 10} & set(ids[0].tolist())
    masked = expected.copy()
    masked[[1, 4, 10]] = -np.inf
    assert ids[0, 0] == int(np.argmax(masked))


def test_item_knn_keeps_only_k_neighbours() -> None:
    plays, _, _ = planted_clusters(n_users=30, n_items=12, seed=3)
    model = ItemKNNRecommender(neighbours=3).fit(plays)
    assert np.all(np.diff(model.similarity.indptr) <= 3)


def test_item_knn_similar_items_and_restore() -> None:
    plays, _, item_cluster = planted_clusters(n_users=60, n_items=30, p_in=0.8, seed=1)
    model = ItemKNNRecommender().fit(plays)
    columns, similarity = model.similar_items(0, 5)
    assert 0 not in columns and np.all(np.diff(similarity) <= 0) and np.all(similarity > 0)
    assert np.mean(item_cluster[columns] == item_cluster[0]) >= 0.8
    restored = ItemKNNRecommender.restore(model.parameters(), model.arrays())
    assert restored.neighbours == model.neighbours
    np.testing.assert_array_equal(restored.score(plays[:5]), model.score(plays[:5]))


@pytest.fixture(scope="module")
def bpr() -> BPRRecommender:
    plays, _, _ = planted_clusters(n_users=60, n_items=30, p_in=0.8, seed=1)
    return BPRRecommender(factors=8, iterations=30, random_state=0).fit(plays)


def test_bpr_refuses_new_users(bpr: BPRRecommender) -> None:
    assert BPRRecommender.scores_new_users is False
    row = sp.csr_matrix(np.array([[1.0] + [0.0] * 29], dtype=np.float32))
    with pytest.raises(NotImplementedError):
        bpr.score(row)
    with pytest.raises(NotImplementedError):
        bpr.recommend(row, 5)


def test_bpr_scores_trained_users_and_restores(bpr: BPRRecommender) -> None:
    plays, _, _ = planted_clusters(n_users=60, n_items=30, p_in=0.8, seed=1)
    users = np.array([0, 5, 59])
    scores = bpr.score(plays[users], users=users)
    assert scores.shape == (3, 30)
    np.testing.assert_allclose(scores, bpr.user_factors[users] @ bpr.item_factors.T, rtol=1e-6)
    restored = BPRRecommender.restore(bpr.parameters(), bpr.arrays())
    assert restored.parameters() == {"factors": 8, "iterations": 30, "random_state": 0}
    np.testing.assert_array_equal(restored.score(plays[users], users=users), scores)
    np.testing.assert_array_equal(
        restored.recommend(plays[users], 5, users=users)[0], bpr.recommend(plays[users], 5, users=users)[0]
    )


def test_no_similar_items_for_models_without_them(bpr: BPRRecommender) -> None:
    with pytest.raises(NotImplementedError):
        bpr.similar_items(0, 5)
    with pytest.raises(NotImplementedError):
        MostPopular().fit(PLAYS).similar_items(0, 2)
