"""`LastFmClient`: a member's top artists from Last.fm's web API, over aiohttp.

Every failure becomes one `LastFmError` whose text a member can read and act on, and whose `kind` a
caller can branch on. Last.fm's HTTP statuses are unreliable (some errors come with 200 OK), so the
``{"error": N, "message": ...}`` body decides, and the status only when there is no such body.

The API key travels in the query string, so no URL, and no aiohttp exception text (which carries the
URL), ever reaches an error message or a log line; `LastFmError.detail` is redacted as well.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final, NamedTuple, Self

import aiohttp

from bot.errors import Escape, UserError

log = logging.getLogger(__name__)

DEFAULT_BASE_URL: Final = "https://ws.audioscrobbler.com/2.0/"
DEFAULT_TIMEOUT: Final = 10.0
#: Last.fm's own default page size; it accepts up to 1000.
DEFAULT_PAGE_SIZE: Final = 50
MAX_PAGE_SIZE: Final = 1000
#: Longer than any Last.fm name (they allow 15 characters), and the width of the store's column.
MAX_USERNAME_LENGTH: Final = 100
# Last.fm asks API clients to identify themselves.
USER_AGENT: Final = "Encore/0.1 (Discord music discovery bot)"


class LastFmErrorKind(StrEnum):
    INVALID_USERNAME = "invalid_username"
    USER_NOT_FOUND = "user_not_found"
    INVALID_API_KEY = "invalid_api_key"
    SUSPENDED_API_KEY = "suspended_api_key"
    RATE_LIMITED = "rate_limited"
    UNAVAILABLE = "unavailable"
    TIMEOUT = "timeout"
    UNREACHABLE = "unreachable"
    BAD_RESPONSE = "bad_response"


# Failures that are about Last.fm or Encore's key rather than one account: every other request made
# now would fail the same way, so a batch of refreshes should stop instead of hammering on.
_SERVICE_WIDE: Final = frozenset(
    {
        LastFmErrorKind.INVALID_API_KEY,
        LastFmErrorKind.SUSPENDED_API_KEY,
        LastFmErrorKind.RATE_LIMITED,
        LastFmErrorKind.UNAVAILABLE,
        LastFmErrorKind.TIMEOUT,
        LastFmErrorKind.UNREACHABLE,
    }
)
_TRANSIENT: Final = frozenset(
    {
        LastFmErrorKind.RATE_LIMITED,
        LastFmErrorKind.UNAVAILABLE,
        LastFmErrorKind.TIMEOUT,
        LastFmErrorKind.UNREACHABLE,
    }
)

# Last.fm's error codes (https://lastfm-docs.github.io/api-docs/codes/). For user.getTopArtists with
# well-formed parameters, 6 ("invalid parameters") can only mean the user does not exist.
_KIND_OF_CODE: Final = {
    6: LastFmErrorKind.USER_NOT_FOUND,
    10: LastFmErrorKind.INVALID_API_KEY,
    26: LastFmErrorKind.SUSPENDED_API_KEY,
    29: LastFmErrorKind.RATE_LIMITED,
    2: LastFmErrorKind.UNAVAILABLE,  # service offline
    8: LastFmErrorKind.UNAVAILABLE,  # "operation failed, most likely the backend; try again"
    11: LastFmErrorKind.UNAVAILABLE,  # service temporarily offline
    16: LastFmErrorKind.UNAVAILABLE,  # temporary error
}


class LastFmError(UserError):
    """Last.fm could not give the top artists. ``str(error)`` is for the member; `detail` is for logs."""

    #: Last.fm errors reach a member only from /lastfm link, which writes nothing unless Last.fm answered in full.
    UNCHANGED = "Anything imported earlier is unchanged."

    def __init__(
        self,
        kind: LastFmErrorKind,
        message: str,
        *,
        detail: str = "",
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.detail = detail
        #: Seconds Last.fm asked to wait (its Retry-After header), when it said.
        self.retry_after = retry_after

    @property
    def transient(self) -> bool:
        """Trying the same request again later may well succeed."""
        return self.kind in _TRANSIENT

    @property
    def service_wide(self) -> bool:
        """Not about this account: any request now would fail alike."""
        return self.kind in _SERVICE_WIDE

    def reply_text(self, escape: Escape) -> str:
        return f"{escape(str(self), 300).rstrip('.')}. {self.UNCHANGED}"

    def __repr__(self) -> str:
        return f"LastFmError({self.kind.value!r}, {self.message!r}, detail={self.detail!r})"


# What a member reads; "{username}" is the name they gave.
_MESSAGES: Final = {
    LastFmErrorKind.INVALID_USERNAME: (
        "that is not a Last.fm username; give the name in your profile's address (last.fm/user/NAME)"
    ),
    LastFmErrorKind.USER_NOT_FOUND: (
        "Last.fm has no user named “{username}” — check the spelling (it is the name in your "
        "profile's address, last.fm/user/NAME)"
    ),
    LastFmErrorKind.INVALID_API_KEY: (
        "Encore's Last.fm API key is not valid, so Last.fm accounts cannot be linked right now; tell the server admin"
    ),
    LastFmErrorKind.SUSPENDED_API_KEY: (
        "Last.fm has suspended Encore's API key, so Last.fm accounts cannot be linked right now; tell the server admin"
    ),
    LastFmErrorKind.RATE_LIMITED: "Last.fm is rate-limiting Encore; try again in a minute",
    LastFmErrorKind.UNAVAILABLE: "Last.fm is having trouble right now; try again in a few minutes",
    LastFmErrorKind.TIMEOUT: "Last.fm took too long to answer; try again in a few minutes",
    LastFmErrorKind.UNREACHABLE: (
        "Encore could not reach Last.fm; try again in a few minutes, and tell the server admin if it keeps happening"
    ),
    LastFmErrorKind.BAD_RESPONSE: (
        "Last.fm sent an answer Encore could not read; try again later, and tell the server admin if it keeps happening"
    ),
}


def _message(kind: LastFmErrorKind, username: str) -> str:
    return _MESSAGES[kind].format(username=username)


class TopArtist(NamedTuple):
    """One artist of a member's chart; `playcount` is their plays of that artist."""

    name: str
    playcount: int
    mbid: str | None
    url: str | None


@dataclass(frozen=True)
class TopArtistsPage:
    """One page of ``user.getTopArtists``, with its ``@attr`` paging fields."""

    user: str
    page: int
    total_pages: int
    total: int
    artists: list[TopArtist]


class LastFmClient:
    """Reads Last.fm's public API with one API key.

    Use from one event loop; close it (or use ``async with``) to release its HTTP session, unless
    the session was passed in, which stays the caller's to close.
    """

    def __init__(
        self,
        api_key: str,
        base_url: str = DEFAULT_BASE_URL,
        timeout: float = DEFAULT_TIMEOUT,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        if not api_key:
            raise ValueError("a Last.fm API key is needed (https://www.last.fm/api/account/create)")
        if not timeout > 0:
            raise ValueError("timeout must be positive")
        self._api_key = api_key
        self.base_url = base_url
        self.timeout = timeout
        self._session = session
        self._owns_session = session is None

    def __repr__(self) -> str:
        # Never the key: reprs end up in logs and tracebacks.
        return f"LastFmClient(base_url={self.base_url!r}, timeout={self.timeout!r})"

    async def close(self) -> None:
        if self._owns_session and self._session is not None:
            await self._session.close()
        self._session = None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def top_artists(self, username: str, limit: int = DEFAULT_PAGE_SIZE, max_pages: int = 1) -> list[TopArtist]:
        """The user's all-time top artists, most played first: up to `max_pages` pages of `limit`.

        Stops early at the last page. An artist that shows up twice (the chart can shift between two
        page requests) is kept at its first place. Raises `LastFmError`.
        """
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise ValueError(f"limit must be 1 to {MAX_PAGE_SIZE}")
        if max_pages < 1:
            raise ValueError("max_pages must be at least 1")
        artists: list[TopArtist] = []
        seen: set[str] = set()
        for page_number in range(1, max_pages + 1):
            page = await self.top_artists_page(username, page_number, limit)
            for artist in page.artists:
                if artist.name not in seen:
                    seen.add(artist.name)
                    artists.append(artist)
            if not page.artists or page_number >= page.total_pages:
                break
        return artists

    async def top_artists_page(self, username: str, page: int = 1, limit: int = DEFAULT_PAGE_SIZE) -> TopArtistsPage:
        """One page of ``user.getTopArtists``. Raises `LastFmError`."""
        username = username.strip()
        if not username or len(username) > MAX_USERNAME_LENGTH or not username.isprintable():
            raise LastFmError(LastFmErrorKind.INVALID_USERNAME, _message(LastFmErrorKind.INVALID_USERNAME, username))
        # Passed as params, so yarl percent-encodes names with "&", "+", "/" or non-ASCII letters.
        params = {
            "method": "user.gettopartists",
            "user": username,
            "api_key": self._api_key,
            "format": "json",
            "page": str(page),
            "limit": str(limit),
        }
        status, body, retry_after = await self._get(username, params)
        data = self._decode(username, status, body, retry_after)
        try:
            return _parse_page(data)
        except _Malformed as problem:
            raise self._error(LastFmErrorKind.BAD_RESPONSE, username, f"malformed top artists: {problem}") from None

    # -- internals -----------------------------------------------------------------------------

    async def _get(self, username: str, params: dict[str, str]) -> tuple[int, bytes, float | None]:
        session = self._session_now()
        try:
            # The timeout per request, so that it holds on a session passed in too.
            timeout = aiohttp.ClientTimeout(total=self.timeout)
            async with session.get(self.base_url, params=params, timeout=timeout) as response:
                body = await response.read()
                return response.status, body, _seconds(response.headers.get("Retry-After"))
        # `from None` throughout: aiohttp's exceptions can carry the request URL, and with it the key.
        except TimeoutError:
            raise self._error(LastFmErrorKind.TIMEOUT, username, f"no answer within {self.timeout:g} s") from None
        except aiohttp.ClientConnectorError as error:
            raise self._error(LastFmErrorKind.UNREACHABLE, username, f"cannot connect: {error.os_error}") from None
        except aiohttp.ClientConnectionError as error:
            detail = f"connection lost: {type(error).__name__}"
            raise self._error(LastFmErrorKind.UNAVAILABLE, username, detail) from None
        except aiohttp.ClientError as error:
            raise self._error(LastFmErrorKind.BAD_RESPONSE, username, f"HTTP failure: {type(error).__name__}") from None

    def _decode(self, username: str, status: int, body: bytes, retry_after: float | None) -> Any:
        try:
            data = json.loads(body)
        except ValueError:
            data = None
        if isinstance(data, dict) and "error" in data:
            code = data.get("error")
            kind = _KIND_OF_CODE.get(code) if isinstance(code, int) and not isinstance(code, bool) else None
            if kind is None:
                kind = LastFmErrorKind.UNAVAILABLE if status >= 500 else LastFmErrorKind.BAD_RESPONSE
            said = data.get("message")
            detail = f"HTTP {status}, Last.fm error {code!r}" + (f": {said}" if isinstance(said, str) else "")
            raise self._error(kind, username, detail, retry_after)
        if status == 429:
            raise self._error(LastFmErrorKind.RATE_LIMITED, username, "HTTP 429", retry_after)
        if status >= 500:
            raise self._error(LastFmErrorKind.UNAVAILABLE, username, f"HTTP {status}", retry_after)
        if status != 200:
            raise self._error(LastFmErrorKind.BAD_RESPONSE, username, f"HTTP {status}")
        if data is None:
            raise self._error(LastFmErrorKind.BAD_RESPONSE, username, f"HTTP 200 but not JSON ({len(body)} bytes)")
        return data

    def _error(
        self, kind: LastFmErrorKind, username: str, detail: str, retry_after: float | None = None
    ) -> LastFmError:
        # Real keys are 32 characters; blanking a toy key of a letter or two would garble the text.
        if len(self._api_key) >= 6:
            detail = detail.replace(self._api_key, "***")
        log.debug("Last.fm top artists for %r failed: %s (%s)", username, kind.value, detail)
        return LastFmError(kind, _message(kind, username), detail=detail, retry_after=retry_after)

    def _session_now(self) -> aiohttp.ClientSession:
        # Made on first use, so that it belongs to the running event loop.
        if self._session is None or self._session.closed:
            if not self._owns_session:
                raise RuntimeError("the session passed to LastFmClient is closed")
            self._session = aiohttp.ClientSession(
                headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
                raise_for_status=False,
            )
        return self._session


class _Malformed(ValueError):
    """The body is JSON but not the documented shape."""


def _parse_page(data: Any) -> TopArtistsPage:
    top = _field(data, "topartists", dict)
    attr = _field(top, "@attr", dict)
    raw_artists = top.get("artist", [])
    # Older JSON renderings gave a lone artist as an object rather than a one-element list.
    if isinstance(raw_artists, dict):
        raw_artists = [raw_artists]
    if not isinstance(raw_artists, list):
        raise _Malformed("'artist' is not a list")
    artists = [_parse_artist(raw) for raw in raw_artists]
    return TopArtistsPage(
        user=str(attr.get("user", "")),
        page=_count(_field(attr, "page", (str, int)), "page"),
        total_pages=_count(_field(attr, "totalPages", (str, int)), "totalPages"),
        total=_count(_field(attr, "total", (str, int)), "total"),
        artists=artists,
    )


def _parse_artist(raw: Any) -> TopArtist:
    if not isinstance(raw, dict):
        raise _Malformed("an artist is not an object")
    name = _field(raw, "name", str).strip()
    if not name:
        raise _Malformed("an artist has an empty name")
    playcount = _count(_field(raw, "playcount", (str, int)), "playcount")
    mbid = raw.get("mbid")
    url = raw.get("url")
    return TopArtist(
        name=name,
        playcount=playcount,
        mbid=mbid if isinstance(mbid, str) and mbid else None,
        url=url if isinstance(url, str) and url else None,
    )


def _field(obj: Any, key: str, types: type | tuple[type, ...]) -> Any:
    if not isinstance(obj, dict) or key not in obj:
        raise _Malformed(f"no {key!r}")
    value = obj[key]
    if not isinstance(value, types) or isinstance(value, bool):
        raise _Malformed(f"{key!r} is a {type(value).__name__}")
    return value


def _count(value: str | int, what: str) -> int:
    # Last.fm sends numbers as strings ("1337").
    try:
        number = int(value)
    except ValueError:
        raise _Malformed(f"{what} {value!r} is not a number") from None
    if number < 0:
        raise _Malformed(f"{what} {number} is negative")
    return number


def _seconds(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None  # an HTTP date; not worth parsing for a hint
    return seconds if seconds >= 0 else None


__all__ = [
    "DEFAULT_BASE_URL",
    "LastFmClient",
    "LastFmError",
    "LastFmErrorKind",
    "TopArtist",
    "TopArtistsPage",
]
