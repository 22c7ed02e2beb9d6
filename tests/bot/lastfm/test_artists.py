"""The fake's artist methods (Last.fm's JSON shapes, error 6) and ArtistLookup against them, over real HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import aiohttp
import pytest

from bot.lastfm.artists import ArtistLookup, ArtistLookupError
from bot.lastfm.client import LastFmErrorKind
from fake_lastfm import Failure, FakeArtist, FakeLastFm

T = TypeVar("T")

API_KEY = "0123456789abcdef0123456789abcdef"
STALL = 5.0


def run(scenario: Callable[[], Awaitable[T]], timeout: float = 30.0) -> T:
    return asyncio.run(asyncio.wait_for(scenario(), timeout))  # type: ignore[arg-type]


@asynccontextmanager
async def fake_and_lookup(timeout: float = 2.0, **kwargs: Any) -> AsyncIterator[tuple[FakeLastFm, ArtistLookup]]:
    async with FakeLastFm(api_key=API_KEY, stall_seconds=STALL, **kwargs) as fake:
        async with ArtistLookup(API_KEY, base_url=fake.base_url, timeout=timeout) as lookup:
            yield fake, lookup


async def raw(fake: FakeLastFm, **params: str) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as session:
        query = {"api_key": API_KEY, "format": "json", **params}
        async with session.get(fake.base_url, params=query) as response:
            return response.status, await response.json(content_type=None)


def test_the_fake_answers_the_three_artist_methods_in_lastfm_shapes() -> None:
    async def scenario() -> None:
        async with FakeLastFm(api_key=API_KEY) as fake:
            status, info = await raw(fake, method="artist.getInfo", artist="billie eilish", autocorrect="1")
            assert status == 200
            artist = info["artist"]
            assert artist["name"] == "Billie Eilish" and artist["url"] == "https://www.last.fm/music/Billie+Eilish"
            assert isinstance(artist["stats"]["listeners"], str) and int(artist["stats"]["listeners"]) > 0
            assert [i["size"] for i in artist["image"]][:2] == ["small", "medium"]
            assert len(artist["similar"]["artist"]) == 5 and "match" not in artist["similar"]["artist"][0]
            assert artist["tags"]["tag"][0] == {"name": "pop", "url": "https://www.last.fm/tag/pop"}

            status, similar = await raw(fake, method="artist.getSimilar", artist="Billie Eilish", limit="3")
            assert status == 200 and similar["similarartists"]["@attr"] == {"artist": "Billie Eilish"}
            first = similar["similarartists"]["artist"]
            assert [a["name"] for a in first] == ["Lorde", "Melanie Martinez", "Finneas"]
            assert first[0]["match"] == "1" and first[1]["match"] == "0.93"

            status, tags = await raw(fake, method="artist.getTopTags", artist="Billie Eilish")
            assert status == 200 and tags["toptags"]["tag"][0] == {
                "count": 100,
                "name": "pop",
                "url": "https://www.last.fm/tag/pop",
            }

            # Without autocorrect only the case is forgiven, as on Last.fm.
            status, body = await raw(fake, method="artist.getInfo", artist="BillieEilish")
            assert (status, body["error"]) == (404, 6)
            assert body["message"] == "The artist you supplied could not be found"
            status, body = await raw(fake, method="artist.getInfo", artist="BillieEilish", autocorrect="1")
            assert status == 200 and body["artist"]["name"] == "Billie Eilish"
            status, body = await raw(fake, method="artist.getSimilar", artist="")
            assert (status, body["error"]) == (400, 6)
            status, body = await raw(fake, method="artist.getCorrection", artist="Billie Eilish")
            assert body["error"] == 3

    run(scenario)


def test_lookup_gives_the_spelling_tags_and_similar_artists_best_first() -> None:
    async def scenario() -> None:
        async with fake_and_lookup() as (fake, lookup):
            info = await lookup.lookup("  billie EILISH ")
            assert info is not None
            assert info.name == "Billie Eilish" and info.url == "https://www.last.fm/music/Billie+Eilish"
            assert info.mbid and info.listeners == 3_400_000
            assert info.tags[:3] == ("pop", "electropop", "seen live")
            assert info.similar[0] == ("Lorde", 1.0) and ("Sia", 0.4) in info.similar
            assert [m for _, m in info.similar] == sorted((m for _, m in info.similar), reverse=True)
            methods = [r.query["method"] for r in fake.requests]
            assert methods[0] == "artist.getinfo" and sorted(methods[1:]) == ["artist.getsimilar", "artist.gettoptags"]
            assert all(r.query["artist"] == "Billie Eilish" for r in fake.requests[1:])

            # Asked again (in another spelling), the cache answers.
            assert await lookup.lookup("Billie Eilish") == info
            assert len(fake.requests) == 3

    run(scenario)


def test_an_artist_last_fm_lacks_is_none_and_cached_too() -> None:
    async def scenario() -> None:
        async with fake_and_lookup() as (fake, lookup):
            assert await lookup.lookup("Glorptastic Unheard Ensemble") is None
            assert await lookup.lookup("glorptastic unheard ensemble") is None
            assert len(fake.requests) == 1
            assert await lookup.lookup("   ") is None

    run(scenario)


def test_an_artist_with_no_similar_artists_or_tags_is_still_found() -> None:
    async def scenario() -> None:
        async with fake_and_lookup(artists=[FakeArtist("Solo Newcomer")]) as (_, lookup):
            info = await lookup.lookup("Solo Newcomer")
            assert info is not None and info.similar == () and info.tags == ()

    run(scenario)


@pytest.mark.parametrize(
    ("failure", "kind"),
    [
        (Failure.INVALID_KEY, LastFmErrorKind.INVALID_API_KEY),
        (Failure.RATE_LIMIT, LastFmErrorKind.RATE_LIMITED),
        (Failure.SERVICE_OFFLINE, LastFmErrorKind.UNAVAILABLE),
        (Failure.TEMPORARY_ERROR, LastFmErrorKind.UNAVAILABLE),
        (Failure.SERVER_ERROR, LastFmErrorKind.UNAVAILABLE),
        (Failure.INVALID_JSON, LastFmErrorKind.BAD_RESPONSE),
        (Failure.MISSING_TOPARTISTS, LastFmErrorKind.BAD_RESPONSE),
        (Failure.WRONG_TYPES, LastFmErrorKind.BAD_RESPONSE),
        (Failure.TIMEOUT, LastFmErrorKind.TIMEOUT),
    ],
)
def test_each_failure_is_a_readable_error_and_nothing_is_cached(failure: Failure, kind: LastFmErrorKind) -> None:
    async def scenario() -> None:
        async with fake_and_lookup(timeout=0.5) as (fake, lookup):
            fake.fail(failure)
            with pytest.raises(ArtistLookupError) as raised:
                await lookup.lookup("Billie Eilish")
            error = raised.value
            assert error.kind is kind
            text = error.reply_text(lambda text, limit: text)
            assert text.endswith("Nothing was added.") and API_KEY not in text + error.detail
            fake.recover_all()
            assert (await lookup.lookup("Billie Eilish")) is not None

    run(scenario)


def test_a_wrong_key_is_refused_by_the_fake_itself() -> None:
    async def scenario() -> None:
        async with FakeLastFm(api_key=API_KEY) as fake:
            async with ArtistLookup("another-key-entirely", base_url=fake.base_url) as lookup:
                with pytest.raises(ArtistLookupError) as raised:
                    await lookup.lookup("Billie Eilish")
                assert raised.value.kind is LastFmErrorKind.INVALID_API_KEY
                assert "not valid" in str(raised.value)

    run(scenario)
