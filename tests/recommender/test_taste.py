"""Compatibility (calibrated cosines) and genre profiles: recommender/taste.py."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recommender import taste
from recommender.catalogue import ArtistCatalogue


def test_cosine_and_cosines_to() -> None:
    assert taste.cosine(np.array([1.0, 0.0]), np.array([2.0, 0.0])) == pytest.approx(1.0)
    assert taste.cosine(np.array([1.0, 0.0]), np.array([0.0, 3.0])) == pytest.approx(0.0)
    assert taste.cosine(np.array([1.0, 1.0]), np.array([-1.0, -1.0])) == pytest.approx(-1.0)
    assert taste.cosine(np.zeros(2), np.array([1.0, 0.0])) == 0.0
    got = taste.cosines_to(np.array([1.0, 0.0]), np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]))
    assert got.tolist() == pytest.approx([1.0, 0.0, 0.0])


def test_percentile_counts_pairs_below_and_half_the_ties() -> None:
    calibration = taste.PairCalibration(np.array([0.1, 0.2, 0.3, 0.4]))
    assert calibration.percentile(0.0) == 0.0
    assert calibration.percentile(0.25) == 0.5
    assert calibration.percentile(0.3) == pytest.approx(0.625)
    assert calibration.percentile(0.9) == 1.0
    with pytest.raises(ValueError):
        taste.PairCalibration(np.array([]))


def test_calibration_from_vectors_uses_every_distinct_pair() -> None:
    vectors = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.0, 0.0]])  # the zero row is left out
    calibration = taste.PairCalibration.from_vectors(vectors)
    assert len(calibration) == 3
    assert calibration.similarities.tolist() == pytest.approx([0.0, np.sqrt(0.5), np.sqrt(0.5)])
    compatibility = calibration.compatibility(np.array([1.0, 0.0]), np.array([3.0, 0.0]))
    assert compatibility.similarity == pytest.approx(1.0) and compatibility.percentile == 1.0
    assert compatibility.percent == 100 and compatibility.words == "remarkably similar taste"


@pytest.mark.parametrize(
    ("percentile", "words"),
    [
        (0.99, "remarkably similar taste"),
        (0.87, "very similar taste"),
        (0.6, "fairly similar taste"),
        (0.5, "about as alike as any two listeners"),
        (0.3, "rather different tastes"),
        (0.01, "very different tastes"),
    ],
)
def test_words_for_percentiles(percentile: float, words: str) -> None:
    assert taste.describe_percentile(percentile) == words
    assert taste.Compatibility(0.0, percentile).percent == int(percentile * 100)


def tagged() -> ArtistCatalogue:
    frame = pd.DataFrame({"artist_id": [1, 2, 3, 4], "name": ["A", "B", "C", "D"]})
    tags = {1: ["rock", "seen live", "indie"], 2: ["jazz"], 3: ["rock", "jazz"]}
    return ArtistCatalogue(frame, tags=tags)


def test_genre_profile_weighs_first_tags_most_and_skips_non_genres() -> None:
    profile = dict(taste.genre_profile(tagged(), [1, 2, 3, 4, 99]))
    # A: rock 2/3, indie 1/3 ("seen live" is no genre); B: jazz 1; C: rock 2/3, jazz 1/3; D has no tags.
    assert set(profile) == {"rock", "indie", "jazz"}
    assert sum(profile.values()) == pytest.approx(1.0)
    assert profile["rock"] == pytest.approx((4 / 3) / 3)
    assert profile["jazz"] == pytest.approx((4 / 3) / 3)
    assert profile["indie"] == pytest.approx((1 / 3) / 3)
    ordered = taste.genre_profile(tagged(), [1, 2, 3])
    assert [g for g, _ in ordered] == ["jazz", "rock", "indie"]  # ties by name


def test_genre_profile_weights_and_empty_cases() -> None:
    profile = dict(taste.genre_profile(tagged(), [1, 2], weights=[1.0, 3.0]))
    assert profile["jazz"] == pytest.approx(0.75)
    assert taste.genre_profile(tagged(), [4]) == []
    assert taste.genre_profile(tagged(), []) == []
    with pytest.raises(ValueError):
        taste.genre_profile(tagged(), [1, 2], weights=[1.0])


def test_side_by_side_orders_by_the_two_shares_together() -> None:
    rows = taste.side_by_side([("rock", 0.6), ("jazz", 0.4)], [("jazz", 0.5), ("pop", 0.5)], n=2)
    assert rows == [("jazz", 0.4, 0.5), ("rock", 0.6, 0.0)]


@pytest.mark.slow
def test_calibration_on_the_real_model_tells_alike_from_unlike(lastfm_engine) -> None:
    calibration = taste.calibrate(lastfm_engine, users=300)
    assert len(calibration) == 300 * 299 // 2
    catalogue, model = lastfm_engine.catalogue, lastfm_engine.model

    def vector(*names: str) -> np.ndarray:
        ids = [catalogue.lookup(n).artist_id for n in names]
        return model.solve_row(lastfm_engine.likes_row(ids)).vector

    art_pop = vector("Radiohead", "Björk", "Portishead")
    alike = calibration.compatibility(art_pop, vector("Radiohead", "Sigur Rós", "Massive Attack"))
    unlike = calibration.compatibility(art_pop, vector("Metallica", "Slayer", "Iron Maiden"))
    assert alike.percentile > 0.9 > 0.3 > unlike.percentile
    assert calibration.compatibility(art_pop, art_pop).percentile == 1.0
