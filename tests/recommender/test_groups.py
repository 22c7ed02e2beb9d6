"""Group blends: strategies and scales on hand-made scores, then on the real fitted engine."""

from __future__ import annotations

from typing import Any, Self

import numpy as np
import pytest
import scipy.sparse as sp

from recommender import groups
from recommender.engine import Engine, EngineError
from recommender.models.base import Recommender


class TableModel(Recommender):
    """Scores the i-th row it is given with the i-th row of a fixed table: a hand-made model."""

    name = "table"

    def __init__(self, table: np.ndarray) -> None:
        self.table = np.asarray(table, dtype=np.float32)

    def fit(self, plays: sp.csr_matrix) -> Self:
        return self

    def score(self, rows: sp.csr_matrix, users: np.ndarray | None = None) -> np.ndarray:
        return self.table[: rows.shape[0]].copy()

    def parameters(self) -> dict[str, Any]:
        return {}

    def arrays(self) -> dict[str, np.ndarray]:
        return {"table": self.table}

    @classmethod
    def restore(cls, parameters: dict[str, Any], arrays: dict[str, np.ndarray]) -> Self:
        return cls(arrays["table"])


def member_rows(n_items: int, liked: list[list[int]], marked: list[list[int]] | None = None) -> list[sp.csr_matrix]:
    """One row per member, 50 pseudo plays per like and -50 per "not interested", as the engine builds them."""
    marked = marked or [[] for _ in liked]
    rows = []
    for likes, marks in zip(liked, marked):
        row = np.zeros((1, n_items), dtype=np.float32)
        row[0, likes] = 50.0
        row[0, marks] = -50.0
        rows.append(sp.csr_matrix(row))
    return rows


# -- hand-made scores -----------------------------------------------------------------------------

# Three members over six artists. Column 0 is liked by member 0, so it is never a candidate.
# Column 1: member 2 loves it, member 0 hates it. Column 2: fine for all. Column 3: member 1 loves it.
HAND_SCORES = np.array(
    [
        [9.0, -3.0, 1.0, 0.5, 0.0, 0.1],
        [0.0, 2.0, 1.0, 4.0, 0.0, 0.1],
        [0.0, 6.0, 1.0, 0.0, 0.0, 0.1],
    ],
    dtype=np.float32,
)


def test_suits_most_and_least_name_the_right_members() -> None:
    model = TableModel(HAND_SCORES)
    rows = member_rows(6, [[0], [4], [5]])
    picks = groups.blend(model, rows, n=3, strategy="average", normalisation="none")
    # Means over members: column 1 = 5/3, column 2 = 1, column 3 = 1.5; columns 0, 4 and 5 are held.
    assert [p.column for p in picks] == [1, 3, 2]
    assert picks[0].score == pytest.approx(5 / 3)
    assert picks[0].member_scores == pytest.approx((-3.0, 2.0, 6.0))
    assert (picks[0].suits_most, picks[0].suits_least) == (2, 0)
    assert (picks[1].suits_most, picks[1].suits_least) == (1, 2)
    # A tie names the first member with that score, both ways round.
    assert (picks[2].suits_most, picks[2].suits_least) == (0, 0)


def test_least_misery_prefers_what_nobody_minds() -> None:
    model = TableModel(HAND_SCORES)
    rows = member_rows(6, [[0], [4], [5]])
    average = groups.blend(model, rows, n=1, strategy="average", normalisation="none")[0]
    least_misery = groups.blend(model, rows, n=1, strategy="least-misery", normalisation="none")[0]
    most_pleasure = groups.blend(model, rows, n=1, strategy="most-pleasure", normalisation="none")[0]
    assert average.column == 1  # loved by member 2, hated by member 0
    assert least_misery.column == 2  # 1.0 for everyone
    assert least_misery.score == pytest.approx(1.0)
    assert min(least_misery.member_scores) > min(average.member_scores)
    assert most_pleasure.column == 1 and most_pleasure.score == pytest.approx(6.0)


def test_zscore_puts_a_quiet_member_on_the_loud_members_scale() -> None:
    # Member 0 scores everything 100 times larger; unnormalised, they alone decide.
    loud = np.array([0.0, 100.0, 0.0, 0.0, 50.0, 0.0, 0.0, 0.0])
    quiet = np.array([0.0, 0.0, 1.0, 0.0, 0.9, 0.0, 0.0, 0.0])
    model = TableModel(np.vstack([loud, quiet]))
    rows = member_rows(8, [[7], [6]])
    assert groups.blend(model, rows, n=1, normalisation="none")[0].column == 1
    top = groups.blend(model, rows, n=1, normalisation="zscore")[0]
    assert top.column == 4  # high for both, once each is on their own scale
    expected = (np.vstack([loud, quiet])[:, 4] - np.vstack([loud, quiet]).mean(axis=1)) / np.vstack([loud, quiet]).std(
        axis=1
    )
    assert top.member_scores == pytest.approx(tuple(expected), rel=1e-5)


def test_never_recommends_what_any_member_liked_or_marked() -> None:
    rng = np.random.default_rng(0)
    scores = rng.normal(size=(4, 50)).astype(np.float32)
    # Make the held artists the best of all, so a leak would show.
    liked = [[0, 1], [2], [3, 4], [5]]
    marked = [[6], [], [7], [8]]
    scores[:, :9] += 100.0
    rows = member_rows(50, liked, marked)
    held = set(range(9))
    for strategy in groups.STRATEGIES:
        for normalisation in groups.NORMALISATIONS:
            picks = groups.blend(TableModel(scores), rows, n=41, strategy=strategy, normalisation=normalisation)
            columns = [p.column for p in picks]
            assert not held & set(columns), (strategy, normalisation)
            assert len(set(columns)) == len(columns)
            assert [p.score for p in picks] == sorted((p.score for p in picks), reverse=True)
            if strategy != "average-without-misery":  # the only one that drops artists
                assert len(columns) == 41, (strategy, normalisation)
    merged = groups.merged_lists(TableModel(scores), rows, n=41)
    assert not held & set(merged.tolist()) and merged.size == 41


def test_held_columns_counts_marks_and_likes_but_not_stored_zeros() -> None:
    row = sp.csr_matrix((np.array([50.0, -50.0, 0.0], dtype=np.float32), (np.zeros(3, int), [3, 1, 7])), shape=(1, 10))
    assert groups.held_columns(row).tolist() == [1, 3]


def test_rank_percentiles_and_borda() -> None:
    scores = np.array([[0.3, 0.1, 0.9, 0.5], [10.0, 40.0, 20.0, 30.0]], dtype=np.float32)
    ranks = groups.rank_percentiles(scores)
    np.testing.assert_allclose(ranks, [[0.5, 0.25, 1.0, 0.75], [0.25, 1.0, 0.5, 0.75]])
    borda = groups.aggregate(ranks, "borda")
    np.testing.assert_allclose(borda, [0.375, 0.625, 0.75, 0.75])
    # Multiplicative: the product of percentiles ranks column 3 (0.75 * 0.75) above column 2 (1 * 0.5).
    product = groups.aggregate(ranks, "multiplicative")
    assert product[3] > product[2] > product[1] > product[0]


def test_average_without_misery_drops_artists_below_a_members_bar() -> None:
    values = np.array([[5.0, 4.0, 3.0, 2.0, 1.0], [1.0, 4.0, 3.0, 2.0, 5.0]], dtype=np.float32)
    # At the 0.5 quantile each member's bar is their median, 3: column 3 is below both bars, 0 and 4 below one.
    result = groups.aggregate(values, "average-without-misery", misery_quantile=0.5)
    assert np.isneginf(result[[0, 3, 4]]).all()
    np.testing.assert_allclose(result[[1, 2]], [4.0, 3.0])
    # The plain average would put columns 0 and 4 level with column 2.
    np.testing.assert_allclose(groups.aggregate(values, "average"), [3.0, 4.0, 3.0, 2.0, 3.0])


def test_a_member_with_nothing_to_go_on_is_neutral_not_nan() -> None:
    scores = np.vstack([np.zeros(5), [0.0, 1.0, 2.0, 3.0, 4.0]]).astype(np.float32)
    normalised = groups.normalise(scores, "zscore")
    assert np.isfinite(normalised).all()
    np.testing.assert_array_equal(normalised[0], 0.0)


def test_merge_round_robin_alternates_and_skips_repeats() -> None:
    lists = [np.array([1, 2, 3, 4]), np.array([2, 5, 6, -1]), np.array([7])]
    assert groups.merge_round_robin(lists, 10).tolist() == [1, 2, 7, 5, 3, 6, 4]
    assert groups.merge_round_robin(lists, 3).tolist() == [1, 2, 7]


def test_unknown_names_and_empty_groups_are_refused() -> None:
    model = TableModel(HAND_SCORES)
    rows = member_rows(6, [[0]])
    with pytest.raises(ValueError, match="unknown strategy"):
        groups.blend(model, rows, strategy="dictator")
    with pytest.raises(ValueError, match="unknown normalisation"):
        groups.blend(model, rows, normalisation="minmax")
    with pytest.raises(ValueError, match="at least one member"):
        groups.blend(model, [])


# -- the real engine ------------------------------------------------------------------------------

TASTES = {
    "metal": ["Iron Maiden", "Metallica", "Slayer", "Megadeth", "Judas Priest"],
    "pop": ["Britney Spears", "Lady Gaga", "Rihanna", "Katy Perry", "Christina Aguilera"],
    "indie": ["Radiohead", "Björk", "Portishead", "Sigur Rós", "Arcade Fire"],
}


@pytest.fixture(scope="module")
def taste_ids(lastfm_catalogue) -> dict[str, list[int]]:
    found = {taste: [lastfm_catalogue.lookup(name) for name in names] for taste, names in TASTES.items()}
    assert all(all(found[t]) for t in found), found
    return {taste: [artist.artist_id for artist in artists] for taste, artists in found.items()}


@pytest.mark.slow
def test_real_blend_avoids_every_members_artists_and_names_members(
    lastfm_engine: Engine, taste_ids, lastfm_catalogue
) -> None:
    not_interested = lastfm_catalogue.lookup("Coldplay").artist_id
    rows = [
        lastfm_engine.likes_row(taste_ids["metal"]),
        lastfm_engine.likes_row(taste_ids["pop"], not_interested=[not_interested]),
        lastfm_engine.likes_row(taste_ids["indie"]),
    ]
    held = {a for ids in taste_ids.values() for a in ids} | {not_interested}
    for strategy in groups.STRATEGIES:
        results = groups.recommend_for_group(lastfm_engine, rows, 20, strategy)
        assert len(results) >= 10, strategy
        artists = [r.artist.artist_id for r in results]
        assert not held & set(artists), strategy
        assert len(set(artists)) == len(artists)
        for result in results:
            assert len(result.member_scores) == 3
            assert result.member_scores[result.suits_most] == max(result.member_scores)
            assert result.member_scores[result.suits_least] == min(result.member_scores)
    # The default blend's member scores are each member's z-scores over all artists.
    scores = lastfm_engine.model.score(groups.stack_rows(rows))
    z = (scores - scores.mean(axis=1, keepdims=True)) / scores.std(axis=1, keepdims=True)
    top = groups.recommend_for_group(lastfm_engine, rows, 5)
    column = lastfm_engine.interactions.artist_column(top[0].artist.artist_id)
    assert top[0].member_scores == pytest.approx(tuple(z[:, column]), rel=1e-4, abs=1e-4)
    assert top[0].score == pytest.approx(float(z[:, column].mean()), rel=1e-4, abs=1e-4)


@pytest.mark.slow
def test_real_least_misery_is_kinder_to_the_worst_served_member(lastfm_engine: Engine, taste_ids) -> None:
    rows = [lastfm_engine.likes_row(taste_ids["metal"]), lastfm_engine.likes_row(taste_ids["pop"])]
    average = groups.blend(lastfm_engine.model, rows, 10, strategy="average")
    least_misery = groups.blend(lastfm_engine.model, rows, 10, strategy="least-misery")
    worst_average = [min(p.member_scores) for p in average]
    worst_least_misery = [min(p.member_scores) for p in least_misery]
    assert np.mean(worst_least_misery) > np.mean(worst_average)
    assert min(worst_least_misery) >= min(worst_average)
    # Not terrible for anyone: every least-misery pick sits well above each member's mean (z > 1).
    assert min(worst_least_misery) > 1.0
    # For a metal fan and a pop fan, the average leans to one side: some pick is far worse for someone.
    assert min(worst_average) < min(worst_least_misery)


@pytest.mark.slow
def test_real_blend_refuses_a_bad_count(lastfm_engine: Engine, taste_ids) -> None:
    rows = [lastfm_engine.likes_row(taste_ids["metal"])]
    with pytest.raises(EngineError, match="between 1 and 100"):
        groups.recommend_for_group(lastfm_engine, rows, 0)
    with pytest.raises(EngineError, match="unknown blend"):
        groups.recommend_for_group(lastfm_engine, rows, 5, "dictator")
