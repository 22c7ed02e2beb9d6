"""What a new member is offered to pick from: music types, then artists of the types they chose.

/start asks for a few music types (the cleaned vocabulary of recommender/tags.py, the types most artists
carry first), then offers artists of those types, 25 to a menu. An artist is offered for a type when the
type is among their first `TAG_DEPTH` tags, scored by how much the type is theirs (1 / sqrt(rank + 1): a
second tag still counts, so a widely heard artist whose first tag is a neighbouring type is not pushed
below obscure ones) times how widely they are heard (log of one plus their listeners): representative
artists a newcomer is likely to know come first. The types take turns, so
every page holds artists of each chosen type, and an artist of two chosen types is offered once.

The bot's menus and benchmarks/onboarding.py both read `offers`, so what is measured is what is shown.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from recommender.catalogue import Artist

__all__ = [
    "MAX_PAGES",
    "MAX_TYPES",
    "PAGE_SIZE",
    "TAG_DEPTH",
    "TYPE_CHOICES",
    "OfferPage",
    "music_types",
    "offer_page",
    "offers",
    "type_scores",
]

#: Music types in the first menu (a Discord select holds at most 25 options).
TYPE_CHOICES = 25
#: How many types one member picks at most.
MAX_TYPES = 5
#: Artists per menu: a Discord select's limit.
PAGE_SIZE = 25
#: Pages "Show others" goes through before starting again at the first.
MAX_PAGES = 8
#: How far down an artist's tags a type counts (the catalogue keeps ten per artist).
TAG_DEPTH = 10


class TaggedCatalogue(Protocol):
    """What offers need of a catalogue (an ArtistCatalogue, or the served view over one)."""

    def __contains__(self, artist_id: object) -> bool: ...

    def get(self, artist_id: int) -> Artist: ...

    def top_tags(self, artist_id: int, n: int = 5) -> list[str]: ...

    def search_tags(self, query: str, limit: int = 25) -> list[str]: ...

    def tagged(self, tag: str, depth: int = 10) -> list[int]: ...


@dataclass(frozen=True)
class OfferPage:
    """One menu's worth of offered artists; `page` counts from 0, of `pages`."""

    artists: tuple[Artist, ...]
    page: int
    pages: int


def music_types(catalogue: TaggedCatalogue, n: int = TYPE_CHOICES) -> list[str]:
    """The types the first menu offers: the `n` carried by the most artists, most first."""
    return catalogue.search_tags("", n)


def type_scores(catalogue: TaggedCatalogue, music_type: str, depth: int = TAG_DEPTH) -> list[tuple[Artist, float]]:
    """(artist, score) for every artist with `music_type` among their first `depth` tags, best first
    (ties: more listeners, then lower id, so the order is the same on every call)."""
    scored = []
    for artist_id in catalogue.tagged(music_type, depth):
        artist = catalogue.get(artist_id)
        rank = catalogue.top_tags(artist_id, depth).index(music_type)
        scored.append((artist, math.log1p(artist.listeners) / math.sqrt(rank + 1)))
    scored.sort(key=lambda pair: (-pair[1], -pair[0].listeners, pair[0].artist_id))
    return scored


def offers(
    catalogue: TaggedCatalogue, types: Sequence[str], *, page_size: int = PAGE_SIZE, max_pages: int = MAX_PAGES
) -> list[Artist]:
    """Every artist the menus offer for `types`, in the order they are shown, each once: the types take
    turns, each giving its best artist not offered yet."""
    ranked = [[artist for artist, _ in type_scores(catalogue, t)] for t in dict.fromkeys(types)]
    limit = page_size * max_pages
    offered: list[Artist] = []
    seen: set[int] = set()
    positions = [0] * len(ranked)
    while len(offered) < limit:
        progressed = False
        for i, artists in enumerate(ranked):
            while positions[i] < len(artists) and artists[positions[i]].artist_id in seen:
                positions[i] += 1
            if positions[i] < len(artists) and len(offered) < limit:
                artist = artists[positions[i]]
                offered.append(artist)
                seen.add(artist.artist_id)
                progressed = True
        if not progressed:
            break
    return offered


def offer_page(offered: Sequence[Artist], page: int, page_size: int = PAGE_SIZE) -> OfferPage:
    """Page `page` of `offered` (taken modulo the number of pages, so "Show others" comes round again)."""
    pages = max(1, math.ceil(len(offered) / page_size))
    page %= pages
    return OfferPage(tuple(offered[page * page_size : (page + 1) * page_size]), page, pages)
