"""Placing an artist the model has never seen from similar artists it knows, on ALS fitted on the real data."""

from __future__ import annotations

import numpy as np
import pytest

from recommender.engine import Engine
from recommender.placement import Neighbour, place, placed_factors, with_placed

#: An id no Last.fm artist has, as a member artist's would be.
NEW_ID = 10_000_123
#: Last.fm's own neighbours of a Radiohead-like newcomer, with their match; Thom Yorke leads.
LIKE_RADIOHEAD = {"Thom Yorke": 1.0, "Radiohead": 0.9, "Portishead": 0.55, "Björk": 0.5, "Muse": 0.45}


def test_placed_factors_are_the_weighted_mean_at_the_neighbours_length() -> None:
    factors = np.array([[3.0, 0.0], [0.0, 1.0], [5.0, 5.0]], dtype=np.float32)
    placed = placed_factors(factors, [0, 1], [3.0, 1.0])
    mean = (3 * factors[0] + factors[1]) / 4
    np.testing.assert_allclose(placed / np.linalg.norm(placed), mean / np.linalg.norm(mean), rtol=1e-6)
    # Two vectors at right angles average to a shorter one: scaled back to their weighted length.
    assert np.linalg.norm(placed) == pytest.approx((3 * 3.0 + 1 * 1.0) / 4, rel=1e-6)
    with pytest.raises(ValueError):
        placed_factors(factors, [0, 1], [1.0])
    with pytest.raises(ValueError):
        placed_factors(factors, [0], [0.0])
    with pytest.raises(ValueError):
        placed_factors(factors, [], [])


@pytest.fixture(scope="module")
def like_radiohead(lastfm_catalogue) -> list[Neighbour]:
    return [Neighbour(lastfm_catalogue.lookup(name).artist_id, match) for name, match in LIKE_RADIOHEAD.items()]


@pytest.fixture(scope="module")
def placed_engine(lastfm_engine: Engine, like_radiohead: list[Neighbour], lastfm_catalogue) -> Engine:
    catalogue = lastfm_catalogue.extended([(NEW_ID, "Radiohead Revival Society", None)])
    engine = Engine(lastfm_engine.model, lastfm_engine.interactions, catalogue, lastfm_engine.like_plays)
    placed = with_placed(engine, {NEW_ID: like_radiohead})
    assert set(placed.placed) == {NEW_ID}
    return placed.engine


@pytest.mark.slow
def test_an_artist_placed_from_radiohead_like_neighbours_lands_among_them(
    placed_engine: Engine, like_radiohead: list[Neighbour], lastfm_catalogue
) -> None:
    similar = [artist.name for artist, _ in placed_engine.similar(NEW_ID, 10)]
    assert {"Thom Yorke", "Radiohead"} <= set(similar), similar
    # Near its neighbours, far from a pop act none of them resembles.
    factors = placed_engine.model.item_factors
    column = placed_engine.interactions.artist_column(NEW_ID)

    def cosine(name: str) -> float:
        other = factors[placed_engine.interactions.artist_column(lastfm_catalogue.lookup(name).artist_id)]
        return float(factors[column] @ other / (np.linalg.norm(factors[column]) * np.linalg.norm(other)))

    assert cosine("Radiohead") > 0.5 > cosine("Britney Spears")
    assert cosine("Radiohead") > cosine("Britney Spears") + 0.3


@pytest.mark.slow
def test_a_placed_artist_is_recommended_and_explained_to_a_member_who_likes_its_neighbours(
    placed_engine: Engine, like_radiohead: list[Neighbour]
) -> None:
    liked = [n.artist_id for n in like_radiohead]
    found = placed_engine.recommend_for_likes(liked, 10)
    placed = next((r for r in found if r.artist.artist_id == NEW_ID), None)
    assert placed is not None, [r.artist.name for r in found]
    assert {a.name for a in placed.because} & set(LIKE_RADIOHEAD)
    explanation = placed_engine.explain_for_likes(liked, NEW_ID)
    assert explanation.rank is not None and explanation.rank <= 10
    because = next(line for line in explanation.sentences() if line.startswith("Because you like"))
    assert any(name in because for name in LIKE_RADIOHEAD)
    # The shares still sum to the score, as for any fitted artist.
    assert sum(share for _, share in explanation.contributions) == pytest.approx(explanation.score, abs=1e-4)


@pytest.mark.slow
def test_a_member_of_other_tastes_is_not_recommended_it(placed_engine: Engine, lastfm_catalogue) -> None:
    pop = [lastfm_catalogue.lookup(name).artist_id for name in ("Britney Spears", "Rihanna", "Katy Perry")]
    assert NEW_ID not in {r.artist.artist_id for r in placed_engine.recommend_for_likes(pop, 50)}


@pytest.mark.slow
def test_placing_leaves_the_fitted_engine_whole_and_a_learned_artist_alone(
    lastfm_engine: Engine, placed_engine: Engine, like_radiohead: list[Neighbour]
) -> None:
    assert placed_engine.model.n_items == lastfm_engine.model.n_items + 1
    assert lastfm_engine.interactions.artist_column(NEW_ID) is None
    np.testing.assert_array_equal(placed_engine.model.item_factors[:-1], lastfm_engine.model.item_factors)
    # An engine that has the artist (as after a refit that learned it from likes) keeps its factors.
    again = with_placed(placed_engine, {NEW_ID: like_radiohead[-1:]})
    assert again.engine is placed_engine and again.placed == {}
    # A neighbour the model does not know is skipped; with none known, nothing is placed.
    assert place(lastfm_engine, [Neighbour(NEW_ID + 1, 1.0)]) is None
    factors, used = place(lastfm_engine, [Neighbour(NEW_ID + 1, 1.0), *like_radiohead])
    assert [n.artist_id for n in used] == [n.artist_id for n in like_radiohead]
    assert with_placed(lastfm_engine, {NEW_ID + 2: [Neighbour(NEW_ID + 1, 1.0)]}).placed == {}


@pytest.mark.slow
def test_appending_items_updates_the_model_as_a_refitted_gram_would(lastfm_engine: Engine, like_radiohead) -> None:
    model = lastfm_engine.model
    extra = model.item_factors[:3] * 0.5
    appended = model.with_items(extra)
    rebuilt = type(model).restore(
        model.parameters(), {**model.arrays(), "item_factors": np.vstack([model.item_factors, extra])}
    )
    assert appended.n_items == rebuilt.n_items == model.n_items + 3
    row = lastfm_engine.likes_row([n.artist_id for n in like_radiohead])
    np.testing.assert_allclose(appended.solve_row(row).vector, rebuilt.solve_row(row).vector, rtol=1e-4, atol=1e-6)
    assert model.item_factors.shape[0] == lastfm_engine.interactions.shape[1], "the fitted model is unchanged"
