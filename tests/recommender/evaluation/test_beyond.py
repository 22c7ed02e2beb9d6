"""Beyond-accuracy metrics on hand-made lists with answers worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from recommender.evaluation.beyond import (
    average_recommendation_popularity,
    beyond_accuracy,
    catalogue_coverage,
    exposure,
    gini,
    gini_of_exposure,
    group_exposure,
    long_tail_share,
    outside_head_share,
    popularity_groups,
    share_outside,
    top_fifth,
)

# Listeners of six artists: 100 listening pairs in all.
LISTENERS = np.array([50, 20, 10, 10, 5, 5])


def test_exposure_and_coverage_ignore_padding_and_positions_beyond_k() -> None:
    recommended = np.array([[0, 1, 3], [0, 2, -1]])
    assert exposure(recommended, 4, k=2).tolist() == [2, 1, 1, 0]
    assert catalogue_coverage(recommended, 4, k=2) == pytest.approx(3 / 4)
    assert catalogue_coverage(recommended, 4, k=3) == pytest.approx(1.0)


def test_gini_is_zero_for_equal_exposure_and_large_when_one_artist_takes_all() -> None:
    assert gini(np.array([3, 3, 3, 3])) == pytest.approx(0.0)
    # sorted 0, 0, 0, 4: (2*4 - 4 - 1) * 4 / (4 * 4) = 0.75, the maximum (n - 1) / n for n = 4.
    assert gini(np.array([4, 0, 0, 0])) == pytest.approx(0.75)
    # sorted 1, 3: ((2 - 3) * 1 + (4 - 3) * 3) / (2 * 4) = 0.25
    assert gini(np.array([3, 1])) == pytest.approx(0.25)
    assert gini(np.zeros(5)) == 0.0
    # Artists never recommended count: two of four artists share every slot.
    assert gini_of_exposure(np.array([[0, 1], [1, 0]]), 4, k=2) == pytest.approx(0.5)


def test_arp_is_the_mean_over_users_of_each_users_mean_popularity() -> None:
    recommended = np.array([[0, 1], [2, -1]])
    # user 0: (50 + 20) / 2 = 35; user 1: 10 (the pad is ignored); mean 22.5
    assert average_recommendation_popularity(recommended, LISTENERS, k=2) == pytest.approx(22.5)


def test_head_holds_the_first_20_percent_of_listening_and_tail_the_last() -> None:
    groups = popularity_groups(LISTENERS)
    # Cumulative share before each artist: 0, .5, .7, .8, .9, .95, so only artist 0 is the head;
    # from the least listened end: .05, .10, .20 (artists 5, 4, 3) stay within 20 %: the tail.
    assert groups.tolist() == [0, 1, 1, 2, 2, 2]


def test_head_includes_the_artist_that_crosses_the_line_and_ties_break_by_column() -> None:
    groups = popularity_groups(np.array([10, 10, 10, 10, 10]), head_share=0.3, tail_share=0.2)
    # before: 0, .2, .4, ...: artists 0 and 1 start below 30 %; after from the end: .2 for artist 4.
    assert groups.tolist() == [0, 0, 1, 1, 2]


def test_outside_head_share_and_group_exposure() -> None:
    groups = popularity_groups(LISTENERS)
    recommended = np.array([[0, 1], [0, 5]])
    assert outside_head_share(recommended, groups, k=2) == pytest.approx(0.5)
    assert group_exposure(recommended, groups, 3, k=2).tolist() == pytest.approx([0.5, 0.25, 0.25])


def test_long_tail_share_counts_slots_outside_the_top_fifth_of_artists_not_the_head() -> None:
    # 100 listening pairs over ten artists: the head is artist 0 alone (30 % of listening), the top
    # fifth of artists is artists 0 and 1.
    listeners = np.array([30, 20, 10, 10, 10, 5, 5, 5, 3, 2])
    assert np.flatnonzero(popularity_groups(listeners) == 0).tolist() == [0]
    recommended = np.array([[0, 1, 9], [1, 5, -1]])
    assert long_tail_share(recommended, listeners, k=2) == pytest.approx(1 / 4)
    assert outside_head_share(recommended, popularity_groups(listeners), k=2) == pytest.approx(3 / 4)
    assert long_tail_share(recommended, listeners, k=3) == pytest.approx(2 / 5)  # the pad is no slot


def test_share_outside_with_no_slots_is_zero() -> None:
    assert share_outside(np.full((2, 3), -1), np.zeros(4, dtype=bool), k=3) == 0.0


def test_top_fifth_marks_the_most_listened_fifth_of_artists() -> None:
    listeners = np.array([1, 9, 3, 9, 2, 0, 0, 0, 0, 5])
    assert np.flatnonzero(top_fifth(listeners)).tolist() == [1, 3]


def test_beyond_accuracy_bundles_every_number() -> None:
    groups = popularity_groups(LISTENERS)
    result = beyond_accuracy(np.array([[0, 1], [0, 5]]), LISTENERS, groups, k=2)
    assert result["coverage"] == pytest.approx(3 / 6)
    # the top fifth of six artists is int(1.2) = 1 artist: artist 0 takes half the slots.
    assert result["long_tail_share"] == pytest.approx(0.5)
    # the head is artist 0 too (50 % of listening).
    assert result["outside_head_share"] == pytest.approx(0.5)
    assert result["arp"] == pytest.approx(((50 + 20) / 2 + (50 + 5) / 2) / 2)
    assert result["exposure_head"] + result["exposure_mid"] + result["exposure_tail"] == pytest.approx(1.0)
