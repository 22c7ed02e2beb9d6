"""LastFmClient against FakeLastFm (and a raw server for shapes the fake never sends), over real HTTP on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import aiohttp
import pytest
from aiohttp import web

from bot.lastfm.client import LastFmClient, LastFmError, LastFmErrorKind, TopArtist
from fake_lastfm import Failure, FakeLastFm

T = TypeVar("T")

# Shaped like a real key (32 hex digits), so that finding it anywhere in a message means a leak.
API_KEY = "0123456789abcdef0123456789abcdef"
#: Far above any timeout the tests give the client, far below the test's own patience.
STALL = 5.0
CHART = [(f"Artist {i}", 1000 - 10 * i) for i in range(7)]


def run(scenario: Callable[[], Awaitable[T]], timeout: float = 30.0) -> T:
    return asyncio.run(asyncio.wait_for(scenario(), timeout))  # type: ignore[arg-type]


@asynccontextmanager
async def fake_and_client(
    users: dict[str, list[tuple[str, int]]] | None = None, timeout: float = 2.0
) -> AsyncIterator[tuple[FakeLastFm, LastFmClient]]:
    async with FakeLastFm(
        users={"rj": CHART} if users is None else users, api_key=API_KEY, stall_seconds=STALL
    ) as fake:
        async with LastFmClient(API_KEY, base_url=fake.base_url, timeout=timeout) as client:
            yield fake, client


@asynccontextmanager
async def raw_server(status: int, body: str, headers: dict[str, str] | None = None) -> AsyncIterator[str]:
    """A server answering every request with exactly this; yields its base URL."""

    async def answer(request: web.Request) -> web.Response:
        return web.Response(status=status, text=body, content_type="application/json", headers=headers)

    app = web.Application()
    app.router.add_get("/2.0/", answer)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}/2.0/"
    finally:
        await runner.cleanup()


async def failure_of(call: Awaitable[Any]) -> LastFmError:
    with pytest.raises(LastFmError) as caught:
        await call
    return caught.value


def assert_no_key(error: LastFmError) -> None:
    for text in (str(error), repr(error), error.detail, error.message):
        assert API_KEY not in text


# -- the documented shape and paging ------------------------------------------------------------


def test_top_artists_pages_through_three_pages() -> None:
    async def scenario() -> None:
        async with fake_and_client() as (fake, client):
            artists = await client.top_artists("rj", limit=3, max_pages=10)
            assert [a.name for a in artists] == [name for name, _ in CHART]
            assert artists[0] == TopArtist("Artist 0", 1000, None, "https://www.last.fm/music/Artist+0")
            assert all(isinstance(a.playcount, int) for a in artists)
            assert [r.page for r in fake.requests] == [1, 2, 3]  # stopped at totalPages, not max_pages
            for request in fake.requests:
                assert request.query["method"] == "user.gettopartists"
                assert (request.query["format"], request.query["limit"]) == ("json", "3")
                assert request.query["api_key"] == API_KEY
                assert request.username == "rj"

    run(scenario)


def test_max_pages_caps_the_fetch() -> None:
    async def scenario() -> None:
        async with fake_and_client() as (fake, client):
            artists = await client.top_artists("rj", limit=3, max_pages=2)
            assert [a.playcount for a in artists] == [1000, 990, 980, 970, 960, 950]
            assert [r.page for r in fake.requests] == [1, 2]

    run(scenario)


def test_a_short_chart_takes_one_request_and_an_empty_one_is_no_error() -> None:
    async def scenario() -> None:
        async with fake_and_client({"rj": CHART, "quiet": []}) as (fake, client):
            assert len(await client.top_artists("rj", limit=50, max_pages=3)) == 7
            assert await client.top_artists("quiet", limit=50, max_pages=3) == []
            assert len(fake.requests) == 2

    run(scenario)


@pytest.mark.parametrize(
    "username", ["Björk_fan", "日本語ユーザー", "a+b", "rj&page=9&api_key=x", "x/y?z#w", "100%", "  padded  "]
)
def test_odd_usernames_arrive_intact(username: str) -> None:
    async def scenario() -> None:
        stored = username.strip()
        async with fake_and_client({stored: [("Sigur Rós", 12)]}) as (fake, client):
            assert await client.top_artists(username) == [
                TopArtist("Sigur Rós", 12, None, "https://www.last.fm/music/Sigur+R%C3%B3s")
            ]
            [request] = fake.requests
            assert request.username == stored
            assert (request.query["api_key"], request.page) == (API_KEY, 1)

    run(scenario)


def test_a_repeated_artist_across_pages_is_kept_once() -> None:
    # The chart can shift between two page requests; a fake whose chart changes mid-fetch shows it.
    async def scenario() -> None:
        async with fake_and_client() as (fake, client):
            first = await client.top_artists_page("rj", 1, 3)
            fake.set_user("rj", [("Artist 2", 5000), *CHART])  # Artist 2 climbs to the top...
            rest = await client.top_artists("rj", limit=3, max_pages=3)
            assert [a.name for a in first.artists] == ["Artist 0", "Artist 1", "Artist 2"]
            assert len({a.name for a in rest}) == len(rest)

    run(scenario)


# -- every failure: its kind, a message a member can act on, and never the key -------------------

FAILURES = [
    (Failure.UNKNOWN_USER, LastFmErrorKind.USER_NOT_FOUND, "Last.fm has no user named “rj” — check the spelling"),
    (Failure.INVALID_KEY, LastFmErrorKind.INVALID_API_KEY, "Encore's Last.fm API key is not valid"),
    (Failure.SUSPENDED_KEY, LastFmErrorKind.SUSPENDED_API_KEY, "suspended Encore's API key"),
    (Failure.RATE_LIMIT, LastFmErrorKind.RATE_LIMITED, "Last.fm is rate-limiting Encore; try again in a minute"),
    (Failure.SERVICE_OFFLINE, LastFmErrorKind.UNAVAILABLE, "try again in a few minutes"),
    (Failure.TEMPORARY_ERROR, LastFmErrorKind.UNAVAILABLE, "try again in a few minutes"),
    (Failure.SERVER_ERROR, LastFmErrorKind.UNAVAILABLE, "try again in a few minutes"),
    (Failure.TIMEOUT, LastFmErrorKind.TIMEOUT, "took too long"),
    (Failure.INVALID_JSON, LastFmErrorKind.BAD_RESPONSE, "could not read"),
    (Failure.MISSING_TOPARTISTS, LastFmErrorKind.BAD_RESPONSE, "could not read"),
    (Failure.WRONG_TYPES, LastFmErrorKind.BAD_RESPONSE, "could not read"),
]


@pytest.mark.parametrize(("failure", "kind", "says"), FAILURES, ids=[f.value for f, _, _ in FAILURES])
def test_each_failure_has_its_kind_and_message(
    failure: Failure, kind: LastFmErrorKind, says: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)

    async def scenario() -> None:
        async with fake_and_client(timeout=0.3) as (fake, client):
            fake.fail(failure, username="rj")
            error = await failure_of(client.top_artists("rj"))
            assert error.kind is kind
            assert says in str(error)
            assert_no_key(error)
            fake.recover("rj")
            assert len(await client.top_artists("rj")) == 7  # and the client recovers with it

    run(scenario)
    assert API_KEY not in caplog.text


def test_failure_kinds_tell_transient_from_service_wide() -> None:
    def error(kind: LastFmErrorKind) -> LastFmError:
        return LastFmError(kind, "x")

    assert not error(LastFmErrorKind.USER_NOT_FOUND).transient
    assert not error(LastFmErrorKind.USER_NOT_FOUND).service_wide
    assert error(LastFmErrorKind.RATE_LIMITED).transient and error(LastFmErrorKind.RATE_LIMITED).service_wide
    assert error(LastFmErrorKind.INVALID_API_KEY).service_wide
    assert not error(LastFmErrorKind.INVALID_API_KEY).transient
    assert not error(LastFmErrorKind.BAD_RESPONSE).service_wide


def test_an_unknown_user_and_a_wrong_key_without_any_switch() -> None:
    async def scenario() -> None:
        async with fake_and_client() as (fake, client):
            error = await failure_of(client.top_artists("nobody_here"))
            assert error.kind is LastFmErrorKind.USER_NOT_FOUND and "nobody_here" in str(error)
            assert fake.requests[-1].status == 404
            wrong = "ffffffffffffffffffffffffffffffff"
            async with LastFmClient(wrong, base_url=fake.base_url) as other:
                error = await failure_of(other.top_artists("rj"))
            assert error.kind is LastFmErrorKind.INVALID_API_KEY
            assert wrong not in str(error) + error.detail

    run(scenario)


def test_a_failure_on_a_later_page_fails_the_whole_fetch() -> None:
    async def scenario() -> None:
        async with fake_and_client() as (fake, client):
            fake.fail(Failure.RATE_LIMIT, from_page=2)  # globally, from page 2 on
            error = await failure_of(client.top_artists("rj", limit=3, max_pages=3))
            assert error.kind is LastFmErrorKind.RATE_LIMITED
            assert [r.page for r in fake.requests] == [1, 2]

    run(scenario)


def test_a_timeout_is_prompt_and_the_fake_still_stops_quickly() -> None:
    async def scenario() -> float:
        loop = asyncio.get_running_loop()
        async with fake_and_client(timeout=0.2) as (fake, client):
            fake.fail(Failure.TIMEOUT)
            started = loop.time()
            error = await failure_of(client.top_artists("rj"))
            waited = loop.time() - started
            assert error.kind is LastFmErrorKind.TIMEOUT and error.transient
        return waited

    waited = run(scenario, timeout=STALL - 1)  # fails if the fake's exit waited for its stall
    assert waited < 2.0


def test_connection_refused_is_unreachable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again below: nothing listens there

    async def scenario() -> None:
        async with LastFmClient(API_KEY, base_url=f"http://127.0.0.1:{port}/2.0/", timeout=2.0) as client:
            error = await failure_of(client.top_artists("rj"))
        assert error.kind is LastFmErrorKind.UNREACHABLE
        assert "could not reach Last.fm" in str(error)
        assert_no_key(error)

    run(scenario)


# -- shapes the fake never sends ----------------------------------------------------------------


def page(artists: Any, **attr: Any) -> dict[str, Any]:
    fields = {"user": "rj", "totalPages": "1", "page": "1", "perPage": "50", "total": "1"} | attr
    return {"topartists": {"artist": artists, "@attr": fields}}


GOOD_ARTIST = {
    "name": "Queen",
    "playcount": "1511",
    "mbid": "5eecaf18",
    "url": "https://www.last.fm/music/Queen",
    "@attr": {"rank": "1"},
}


@pytest.mark.parametrize(
    ("status", "body", "kind"),
    [
        (200, page(GOOD_ARTIST), None),  # a lone artist as an object, as older renderings sent
        (200, page([dict(GOOD_ARTIST, playcount=1511)]), None),  # a number rather than a string
        (200, page("Queen"), LastFmErrorKind.BAD_RESPONSE),
        (200, page([GOOD_ARTIST], totalPages="many"), LastFmErrorKind.BAD_RESPONSE),
        (200, page([dict(GOOD_ARTIST, playcount="-3")]), LastFmErrorKind.BAD_RESPONSE),
        (200, page([dict(GOOD_ARTIST, name="  ")]), LastFmErrorKind.BAD_RESPONSE),
        (200, page([dict(GOOD_ARTIST, name=None)]), LastFmErrorKind.BAD_RESPONSE),
        (200, page([["Queen", 1511]]), LastFmErrorKind.BAD_RESPONSE),
        (200, {"topartists": {"artist": []}}, LastFmErrorKind.BAD_RESPONSE),
        (200, [1, 2, 3], LastFmErrorKind.BAD_RESPONSE),
        (200, {"error": 6, "message": "User not found"}, LastFmErrorKind.USER_NOT_FOUND),  # by code, not status
        (404, {"error": 6, "message": "User not found"}, LastFmErrorKind.USER_NOT_FOUND),
        (400, {"error": 13, "message": "Invalid method signature"}, LastFmErrorKind.BAD_RESPONSE),
        (500, {"error": 99, "message": "?"}, LastFmErrorKind.UNAVAILABLE),
        (503, "", LastFmErrorKind.UNAVAILABLE),
        (429, "slow down", LastFmErrorKind.RATE_LIMITED),
        (403, "<html>Forbidden</html>", LastFmErrorKind.BAD_RESPONSE),
    ],
)
def test_raw_answers(status: int, body: Any, kind: LastFmErrorKind | None) -> None:
    text = body if isinstance(body, str) else json.dumps(body)

    async def scenario() -> None:
        async with raw_server(status, text) as url, LastFmClient(API_KEY, base_url=url) as client:
            if kind is None:
                assert await client.top_artists("rj") == [
                    TopArtist("Queen", 1511, "5eecaf18", "https://www.last.fm/music/Queen")
                ]
            else:
                error = await failure_of(client.top_artists("rj"))
                assert error.kind is kind
                assert_no_key(error)

    run(scenario)


def test_retry_after_is_passed_on() -> None:
    async def scenario() -> None:
        body = json.dumps({"error": 29, "message": "Rate Limit Exceeded"})
        async with raw_server(429, body, {"Retry-After": "30"}) as url, LastFmClient(API_KEY, base_url=url) as client:
            error = await failure_of(client.top_artists("rj"))
        assert (error.kind, error.retry_after) == (LastFmErrorKind.RATE_LIMITED, 30.0)

    run(scenario)


# -- what is refused before any request ---------------------------------------------------------


@pytest.mark.parametrize("username", ["", "   ", "x" * 101, "tab\there", "new\nline"])
def test_impossible_usernames_are_refused_without_a_request(username: str) -> None:
    async def scenario() -> None:
        async with fake_and_client() as (fake, client):
            error = await failure_of(client.top_artists(username))
            assert error.kind is LastFmErrorKind.INVALID_USERNAME
            assert "last.fm/user/NAME" in str(error)
            assert fake.requests == []

    run(scenario)


def test_bad_arguments_and_the_key_stays_out_of_repr() -> None:
    with pytest.raises(ValueError):
        LastFmClient("")
    with pytest.raises(ValueError):
        LastFmClient(API_KEY, timeout=0)
    client = LastFmClient(API_KEY)
    assert API_KEY not in repr(client)

    async def scenario() -> None:
        for limit, pages in ((0, 1), (1001, 1), (10, 0)):
            with pytest.raises(ValueError):
                await client.top_artists("rj", limit=limit, max_pages=pages)
        await client.close()

    run(scenario)


def test_a_session_passed_in_is_left_open() -> None:
    async def scenario() -> None:
        async with FakeLastFm(users={"rj": CHART}, api_key=API_KEY) as fake:
            async with aiohttp.ClientSession() as session:
                async with LastFmClient(API_KEY, base_url=fake.base_url, session=session) as client:
                    assert len(await client.top_artists("rj")) == 7
                assert not session.closed

    run(scenario)
