"""`ArtistLookup`: what Last.fm knows of an artist Encore's 2011 catalogue lacks.

Three calls per artist: ``artist.getInfo`` (with autocorrect, for the name as Last.fm spells it and its
page), then ``artist.getSimilar`` (the artists like it, with Last.fm's match from 0 to 1) and
``artist.getTopTags`` together. Error 6, "The artist you supplied could not be found", means Last.fm has
no such artist: `lookup` answers None. Every other failure is an `ArtistLookupError` a member can read.
Answers (None included) are kept for a while, so a name asked twice costs Last.fm one lookup.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from bot.errors import Escape, UserError
from bot.lastfm.client import LastFmClient, LastFmError, LastFmErrorKind, _field, _Malformed
from recommender.text import normalize_name

__all__ = ["LOOKUP_TIMEOUT", "ArtistInfo", "ArtistLookup", "ArtistLookupError"]

#: How many similar artists to ask for: enough that some are in the 2011 data for most new artists.
SIMILAR_LIMIT: Final = 50
#: Seconds per request: a lookup is two rounds of requests, and the member's click must be answered
#: within Discord's 3 seconds.
LOOKUP_TIMEOUT: Final = 1.2
CACHE_SECONDS: Final = 6 * 3600.0
CACHE_SIZE: Final = 1024

# What a member reads when the lookup fails; nothing was added.
_MESSAGES: Final = {
    LastFmErrorKind.INVALID_API_KEY: (
        "Encore's Last.fm API key is not valid, so new artists cannot be looked up right now; tell the server admin"
    ),
    LastFmErrorKind.SUSPENDED_API_KEY: (
        "Last.fm has suspended Encore's API key, so new artists cannot be looked up right now; tell the server admin"
    ),
    LastFmErrorKind.RATE_LIMITED: "Last.fm is rate-limiting Encore; try adding that artist again in a minute",
    LastFmErrorKind.UNAVAILABLE: "Last.fm is having trouble right now; try adding that artist again in a few minutes",
    LastFmErrorKind.TIMEOUT: "Last.fm took too long to answer; try adding that artist again in a few minutes",
    LastFmErrorKind.UNREACHABLE: "Encore could not reach Last.fm; try adding that artist again in a few minutes",
    LastFmErrorKind.BAD_RESPONSE: "Last.fm sent an answer Encore could not read; try adding that artist again later",
}


class ArtistLookupError(UserError):
    """Last.fm could not be asked about an artist; ``str(error)`` is for the member, `detail` for logs."""

    def __init__(self, kind: LastFmErrorKind, detail: str = "") -> None:
        super().__init__(_MESSAGES.get(kind, _MESSAGES[LastFmErrorKind.BAD_RESPONSE]))
        self.kind = kind
        self.detail = detail

    def reply_text(self, escape: Escape) -> str:
        return f"{str(self).rstrip('.')}. Nothing was added."


@dataclass(frozen=True)
class ArtistInfo:
    """An artist as Last.fm knows it: its own spelling and page, tags best first, similar artists with match."""

    name: str
    url: str | None
    mbid: str | None
    listeners: int
    tags: tuple[str, ...]
    similar: tuple[tuple[str, float], ...]


class ArtistLookup(LastFmClient):
    """`lookup(name)` against Last.fm's artist methods, cached; the HTTP side is `LastFmClient`'s."""

    def __init__(self, *args: Any, clock: Callable[[], float] = time.monotonic, **kwargs: Any) -> None:
        kwargs.setdefault("timeout", LOOKUP_TIMEOUT)
        super().__init__(*args, **kwargs)
        self._clock = clock
        self._cache: OrderedDict[str, tuple[float, ArtistInfo | None]] = OrderedDict()

    async def lookup(self, name: str) -> ArtistInfo | None:
        """Last.fm's artist of this name (autocorrected), or None if it has none. Raises `ArtistLookupError`."""
        key = normalize_name(name)
        if not key:
            return None
        cached = self._cache.get(key)
        if cached is not None and cached[0] > self._clock():
            self._cache.move_to_end(key)
            return cached[1]
        found = await self._ask(name.strip())
        self._cache[key] = (self._clock() + CACHE_SECONDS, found)
        self._cache.move_to_end(key)
        while len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)
        return found

    async def _ask(self, name: str) -> ArtistInfo | None:
        info = await self._call("artist.getinfo", name)
        if info is None:
            return None
        try:
            artist = _field(info, "artist", dict)
            canonical = _field(artist, "name", str).strip() or name
            url, mbid = artist.get("url"), artist.get("mbid")
            listeners = _listeners(artist)
        except _Malformed as problem:
            raise ArtistLookupError(LastFmErrorKind.BAD_RESPONSE, f"malformed artist info: {problem}") from None
        similar_body, tags_body = await asyncio.gather(
            self._call("artist.getsimilar", canonical, limit=str(SIMILAR_LIMIT)),
            self._call("artist.gettoptags", canonical),
        )
        try:
            similar = _similar(similar_body)
            tags = _tags(tags_body)
        except _Malformed as problem:
            raise ArtistLookupError(
                LastFmErrorKind.BAD_RESPONSE, f"malformed similar artists or tags: {problem}"
            ) from None
        return ArtistInfo(
            name=canonical,
            url=url if isinstance(url, str) and url.startswith("https://") else None,
            mbid=mbid if isinstance(mbid, str) and mbid else None,
            listeners=listeners,
            tags=tags,
            similar=similar,
        )

    async def _call(self, method: str, artist: str, **extra: str) -> Any:
        """The decoded body, or None for error 6 (no such artist)."""
        params = {
            "method": method,
            "artist": artist,
            "autocorrect": "1",
            "api_key": self._api_key,
            "format": "json",
            **extra,
        }
        try:
            status, body, retry_after = await self._get(artist, params)
            return self._decode(artist, status, body, retry_after)
        except LastFmError as error:
            # The client reads error 6 as an unknown user; asked about an artist, it is an unknown artist.
            if error.kind is LastFmErrorKind.USER_NOT_FOUND:
                return None
            raise ArtistLookupError(error.kind, error.detail) from None


def _listeners(artist: dict[str, Any]) -> int:
    stats = artist.get("stats")
    value = stats.get("listeners") if isinstance(stats, dict) else None
    try:
        return max(int(value), 0) if value is not None else 0
    except (TypeError, ValueError):
        raise _Malformed(f"listeners {value!r} is not a number") from None


def _listed(body: Any, outer: str, inner: str) -> list[Any]:
    if body is None:
        return []
    items = _field(body, outer, dict).get(inner, [])
    # Older JSON renderings gave a lone item as an object rather than a one-element list.
    if isinstance(items, dict):
        return [items]
    if not isinstance(items, list):
        raise _Malformed(f"{inner!r} is not a list")
    return items


def _similar(body: Any) -> tuple[tuple[str, float], ...]:
    found = []
    for raw in _listed(body, "similarartists", "artist"):
        name = _field(raw, "name", str).strip()
        try:
            match = float(_field(raw, "match", (str, int, float)))
        except ValueError:
            raise _Malformed(f"match of {name!r} is not a number") from None
        if name and 0 < match <= 1:
            found.append((name, match))
    return tuple(sorted(found, key=lambda nm: -nm[1]))


def _tags(body: Any) -> tuple[str, ...]:
    return tuple(name for raw in _listed(body, "toptags", "tag") if (name := _field(raw, "name", str).strip()))
