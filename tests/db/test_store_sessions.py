"""Store.sessions: one open session per voice channel, groups, picks and votes, history, forgetting."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from db.store import SessionAlreadyOpen, Store
from tests.helpers.db import run_with_store, seed_artists

GUILD, VOICE, TEXT = 100, 200, 300
T0 = datetime(2026, 12, 15, 20, 0, tzinfo=UTC)


async def start(store: Store, members: tuple[int, ...] = (1, 2), voice: int = VOICE, now: datetime = T0):
    return await store.sessions.open(
        guild_id=GUILD,
        voice_channel_id=voice,
        text_channel_id=TEXT,
        strategy="average",
        started_by=members[0],
        members=members,
        now=now,
    )


def test_one_open_session_per_voice_channel_even_when_two_starts_race(database_url: str) -> None:
    async def scenario(store: Store) -> None:
        results = await asyncio.gather(start(store), start(store), return_exceptions=True)
        opened = [r for r in results if not isinstance(r, BaseException)]
        refused = [r for r in results if isinstance(r, SessionAlreadyOpen)]
        assert len(opened) == 1 and len(refused) == 1 and refused[0].session_id == opened[0].id
        other = await start(store, voice=VOICE + 1)
        assert other.id != opened[0].id
        assert (await store.sessions.open_in_channel(VOICE)).id == opened[0].id
        assert await store.sessions.end(opened[0].id, "ended", T0 + timedelta(minutes=5))
        assert not await store.sessions.end(opened[0].id, "idle"), "ending twice changes nothing"
        again = await start(store)
        assert again.id not in (opened[0].id, other.id)

    run_with_store(database_url, scenario)


def test_group_picks_votes_and_idle_sessions(database_url: str) -> None:
    async def scenario(store: Store) -> None:
        await seed_artists(store, 5)
        session = await start(store)
        assert [m.user_id for m in await store.sessions.members(session.id)] == [1, 2]
        assert await store.sessions.join(session.id, 3, GUILD, T0 + timedelta(minutes=1))
        assert not await store.sessions.join(session.id, 3, GUILD)
        assert await store.sessions.leave(session.id, 2)
        assert not await store.sessions.leave(session.id, 2)
        present = {m.user_id for m in await store.sessions.members(session.id) if m.left_at is None}
        assert present == {1, 3}

        first = await store.sessions.add_pick(session.id, 4, for_members=[1, 3], because=[1, 2], now=T0)
        second = await store.sessions.add_pick(session.id, 5, now=T0 + timedelta(minutes=2))
        assert (first.position, second.position) == (1, 2)
        assert [(p.artist_id, p.for_members, p.because) for p in await store.sessions.picks(session.id)] == [
            (4, (1, 3), (1, 2)),
            (5, (), ()),
        ]
        assert await store.sessions.vote(session.id, first.id, 1, into_it=True, now=T0 + timedelta(minutes=3)) is None
        assert await store.sessions.vote(session.id, first.id, 1, into_it=False, now=T0 + timedelta(minutes=4))
        votes = await store.sessions.votes(session.id)
        assert [(v.artist_id, v.user_id, v.into_it) for v in votes] == [(4, 1, False)]

        quiet = await start(store, voice=VOICE + 1, now=T0)
        idle = await store.sessions.open_sessions(idle_since=T0 + timedelta(minutes=2))
        assert [s.id for s in idle] == [quiet.id], "a vote keeps a session awake"
        await store.sessions.set_panel(session.id, 999)
        assert (await store.sessions.get(session.id)).panel_message_id == 999

    run_with_store(database_url, scenario)


def test_history_lists_a_servers_ended_sessions_newest_first(database_url: str) -> None:
    async def scenario(store: Store) -> None:
        ids = []
        for minutes in range(3):
            session = await start(store, now=T0 + timedelta(minutes=minutes))
            await store.sessions.end(session.id, "ended")
            ids.append(session.id)
        await start(store)  # open: not history yet
        page, total = await store.sessions.history(GUILD, offset=0, limit=2)
        assert total == 3 and [s.session.id for s in page] == ids[::-1][:2]
        assert all(s.members == 2 and s.picks == 0 for s in page)
        rest, _ = await store.sessions.history(GUILD, offset=2, limit=2)
        assert [s.session.id for s in rest] == ids[:1]
        assert (await store.sessions.history(GUILD + 1))[1] == 0

    run_with_store(database_url, scenario)


def test_forget_user_removes_their_votes_places_and_mentions_in_reasons(database_url: str) -> None:
    async def scenario(store: Store) -> None:
        await seed_artists(store, 3)
        session = await start(store)
        pick = await store.sessions.add_pick(session.id, 3, for_members=[1, 2])
        await store.sessions.vote(session.id, pick.id, 1, into_it=True)
        await store.sessions.vote(session.id, pick.id, 2, into_it=True)
        removed = await store.members.forget_user(1)
        assert removed["session_votes"] == 1 and removed["session_members"] == 1
        assert [v.user_id for v in await store.sessions.votes(session.id)] == [2]
        assert [m.user_id for m in await store.sessions.members(session.id)] == [2]
        assert (await store.sessions.picks(session.id))[0].for_members == (2,)
        assert (await store.sessions.get(session.id)).started_by is None

    run_with_store(database_url, scenario)


def test_session_likes_are_a_like_source_and_others_are_refused(database_url: str) -> None:
    async def scenario(store: Store) -> None:
        await seed_artists(store, 2)
        assert await store.likes.like(1, 1, source="session")
        assert [row.source for row in await store.likes.likes_of(1)] == ["session"]
        with pytest.raises(IntegrityError):
            async with store.engine.begin() as conn:
                await conn.execute(text("INSERT INTO likes (user_id, artist_id, source) VALUES (1, 2, 'somewhere')"))

    run_with_store(database_url, scenario)
