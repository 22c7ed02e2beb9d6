"""Listen links on recommendation lines: the three services, and the embed limit with long names."""

from __future__ import annotations

from bot.menus.recommend import describe
from bot.utils import DESCRIPTION_LIMIT, listen_links, with_listen_links
from recommender.catalogue import Artist, lastfm_url
from recommender.engine import Recommendation


def artist(i: int, name: str) -> Artist:
    return Artist(i, name, lastfm_url(name), 1)


def test_listen_links_search_each_service_by_name() -> None:
    text = listen_links(artist(1, "Sigur Rós (live) & co"))
    assert text.startswith("[Last.fm](https://www.last.fm/music/")
    assert "[Spotify](https://open.spotify.com/search/Sigur%20R%C3%B3s%20%28live%29%20%26%20co)" in text
    assert "[YouTube Music](https://music.youtube.com/search?q=Sigur+R%C3%B3s+%28live%29+%26+co)" in text


def test_25_long_names_stay_within_the_embed_limit_with_links_on_the_top_ones() -> None:
    long = [artist(i, f"{'Ünïcödé Orchestra ' * 12}{i}"[-200:]) for i in range(25)]
    recs = [Recommendation(a, 1.0 - a.artist_id / 100, (long[0],)) for a in long]
    assert len(describe(recs, liked_here={long[1].artist_id: 2})) <= DESCRIPTION_LIMIT
    named = [artist(i, f"Long Named Ensemble No {i:02}") for i in range(25)]
    recs = [Recommendation(a, 0.5, (named[0],)) for a in named]
    text = describe(recs, liked_here={named[1].artist_id: 2})
    lines = text.split("\n")
    assert len(text) <= DESCRIPTION_LIMIT and len(lines) == 25 and not text.endswith("…")
    assert "[Spotify](" in lines[0] and "liked by 2 members here" in lines[1]
    assert "[Spotify](" not in lines[-1]
    similar = with_listen_links([f"**{i}.** x" for i in range(25)], long)
    assert len(similar) <= DESCRIPTION_LIMIT and "[YouTube Music](" in similar.split("\n")[0]


def test_short_lists_get_links_on_every_line() -> None:
    recs = [Recommendation(artist(i, f"Band {i}"), 0.5, ()) for i in range(10)]
    assert all("[YouTube Music](" in line for line in describe(recs).split("\n"))
