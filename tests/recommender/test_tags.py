"""Music types: raw Last.fm tags cleaned into one vocabulary, and the catalogue ranking and searching them."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from recommender.catalogue import ArtistCatalogue
from recommender.datasets import LastFmDataset
from recommender.engine import Engine
from recommender.tags import build_vocabulary, clean_tag, is_music_type, tag_key


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [
        ("Hip Hop", "hip-hop"),
        ("hiphop", "hip-hop"),
        ("RnB", "r&b"),
        ("R&B", "r&b"),
        ("r and b", "r&b"),
        ("Drum n Bass", "drum and bass"),
        ("drum'n'bass", "drum and bass"),
        ("dnb", "drum and bass"),
        ("rock'n'roll", "rock and roll"),
        ("80's", "80s"),
        ("1990s", "90s"),
        ("  Indie   Rock ", "indie rock"),
        ("trash metal", "thrash metal"),
    ],
)
def test_clean_tag_merges_spellings_synonyms_and_misspellings(raw: str, cleaned: str) -> None:
    assert clean_tag(raw) == cleaned


@pytest.mark.parametrize(
    "raw",
    ["seen live", "Seen Live", "favorites", "favourite", "my favorite", "love", "albums i own", "check out",
     "awesome", "2008", "1992", "best song ever", "faves", "<3", ""],
)  # fmt: skip
def test_tags_about_the_listener_are_not_music_types(raw: str) -> None:
    assert not is_music_type(raw)
    assert clean_tag(raw) is None


def test_genres_that_look_like_personal_words_stay() -> None:
    for tag in ["cool jazz", "singer-songwriter", "80s", "lovers rock", "k-pop", "post-rock"]:
        assert is_music_type(tag), tag


def test_vocabulary_spells_variants_as_the_data_does_most() -> None:
    uses = {"post rock": 5, "post-rock": 20, "postrock": 1, "female vocalist": 3, "female vocalists": 9, "jazz": 4,
            "seen live": 50, "hip hop": 30, "hip-hop": 2}  # fmt: skip
    vocabulary = build_vocabulary(uses)
    assert {vocabulary[t] for t in ["post rock", "post-rock", "postrock"]} == {"post-rock"}
    assert vocabulary["female vocalist"] == vocabulary["female vocalists"] == "female vocalists"
    # The synonym table names hip-hop's spelling, however the data mostly spells it.
    assert vocabulary["hip hop"] == vocabulary["hip-hop"] == "hip-hop"
    assert vocabulary["jazz"] == "jazz"
    assert "seen live" not in vocabulary


def messy_dataset() -> LastFmDataset:
    artists = pd.DataFrame({"artist_id": [1, 2, 3], "name": ["One", "Two", "Three"], "url": ["", "", ""]})
    plays = pd.DataFrame({"user_id": [10, 11, 12], "artist_id": [1, 2, 3], "plays": [5, 3, 2]})
    names = ["Hip Hop", "hip-hop", "hiphop", "seen live", "2008", "jazz", "songs for gil"]
    tags = pd.DataFrame({"tag_id": range(1, len(names) + 1), "tag": names})
    rows = [
        (10, 1, 1), (11, 1, 2), (12, 1, 3),  # one type spelled three ways, by three listeners
        (10, 1, 4), (11, 1, 4), (12, 1, 4), (10, 1, 5), (11, 1, 5),  # not types, however many use them
        (10, 2, 6), (11, 3, 6),
        (12, 1, 7), (12, 2, 7), (12, 3, 7),  # one listener's own label
    ]  # fmt: skip
    assignments = pd.DataFrame(rows, columns=["user_id", "artist_id", "tag_id"])
    return LastFmDataset(artists, plays, tags, assignments, pd.DataFrame({"user_id": [], "friend_id": []}), Path("."))


def test_catalogue_ranks_cleaned_music_types() -> None:
    catalogue = ArtistCatalogue.from_dataset(messy_dataset())
    assert catalogue.top_tags(1, 10) == ["hip-hop"]
    assert catalogue.top_tags(2, 10) == ["jazz"]
    assert catalogue.search_tags("") == ["jazz", "hip-hop"]
    assert "seen live" not in catalogue.search_tags("", 25)
    assert "songs for gil" not in catalogue.search_tags("", 25)


def test_search_and_find_tag_read_typed_spellings() -> None:
    catalogue = ArtistCatalogue.from_dataset(messy_dataset())
    assert catalogue.search_tags("hip hop") == ["hip-hop"]
    assert catalogue.search_tags("HipH") == ["hip-hop"]
    assert catalogue.find_tag("Hip Hop") == catalogue.find_tag("hiphop") == "hip-hop"
    assert catalogue.find_tag("polka") is None
    assert catalogue.tagged("jazz") == [2, 3]


@pytest.mark.slow
def test_real_vocabulary_is_cleaned(lastfm_catalogue: ArtistCatalogue) -> None:
    everything = lastfm_catalogue.search_tags("", 100_000)
    assert "hip-hop" in everything and "hip hop" not in everything and "hiphop" not in everything
    assert "r&b" in everything and "rnb" not in everything
    assert not {"seen live", "favorites", "favourite", "awesome", "2008", "love"} & set(everything)
    assert len(everything) == len({tag_key(t) for t in everything})


@pytest.mark.slow
def test_genre_ranks_the_whole_catalogue_within_it(lastfm_engine: Engine, lastfm_catalogue: ArtistCatalogue) -> None:
    liked = [lastfm_catalogue.lookup(name).artist_id for name in ["Radiohead", "Muse", "Coldplay"]]
    jazz = set(lastfm_catalogue.tagged("jazz"))
    assert len(jazz) > 100
    found = lastfm_engine.recommend_for_likes(liked, 25, within=jazz)
    assert len(found) == 25
    assert {r.artist.artist_id for r in found} <= jazz
    scores = [r.score for r in found]
    # The overall top 100 holds only a few of them: filtering it could not have given 25.
    top = {r.artist.artist_id for r in lastfm_engine.recommend_for_likes(liked, 100)}
    assert len(top & jazz) < 25
    assert scores == sorted(scores, reverse=True)
