"""The store's read cache: fewer queries, and never a stale taste or setting after a write."""

from __future__ import annotations

import asyncio

from sqlalchemy import event

from db.engine import create_engine
from db.read_cache import ReadCache
from db.rows import Taste
from db.store import Store

from .helpers import seed_artists


class QueryCounter:
    def __init__(self, store: Store) -> None:
        self.count = 0
        event.listen(store.engine.sync_engine, "before_cursor_execute", self._count)

    def _count(self, *_: object) -> None:
        self.count += 1


def test_a_repeated_read_asks_the_database_nothing(database_url: str) -> None:
    async def scenario() -> None:
        async with Store(create_engine(database_url), revision_poll_seconds=60) as store:
            artists = await seed_artists(store, 3)
            await store.like(1, artists[0])
            first = await store.taste_of(1)
            counter = QueryCounter(store)
            assert await store.taste_of(1) == first
            assert counter.count == 0

    asyncio.run(scenario())


def test_own_writes_count_at_once(database_url: str) -> None:
    async def scenario() -> None:
        async with Store(create_engine(database_url), revision_poll_seconds=60) as store:
            artists = await seed_artists(store, 3)
            await store.like(1, artists[0])
            assert (await store.taste_of(1)).liked == (artists[0],)
            await store.like(1, artists[1])
            assert (await store.taste_of(1)).liked == (artists[0], artists[1])
            await store.mark_not_interested(1, artists[2])
            assert (await store.taste_of(1)).not_interested == (artists[2],)
            await store.unlike(1, artists[0])
            assert (await store.taste_of(1)).liked == (artists[1],)
            await store.forget_user(1)
            assert await store.taste_of(1) == Taste((), (), ())

    asyncio.run(scenario())


def test_another_process_writes_are_seen_after_the_poll_interval(database_url: str) -> None:
    async def scenario() -> None:
        async with (
            Store(create_engine(database_url), revision_poll_seconds=0.2) as bot,
            Store(create_engine(database_url)) as other,
        ):
            artists = await seed_artists(bot, 2)
            await bot.like(1, artists[0])
            assert (await bot.taste_of(1)).liked == (artists[0],)
            await other.like(1, artists[1])
            await asyncio.sleep(0.3)
            assert (await bot.taste_of(1)).liked == (artists[0], artists[1])

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


def test_server_popularity_penalty_is_set_cached_and_reset(database_url: str) -> None:
    async def scenario() -> None:
        async with (
            Store(create_engine(database_url), revision_poll_seconds=60) as store,
            Store(create_engine(database_url), revision_poll_seconds=0.2) as other,
        ):
            assert await store.server_popularity_penalty(7) is None
            await store.set_server_popularity_penalty(7, 0.8)
            assert await store.server_popularity_penalty(7) == 0.8
            counter = QueryCounter(store)
            assert await store.server_popularity_penalty(7) == 0.8
            assert counter.count == 0
            assert await other.server_popularity_penalty(7) == 0.8
            await store.set_server_popularity_penalty(7, None)
            await asyncio.sleep(0.3)
            assert await other.server_popularity_penalty(7) is None
            for bad in (-1.0, float("nan"), float("inf")):
                try:
                    await store.set_server_popularity_penalty(7, bad)
                except ValueError:
                    continue
                raise AssertionError(f"{bad} was accepted")

    asyncio.run(scenario())
