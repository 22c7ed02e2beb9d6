from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from recommender.catalogue import Artist, ArtistCatalogue, Resolution, lastfm_url
from recommender.datasets import LastFmDataset, load_hetrec


def small_catalogue() -> ArtistCatalogue:
    artists = pd.DataFrame(
        {
            "artist_id": [1, 2, 3, 4, 5, 6, 7],
            "name": [
                "Nirvana",
                "Nirvana",
                "Nine Inch Nails",
                "Nina Simone",
                "Sigur Rós",
                "Björk",
                "Ninja",
            ],
            "url": ["http://x/nirvana-uk", "http://x/nirvana", "", "http://x/nina", "", "", ""],
        }
    )
    listeners = {1: 2, 2: 50, 3: 30, 4: 40, 5: 10, 6: 20}
    tags = {2: ["grunge", "rock", "90s"], 6: ["icelandic"]}
    return ArtistCatalogue(artists, listeners, tags)


# --- construction, get, membership -----------------------------------------------------


def test_get_len_contains_and_iteration_order() -> None:
    catalogue = small_catalogue()
    assert len(catalogue) == 7
    assert 3 in catalogue and 99 not in catalogue
    assert catalogue.get(3) == Artist(3, "Nine Inch Nails", lastfm_url("Nine Inch Nails"), 30)
    with pytest.raises(KeyError):
        catalogue.get(99)
    # Most listened first; an artist missing from the listeners map has 0 and comes last.
    assert [a.artist_id for a in catalogue] == [2, 4, 3, 6, 5, 1, 7]
    assert catalogue.get(7).listeners == 0


def test_duplicate_ids_are_rejected() -> None:
    artists = pd.DataFrame({"artist_id": [1, 1], "name": ["A", "B"]})
    with pytest.raises(ValueError, match="unique"):
        ArtistCatalogue(artists)


def test_catalogue_without_url_column_builds_urls() -> None:
    catalogue = ArtistCatalogue(pd.DataFrame({"artist_id": [8], "name": ["AC/DC"]}))
    assert catalogue.get(8).url == "https://www.last.fm/music/AC%2FDC"


# --- lookup, url_for, resolve ------------------------------------------------------------


def test_lookup_prefers_the_most_listened_of_equal_names() -> None:
    catalogue = small_catalogue()
    found = catalogue.lookup("nirvana")
    assert found is not None and found.artist_id == 2
    assert catalogue.lookup("  NIRVANA ") == found
    assert catalogue.lookup("sigur ros") == catalogue.get(5)
    assert catalogue.lookup("bjork") == catalogue.get(6)
    assert catalogue.lookup("nirvan") is None
    assert catalogue.lookup("") is None


def test_url_for_uses_the_known_url_or_builds_one() -> None:
    catalogue = small_catalogue()
    assert catalogue.url_for("Nirvana") == "http://x/nirvana"
    # Known artist with an empty url in the data: built from its catalogue name.
    assert catalogue.url_for("sigur ros") == "https://www.last.fm/music/Sigur+R%C3%B3s"
    assert catalogue.url_for("Guns N' Roses & Friends") == ("https://www.last.fm/music/Guns+N%27+Roses+%26+Friends")


def test_resolve_exact_and_inexact() -> None:
    catalogue = small_catalogue()
    exact = catalogue.resolve("NIRVANA")
    assert exact == Resolution(catalogue.get(2), [])
    inexact = catalogue.resolve("nirvanna")
    assert inexact.artist is None
    assert inexact.suggestions == catalogue.search("nirvanna", 5)
    assert inexact.suggestions[0].artist_id == 2


# --- search ----------------------------------------------------------------------------


def test_empty_query_lists_the_most_popular() -> None:
    catalogue = small_catalogue()
    assert [a.artist_id for a in catalogue.search("", 3)] == [2, 4, 3]
    assert [a.artist_id for a in catalogue.search("   ", 2)] == [2, 4]
    assert catalogue.search("nin", 0) == []


def test_prefix_matches_come_first_by_popularity_then_fuzzy() -> None:
    catalogue = small_catalogue()
    results = catalogue.search("nin", 10)
    ids = [a.artist_id for a in results]
    # Prefix "nin": Nina Simone (40), Nine Inch Nails (30), Ninja (0) in popularity order...
    assert ids[:3] == [4, 3, 7]
    # ...then fuzzy matches, no artist twice.
    assert len(ids) == len(set(ids))
    assert all(a.artist_id not in {4, 3, 7} for a in results[3:])


def test_prefix_results_are_capped_at_limit() -> None:
    catalogue = small_catalogue()
    assert [a.artist_id for a in catalogue.search("ni", 2)] == [2, 4]


def test_typo_finds_the_artist_and_ranks_by_score() -> None:
    catalogue = small_catalogue()
    assert catalogue.search("sigur rossss", 3)[0].artist_id == 5
    assert catalogue.search("bjrok", 3)[0].artist_id == 6


def test_fuzzy_matches_rank_by_score_before_popularity() -> None:
    artists = pd.DataFrame({"artist_id": [1, 2, 3], "name": ["Metric", "Metallica", "Mettalika"]})
    catalogue = ArtistCatalogue(artists, {1: 100, 2: 10, 3: 10})
    # No name starts with "metalica": all three come from fuzzy matching.
    assert [a.name for a in catalogue.search("metalica")] == ["Metallica", "Mettalika", "Metric"]


def test_nonsense_query_finds_nothing_in_a_small_catalogue() -> None:
    assert small_catalogue().search("qwzxv blorp") == []


# --- top tags ---------------------------------------------------------------------------


def tagged_dataset() -> LastFmDataset:
    artists = pd.DataFrame(
        {
            "artist_id": [1, 2, 3],
            "name": ["One", "Two", "Three"],
            "url": ["", "", ""],
            "picture_url": ["", "", ""],
        }
    )
    plays = pd.DataFrame({"user_id": [10, 11, 12, 10], "artist_id": [1, 1, 1, 2], "plays": [5, 3, 2, 1]})
    tags = pd.DataFrame({"tag_id": [1, 2, 3, 4, 5], "tag": ["Rock", "rock", "Pop", "jazz", "ambient"]})
    # Artist 1: "rock" by users 10, 11, 12 (two ids differ only in case; user 10 used both),
    # "pop" and "jazz" by two users each (tie -> alphabetical), "ambient" by one.
    rows = [
        (10, 1, 1), (10, 1, 2), (11, 1, 2), (12, 1, 1),
        (10, 1, 3), (11, 1, 3),
        (11, 1, 4), (12, 1, 4),
        (12, 1, 5),
        (10, 2, 4),
    ]  # fmt: skip
    assignments = pd.DataFrame(rows, columns=["user_id", "artist_id", "tag_id"])
    friends = pd.DataFrame({"user_id": [10], "friend_id": [11]})
    return LastFmDataset(artists, plays, tags, assignments, friends, Path("."))


def test_top_tags_rank_by_distinct_users_lowercase_ties_by_name() -> None:
    catalogue = ArtistCatalogue.from_dataset(tagged_dataset(), min_taggers=1)
    assert catalogue.top_tags(1, 10) == ["rock", "jazz", "pop", "ambient"]
    assert catalogue.top_tags(1) == ["rock", "jazz", "pop", "ambient"]
    assert catalogue.top_tags(1, 2) == ["rock", "jazz"]
    assert catalogue.top_tags(2) == ["jazz"]
    assert catalogue.top_tags(3) == []
    with pytest.raises(KeyError):
        catalogue.top_tags(42)


def test_from_dataset_counts_distinct_listeners_and_caps_tags() -> None:
    catalogue = ArtistCatalogue.from_dataset(tagged_dataset(), top_tags_per_artist=2)
    assert [(a.artist_id, a.listeners) for a in catalogue] == [(1, 3), (2, 1), (3, 0)]
    assert catalogue.top_tags(1, 5) == ["rock", "jazz"]
    assert ArtistCatalogue.from_dataset(tagged_dataset(), top_tags_per_artist=0).top_tags(1) == []


# --- the real data -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def real(lastfm_dir: Path) -> ArtistCatalogue:
    return ArtistCatalogue.from_dataset(load_hetrec(lastfm_dir))


@pytest.mark.parametrize(
    ("typed", "name"),
    [
        ("beyonce", "Beyoncé"),
        ("the beatles", "The Beatles"),
        ("sigur ros", "Sigur Rós"),
        ("ac dc", "AC/DC"),
        ("AC/DC", "AC/DC"),
        ("BEATLES", "The Beatles"),
    ],
)
def test_real_lookup(real: ArtistCatalogue, typed: str, name: str) -> None:
    found = real.lookup(typed)
    assert found is not None and found.name == name


def test_real_catalogue_size_and_popularity(real: ArtistCatalogue) -> None:
    assert len(real) == 17_632
    beatles = real.lookup("the beatles")
    assert beatles is not None and beatles.listeners == 480
    # The empty query lists the most listened artists, in order.
    top = real.search("", 10)
    assert top[0].name == "Lady Gaga"
    assert [a.listeners for a in top] == sorted((a.listeners for a in top), reverse=True)


def test_real_nonsense_has_no_match_but_resolves_safely(real: ArtistCatalogue) -> None:
    assert real.lookup("qwzxv blorp") is None
    resolution = real.resolve("qwzxv blorp")
    assert resolution.artist is None
    assert isinstance(resolution.suggestions, list) and len(resolution.suggestions) <= 5


def test_real_search_autocompletes_and_forgives_typos(real: ArtistCatalogue) -> None:
    assert real.search("bea", 3)[0].name == "The Beatles"
    assert real.search("radiohed", 5)[0].name == "Radiohead"
    assert real.search("metalica", 5)[0].name == "Metallica"
    assert real.search("britney spars", 5)[0].name == "Britney Spears"
    assert [a.name for a in real.search("Кино", 1)] == ["Кино"]


def test_real_url_for(real: ArtistCatalogue) -> None:
    assert real.url_for("the beatles") == "https://www.last.fm/music/The+Beatles"
    assert real.url_for("qwzxv blorp") == "https://www.last.fm/music/qwzxv+blorp"


def test_real_top_tags_of_the_beatles(real: ArtistCatalogue) -> None:
    beatles = real.lookup("the beatles")
    assert beatles is not None
    tags = real.top_tags(beatles.artist_id, 5)
    assert len(tags) == 5
    assert {"classic rock", "rock"} <= set(tags)
    assert all(t == t.lower() for t in tags)


def test_search_tags_prefix_first_then_substring_by_use() -> None:
    frame = pd.DataFrame({"artist_id": [1, 2, 3, 4], "name": ["A", "B", "C", "D"]})
    tags = {1: ["rock", "indie rock"], 2: ["rock", "post-rock", "jazz"], 3: ["rockabilly", "jazz"], 4: ["rock"]}
    catalogue = ArtistCatalogue(frame, tags=tags)
    assert catalogue.search_tags("") == ["rock", "jazz", "indie rock", "post-rock", "rockabilly"]
    assert catalogue.search_tags("ROCK") == ["rock", "rockabilly", "indie rock", "post-rock"]
    assert catalogue.search_tags("  rock ", 2) == ["rock", "rockabilly"]
    assert catalogue.search_tags("jaz") == ["jazz"]
    assert catalogue.search_tags("polka") == []
    assert catalogue.search_tags("rock", 0) == []
