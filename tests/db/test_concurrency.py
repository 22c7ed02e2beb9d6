"""Concurrent members against one real database file: outcomes are exact, nothing is "locked".

Several Store instances (each its own engine and pool, so its own connections and, for
aiosqlite, its own threads) write at once, which is what contends for SQLite's write lock.
"""

from __future__ import annotations

import asyncio
import random
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy import select

from db.artists import AddedArtistLimitReached
from db.engine import create_engine
from db.models import MEMBER_ARTIST_ID_BASE, memberships
from db.store import Store
from tests.helpers.db import seed_artists

T = TypeVar("T")

MEMBERS = [300_000_000_000_000_000 + 7_919 * i for i in range(20)]  # snowflake-sized ids
ARTISTS = list(range(1, 16))
GUILDS = [900_000_000_000_000_001, 900_000_000_000_000_002, 900_000_000_000_000_003]
OPERATIONS = 200
STORES = 4


def run_with_stores(url: str, scenario: Callable[[list[Store]], Awaitable[T]]) -> T:
    async def main() -> T:
        stores = [Store(create_engine(url)) for _ in range(STORES)]
        try:
            return await scenario(stores)
        finally:
            for store in stores:
                await store.close()

    return asyncio.run(main())


def make_schedule(seed: int) -> list[tuple[int, int, str]]:
    """200 (member, artist, 'like'|'unlike') operations, deterministic for a seed.

    Each member keeps to 4 artists so most (member, artist) pairs see several operations and the
    final state depends on their order.
    """
    rng = random.Random(seed)
    pairs = [(m, a) for m in MEMBERS for a in rng.sample(ARTISTS, 4)]
    schedule = []
    for _ in range(OPERATIONS):
        member, artist = rng.choice(pairs)
        schedule.append((member, artist, "like" if rng.random() < 0.6 else "unlike"))
    return schedule


def test_200_concurrent_likes_and_unlikes_leave_exactly_the_expected_rows(
    database_url: str,
) -> None:
    schedule = make_schedule(seed=2024)
    # Each member always likes from one server, so each server/membership row is first written
    # by that member's first like; see the revision check below.
    guild_of = {member: GUILDS[i % len(GUILDS)] for i, member in enumerate(MEMBERS)}

    # The reference: apply the schedule in order. Operations on one pair stay in order when run
    # concurrently, so each call's return value is determined too.
    liked: set[tuple[int, int]] = set()
    expected_returns = []
    for member, artist, op in schedule:
        pair = (member, artist)
        expected_returns.append(pair not in liked if op == "like" else pair in liked)
        if op == "like":
            liked.add(pair)
        else:
            liked.discard(pair)

    chains: dict[tuple[int, int], list[int]] = defaultdict(list)
    for index, (member, artist, _) in enumerate(schedule):
        chains[(member, artist)].append(index)
    assert max(len(c) for c in chains.values()) >= 4, "the schedule should exercise ordering"

    async def scenario(stores: list[Store]) -> None:
        await seed_artists(stores[0], len(ARTISTS))
        start = await stores[0].revision()
        returns: list[bool | None] = [None] * len(schedule)

        async def chain(indices: list[int]) -> None:
            for index in indices:
                member, artist, op = schedule[index]
                store = stores[index % len(stores)]  # consecutive calls hop between engines
                if op == "like":
                    returns[index] = await store.likes.like(member, artist, guild_id=guild_of[member])
                else:
                    returns[index] = await store.likes.unlike(member, artist)

        # No return_exceptions: a single "database is locked" fails the test.
        await asyncio.gather(*(chain(indices) for indices in chains.values()))

        assert returns == expected_returns
        all_likes = await stores[1].likes.all_likes()
        assert {(u, a) for u, a, _, _ in all_likes} == liked
        assert len(all_likes) == len(liked)
        assert all(source == "discord" for _, _, source, _ in all_likes)
        # One bump per changing transaction and none lost: only new likes changed anything,
        # since a member's first like is also what created them, their server and membership.
        assert await stores[2].revision() == start + sum(expected_returns)

        ever_liked = {m for m, _, op in schedule if op == "like"}
        async with stores[3].engine.connect() as conn:
            rows = (await conn.execute(select(memberships.c.user_id, memberships.c.guild_id))).all()
        assert {tuple(r) for r in rows} == {(m, guild_of[m]) for m in ever_liked}
        assert (await stores[3].counts())["members"] == len(ever_liked)

    run_with_stores(database_url, scenario)


def test_20_concurrent_adds_of_one_new_artist_give_one_id(database_url: str) -> None:
    async def scenario(stores: list[Store]) -> None:
        await seed_artists(stores[0], 3)
        ids = await asyncio.gather(
            *(stores[i % len(stores)].artists.add_member_artist("Brand New", "brandnew") for i in range(20))
        )
        assert len(set(ids)) == 1
        assert ids[0] >= MEMBER_ARTIST_ID_BASE
        assert [a.id for a in await stores[1].artists.member_artists()] == [ids[0]]

    run_with_stores(database_url, scenario)


def test_concurrent_adds_by_one_member_stop_exactly_at_the_daily_limit(database_url: str) -> None:
    names = [f"rush{i}" for i in range(10)]

    async def scenario(stores: list[Store]) -> None:
        outcomes = await asyncio.gather(
            *(
                stores[i % len(stores)].artists.add_member_artist(
                    name.title(), name, added_by=MEMBERS[0], daily_limit=3
                )
                for i, name in enumerate(names)
            ),
            return_exceptions=True,
        )
        refused = [o for o in outcomes if isinstance(o, AddedArtistLimitReached)]
        added = [o for o in outcomes if isinstance(o, int)]
        assert (len(added), len(refused)) == (3, 7), outcomes
        assert sorted(a.id for a in await stores[1].artists.member_artists()) == sorted(added)

    run_with_stores(database_url, scenario)


def test_concurrent_adds_of_different_artists_get_distinct_ids(database_url: str) -> None:
    names = [f"band{i}" for i in range(12)]

    async def scenario(stores: list[Store]) -> None:
        ids = await asyncio.gather(
            *(
                stores[i % len(stores)].artists.add_member_artist(name.title(), name)
                for i, name in enumerate(names * 2)  # each name twice, all at once
            )
        )
        by_name = dict(zip(names * 2, ids, strict=True))
        assert all(by_name[n] == i for n, i in zip(names * 2, ids, strict=True))
        assert sorted(by_name.values()) == list(range(MEMBER_ARTIST_ID_BASE, MEMBER_ARTIST_ID_BASE + len(names)))
        members = await stores[0].artists.member_artists()
        assert {a.normalized_name: a.id for a in members} == by_name

    run_with_stores(database_url, scenario)
