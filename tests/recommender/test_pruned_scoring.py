"""PrunedTopN: the dense path's top n, bit for bit, from scoring only the artists that can reach it."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from recommender.debias import normalised_log_popularity, rerank
from recommender.pruned_scoring import PrunedTopN
from recommender.ranking import SAMPLE_STRIDE, top_n


def skewed_factors(rng: np.random.Generator, n_items: int, factors: int = 16) -> np.ndarray:
    """Factors whose norms spread over orders of magnitude, like ALS's (a few popular artists far out)."""
    directions = rng.standard_normal((n_items, factors))
    return (directions * rng.lognormal(-1.5, 1.2, size=(n_items, 1))).astype(np.float32)


def popularity_of(rng: np.random.Generator, n_items: int) -> np.ndarray:
    """Normalised log popularity of Zipf-like listener counts: many equal values at the low end."""
    listeners = np.minimum(rng.zipf(1.6, size=n_items), 50_000)
    return normalised_log_popularity(listeners.astype(np.float64))


def dense(
    factors: np.ndarray, popularity: np.ndarray, vector: np.ndarray, n: int, excluded: np.ndarray, penalty: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What Engine._recommend does without the pruned scorer: columns, ranking scores, model scores."""
    scores = factors @ np.asarray(vector, dtype=np.float32)
    row = sp.csr_matrix(
        (np.ones(excluded.size, dtype=np.float32), (np.zeros(excluded.size, dtype=np.int64), excluded)),
        shape=(1, factors.shape[0]),
    )
    ids, ranked = top_n(rerank(scores, popularity, penalty), n, exclude=row)
    found = ids[0] >= 0
    return ids[0][found], ranked[0][found], scores[ids[0][found]]


def served(scorer: PrunedTopN, factors, popularity, vector, n, excluded, penalty):
    """The pruned answer, or the dense one where the scorer declines (as the engine does)."""
    pruned = scorer.top(vector, n, excluded, penalty)
    if pruned is None:
        return None, dense(factors, popularity, vector, n, excluded, penalty)
    return pruned, (pruned.columns, pruned.ranking_scores, pruned.scores)


def assert_same(got, expected) -> None:
    for a, b in zip(got, expected):
        np.testing.assert_array_equal(a, b)
        assert a.dtype == b.dtype or a.dtype.kind == b.dtype.kind


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("penalty", [0.0, 0.1, 0.5, 2.0])
def test_equals_the_dense_path_on_random_factors(seed: int, penalty: float) -> None:
    rng = np.random.default_rng(seed)
    n_items = int(rng.integers(3_000, 9_000))  # often not a multiple of the row groups
    factors = skewed_factors(rng, n_items, int(rng.choice([8, 16, 33, 64])))
    popularity = popularity_of(rng, n_items)
    scorer = PrunedTopN.build(factors, popularity)
    assert scorer is not None, "this BLAS scores blocks of rows differently from the whole matrix"
    pruned_calls = 0
    for _ in range(12):
        vector = rng.standard_normal(factors.shape[1]) * rng.lognormal(0, 1)
        n = int(rng.choice([1, 3, 10, 11]))
        excluded = rng.choice(n_items, size=int(rng.integers(0, 40)), replace=False)
        pruned, got = served(scorer, factors, popularity, vector, n, excluded, penalty)
        assert_same(got, dense(factors, popularity, vector, n, excluded, penalty))
        if pruned is not None:
            pruned_calls += 1
            assert pruned.scored <= n_items
    assert pruned_calls >= 6  # the pruned path really was the one tested


@pytest.mark.parametrize("penalty", [0.0, 0.5])
def test_excluding_the_best_columns_makes_it_look_further(penalty: float) -> None:
    rng = np.random.default_rng(7)
    factors = skewed_factors(rng, 6_000)
    popularity = popularity_of(rng, 6_000)
    scorer = PrunedTopN.build(factors, popularity)
    for _ in range(10):
        vector = rng.standard_normal(16)
        ranked = rerank(factors @ vector.astype(np.float32), popularity, penalty)
        excluded = np.argsort(-ranked)[: int(rng.integers(1, 300))]  # the member already likes the top
        pruned, got = served(scorer, factors, popularity, vector, 10, excluded, penalty)
        assert pruned is not None
        assert not set(got[0].tolist()) & set(excluded.tolist())
        assert_same(got, dense(factors, popularity, vector, 10, excluded, penalty))


def test_a_member_who_likes_most_of_the_sample_falls_back_to_the_dense_path() -> None:
    """top_n only takes its one-row path when its sample has n finite scores; otherwise the scorer
    declines, and the dense path (with its padding) answers."""
    rng = np.random.default_rng(3)
    factors = skewed_factors(rng, 4_000)
    popularity = popularity_of(rng, 4_000)
    scorer = PrunedTopN.build(factors, popularity)
    sampled = np.arange(0, 4_000, SAMPLE_STRIDE)
    excluded = sampled[: sampled.size - 5]  # 5 sampled columns left, 10 asked for
    vector = rng.standard_normal(16)
    assert scorer.top(vector, 10, excluded) is None
    assert scorer.top(vector, 5, excluded) is not None
    _, got = served(scorer, factors, popularity, vector, 5, excluded, 0.0)
    assert_same(got, dense(factors, popularity, vector, 5, excluded, 0.0))


@pytest.mark.parametrize("n", [0, 40, 100, 5_000])
def test_n_too_large_for_the_sampled_path_is_left_to_the_dense_path(n: int) -> None:
    rng = np.random.default_rng(4)
    factors = skewed_factors(rng, 5_000)
    popularity = popularity_of(rng, 5_000)
    scorer = PrunedTopN.build(factors, popularity)
    vector = rng.standard_normal(16)
    if n * SAMPLE_STRIDE * 4 > 5_000 or n == 0:
        assert scorer.top(vector, n, np.array([], dtype=np.int64)) is None
    for penalty in (0.0, 0.5):
        _, got = served(scorer, factors, popularity, vector, n, np.arange(0, 5_000, 3), penalty)
        assert_same(got, dense(factors, popularity, vector, n, np.arange(0, 5_000, 3), penalty))


@pytest.mark.parametrize("penalty", [0.0, 0.5])
def test_zero_and_negative_vectors(penalty: float) -> None:
    rng = np.random.default_rng(5)
    factors = np.abs(skewed_factors(rng, 4_100))  # every score has the vector's sign
    popularity = popularity_of(rng, 4_100)
    scorer = PrunedTopN.build(factors, popularity)
    zero = np.zeros(16)
    assert scorer.top(zero, 10, np.array([], dtype=np.int64), penalty) is None
    _, got = served(scorer, factors, popularity, zero, 10, np.array([7, 9]), penalty)
    assert_same(got, dense(factors, popularity, zero, 10, np.array([7, 9]), penalty))
    assert got[0].tolist() == [0, 1, 2, 3, 4, 5, 6, 8, 10, 11]  # all tied at 0: lower columns first
    negative = -np.abs(rng.standard_normal(16))
    _, got = served(scorer, factors, popularity, negative, 10, np.array([], dtype=np.int64), penalty)
    assert_same(got, dense(factors, popularity, negative, 10, np.array([], dtype=np.int64), penalty))


@pytest.mark.parametrize("penalty", [0.0, 0.3])
def test_ties_go_to_the_lower_column_as_in_top_n(penalty: float) -> None:
    """Artists with identical factors and popularity score identically; the lower column wins."""
    rng = np.random.default_rng(6)
    distinct = np.round(rng.standard_normal((40, 8)) * 4) / 4  # few values: exact sums, many equal
    rows = rng.integers(0, 40, size=6_000)
    factors = distinct[rows].astype(np.float32)
    popularity = normalised_log_popularity((rows % 5 + 1).astype(np.float64))
    scorer = PrunedTopN.build(factors, popularity)
    for _ in range(10):
        vector = np.round(rng.standard_normal(8) * 2) / 2
        excluded = rng.choice(6_000, size=20, replace=False)
        pruned, got = served(scorer, factors, popularity, vector, 10, excluded, penalty)
        assert pruned is not None
        expected = dense(factors, popularity, vector, 10, excluded, penalty)
        assert_same(got, expected)
        assert np.unique(got[1]).size < got[1].size  # there were ties to break


def test_non_finite_factors_leave_everything_to_the_dense_path() -> None:
    rng = np.random.default_rng(8)
    factors = skewed_factors(rng, 3_000)
    factors[17, 3] = np.nan
    assert PrunedTopN.build(factors, popularity_of(rng, 3_000)) is None


def test_a_negative_penalty_is_refused_as_rerank_refuses_it() -> None:
    rng = np.random.default_rng(9)
    scorer = PrunedTopN.build(skewed_factors(rng, 3_000), popularity_of(rng, 3_000))
    with pytest.raises(ValueError, match="penalty"):
        scorer.top(rng.standard_normal(16), 10, np.array([], dtype=np.int64), -0.1)


def test_scores_far_fewer_artists_than_there_are() -> None:
    rng = np.random.default_rng(10)
    factors = skewed_factors(rng, 40_000, 32)
    scorer = PrunedTopN.build(factors, popularity_of(rng, 40_000))
    scored = [scorer.top(rng.standard_normal(32), 10, np.array([], dtype=np.int64)).scored for _ in range(20)]
    assert np.median(scored) < 40_000 / 4


def test_bins_are_whole_row_groups_and_cover_every_artist_once() -> None:
    rng = np.random.default_rng(11)
    scorer = PrunedTopN(skewed_factors(rng, 5_003), popularity_of(rng, 5_003))
    assert np.all(scorer.sizes % 16 == 0) and scorer.sizes.sum() == 5_003 - 5_003 % 16
    assert sorted(scorer.columns.tolist()) == list(range(5_003))
    assert scorer.columns[-(5_003 % 16) :].tolist() == list(range(5_003 - 5_003 % 16, 5_003))
    for start, stop, least in zip(scorer.starts[:-1], scorer.starts[1:], scorer.bin_min_popularity):
        assert np.all(np.diff(scorer.norms[start:stop]) <= 0)
        assert scorer.popularity_in_order[start:stop].min() == pytest.approx(least)


def crowded_out(
    rng: np.random.Generator, top_norms: np.ndarray, crowd_score: float, spacer_norm: float
) -> tuple[np.ndarray, np.ndarray]:
    """Factors where 600 artists of norm 10 (more than a first round takes) score `crowd_score` for
    the vector e0, 400 of norm `spacer_norm` score 0 (so that a bound a hair too tight stops before the
    next artists, whole row groups and all) and those parallel to e0, of norms `top_norms`, score
    their norm; the rest, small, little. Returns (factors, e0)."""
    factors = rng.standard_normal((3_700, 8)) * 0.01
    factors[: 1_000 + top_norms.size] = 0
    factors[:600, 0] = crowd_score
    factors[:600, 1] = np.sqrt(100 - crowd_score**2)
    factors[600:1_000, 2] = spacer_norm
    factors[1_000 : 1_000 + top_norms.size, 0] = top_norms
    vector = np.zeros(8)
    vector[0] = 1.0
    order = rng.permutation(3_700)
    return factors[order].astype(np.float32), vector


@pytest.mark.parametrize("penalty", [0.0, 0.5])
def test_artists_at_the_cauchy_schwarz_bound_are_not_cut(penalty: float) -> None:
    """Parallel artists score exactly |u| |v|: a bound any tighter than the rounding allows loses them."""
    rng = np.random.default_rng(12)
    factors, vector = crowded_out(rng, np.linspace(1.001, 1.009, 10), crowd_score=1.0, spacer_norm=1.0095)
    popularity = np.full(3_700, 0.5)
    scorer = PrunedTopN.build(factors, popularity)
    pruned, got = served(scorer, factors, popularity, vector, 10, np.array([], dtype=np.int64), penalty)
    assert pruned is not None and pruned.scored < 3_700
    assert_same(got, dense(factors, popularity, vector, 10, np.array([], dtype=np.int64), penalty))


def test_the_best_score_is_found_beyond_the_largest_norms() -> None:
    """The penalty scales by the row's best score; here it belongs to a small artist, not one of the
    many large ones the first round scores."""
    rng = np.random.default_rng(13)
    factors, vector = crowded_out(rng, np.array([0.5]), crowd_score=0.4, spacer_norm=0.55)
    best = int(np.argmax(factors @ vector.astype(np.float32)))
    popularity = np.full(3_700, 0.5)
    popularity[best] = 1.0  # nor among the least popular, which a first round with a penalty scores too
    scorer = PrunedTopN.build(factors, popularity)
    pruned, got = served(scorer, factors, popularity, vector, 10, np.array([], dtype=np.int64), 0.5)
    assert pruned is not None
    assert_same(got, dense(factors, popularity, vector, 10, np.array([], dtype=np.int64), 0.5))


# -- in the engine --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def synthetic_engine():
    """An engine on a small synthetic Last.fm-360K-shaped matrix (recommender/synthetic.py)."""
    import pandas as pd

    from recommender.catalogue import ArtistCatalogue
    from recommender.engine import Engine
    from recommender.models.als import ALSConfig, ALSRecommender
    from recommender.synthetic import artist_name, generate

    interactions = generate(users=3_000, artists=6_003, pairs=90_000, seed=1)
    model = ALSRecommender(ALSConfig(factors=24, iterations=3)).fit(interactions.plays)
    ids = interactions.artist_ids.tolist()
    catalogue = ArtistCatalogue(pd.DataFrame([(a, artist_name(a)) for a in ids], columns=["artist_id", "name"]))
    return Engine(model, interactions, catalogue)


@pytest.mark.parametrize("penalty", [None, 0.5, 3.0])
def test_the_engine_recommends_the_same_with_and_without_pruning(synthetic_engine, penalty) -> None:
    engine = synthetic_engine
    rng = np.random.default_rng(14)
    listeners = np.asarray((engine.interactions.plays > 0).sum(axis=0)).ravel().astype(np.float64)
    pruned_requests = 0
    for _ in range(25):
        liked = rng.choice(
            engine.interactions.artist_ids, size=int(rng.integers(1, 25)), replace=False, p=listeners / listeners.sum()
        ).tolist()
        disliked = rng.choice(engine.interactions.artist_ids, size=int(rng.integers(0, 3)), replace=False).tolist()
        n = int(rng.choice([1, 5, 10, 20]))
        engine.pruned_from_artists = 0
        row = engine.likes_row(liked, disliked)
        pruned_requests += engine._pruned_top(engine.model.solve_row(row), row, n, penalty) is not None
        got = engine.recommend_for_likes(liked, n, not_interested=disliked, popularity_penalty=penalty)
        engine.pruned_from_artists = 10**12
        assert got == engine.recommend_for_likes(liked, n, not_interested=disliked, popularity_penalty=penalty)
    assert pruned_requests >= 20


def test_the_engine_recommends_the_same_to_users_of_the_matrix(synthetic_engine) -> None:
    """Users of the matrix exclude everything they play (tens of artists, hundreds for some)."""
    engine = synthetic_engine
    heavy = np.argsort(-np.diff(engine.interactions.plays.indptr))[:5].tolist()
    for user in heavy + list(range(0, 3_000, 300)):
        key = str(engine.interactions.user_keys[user])
        engine.pruned_from_artists = 0
        got = engine.recommend_for_user(key, 10)
        engine.pruned_from_artists = 10**12
        assert got == engine.recommend_for_user(key, 10)


def test_small_catalogues_keep_the_dense_pass(synthetic_engine) -> None:
    from recommender.engine import PRUNED_FROM_ARTISTS, Engine

    engine = Engine(synthetic_engine.model, synthetic_engine.interactions, synthetic_engine.catalogue)
    assert engine.pruned_from_artists == PRUNED_FROM_ARTISTS > engine.model.n_items
    engine.recommend_for_likes(synthetic_engine.interactions.artist_ids[:3].tolist(), 10)
    assert engine._pruned is None and not engine._pruned_built
    engine.pruned_from_artists = 0
    assert engine.prepare() is engine and engine._pruned is not None
