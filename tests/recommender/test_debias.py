"""The popularity penalty: the re-ranking function, the model option and the Engine keyword."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from recommender.debias import PopularityPenalised, listener_counts, normalised_log_popularity, rerank
from recommender.models import MostPopular


def test_normalised_log_popularity() -> None:
    popularity = normalised_log_popularity(np.array([0, 1, 3, 7]))
    assert popularity == pytest.approx([0.0, np.log(2) / np.log(8), np.log(4) / np.log(8), 1.0])
    assert normalised_log_popularity(np.zeros(3)).tolist() == [0.0, 0.0, 0.0]


def test_listener_counts_count_users_not_plays() -> None:
    plays = sp.csr_matrix(np.array([[500, 0, 1], [3, 0, 0]], dtype=np.float32))
    assert listener_counts(plays).tolist() == [2.0, 0.0, 1.0]


def test_rerank_subtracts_a_share_of_the_rows_best_score() -> None:
    scores = np.array([[1.0, 0.9, 0.5], [0.2, 0.1, -np.inf]], dtype=np.float32)
    popularity = np.array([1.0, 0.0, 0.5])
    out = rerank(scores, popularity, 0.2)
    # row 0: best 1.0 -> 1 - .2, .9, .5 - .1; row 1: best .2 -> .2 - .04, .1, -inf stays -inf
    assert out[0] == pytest.approx([0.8, 0.9, 0.4])
    assert out[1][:2] == pytest.approx([0.16, 0.1]) and out[1][2] == -np.inf
    assert rerank(scores, popularity, 0.0) is scores
    with pytest.raises(ValueError):
        rerank(scores, popularity, -0.1)


def test_penalised_model_reorders_towards_less_popular_artists() -> None:
    # Artist 0 has 5 listeners, artist 1 has 4, artist 2 has 1.
    plays = sp.csr_matrix(np.array([[1, 1, 1], [1, 1, 0], [1, 1, 0], [1, 1, 0], [1, 0, 0]], dtype=np.float32))
    nobody = sp.csr_matrix((1, 3), dtype=np.float32)
    assert MostPopular().fit(plays).recommend(nobody, 3)[0][0].tolist() == [0, 1, 2]
    # Penalty 10: 5 - 50 * 1, 4 - 50 * log 5 / log 6, 1 - 50 * log 2 / log 6 = -45, -40.9, -18.3.
    penalised = PopularityPenalised(MostPopular(), 10.0).fit(plays)
    assert penalised.recommend(nobody, 3)[0][0].tolist() == [2, 1, 0]


@pytest.mark.slow
def test_engine_penalty_keeps_the_models_scores_and_lowers_popularity(lastfm_engine) -> None:
    from recommender.engine import Engine

    debiased = Engine(lastfm_engine.model, lastfm_engine.interactions, lastfm_engine.catalogue, popularity_penalty=0.6)
    plain = lastfm_engine.recommend_for_user("lastfm:2", 10)
    assert [
        r.artist
        for r in Engine(
            lastfm_engine.model, lastfm_engine.interactions, lastfm_engine.catalogue, popularity_penalty=0.0
        ).recommend_for_user("lastfm:2", 10)
    ] == [r.artist for r in plain]
    penalised = debiased.recommend_for_user("lastfm:2", 10)
    assert np.mean([r.artist.listeners for r in penalised]) < np.mean([r.artist.listeners for r in plain])
    for recommendation in penalised:  # shown scores are the model's, not the penalised ones
        row, _ = lastfm_engine.user_row("lastfm:2")
        column = lastfm_engine.interactions.artist_column(recommendation.artist.artist_id)
        assert recommendation.score == pytest.approx(
            float(lastfm_engine.model.scores_of(lastfm_engine.model.solve_row(row))[column]), rel=1e-5
        )
