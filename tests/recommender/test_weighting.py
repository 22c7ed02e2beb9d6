"""Confidence weighting: BM25 on hand-computed values, and how a fitted weighting treats new rows."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp

from recommender.weighting import SCHEMES, Weighting

# 4 users x 3 artists. Listeners per artist (df): 3, 2, 1. Row sums: 4, 2, 5, 5 (mean 4).
PLAYS = sp.csr_matrix(
    np.array(
        [
            [1, 3, 0],
            [2, 0, 0],
            [0, 0, 5],
            [4, 1, 0],
        ],
        dtype=np.float32,
    )
)
N_USERS = 4
DF = [3, 2, 1]
ROW_SUMS = [4.0, 2.0, 5.0, 5.0]


def expected_idf(df: int, n_users: int = N_USERS) -> float:
    return max(math.log(n_users) - math.log1p(df), 0.0)


def expected_bm25(
    value: float, idf: float, k1: float, b: float = 0.0, row_sum: float = 1.0, average: float = 1.0
) -> float:
    norm = (1 - b) + b * row_sum / average
    return value * (k1 + 1) / (k1 * norm + value) * idf


def test_idf_is_log_users_minus_log1p_listeners_clamped_at_zero() -> None:
    weighting = Weighting.fit(PLAYS, "bm25", k1=0.5)
    # log 4 - log 4 = 0, log 4 - log 3, log 4 - log 2.
    np.testing.assert_allclose(weighting.idf, [0.0, math.log(4 / 3), math.log(2)], rtol=1e-6)
    np.testing.assert_allclose(weighting.idf, [expected_idf(d) for d in DF], rtol=1e-6)
    assert weighting.average_length == pytest.approx(4.0)


def test_idf_of_artist_played_by_everyone_is_clamped_not_negative() -> None:
    everyone = sp.csr_matrix(np.ones((3, 2), dtype=np.float32))
    weighting = Weighting.fit(everyone, "bm25")
    # log 3 - log1p(3) < 0 would count against a user; it is clamped to 0.
    assert math.log(3) - math.log1p(3) < 0
    assert np.all(weighting.idf == 0.0)


def test_bm25_values_match_hand_computation_with_b_zero() -> None:
    k1 = 0.5
    weighting = Weighting.fit(PLAYS, "bm25", k1=k1, b=0.0)
    weighted = weighting.transform(PLAYS)
    # Entry (0, 1): 3 plays of an artist with idf log(4/3): 3 * 1.5 / (0.5 + 3) * log(4/3) = 0.36988...
    assert weighted[0, 1] == pytest.approx(3 * 1.5 / 3.5 * math.log(4 / 3), rel=1e-6)
    assert weighted[0, 1] == pytest.approx(0.369877, abs=1e-6)
    # Entry (2, 2): 5 plays, idf log 2: 5 * 1.5 / 5.5 * log 2 = 0.945201...
    assert weighted[2, 2] == pytest.approx(0.945201, abs=1e-6)
    dense = weighted.toarray()
    for (user, item), value in np.ndenumerate(PLAYS.toarray()):
        expected = expected_bm25(value, expected_idf(DF[item]), k1) if value else 0.0
        assert dense[user, item] == pytest.approx(expected, rel=1e-5, abs=1e-7), (user, item)
    # Artist 0 (idf 0) weighs nothing, and by default its zero entries are dropped.
    assert weighted[:, 0].nnz == 0
    assert weighted.nnz == 3


def test_bm25_length_normalisation_with_b() -> None:
    k1, b = 1.2, 0.75
    weighting = Weighting.fit(PLAYS, "bm25", k1=k1, b=b)
    assert weighting.average_length == pytest.approx(4.0)
    dense = weighting.transform(PLAYS).toarray()
    for (user, item), value in np.ndenumerate(PLAYS.toarray()):
        expected = expected_bm25(value, expected_idf(DF[item]), k1, b, ROW_SUMS[user], 4.0) if value else 0.0
        assert dense[user, item] == pytest.approx(expected, rel=1e-5, abs=1e-7), (user, item)
    # Row 3 (5 plays in total, longer than average) is damped more than with b = 0.
    unnormalised = Weighting.fit(PLAYS, "bm25", k1=k1, b=0.0).transform(PLAYS).toarray()
    assert dense[3, 1] < unnormalised[3, 1]
    # A row shorter than average (2 plays in total) gains.
    short = sp.csr_matrix(np.array([[0, 2, 0]], dtype=np.float32))
    with_b = Weighting.fit(PLAYS, "bm25", k1=k1, b=b).transform(short)[0, 1]
    assert with_b > Weighting.fit(PLAYS, "bm25", k1=k1, b=0.0).transform(short)[0, 1]
    assert with_b == pytest.approx(expected_bm25(2, math.log(4 / 3), k1, b, 2.0, 4.0), rel=1e-6)


def test_bm25_saturates_large_counts() -> None:
    weighting = Weighting.fit(PLAYS, "bm25", k1=0.5)
    row = sp.csr_matrix(np.array([[0, 1, 0], [0, 10, 0], [0, 1e6, 0]], dtype=np.float32))
    values = weighting.transform(row).toarray()[:, 1]
    assert values[0] < values[1] < values[2]
    # Upper bound (k1 + 1) * idf, whatever the count.
    assert values[2] == pytest.approx(1.5 * math.log(4 / 3), rel=1e-5)


def test_new_rows_use_the_training_idf() -> None:
    weighting = Weighting.fit(PLAYS, "bm25", k1=0.5)
    # A new user who plays only artist 2: fitting on this row alone would give a different idf.
    new_row = sp.csr_matrix(np.array([[0, 7, 5]], dtype=np.float32))
    weighted = weighting.transform(new_row).toarray()[0]
    assert weighted[1] == pytest.approx(expected_bm25(7, math.log(4 / 3), 0.5), rel=1e-6)
    assert weighted[2] == pytest.approx(expected_bm25(5, math.log(2), 0.5), rel=1e-6)
    refitted = Weighting.fit(new_row, "bm25", k1=0.5).transform(new_row).toarray()[0]
    assert not np.allclose(weighted, refitted)
    # The fitted state is not changed by transforming.
    np.testing.assert_allclose(weighting.idf, [0.0, math.log(4 / 3), math.log(2)], rtol=1e-6)


def test_columns_beyond_the_fitted_width_get_the_largest_idf() -> None:
    weighting = Weighting.fit(PLAYS, "bm25", k1=0.5)
    wider = sp.csr_matrix(np.array([[0, 0, 5, 5, 1]], dtype=np.float32))
    weighted = weighting.transform(wider).toarray()[0]
    rarest = math.log(2)  # the largest fitted idf (artist 2)
    assert weighted[3] == pytest.approx(expected_bm25(5, rarest, 0.5), rel=1e-6)
    assert weighted[3] == pytest.approx(weighted[2], rel=1e-6)
    assert weighted[4] == pytest.approx(expected_bm25(1, rarest, 0.5), rel=1e-6)
    assert weighted.shape == (5,)


def test_narrower_rows_are_weighted_by_their_own_columns() -> None:
    weighting = Weighting.fit(PLAYS, "bm25", k1=0.5)
    narrow = sp.csr_matrix(np.array([[0, 3]], dtype=np.float32))
    assert weighting.transform(narrow)[0, 1] == pytest.approx(expected_bm25(3, math.log(4 / 3), 0.5), rel=1e-6)


def test_keep_structure_keeps_zero_weights_aligned_with_the_input() -> None:
    weighting = Weighting.fit(PLAYS, "bm25", k1=0.5)
    kept = weighting.transform(PLAYS, keep_structure=True)
    np.testing.assert_array_equal(kept.indptr, PLAYS.indptr)
    np.testing.assert_array_equal(kept.indices, PLAYS.indices)
    assert kept.nnz == PLAYS.nnz
    # Entries of artist 0 (idf 0) are stored zeros, in the input's positions.
    zero_positions = PLAYS.indices == 0
    assert np.all(kept.data[zero_positions] == 0.0)
    assert np.all(kept.data[~zero_positions] > 0.0)
    dropped = weighting.transform(PLAYS)
    np.testing.assert_allclose(kept.toarray(), dropped.toarray())
    assert dropped.nnz == PLAYS.nnz - int(zero_positions.sum())


def test_transform_does_not_modify_its_input() -> None:
    plays = PLAYS.copy()
    Weighting.fit(plays, "bm25").transform(plays)
    Weighting.fit(plays, "log").transform(plays)
    np.testing.assert_array_equal(plays.toarray(), PLAYS.toarray())


def test_other_schemes() -> None:
    raw = Weighting.fit(PLAYS, "raw")
    assert raw.idf is None
    np.testing.assert_allclose(raw.transform(PLAYS).toarray(), PLAYS.toarray())
    binary = Weighting.fit(PLAYS, "binary").transform(PLAYS)
    np.testing.assert_array_equal(binary.toarray(), (PLAYS.toarray() > 0).astype(np.float32))
    log = Weighting.fit(PLAYS, "log").transform(PLAYS)
    np.testing.assert_allclose(log.toarray(), np.log1p(PLAYS.toarray()), rtol=1e-6)
    assert log.dtype == np.float32


@pytest.mark.parametrize("scheme", ["tfidf", "BM25", "", "none"])
def test_unknown_scheme_raises(scheme: str) -> None:
    assert scheme not in SCHEMES
    with pytest.raises(ValueError, match="unknown weighting"):
        Weighting.fit(PLAYS, scheme)


def test_parameters_round_trip_through_the_constructor() -> None:
    weighting = Weighting.fit(PLAYS, "bm25", k1=0.9, b=0.3)
    rebuilt = Weighting(idf=weighting.idf, **weighting.parameters())
    np.testing.assert_allclose(rebuilt.transform(PLAYS).toarray(), weighting.transform(PLAYS).toarray())
    assert weighting.parameters() == {"scheme": "bm25", "k1": 0.9, "b": 0.3, "average_length": 4.0}


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("b", [0.0, 0.75])
def test_weigh_row_matches_transform(scheme: str, b: float) -> None:
    weighting = Weighting.fit(PLAYS, scheme, k1=1.2, b=b)
    rng = np.random.default_rng(3)
    for columns in ([0], [0, 2], [1, 2, 4]):  # column 4 is an artist added after the fit
        columns = np.array(columns)
        plays = rng.integers(1, 500, size=columns.size).astype(np.float64)
        row = sp.csr_matrix((plays, (np.zeros(columns.size, dtype=int), columns)), shape=(1, 5))
        expected = weighting.transform(row, keep_structure=True)
        np.testing.assert_allclose(weighting.weigh_row(columns, plays), expected.data, rtol=1e-5)
