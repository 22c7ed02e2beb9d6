"""What /start offers on the real data: types most common first, then artists of the chosen types only,
each once, representative and popular first, in pages of 25 that come round again."""

from __future__ import annotations

import math

import pytest

from recommender.catalogue import ArtistCatalogue
from recommender.onboarding import (
    MAX_PAGES,
    PAGE_SIZE,
    TAG_DEPTH,
    TYPE_CHOICES,
    music_types,
    offer_page,
    offers,
    type_scores,
)
from recommender.tags import clean_tag

CHOICES = [("rock",), ("hip-hop", "jazz", "metal"), ("electronic", "ambient", "pop", "folk", "80s")]


def test_the_type_menu_holds_the_most_common_cleaned_types_first(lastfm_catalogue: ArtistCatalogue) -> None:
    types = music_types(lastfm_catalogue)
    assert len(types) == TYPE_CHOICES == len(set(types))
    carried = [len(lastfm_catalogue.tagged(t, TAG_DEPTH)) for t in types]
    assert carried == sorted(carried, reverse=True)
    assert all(clean_tag(t) == t for t in types), "only cleaned music types"
    assert {"rock", "electronic", "hip-hop", "metal"} <= set(types)
    assert "seen live" not in types


@pytest.mark.parametrize("types", CHOICES)
def test_every_offer_carries_a_chosen_type_and_appears_once(lastfm_catalogue: ArtistCatalogue, types) -> None:
    offered = offers(lastfm_catalogue, types)
    assert len(offered) == PAGE_SIZE * MAX_PAGES
    assert len({a.artist_id for a in offered}) == len(offered)
    for artist in offered:
        assert set(lastfm_catalogue.top_tags(artist.artist_id, TAG_DEPTH)) & set(types), artist


@pytest.mark.parametrize("types", CHOICES[1:])
def test_each_page_holds_artists_of_every_chosen_type(lastfm_catalogue: ArtistCatalogue, types) -> None:
    offered = offers(lastfm_catalogue, types)
    for number in range(3):
        page = offer_page(offered, number).artists
        for music_type in types:
            assert any(music_type in lastfm_catalogue.top_tags(a.artist_id, TAG_DEPTH) for a in page), (
                number,
                music_type,
            )


def test_one_type_is_offered_best_score_first_popular_and_representative(lastfm_catalogue: ArtistCatalogue) -> None:
    offered = offers(lastfm_catalogue, ["metal"])
    scored = type_scores(lastfm_catalogue, "metal")
    assert [a.artist_id for a in offered] == [a.artist_id for a, _ in scored[: len(offered)]]
    scores = [s for _, s in scored]
    assert scores == sorted(scores, reverse=True)
    top, rank = scored[0][0], lastfm_catalogue.top_tags(scored[0][0].artist_id, TAG_DEPTH).index("metal")
    assert scored[0][1] == pytest.approx(math.log1p(top.listeners) / math.sqrt(rank + 1))
    # The first page is of widely heard artists, well above the type's typical one.
    heard = sorted(a.listeners for a, _ in scored)
    assert min(a.listeners for a in offered[:PAGE_SIZE]) > heard[len(heard) // 2]
    assert "Metallica" in {a.name for a in offered[:PAGE_SIZE]}


def test_pages_split_the_offers_in_order_and_come_round_again(lastfm_catalogue: ArtistCatalogue) -> None:
    offered = offers(lastfm_catalogue, ["hip-hop", "jazz", "metal"])
    pages = [offer_page(offered, n) for n in range(MAX_PAGES)]
    assert all(p.pages == MAX_PAGES and len(p.artists) == PAGE_SIZE for p in pages)
    assert [a for p in pages for a in p.artists] == offered
    assert offer_page(offered, MAX_PAGES) == pages[0]
    assert offer_page(offered, MAX_PAGES + 1).page == 1


def test_the_same_choice_gives_the_same_offers_and_the_order_of_types_only_changes_turns(
    lastfm_catalogue: ArtistCatalogue,
) -> None:
    first = offers(lastfm_catalogue, ["jazz", "metal"])
    assert offers(lastfm_catalogue, ["jazz", "metal"]) == first
    assert offers(lastfm_catalogue, ["jazz", "jazz", "metal"]) == first, "a repeated type counts once"
    swapped = offers(lastfm_catalogue, ["metal", "jazz"])
    assert set(swapped[: PAGE_SIZE * 2]) & set(first[: PAGE_SIZE * 2])


def test_a_type_nobody_carries_offers_nothing(lastfm_catalogue: ArtistCatalogue) -> None:
    assert offers(lastfm_catalogue, ["no such music type"]) == []
    empty = offer_page([], 3)
    assert empty.artists == () and empty.pages == 1 and empty.page == 0
