"""SessionService over a real store and model: the group, votes as likes and marks, picks, refusals, expiry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.services.sessions import IDLE_MINUTES, NotInGroup, SessionError, SessionOpen, SessionService
from tests.helpers.services import Services

GUILD, VOICE, TEXT = 4242, 5000, 6000
ART_POP = ("Radiohead", "Björk", "Portishead", "Massive Attack")
METAL = ("Metallica", "Slayer", "Iron Maiden", "Megadeth")


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 15, 20, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


async def like_all(library, user_id: int, names) -> None:
    for name in names:
        await library.like(user_id, name, guild_id=GUILD)


async def two_members_with_tastes(library) -> tuple[SessionService, Clock]:
    """A session service on an injected clock, with member 1 liking art pop and member 2 metal."""
    clock = Clock()
    sessions = SessionService(library.store, library, clock=clock)
    await like_all(library, 1, ART_POP)
    await like_all(library, 2, METAL)
    return sessions, clock


async def start(sessions: SessionService, members, voice: int = VOICE):
    return await sessions.start(
        guild_id=GUILD, voice_channel_id=voice, text_channel_id=TEXT, started_by=members[0], voice_members=members
    )


def test_a_session_proposes_new_artists_and_records_votes_as_likes_and_marks(
    served: Services, forbid_fitting: list[int]
) -> None:
    async def scenario() -> None:
        async with served.library() as (_, library):
            sessions, clock = await two_members_with_tastes(library)
            await library.store.members.set_privacy(3, "private")
            started = await start(sessions, [1, 2, 3, 4])
            assert started.private == (3,) and started.no_likes == (4,)
            state = started.state
            assert state.members == (1, 2, 4) and state.artist is not None
            held = {library.catalogue.lookup(n).artist_id for n in ART_POP + METAL}
            first = state.pick
            assert first.artist_id not in held

            with pytest.raises(SessionOpen) as already:
                await start(sessions, [1, 2])
            assert already.value.session.id == state.session.id
            with pytest.raises(NotInGroup, match="private"):
                await sessions.vote(state.session.id, 3, into_it=True)
            with pytest.raises(NotInGroup):
                await sessions.vote(state.session.id, 99, into_it=True)

            state = await sessions.vote(state.session.id, 1, into_it=True)
            assert state.pick.id == first.id and state.votes == {1: True}
            assert [(r.artist_id, r.source) for r in await library.store.likes.likes_of(1)][0] == (
                first.artist_id,
                "session",
            )
            state = await sessions.vote(state.session.id, 2, into_it=False)
            assert first.artist_id in (await library.store.likes.taste_of(2)).not_interested
            state = await sessions.vote(state.session.id, 4, into_it=True)
            assert state.pick.id != first.id and state.pick.artist_id != first.artist_id, "all voted: a new pick"
            with pytest.raises(SessionError, match="no longer"):
                await sessions.vote(state.session.id, 1, into_it=True, pick_id=first.id)

            # A joiner counts from the next pick; a leaver is no longer waited for.
            await like_all(library, 5, ("Muse",))
            clock.now += timedelta(minutes=1)
            joined = await sessions.joined(VOICE, 5)
            assert joined.members == (1, 2, 4, 5) and joined.changes == ((5, "joined"),)
            second = joined.pick
            await sessions.vote(state.session.id, 1, into_it=True)
            await sessions.vote(state.session.id, 2, into_it=True)
            left = await sessions.left(VOICE, 4, channel_empty=False)
            assert left.pick.id != second.id, "4 left, everyone else voted: next pick"
            assert left.members == (1, 2, 5)
            skipped = await sessions.skip(state.session.id, 5)
            assert skipped.pick.id != left.pick.id and len({p for p in (first, second, left.pick, skipped.pick)}) == 4

            ended = await sessions.end(state.session.id, 1)
            recap = ended.recap
            assert ended.ended and recap is not None
            assert [v.artist.artist_id for v in recap.proposed][:2] == [first.artist_id, second.artist_id]
            assert (recap.proposed[0].into_it, recap.proposed[0].not_for_me) == (2, 1)
            assert recap.favourites[0].artist_id in (first.artist_id, second.artist_id)
            likes = {m.user_id: m.liked for m in recap.new_likes}
            assert [a.artist_id for a in likes[1]] == [first.artist_id, second.artist_id]
            with pytest.raises(SessionError, match="ended"):
                await sessions.vote(state.session.id, 1, into_it=True)
            history = await sessions.history(GUILD)
            assert [s.session.id for s in history.sessions] == [state.session.id] and history.pages == 1

    served.run(scenario)


def test_changing_a_vote_undoes_the_session_like_only(served: Services, forbid_fitting: list[int]) -> None:
    async def scenario() -> None:
        async with served.library() as (_, library):
            sessions = SessionService(library.store, library)
            await like_all(library, 1, ART_POP)
            await like_all(library, 2, METAL)
            state = (await start(sessions, [1, 2])).state
            artist = state.pick.artist_id
            await sessions.vote(state.session.id, 1, into_it=True)
            await sessions.vote(state.session.id, 1, into_it=False)
            taste = await library.store.likes.taste_of(1)
            assert artist not in taste.liked and artist in taste.not_interested

    served.run(scenario)


def test_idle_sessions_end_after_the_idle_time_and_empty_channels_end_at_once(
    served: Services, forbid_fitting: list[int]
) -> None:
    async def scenario() -> None:
        async with served.library() as (_, library):
            sessions, clock = await two_members_with_tastes(library)
            quiet = (await start(sessions, [1, 2])).state
            busy = (await start(sessions, [1, 2], voice=VOICE + 1)).state
            clock.now += timedelta(minutes=IDLE_MINUTES - 1)
            assert await sessions.expire_idle() == []
            await sessions.vote(busy.session.id, 1, into_it=True)
            clock.now += timedelta(minutes=2)
            ended = await sessions.expire_idle()
            assert [s.session.id for s in ended] == [quiet.session.id] and ended[0].session.end_reason == "idle"
            gone = await sessions.left(VOICE + 1, 1, channel_empty=True)
            assert gone.ended and gone.session.end_reason == "empty"
            assert await sessions.open_in_channel(VOICE + 1) is None

    served.run(scenario)


def test_a_session_needs_someone_with_likes_and_a_known_strategy(served: Services, forbid_fitting: list[int]) -> None:
    async def scenario() -> None:
        async with served.library() as (_, library):
            sessions = SessionService(library.store, library)
            with pytest.raises(SessionError, match="liked"):
                await start(sessions, [7, 8])
            with pytest.raises(SessionError, match="strategy"):
                await sessions.start(
                    guild_id=GUILD,
                    voice_channel_id=VOICE,
                    text_channel_id=TEXT,
                    started_by=7,
                    voice_members=[7],
                    strategy="borda",
                )

    served.run(scenario)
