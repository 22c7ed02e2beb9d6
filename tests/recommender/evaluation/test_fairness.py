"""User groups, gaps, intervals and item-side exposure on hand-made data."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from recommender.evaluation.fairness import (
    activity,
    confidence_interval,
    exposure_against_listening,
    gap,
    group_means,
    mainstreaminess,
    regional_membership,
    thirds,
)


def test_activity_is_total_plays() -> None:
    plays = sp.csr_matrix(np.array([[3, 0, 2], [0, 0, 7]], dtype=np.float32))
    assert activity(plays).tolist() == [5.0, 7.0]


def test_mainstreaminess_is_the_cosine_with_listener_counts() -> None:
    plays = sp.csr_matrix(np.array([[40, 0], [1, 9]], dtype=np.float32))
    # listeners (2, 1); user 0: 2 / (1 * sqrt 5); user 1: 3 / (sqrt 2 * sqrt 5). Play counts do not matter.
    assert mainstreaminess(plays) == pytest.approx([2 / np.sqrt(5), 3 / np.sqrt(10)])
    assert mainstreaminess(sp.csr_matrix((1, 2), dtype=np.float32)).tolist() == [0.0]


def test_thirds_split_by_rank_with_ties_by_position() -> None:
    assert thirds(np.array([5, 1, 3, 2, 4, 6])).tolist() == [2, 0, 1, 0, 1, 2]
    assert thirds(np.array([1, 1, 1])).tolist() == [0, 1, 2]


def test_group_means_and_gap_high_minus_low() -> None:
    means = group_means(np.array([0.1, 0.3, 0.5, 0.9]), np.array([0, 0, 2, 2]))
    assert means[0] == pytest.approx(0.2) and np.isnan(means[1]) and means[2] == pytest.approx(0.7)
    assert gap(means) == pytest.approx(0.5)


def test_confidence_interval_is_student_t_over_runs() -> None:
    interval = confidence_interval([1.0, 2.0, 3.0])
    half = 4.302653 * 1.0 / np.sqrt(3)  # t(0.975, 2 degrees of freedom) * sd / sqrt(n)
    assert interval["mean"] == pytest.approx(2.0)
    assert interval["low"] == pytest.approx(2.0 - half, rel=1e-5)
    assert interval["high"] == pytest.approx(2.0 + half, rel=1e-5)
    assert confidence_interval([0.4]) == {"mean": 0.4, "low": 0.4, "high": 0.4}


def test_regional_membership_reads_only_the_top_tags() -> None:
    tags = {
        10: ["j-pop", "pop"],
        11: ["rock", "german"],
        12: ["rock", "indie", "alternative", "british", "90s", "german"],
        13: [],
    }
    membership = regional_membership(
        np.array([10, 11, 12, 13]),
        lambda a: tags[a],
        {"japanese": frozenset({"j-pop"}), "german": frozenset({"german"})},
        n_tags=5,
    )
    assert membership["japanese"].tolist() == [True, False, False, False]
    # artist 12's "german" is its sixth tag: not enough.
    assert membership["german"].tolist() == [False, True, False, False]


def test_exposure_against_listening() -> None:
    members = np.array([True, False, False, True])
    listeners = np.array([10, 50, 30, 10])
    recommended = np.array([[0, 1], [1, 2], [3, -1]])
    result = exposure_against_listening(recommended, members, listeners, k=2)
    # slots 0, 1, 1, 2, 3: two of five are members; members hold 20 of 100 listening pairs.
    assert result == pytest.approx({"recommended_share": 0.4, "listening_share": 0.2, "ratio": 2.0})
