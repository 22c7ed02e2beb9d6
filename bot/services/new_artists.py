"""Artists newer than Encore's catalogue, looked up on Last.fm when a member adds one.

The catalogue is the HetRec 2011 Last.fm data, so any artist who rose since is missing from it. With a
Last.fm API key, adding such a name asks Last.fm (bot/lastfm/artists.py) for the artist's own spelling,
its tags and its similar artists; those similar artists the catalogue knows, weighted by Last.fm's match,
place the new artist in the model at once (recommender/placement.py), so it is recommended and explained
before any refit. Without a key the artist is added as typed and waits for a refit, and replies say why
the catalogue lacks it (`CATALOGUE_AGE`).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from bot.errors import UserError
from bot.lastfm.artists import ArtistInfo, ArtistLookup
from recommender.placement import Neighbour
from recommender.tags import clean_tag

__all__ = ["CATALOGUE_AGE", "FoundOnLastFm", "LookupsTooFast", "NewArtists"]

CATALOGUE_AGE: Final = (
    "Encore's catalogue comes from Last.fm's 2011 data, so artists who rose since are missing from it"
)
#: Last.fm lookups one member may start per `LOOKUP_WINDOW_SECONDS` (each is three Last.fm requests).
LOOKUPS_PER_WINDOW: Final = 5
LOOKUP_WINDOW_SECONDS: Final = 60.0
#: Tags kept per artist, as the catalogue keeps ten.
TAGS_KEPT: Final = 10


class LookupsTooFast(UserError):
    def __init__(self) -> None:
        super().__init__(
            f"you have looked up {LOOKUPS_PER_WINDOW} new artists on Last.fm in the last minute; "
            "wait a minute before adding another"
        )


@dataclass(frozen=True)
class FoundOnLastFm:
    """Last.fm's artist for a typed name, in Encore's terms."""

    name: str
    url: str | None
    #: Music types, in the catalogue's spelling where it has the type (recommender.tags), best first.
    tags: tuple[str, ...]
    #: Similar artists the catalogue knows, best match first.
    neighbours: tuple[Neighbour, ...]


class NewArtists:
    """Last.fm lookups for added artists; `enabled` only with an API key."""

    def __init__(self, lookup: ArtistLookup | None, clock: Callable[[], float] = time.monotonic) -> None:
        self.lookup = lookup
        self._clock = clock
        self._recent: dict[int, deque[float]] = {}

    @property
    def enabled(self) -> bool:
        return self.lookup is not None

    async def find(self, user_id: int, name: str, catalogue: Any) -> FoundOnLastFm | None:
        """Last.fm's artist of this name, or None if Last.fm has none (or no key is set). `catalogue` is the
        Last.fm base the neighbours and tags are matched against. Raises `ArtistLookupError`, `LookupsTooFast`."""
        if self.lookup is None:
            return None
        self._count_lookup(user_id)
        info = await self.lookup.lookup(name)
        return None if info is None else found_on_lastfm(info, catalogue)

    async def close(self) -> None:
        if self.lookup is not None:
            await self.lookup.close()

    def _count_lookup(self, user_id: int) -> None:
        now = self._clock()
        recent = self._recent.setdefault(user_id, deque())
        while recent and recent[0] <= now - LOOKUP_WINDOW_SECONDS:
            recent.popleft()
        if len(recent) >= LOOKUPS_PER_WINDOW:
            raise LookupsTooFast()
        recent.append(now)
        # Members who stopped looking up hold no memory.
        if len(self._recent) > 10_000:
            self._recent = {u: q for u, q in self._recent.items() if q and q[-1] > now - LOOKUP_WINDOW_SECONDS}


def found_on_lastfm(info: ArtistInfo, catalogue: Any) -> FoundOnLastFm:
    """`info` with its similar artists matched to `catalogue` (by name) and its tags cleaned."""
    neighbours: dict[int, Neighbour] = {}
    for name, match in info.similar:
        artist = catalogue.lookup(name)
        if artist is not None and artist.artist_id not in neighbours:
            neighbours[artist.artist_id] = Neighbour(artist.artist_id, match)
    tags: list[str] = []
    for raw in info.tags:
        cleaned = clean_tag(raw)
        if cleaned is None:
            continue
        tag = catalogue.find_tag(cleaned) or cleaned
        if tag not in tags:
            tags.append(tag)
    ordered = tuple(sorted(neighbours.values(), key=lambda n: -n.match))
    return FoundOnLastFm(info.name, info.url, tuple(tags[:TAGS_KEPT]), ordered)
