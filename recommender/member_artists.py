"""Artists members add, layered over the Last.fm catalogue, and who may see them.

`ArtistCatalogue` stays the immutable, fully indexed Last.fm base: rebuilding its indexes for every
added artist would cost each add the whole catalogue. `MemberArtists` keeps the added ones beside it
in plain dicts (adding, showing or hiding one is O(1)) and searches them by scanning, which stays
cheap because only the artists one audience may see are scanned.

Who may see an added artist: the members of the servers where it was added or liked (unless that
server's moderators removed it there), and the members who like it, wherever they are. Once shown
in `EVERYWHERE_AFTER_SERVERS` servers, or named as an artist of the Last.fm data, everyone sees it.

`CatalogueView` merges the two with `ArtistCatalogue`'s read API; `visible_in` narrows it to one
audience. Artists are looked up by id (`get`, `in`) whoever asks: ids come from the served model
and from buttons Encore itself showed, and visibility is about what a typed name finds.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import cached_property
from typing import Final

from rapidfuzz import fuzz, process

from recommender.catalogue import FUZZY_SCORE_CUTOFF, Artist, ArtistCatalogue, Resolution, lastfm_url
from recommender.text import normalize_name

__all__ = ["EVERYWHERE_AFTER_SERVERS", "CatalogueView", "MemberArtists"]

#: Added or liked independently in this many servers, an artist is taken to be real and shown everywhere.
EVERYWHERE_AFTER_SERVERS: Final = 3


class MemberArtists:
    """Member-added artists by id and normalised name, with the servers each may be seen in."""

    def __init__(self) -> None:
        self._by_id: dict[int, Artist] = {}
        self._key_of: dict[int, str] = {}
        # Ids per normalised name, for artists that can still be found by name.
        self._named: dict[str, set[int]] = {}
        self._servers: dict[int, set[int]] = {}
        self._hidden: dict[int, set[int]] = {}
        self._shown_in: dict[int, set[int]] = {}
        self._hidden_in: dict[int, set[int]] = {}
        self._everywhere: set[int] = set()
        self._always: set[int] = set()
        # Music types Last.fm gave an artist added through it (bot/lastfm/artists.py), best first.
        self._tags: dict[int, tuple[str, ...]] = {}

    def __len__(self) -> int:
        return len(self._by_id)

    def __contains__(self, artist_id: object) -> bool:
        return artist_id in self._by_id

    def __iter__(self) -> Iterator[Artist]:
        """Every artist held, oldest id first."""
        return iter(sorted(self._by_id.values(), key=lambda a: a.artist_id))

    def get(self, artist_id: int) -> Artist:
        return self._by_id[artist_id]

    def add(self, artist_id: int, name: str, url: str | None = None, *, everywhere: bool = False) -> Artist:
        """Hold this artist (no listeners yet); a no-op for one already held, unless withdrawn (then named
        afresh: stores from before migration 0004 gave a deleted artist's id to the next one). `everywhere`:
        seen by all."""
        artist_id = int(artist_id)
        artist = self._by_id.get(artist_id)
        if artist is None or not self.findable(artist_id):
            artist = Artist(artist_id, str(name), url or lastfm_url(str(name)), 0)
            key = normalize_name(artist.name)
            self._by_id[artist_id] = artist
            self._key_of[artist_id] = key
            self._named.setdefault(key, set()).add(artist_id)
        if everywhere:
            self._always.add(artist_id)
            self._everywhere.add(artist_id)
        return artist

    def set_tags(self, artist_id: int, tags: Iterable[str]) -> None:
        """Its music types, best first (the catalogue's vocabulary: recommender.tags)."""
        if artist_id in self._by_id:
            self._tags[artist_id] = tuple(tags)

    def tags_of(self, artist_id: int) -> tuple[str, ...]:
        return self._tags.get(artist_id, ())

    def withdraw(self, artist_id: int) -> None:
        """No name finds it any more and no one sees it; `get` still answers for a model that serves it."""
        key = self._key_of.get(artist_id)
        if key is None:
            return
        ids = self._named.get(key, set())
        ids.discard(artist_id)
        if not ids:
            self._named.pop(key, None)
        for server_id in self._servers.pop(artist_id, set()):
            self._shown_in.get(server_id, set()).discard(artist_id)
        for server_id in self._hidden.pop(artist_id, set()):
            self._hidden_in.get(server_id, set()).discard(artist_id)
        self._everywhere.discard(artist_id)
        self._always.discard(artist_id)

    # -- who sees what --------------------------------------------------------------------------

    def show_in(self, artist_id: int, server_id: int) -> None:
        """It was added or liked in this server; a server that removed it keeps it removed."""
        if artist_id not in self._by_id or server_id in self._hidden.get(artist_id, ()):
            return
        self._servers.setdefault(artist_id, set()).add(server_id)
        self._shown_in.setdefault(server_id, set()).add(artist_id)
        self._recount(artist_id)

    def hide_in(self, artist_id: int, server_id: int) -> None:
        """The server's moderators removed it there, wherever else it is seen."""
        if artist_id not in self._by_id:
            return
        self._servers.get(artist_id, set()).discard(server_id)
        self._shown_in.get(server_id, set()).discard(artist_id)
        self._hidden.setdefault(artist_id, set()).add(server_id)
        self._hidden_in.setdefault(server_id, set()).add(artist_id)
        self._recount(artist_id)

    def servers_of(self, artist_id: int) -> frozenset[int]:
        """The servers it was added or liked in (and not removed from)."""
        return frozenset(self._servers.get(artist_id, ()))

    def is_hidden_in(self, artist_id: int, server_id: int | None) -> bool:
        return server_id is not None and server_id in self._hidden.get(artist_id, ())

    def is_visible(self, artist_id: int, server_id: int | None, own: frozenset[int] = frozenset()) -> bool:
        """Whether a member in `server_id` (None: a DM) who likes the artists `own` may see it."""
        if artist_id in own:
            return artist_id in self._by_id
        if server_id is not None and server_id in self._hidden.get(artist_id, ()):
            return False
        return artist_id in self._everywhere or (
            server_id is not None and server_id in self._servers.get(artist_id, ())
        )

    def visible_ids(self, server_id: int | None, own: frozenset[int] = frozenset()) -> set[int]:
        """Every artist `is_visible` allows, still findable by name; costs the size of the answer."""
        ids = {a for a in own if self.findable(a)}
        if server_id is None:
            return ids | self._everywhere
        ids |= self._shown_in.get(server_id, set())
        ids |= self._everywhere - self._hidden_in.get(server_id, set())
        return ids

    def _recount(self, artist_id: int) -> None:
        if artist_id in self._always or len(self._servers.get(artist_id, ())) >= EVERYWHERE_AFTER_SERVERS:
            self._everywhere.add(artist_id)
        else:
            self._everywhere.discard(artist_id)

    # -- names ----------------------------------------------------------------------------------

    def lookup(self, key: str, ids: set[int] | None = None) -> Artist | None:
        """The artist with this normalised name (lowest id first), among `ids` if given."""
        named = self._named.get(key)
        if not named:
            return None
        allowed = named if ids is None else named & ids
        return self._by_id[min(allowed)] if allowed else None

    def scored_search(
        self, key: str, limit: int, ids: set[int] | None = None
    ) -> tuple[list[Artist], list[tuple[float, Artist]]]:
        """Among `ids` (None: all), names starting with `key` (oldest first), then the other fuzzy
        matches by score, each part at most `limit` long."""
        if not key or limit <= 0:
            return [], []
        candidates = sorted(self.named_ids(ids))
        prefix = [i for i in candidates if self._key_of[i].startswith(key)][:limit]
        fuzzy: list[tuple[float, Artist]] = []
        if len(prefix) < limit:
            taken = set(prefix)
            rest = [i for i in candidates if i not in taken]
            matches = process.extract(
                key, [self._key_of[i] for i in rest], scorer=fuzz.ratio, score_cutoff=FUZZY_SCORE_CUTOFF, limit=None
            )
            best = sorted(((score, rest[index]) for _, score, index in matches), key=lambda si: (-si[0], si[1]))
            fuzzy = [(score, self._by_id[i]) for score, i in best[:limit]]
        return [self._by_id[i] for i in prefix], fuzzy

    def scored_closest(self, key: str, limit: int, ids: set[int] | None = None) -> list[tuple[float, Artist]]:
        """Among `ids` (None: all), the nearest names whatever their score, best first."""
        if not key or limit <= 0:
            return []
        candidates = sorted(self.named_ids(ids))
        matches = process.extract(key, [self._key_of[i] for i in candidates], scorer=fuzz.ratio, limit=None)
        best = sorted(((score, candidates[index]) for _, score, index in matches), key=lambda si: (-si[0], si[1]))
        return [(score, self._by_id[i]) for score, i in best[:limit]]

    def named_ids(self, ids: set[int] | None = None) -> set[int]:
        """Those of `ids` (None: all) that a name can still find."""
        if ids is None:
            return {i for named in self._named.values() for i in named}
        return {i for i in ids if self.findable(i)}

    def findable(self, artist_id: int) -> bool:
        """Held and not withdrawn: a name can find it."""
        key = self._key_of.get(artist_id)
        return key is not None and artist_id in self._named.get(key, ())


class CatalogueView:
    """The Last.fm catalogue and the member artists one audience may see, read like an `ArtistCatalogue`.

    Built over everything (`CatalogueView(base, members)`), it sees every member artist; `visible_in`
    gives the view of one server (or a DM) and one member. Member artists have no listeners, so they
    come after Last.fm artists wherever popularity orders, as they would in one rebuilt catalogue.
    """

    def __init__(
        self,
        base: ArtistCatalogue,
        members: MemberArtists,
        *,
        server_id: int | None = None,
        own: Iterable[int] = (),
        everything: bool = True,
    ) -> None:
        self.base = base
        self.members = members
        self.server_id = server_id
        self.own = frozenset(int(a) for a in own)
        self.everything = everything

    def visible_in(self, server_id: int | None, own: Iterable[int] = ()) -> CatalogueView:
        """What a member in `server_id` (None: a DM) who likes the artists `own` may find by name."""
        return CatalogueView(self.base, self.members, server_id=server_id, own=own, everything=False)

    def is_visible(self, artist_id: int) -> bool:
        if artist_id in self.base:
            return True
        if self.everything:
            return artist_id in self.members
        return self.members.is_visible(artist_id, self.server_id, self.own)

    @property
    def _member_ids(self) -> set[int] | None:
        """The member artists names may find here; None for all of them (read live, as they grow)."""
        return None if self.everything else self._visible_ids

    @cached_property
    def _visible_ids(self) -> set[int]:
        # A narrowed view answers one request: what it may see is worked out once.
        return self.members.visible_ids(self.server_id, self.own)

    # -- by id ----------------------------------------------------------------------------------

    def __contains__(self, artist_id: object) -> bool:
        return artist_id in self.base or artist_id in self.members

    def __len__(self) -> int:
        return len(self.base) + len(self.members if self._member_ids is None else self._member_ids)

    def __iter__(self) -> Iterator[Artist]:
        """Last.fm artists most listened first, then the visible member artists, oldest first."""
        yield from self.base
        if self._member_ids is None:
            yield from self.members
        else:
            yield from (self.members.get(artist_id) for artist_id in sorted(self._member_ids))

    def get(self, artist_id: int) -> Artist:
        """The artist with this id, seen here or not; KeyError if unknown."""
        if artist_id in self.base:
            return self.base.get(artist_id)
        try:
            return self.members.get(int(artist_id))
        except (KeyError, TypeError, ValueError):
            raise KeyError(artist_id) from None

    def top_tags(self, artist_id: int, n: int = 5) -> list[str]:
        """The Last.fm data's tags; for a member artist those Last.fm gave when it was added; KeyError if unknown."""
        if artist_id in self.base:
            return self.base.top_tags(artist_id, n)
        self.get(artist_id)
        return list(self.members.tags_of(int(artist_id))[: max(n, 0)])

    def search_tags(self, query: str, limit: int = 25) -> list[str]:
        return self.base.search_tags(query, limit)

    def find_tag(self, name: str) -> str | None:
        return self.base.find_tag(name)

    def tagged(self, tag: str, depth: int = 10) -> list[int]:
        """The Last.fm artists with this tag: member artists have none."""
        return self.base.tagged(tag, depth)

    # -- by name --------------------------------------------------------------------------------

    def lookup(self, name: str) -> Artist | None:
        """Exact match on the normalised name: a Last.fm artist first, then a visible member artist."""
        found = self.base.lookup(name)
        if found is not None:
            return found
        key = normalize_name(name)
        if not key:
            return None
        return self.members.lookup(key, self._member_ids)

    def url_for(self, name: str) -> str:
        artist = self.lookup(name)
        return artist.url if artist is not None else lastfm_url(name.strip())

    def search(self, query: str, limit: int = 10) -> list[Artist]:
        """`ArtistCatalogue.search` over the Last.fm artists and the visible member artists together."""
        if limit <= 0:
            return []
        key = normalize_name(query)
        if not key:
            return self._most_listened(limit)
        prefix, fuzzy = self.base.scored_search(query, limit)
        member_prefix, member_fuzzy = self.members.scored_search(key, limit, self._member_ids)
        found = (prefix + member_prefix)[:limit]
        if len(found) < limit:
            # A stable sort keeps Last.fm artists ahead on equal scores, as their listeners would.
            merged = sorted(fuzzy + member_fuzzy, key=lambda sa: -sa[0])
            found += [artist for _, artist in merged[: limit - len(found)]]
        return found

    def closest(self, query: str, limit: int = 5) -> list[Artist]:
        key = normalize_name(query)
        if not key or limit <= 0:
            return self._most_listened(limit)
        scored = self.base.scored_closest(query, limit) + self.members.scored_closest(key, limit, self._member_ids)
        return [artist for _, artist in sorted(scored, key=lambda sa: -sa[0])[:limit]]

    def suggestions(self, query: str, limit: int = 5) -> list[Artist]:
        return self.search(query, limit) or self.closest(query, limit)

    def _most_listened(self, limit: int) -> list[Artist]:
        found = self.base.search("", limit)
        if len(found) < limit:
            ids = self.members.named_ids(self._member_ids)
            found += [self.members.get(i) for i in sorted(ids)[: limit - len(found)]]
        return found

    def resolve(self, name: str) -> Resolution:
        artist = self.lookup(name)
        if artist is not None:
            return Resolution(artist, [])
        return Resolution(None, self.suggestions(name, 5))
