"""top_n: best columns per row, exclusions, padding."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from recommender.ranking import top_n

SCORES = np.array(
    [
        [0.1, 0.9, 0.5, 0.3, 0.7],
        [5.0, -1.0, 2.0, 4.0, 3.0],
    ],
    dtype=np.float32,
)


def test_best_first_per_row() -> None:
    ids, scores = top_n(SCORES, 3)
    np.testing.assert_array_equal(ids, [[1, 4, 2], [0, 3, 4]])
    np.testing.assert_allclose(scores, [[0.9, 0.7, 0.5], [5.0, 4.0, 3.0]], rtol=1e-6)
    assert ids.shape == scores.shape == (2, 3)


def test_one_dimensional_scores_are_one_row() -> None:
    ids, scores = top_n(SCORES[0], 2)
    np.testing.assert_array_equal(ids, [[1, 4]])
    assert scores.shape == (1, 2)


def test_input_is_not_modified() -> None:
    scores = SCORES.copy()
    top_n(scores, 2, exclude=sp.csr_matrix(np.ones_like(scores)))
    np.testing.assert_array_equal(scores, SCORES)


def test_excluded_columns_never_appear() -> None:
    exclude = sp.csr_matrix(np.array([[0, 1, 0, 0, 1], [1, 0, 0, 0, 0]], dtype=np.float32))
    ids, scores = top_n(SCORES, 3, exclude=exclude)
    np.testing.assert_array_equal(ids, [[2, 3, 0], [3, 4, 2]])
    assert 1 not in ids[0] and 4 not in ids[0] and 0 not in ids[1]
    np.testing.assert_allclose(scores, [[0.5, 0.3, 0.1], [4.0, 3.0, 2.0]], rtol=1e-6)


def test_negative_entries_are_excluded_too() -> None:
    """A "not interested" mark is stored as a negative value; it must be excluded like a like."""
    exclude = sp.csr_matrix(np.array([[0, -50, 0, 0, 0], [0, 0, 0, 0, 0]], dtype=np.float32))
    ids, _ = top_n(SCORES, 2, exclude=exclude)
    np.testing.assert_array_equal(ids, [[4, 2], [0, 3]])


def test_empty_exclusion_changes_nothing() -> None:
    ids, scores = top_n(SCORES, 3, exclude=sp.csr_matrix(SCORES.shape, dtype=np.float32))
    np.testing.assert_array_equal(ids, top_n(SCORES, 3)[0])


def test_padding_with_minus_one_when_fewer_eligible_than_n() -> None:
    exclude = sp.csr_matrix(np.array([[1, 1, 1, 0, 1], [0, 0, 0, 0, 0]], dtype=np.float32))
    ids, scores = top_n(SCORES, 3, exclude=exclude)
    # Row 0 has one eligible column (3); the rest is padding.
    np.testing.assert_array_equal(ids[0], [3, -1, -1])
    assert scores[0, 0] == pytest.approx(0.3)
    assert np.all(np.isneginf(scores[0, 1:]))
    # Row 1 is unaffected.
    np.testing.assert_array_equal(ids[1], [0, 3, 4])


def test_everything_excluded_gives_only_padding() -> None:
    ids, scores = top_n(SCORES, 5, exclude=sp.csr_matrix(np.ones_like(SCORES)))
    assert np.all(ids == -1)
    assert np.all(np.isneginf(scores))


def test_n_zero_gives_empty_lists() -> None:
    ids, scores = top_n(SCORES, 0)
    assert ids.shape == (2, 0) and scores.shape == (2, 0)
    assert ids.dtype.kind == "i"


def test_negative_n_gives_empty_lists() -> None:
    ids, _ = top_n(SCORES, -3)
    assert ids.shape == (2, 0)


def test_n_larger_than_columns_returns_every_column_sorted() -> None:
    ids, scores = top_n(SCORES, 50)
    assert ids.shape == (2, 5)
    np.testing.assert_array_equal(ids, [[1, 4, 2, 3, 0], [0, 3, 4, 2, 1]])
    assert np.all(np.diff(scores, axis=1) <= 0)


def test_n_larger_than_columns_with_exclusions_pads() -> None:
    exclude = sp.csr_matrix(np.array([[0, 1, 0, 0, 0], [0, 0, 0, 0, 0]], dtype=np.float32))
    ids, _ = top_n(SCORES, 50, exclude=exclude)
    np.testing.assert_array_equal(ids[0], [4, 2, 3, 0, -1])
    np.testing.assert_array_equal(ids[1], [0, 3, 4, 2, 1])


def test_ties_with_all_columns_keep_column_order() -> None:
    ids, _ = top_n(np.array([[1.0, 2.0, 2.0, 1.0]]), 4)
    np.testing.assert_array_equal(ids, [[1, 2, 0, 3]])


def test_matches_full_sort_on_random_scores() -> None:
    rng = np.random.default_rng(3)
    scores = rng.standard_normal((20, 30)).astype(np.float32)
    exclude = sp.random(20, 30, density=0.2, random_state=4, format="csr", dtype=np.float32)
    exclude.data[:] = 1.0
    ids, best = top_n(scores, 7, exclude=exclude)
    masked = scores.copy()
    masked[exclude.toarray() != 0] = -np.inf
    expected = np.argsort(-masked, axis=1, kind="stable")[:, :7]
    np.testing.assert_array_equal(ids, expected)
    np.testing.assert_allclose(best, np.take_along_axis(masked, expected, axis=1))


def test_one_long_row_takes_the_sampled_path_and_agrees_with_sorting_everything() -> None:
    rng = np.random.default_rng(5)
    for trial in range(50):
        row = rng.standard_normal(20_000).astype(np.float32)
        held = rng.choice(row.size, size=trial * 10, replace=False)
        exclude = sp.csr_matrix((np.ones(held.size), (np.zeros(held.size, dtype=int), held)), shape=(1, row.size))
        n = int(rng.integers(1, 40))
        ids, scores = top_n(row, n, exclude=exclude)
        eligible = row.copy()
        eligible[held] = -np.inf
        expected = np.argsort(-eligible, kind="stable")[:n]
        np.testing.assert_array_equal(ids[0], expected)
        np.testing.assert_array_equal(scores[0], eligible[expected])


def test_one_long_row_with_few_finite_scores_falls_back_and_pads() -> None:
    row = np.full(20_000, -np.inf, dtype=np.float32)
    row[[3, 7000]] = [1.0, 2.0]
    ids, scores = top_n(row, 5)
    np.testing.assert_array_equal(ids[0], [7000, 3, -1, -1, -1])
