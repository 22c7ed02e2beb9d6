"""The store's read cache: fewer queries, and never a stale taste or setting after a write."""

from __future__ import annotations

import asyncio

import pytest

from db import read_cache
from db.engine import create_engine
from db.read_cache import ReadCache
from db.rows import Taste
from db.store import Store
from tests.helpers.db import StatementCounter, seed_artists

POLL_SECONDS = 10.0


class FakeClock:
    """Stands in for the read cache's monotonic clock, so the poll interval passes when a test says."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    # The module's `time`, not time.monotonic itself: the event loop keeps the real clock.
    monkeypatch.setattr(read_cache, "time", fake)
    return fake


def test_a_repeated_read_asks_the_database_nothing(database_url: str, clock: FakeClock) -> None:
    async def scenario() -> None:
        async with Store(create_engine(database_url), revision_poll_seconds=60) as store:
            artists = await seed_artists(store, 3)
            await store.likes.like(1, artists[0])
            first = await store.likes.taste_of(1)
            counter = StatementCounter(store.engine)
            assert await store.likes.taste_of(1) == first
            assert counter.statements == 0

    asyncio.run(scenario())


def test_tastes_of_reads_many_members_in_one_query_and_caches_them(database_url: str, clock: FakeClock) -> None:
    async def scenario() -> None:
        async with Store(create_engine(database_url), revision_poll_seconds=60) as store:
            artists = await seed_artists(store, 4)
            members = list(range(1, 41))
            for member in members:
                await store.likes.like(member, artists[member % 4])
            await store.likes.like(1, artists[3], source="lastfm", weight=12.0)
            await store.likes.mark_not_interested(2, artists[0])
            await store.likes.taste_of(1)  # the revision check is behind us: what follows is the batch alone
            counter = StatementCounter(store.engine)
            tastes = await store.likes.tastes_of([*members, 99, 1])  # one never seen, one twice
            assert counter.statements == 1
            assert set(tastes) == {*members, 99}
            for member in members:
                assert tastes[member] == await store.likes.taste_of(member)
            assert tastes[1] == Taste((artists[1], artists[3]), (None, 12.0), ())
            assert tastes[2] == Taste((artists[2],), (None,), (artists[0],))
            assert tastes[99] == Taste((), (), ())
            counter.reset()
            assert await store.likes.tastes_of(members) == {m: tastes[m] for m in members}
            assert await store.likes.tastes_of([]) == {}
            assert counter.statements == 0  # all cached now
            await store.likes.like(3, artists[0])
            counter.reset()
            assert (await store.likes.tastes_of([3, 4]))[3].liked == (artists[0], artists[3])
            assert counter.statements == 1
            counter.close()

    asyncio.run(scenario())


def test_own_writes_count_at_once(database_url: str) -> None:
    async def scenario() -> None:
        async with Store(create_engine(database_url), revision_poll_seconds=60) as store:
            artists = await seed_artists(store, 3)
            await store.likes.like(1, artists[0])
            assert (await store.likes.taste_of(1)).liked == (artists[0],)
            await store.likes.like(1, artists[1])
            assert (await store.likes.taste_of(1)).liked == (artists[0], artists[1])
            await store.likes.mark_not_interested(1, artists[2])
            assert (await store.likes.taste_of(1)).not_interested == (artists[2],)
            await store.likes.unlike(1, artists[0])
            assert (await store.likes.taste_of(1)).liked == (artists[1],)
            await store.members.forget_user(1)
            assert await store.likes.taste_of(1) == Taste((), (), ())

    asyncio.run(scenario())


def test_another_process_writes_are_seen_after_the_poll_interval(database_url: str, clock: FakeClock) -> None:
    async def scenario() -> None:
        async with (
            Store(create_engine(database_url), revision_poll_seconds=POLL_SECONDS) as bot,
            Store(create_engine(database_url)) as other,
        ):
            artists = await seed_artists(bot, 2)
            await bot.likes.like(1, artists[0])
            assert (await bot.likes.taste_of(1)).liked == (artists[0],)
            await other.likes.like(1, artists[1])
            clock.now += POLL_SECONDS - 1
            assert (await bot.likes.taste_of(1)).liked == (artists[0],)  # not polled yet: still cached
            assert (await bot.likes.tastes_of([1]))[1].liked == (artists[0],)
            clock.now += 2
            assert (await bot.likes.tastes_of([1]))[1].liked == (artists[0], artists[1])
            assert (await bot.likes.taste_of(1)).liked == (artists[0], artists[1])

    asyncio.run(scenario())


def test_a_read_that_overlapped_a_write_is_not_kept() -> None:
    cache = ReadCache()
    before = cache.generation
    cache.invalidate()  # a write committed while the read was running
    cache.put(1, Taste((5,), (None,), ()), before)
    assert cache.get(1) is None
    cache.put(1, Taste((5,), (None,), ()), cache.generation)
    assert cache.get(1) == Taste((5,), (None,), ())


def test_the_cache_is_bounded() -> None:
    cache = ReadCache(max_entries=2)
    for user in range(5):
        cache.put(user, Taste((user,), (None,), ()), cache.generation)
    assert sum(cache.get(user) is not None for user in range(5)) <= 2
    assert cache.get(4) is not None


def test_server_popularity_penalty_is_set_cached_and_reset(database_url: str, clock: FakeClock) -> None:
    async def scenario() -> None:
        async with (
            Store(create_engine(database_url), revision_poll_seconds=POLL_SECONDS) as store,
            Store(create_engine(database_url), revision_poll_seconds=POLL_SECONDS) as other,
        ):
            assert await store.guilds.server_popularity_penalty(7) is None
            await store.guilds.set_server_popularity_penalty(7, 0.8)
            assert await store.guilds.server_popularity_penalty(7) == 0.8
            counter = StatementCounter(store.engine)
            assert await store.guilds.server_popularity_penalty(7) == 0.8
            assert counter.statements == 0
            assert await other.guilds.server_popularity_penalty(7) == 0.8
            await store.guilds.set_server_popularity_penalty(7, None)
            assert await store.guilds.server_popularity_penalty(7) is None  # its own write: at once
            assert await other.guilds.server_popularity_penalty(7) == 0.8  # not polled yet
            clock.now += POLL_SECONDS + 1
            assert await other.guilds.server_popularity_penalty(7) is None
            for bad in (-1.0, float("nan"), float("inf")):
                try:
                    await store.guilds.set_server_popularity_penalty(7, bad)
                except ValueError:
                    continue
                raise AssertionError(f"{bad} was accepted")

    asyncio.run(scenario())
