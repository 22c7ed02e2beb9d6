"""Ranking metrics on hand-computed cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp

from recommender.evaluation.metrics import METRIC_NAMES, per_user_metrics, ranking_metrics

# Ten recommended items 100..109; the hits are at ranks 1 and 3 (items 100 and 102).
TOP10 = np.arange(100, 110)
DCG_RANKS_1_3 = 1.0 + 1.0 / math.log2(4)  # 1/log2(1+1) + 1/log2(3+1) = 1.5


def ideal_dcg(hits: int) -> float:
    return sum(1.0 / math.log2(rank + 1) for rank in range(1, hits + 1))


def test_hits_at_ranks_1_and_3_with_two_relevant() -> None:
    result = ranking_metrics(np.array([TOP10]), [np.array([100, 102])], k=10)
    # Ideal list: both relevant items at ranks 1 and 2.
    assert result["ndcg@10"] == pytest.approx(1.5 / (1.0 + 1.0 / math.log2(3)))
    assert result["ndcg@10"] == pytest.approx(0.919721, abs=1e-6)
    assert result["precision@10"] == pytest.approx(0.2)
    assert result["recall@10"] == pytest.approx(1.0)
    # (precision@1 + precision@3) / min(10, 2) = (1 + 2/3) / 2.
    assert result["map@10"] == pytest.approx((1.0 + 2.0 / 3.0) / 2.0)
    assert result["users"] == 1


def test_hits_at_ranks_1_and_3_with_twenty_relevant() -> None:
    relevant = np.array([100, 102] + list(range(200, 218)))
    assert relevant.size == 20
    result = ranking_metrics(np.array([TOP10]), [relevant], k=10)
    # The ideal list is ten hits: IDCG = sum over ranks 1..10.
    assert result["ndcg@10"] == pytest.approx(DCG_RANKS_1_3 / ideal_dcg(10))
    assert result["ndcg@10"] == pytest.approx(0.330138, abs=1e-6)
    assert result["precision@10"] == pytest.approx(0.2)
    assert result["recall@10"] == pytest.approx(2 / 20)
    # Divided by min(k, |relevant|) = 10.
    assert result["map@10"] == pytest.approx((1.0 + 2.0 / 3.0) / 10.0)


def test_perfect_and_empty_lists() -> None:
    recommended = np.array([TOP10, TOP10])
    relevant = [TOP10[:3], np.array([7, 8])]
    per_user = per_user_metrics(recommended, relevant, k=10)
    # User 0: all three relevant items first.
    assert per_user["ndcg"][0] == pytest.approx(1.0)
    assert per_user["map"][0] == pytest.approx(1.0)
    assert per_user["recall"][0] == pytest.approx(1.0)
    assert per_user["precision"][0] == pytest.approx(0.3)
    # User 1: no hits at all.
    for name in METRIC_NAMES:
        assert per_user[name][1] == 0.0


def test_only_the_first_k_count() -> None:
    recommended = np.array([np.concatenate([TOP10, [999]])])
    result = ranking_metrics(recommended, [np.array([999])], k=10)
    assert result["ndcg@10"] == 0.0 and result["recall@10"] == 0.0


def test_users_with_empty_truth_are_skipped() -> None:
    recommended = np.array([TOP10, TOP10, TOP10])
    relevant = [np.array([100, 102]), np.array([], dtype=np.int64), np.array([500])]
    result = ranking_metrics(recommended, relevant, k=10)
    assert result["users"] == 2
    # Mean of user 0 (0.9197...) and user 2 (0): the empty user does not drag it towards 0.
    assert result["ndcg@10"] == pytest.approx(0.919721 / 2, abs=1e-6)
    assert result["recall@10"] == pytest.approx(0.5)
    per_user = per_user_metrics(recommended, relevant, k=10)
    assert per_user["ndcg"].size == 2


def test_no_user_with_truth_gives_zeros() -> None:
    result = ranking_metrics(np.array([TOP10]), [np.array([], dtype=np.int64)], k=10)
    assert result == {"ndcg@10": 0.0, "precision@10": 0.0, "recall@10": 0.0, "map@10": 0.0, "users": 0}


def test_sparse_truth_matches_lists() -> None:
    recommended = np.array([TOP10[:10], TOP10[::-1]])
    truth = sp.csr_matrix((np.ones(3, dtype=np.float32), ([0, 0, 1], [100, 105, 101])), shape=(2, 120))
    as_lists = [np.array([100, 105]), np.array([101])]
    assert ranking_metrics(recommended, truth, 10) == pytest.approx(ranking_metrics(recommended, as_lists, 10))
    # User 1's only hit (101) is at rank 9 of the reversed list.
    per_user = per_user_metrics(recommended, truth, 10)
    assert per_user["ndcg"][1] == pytest.approx(1.0 / math.log2(10))
    assert per_user["map"][1] == pytest.approx(1.0 / 9.0)


def test_padding_never_counts_as_a_hit() -> None:
    recommended = np.array([[100, -1, -1, -1, -1, -1, -1, -1, -1, -1]])
    result = ranking_metrics(recommended, [np.array([100, 101])], k=10)
    assert result["precision@10"] == pytest.approx(0.1)
    assert result["recall@10"] == pytest.approx(0.5)


def test_short_lists_are_padded() -> None:
    result = ranking_metrics(np.array([[100, 102]]), [np.array([102])], k=10)
    assert result["ndcg@10"] == pytest.approx(1.0 / math.log2(3))
    assert result["precision@10"] == pytest.approx(0.1)


def test_other_k() -> None:
    result = ranking_metrics(np.array([TOP10]), [np.array([100, 102])], k=2)
    assert set(result) == {"ndcg@2", "precision@2", "recall@2", "map@2", "users"}
    assert result["precision@2"] == pytest.approx(0.5)
    assert result["ndcg@2"] == pytest.approx(1.0 / (1.0 + 1.0 / math.log2(3)))
