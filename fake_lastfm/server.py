"""`FakeLastFm`: a local stand-in for Last.fm's ``user.getTopArtists`` and artist methods (artists.py), for
tests, the emulator and demos.

It serves the documented JSON (numbers as strings, ``@attr`` paging fields, a rank on each artist) on
127.0.0.1, and answers failures the way Last.fm does, including its HTTP statuses: 404 for an unknown
user, 403 for a bad or suspended key, 429 for the rate limit, and an error code under 200 OK for a
temporary error, since clients must read the body rather than trust the status.

    async with FakeLastFm(users={"rj": [("Radiohead", 120), ("Björk", 80)]}, api_key="k") as fake:
        client = LastFmClient("k", base_url=fake.base_url)
        fake.fail(Failure.RATE_LIMIT, username="rj")   # or globally: fake.fail(Failure.RATE_LIMIT)
"""

from __future__ import annotations

import asyncio
import math
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from aiohttp import web

from fake_lastfm.artists import ARTIST_NOT_FOUND, POST_2011_ARTISTS, FakeArtist, artist_answer, find_artist

API_PATH: Final = "/2.0/"
DEFAULT_API_KEY: Final = "fake-lastfm-api-key"
#: How long a TIMEOUT failure holds its answer back; any client timeout in tests is far shorter.
DEFAULT_STALL_SECONDS: Final = 30.0
_IMAGE_SIZES: Final = ("small", "medium", "large", "extralarge", "mega")
_ARTIST_METHODS: Final = frozenset({"artist.getinfo", "artist.getsimilar", "artist.gettoptags"})


class Failure(StrEnum):
    UNKNOWN_USER = "unknown_user"  # 404, error 6, whether or not the user exists here
    INVALID_KEY = "invalid_key"  # 403, error 10, whatever key was sent
    SUSPENDED_KEY = "suspended_key"  # 403, error 26
    RATE_LIMIT = "rate_limit"  # 429, error 29
    SERVICE_OFFLINE = "service_offline"  # 503, error 11
    TEMPORARY_ERROR = "temporary_error"  # 200 OK with error 16, as Last.fm sometimes does
    SERVER_ERROR = "server_error"  # 502 with an HTML page, as a proxy in front would send
    TIMEOUT = "timeout"  # no answer for `stall_seconds`
    INVALID_JSON = "invalid_json"  # 200 OK, a body cut off mid-JSON
    MISSING_TOPARTISTS = "missing_topartists"  # 200 OK, JSON without 'topartists'
    WRONG_TYPES = "wrong_types"  # 200 OK, the right keys with a playcount that is not a number


_ERRORS: Final = {
    Failure.UNKNOWN_USER: (404, 6, "User not found"),
    Failure.INVALID_KEY: (403, 10, "Invalid API key - You must be granted a valid key by last.fm"),
    Failure.SUSPENDED_KEY: (
        403,
        26,
        "Suspended API key - Access for your account has been suspended, please contact Last.fm",
    ),
    Failure.RATE_LIMIT: (
        429,
        29,
        "Rate Limit Exceeded - Your IP has made too many requests in a short period",
    ),
    Failure.SERVICE_OFFLINE: (503, 11, "Service Offline - This service is temporarily offline. Try again later."),
    Failure.TEMPORARY_ERROR: (200, 16, "There was a temporary error processing your request. Please try again"),
}


@dataclass(frozen=True)
class FakeRequest:
    """One request as the fake received it (the query decoded), and how it answered."""

    method: str
    path: str
    query: dict[str, str]
    status: int
    #: The failure it answered with, or None for a normal answer.
    failure: Failure | None

    @property
    def username(self) -> str | None:
        return self.query.get("user")

    @property
    def page(self) -> int | None:
        value = self.query.get("page")
        return int(value) if value and value.isdigit() else None


class FakeLastFm:
    """A fake Last.fm API holding `users`: username -> [(artist name, playcount)], any order.

    Usernames match case-insensitively, as on Last.fm. A request whose ``api_key`` differs from
    `api_key` gets error 10. `requests` records every request; `fail` and `recover` switch failures.
    `artists` answer the artist methods (fake_lastfm/artists.py); by default `POST_2011_ARTISTS`.
    """

    def __init__(
        self,
        users: Mapping[str, Sequence[tuple[str, int]]] | None = None,
        api_key: str = DEFAULT_API_KEY,
        stall_seconds: float = DEFAULT_STALL_SECONDS,
        artists: Sequence[FakeArtist] = POST_2011_ARTISTS,
    ) -> None:
        self.users: dict[str, list[tuple[str, int]]] = {}
        for username, chart in (users or {}).items():
            self.set_user(username, chart)
        self.artists: dict[str, FakeArtist] = {}
        for artist in artists:
            self.set_artist(artist)
        self.api_key = api_key
        self.stall_seconds = stall_seconds
        self.requests: list[FakeRequest] = []
        # Keyed by casefolded username, None for every user: (failure, first page it applies to).
        self._failures: dict[str | None, tuple[Failure, int]] = {}
        self._runner: web.AppRunner | None = None
        self._host = "127.0.0.1"
        self._port: int | None = None
        self._closing = asyncio.Event()

    # -- scenario controls -------------------------------------------------------------------------

    def set_user(self, username: str, artists: Sequence[tuple[str, int]]) -> None:
        """Add or replace a user's chart."""
        self.users[username] = [(str(name), int(plays)) for name, plays in artists]

    def set_artist(self, artist: FakeArtist) -> None:
        """Add or replace an artist the artist methods know."""
        self.artists[artist.name] = artist

    def fail(self, failure: Failure, username: str | None = None, from_page: int = 1) -> None:
        """Answer `username`'s requests (everyone's when None) from page `from_page` on with `failure`."""
        key = None if username is None else username.casefold()
        self._failures[key] = (Failure(failure), from_page)

    def recover(self, username: str | None = None) -> None:
        """Stop failing for `username` (None: the global failure only)."""
        self._failures.pop(None if username is None else username.casefold(), None)

    def recover_all(self) -> None:
        self._failures.clear()

    def requests_for(self, username: str) -> list[FakeRequest]:
        return [r for r in self.requests if (r.username or "").casefold() == username.casefold()]

    # -- lifecycle ---------------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Listen on `host:port` (0 picks a free port)."""
        if self._runner is not None:
            raise RuntimeError("fake Last.fm already started")
        app = web.Application()
        app.router.add_get(API_PATH, self._handle)
        app.router.add_get(API_PATH.rstrip("/"), self._handle)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        self._closing.clear()
        self._runner = runner
        self._host = host
        self._port = int(runner.addresses[0][1])

    async def stop(self) -> None:
        """Stop listening; stalled answers are released first. Safe to call twice."""
        if self._runner is None:
            return
        self._closing.set()
        await self._runner.cleanup()
        self._runner = None

    async def __aenter__(self) -> FakeLastFm:
        if self._runner is None:
            await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("fake Last.fm not started")
        return self._port

    @property
    def base_url(self) -> str:
        """What to give `LastFmClient(base_url=...)`."""
        return f"http://{self._host}:{self.port}{API_PATH}"

    # -- the API -----------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        query = {key: value for key, value in request.query.items()}
        failure = self._failure_for(query)
        response = await self._answer(query, failure)
        self.requests.append(FakeRequest(request.method, request.path, query, response.status, failure))
        return response

    def _failure_for(self, query: dict[str, str]) -> Failure | None:
        page = _number(query.get("page"), 1)
        user = query.get("user", "").casefold()
        for key in (user, None):
            if key in self._failures:
                failure, from_page = self._failures[key]
                if page >= from_page:
                    return failure
        if query.get("api_key") != self.api_key:
            return Failure.INVALID_KEY
        return None

    async def _answer(self, query: dict[str, str], failure: Failure | None) -> web.Response:
        if failure is Failure.TIMEOUT:
            try:
                await asyncio.wait_for(self._closing.wait(), self.stall_seconds)
            except TimeoutError:
                pass
            return _error(503, 11, "Service Offline - This service is temporarily offline. Try again later.")
        if failure in _ERRORS:
            return _error(*_ERRORS[failure])
        if failure is Failure.SERVER_ERROR:
            return web.Response(
                status=502, text="<html><body><h1>502 Bad Gateway</h1></body></html>", content_type="text/html"
            )
        if failure is Failure.INVALID_JSON:
            return web.Response(
                status=200, text='{"topartists": {"artist": [{"name": "Radi', content_type="application/json"
            )
        if failure is Failure.MISSING_TOPARTISTS:
            return web.json_response({"lfm": {"status": "ok"}})

        method = query.get("method", "").lower()
        if method != "user.gettopartists" and method not in _ARTIST_METHODS:
            return _error(400, 3, "Invalid Method - No method with that name in this package")
        if query.get("format") != "json":
            return _error(400, 5, "Invalid format - This service doesn't exist in that format")
        if method in _ARTIST_METHODS:
            return self._artist_answer(method, query, failure)
        found = self._find_user(query.get("user", ""))
        if found is None:
            return _error(*_ERRORS[Failure.UNKNOWN_USER])
        username, chart = found
        body = _top_artists(username, chart, _number(query.get("page"), 1), _number(query.get("limit"), 50))
        if failure is Failure.WRONG_TYPES:
            for artist in body["topartists"]["artist"]:
                artist["playcount"] = "lots"
        return web.json_response(body)

    def _artist_answer(self, method: str, query: dict[str, str], failure: Failure | None) -> web.Response:
        if not query.get("artist", "").strip() and not query.get("mbid"):
            return _error(400, 6, "Invalid parameters - Your request is missing a required parameter")
        artist = find_artist(self.artists, query.get("artist", ""), query.get("autocorrect") == "1")
        if artist is None:
            return _error(404, *ARTIST_NOT_FOUND)
        body = artist_answer(method, artist, query)
        if failure is Failure.WRONG_TYPES:
            for similar in body.get("similarartists", {}).get("artist", []):
                similar["match"] = "lots"
        return web.json_response(body)

    def _find_user(self, name: str) -> tuple[str, list[tuple[str, int]]] | None:
        wanted = name.casefold()
        for username, chart in self.users.items():
            if username.casefold() == wanted:
                return username, chart
        return None


def _top_artists(username: str, chart: list[tuple[str, int]], page: int, limit: int) -> dict[str, Any]:
    limit = min(max(limit, 1), 1000)
    page = max(page, 1)
    ranked = sorted(chart, key=lambda artist: -artist[1])  # stable: ties keep the given order
    start = (page - 1) * limit
    artists = [
        {
            "streamable": "0",
            "image": [{"size": size, "#text": ""} for size in _IMAGE_SIZES],
            "mbid": "",
            "url": "https://www.last.fm/music/" + urllib.parse.quote_plus(name),
            "playcount": str(plays),
            "@attr": {"rank": str(start + index + 1)},
            "name": name,
        }
        for index, (name, plays) in enumerate(ranked[start : start + limit])
    ]
    return {
        "topartists": {
            "artist": artists,
            "@attr": {
                "user": username,
                "totalPages": str(math.ceil(len(ranked) / limit)),
                "page": str(page),
                "perPage": str(limit),
                "total": str(len(ranked)),
            },
        }
    }


def _error(status: int, code: int, message: str) -> web.Response:
    return web.json_response({"message": message, "error": code}, status=status)


def _number(value: str | None, default: int) -> int:
    return int(value) if value and value.isdigit() else default


__all__ = ["API_PATH", "DEFAULT_API_KEY", "Failure", "FakeArtist", "FakeLastFm", "FakeRequest"]
