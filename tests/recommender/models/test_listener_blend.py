"""The listener blend: its parts on hand-checkable matrices, and the blend's contract."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from recommender.models.als import ALSConfig, ALSRecommender
from recommender.models.listener_blend import (
    ListenerBlend,
    ListenerBlendConfig,
    PlayShareRidge,
    play_rank_shares,
    relu_ntk,
    shifted_log_plays,
    zscores,
)

PLAYS = sp.csr_matrix(
    np.array(
        [
            [10, 0, 3, 0, 1, 0],
            [0, 5, 5, 0, 0, 2],
            [7, 0, 0, 4, 0, 0],
            [1, 2, 0, 0, 9, 0],
            [0, 0, 6, 3, 0, 8],
        ],
        dtype=np.float32,
    )
)
SMALL = ListenerBlendConfig(als=ALSConfig(factors=3, regularization=0.1, iterations=5))


def test_shifted_log_plays_puts_each_users_least_played_artist_at_one() -> None:
    shifted = shifted_log_plays(PLAYS)
    for user in range(PLAYS.shape[0]):
        row = shifted[user].data
        assert row.min() == pytest.approx(1.0)
        assert row.max() == pytest.approx(1.0 + np.log1p(PLAYS[user].data.max()) - np.log1p(PLAYS[user].data.min()))


def test_play_rank_shares_run_from_one_over_n_to_one() -> None:
    ranks = play_rank_shares(PLAYS)
    np.testing.assert_allclose(ranks[0].toarray()[0], [1.0, 0, 2 / 3, 0, 1 / 3, 0])


def test_relu_ntk_known_values() -> None:
    np.testing.assert_allclose(relu_ntk(np.array([1.0, 0.0, -1.0])), [2.0, 1 / np.pi, 0.0], atol=1e-6)


def test_zscores_leave_out_held_artists() -> None:
    held = sp.csr_matrix(np.array([[1, 0, 0, 0]]))
    z = zscores(np.array([[100.0, 1.0, 2.0, 3.0]]), held)
    assert z[0, 0] == -np.inf
    np.testing.assert_allclose(z[0, 1:], [-1.2247449, 0.0, 1.2247449], rtol=1e-5)


def test_play_share_ridge_on_known_users_is_kernel_ridge() -> None:
    ridge = PlayShareRidge(0.6).fit(PLAYS)
    inputs = ridge.inputs.toarray().astype(np.float64)
    gram = inputs @ inputs.T
    expected = gram @ np.linalg.solve(gram + ridge.lam * np.eye(len(gram)), ridge.targets.toarray())
    np.testing.assert_allclose(ridge.score_known(np.arange(5)), expected, rtol=1e-3, atol=1e-3)


def test_known_users_get_the_blend_and_new_rows_get_als_alone() -> None:
    blend = ListenerBlend(SMALL).fit(PLAYS)
    users = np.array([0, 3])
    scores = blend.score(PLAYS[users], users=users)
    assert np.all(np.isneginf(scores[PLAYS[users].toarray() > 0]))
    ids, _ = blend.recommend(PLAYS[users], 2, users=users)
    assert not (set(ids[0]) & set(PLAYS[0].indices)) and not (set(ids[1]) & set(PLAYS[3].indices))
    new_row = sp.csr_matrix(np.array([[0, 0, 0, 50, 0, 0]], dtype=np.float32))
    np.testing.assert_array_equal(blend.score(new_row), blend.als.score(new_row))


def test_around_reuses_a_fitted_als() -> None:
    als = ALSRecommender(SMALL.als).fit(PLAYS)
    blend = ListenerBlend.around(als, PLAYS, SMALL)
    assert blend.als is als
    fitted = ListenerBlend(SMALL).fit(PLAYS)
    users = np.arange(5)
    np.testing.assert_allclose(blend.score(PLAYS, users=users), fitted.score(PLAYS, users=users), rtol=1e-5)
