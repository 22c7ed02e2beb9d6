"""SessionService.listened over a real store and model: a Spotify artist an opted-in member of the group plays
counts as their Into it on the session's pick of that artist, once, and for no one else."""

from __future__ import annotations

from bot.services.sessions import SessionService
from tests.helpers.services import Services

GUILD, VOICE, TEXT = 4343, 5100, 6100
ART_POP = ("Radiohead", "Björk", "Portishead", "Massive Attack")
METAL = ("Metallica", "Slayer", "Iron Maiden", "Megadeth")


async def like_all(library, user_id: int, names) -> None:
    for name in names:
        await library.like(user_id, name, guild_id=GUILD)


async def started(library, members=(1, 2)):
    sessions = SessionService(library.store, library)
    await like_all(library, 1, ART_POP)
    await like_all(library, 2, METAL)
    start = await sessions.start(
        guild_id=GUILD, voice_channel_id=VOICE, text_channel_id=TEXT, started_by=members[0], voice_members=members
    )
    return sessions, start.state


async def session_likes(library, user_id: int) -> set[int]:
    return {r.artist_id for r in await library.store.likes.likes_of(user_id) if r.source == "session"}


def test_an_opted_in_member_playing_the_pick_is_into_it(served: Services, forbid_fitting: list[int]) -> None:
    async def scenario() -> None:
        async with served.library() as (_, library):
            sessions, state = await started(library)
            pick, name = state.pick, state.artist.name
            # Not opted in (the default): playing it records nothing.
            assert await sessions.listened(VOICE, 1, [name]) is None
            assert await session_likes(library, 1) == set()

            await library.set_listening_opt_in(1, True)
            assert await sessions.listened(VOICE, 1, ["Somebody Else"]) is None
            # Spotify lists featured artists after "; "; the name matches whatever its case and accents.
            heard = await sessions.listened(VOICE, 1, ["Somebody Else", name.upper()])
            assert heard is not None and heard.pick.id == pick.id and heard.votes == {1: True}
            assert await session_likes(library, 1) == {pick.artist_id}
            # The same song again (a pause, a seek, another server's copy of the update): nothing new.
            assert await sessions.listened(VOICE, 1, [name]) is None
            # Not in the group, or another voice channel: nothing.
            await library.set_listening_opt_in(3, True)
            assert await sessions.listened(VOICE, 3, [name]) is None
            assert await sessions.listened(VOICE + 1, 1, [name]) is None
            assert await sessions.listened(VOICE, 1, []) is None

            # Member 2 plays it too: everyone has voted, so the session moves on, as after the buttons.
            await library.set_listening_opt_in(2, True)
            moved = await sessions.listened(VOICE, 2, [name])
            assert moved is not None and moved.pick.id != pick.id and moved.votes == {}
            votes = [(v.pick_id, v.user_id, v.into_it) for v in await library.store.sessions.votes(state.session.id)]
            assert votes == [(pick.id, 1, True), (pick.id, 2, True)]

            # Taking the choice back stops it at once.
            await library.set_listening_opt_in(1, False)
            assert await sessions.listened(VOICE, 1, [moved.artist.name]) is None

            await sessions.end(state.session.id, 1)
            await library.set_listening_opt_in(1, True)
            assert await sessions.listened(VOICE, 1, [moved.artist.name]) is None, "the session has ended"

    served.run(scenario)


def test_an_earlier_pick_counts_unless_the_member_voted_on_it(served: Services, forbid_fitting: list[int]) -> None:
    async def scenario() -> None:
        async with served.library() as (_, library):
            sessions, state = await started(library)
            first = state.pick
            first_name = state.artist.name
            await sessions.vote(state.session.id, 2, into_it=False)
            later = await sessions.skip(state.session.id, 2)
            assert later.pick.id != first.id

            for member in (1, 2):
                await library.set_listening_opt_in(member, True)
            # Member 2 said Not for me to the first pick: playing it later does not overrule that.
            assert await sessions.listened(VOICE, 2, [first_name]) is None
            assert first.artist_id in (await library.store.likes.taste_of(2)).not_interested
            # Member 1 never voted on it: the first pick gets their Into it, and the current one is left alone.
            heard = await sessions.listened(VOICE, 1, [first_name])
            assert heard is not None and heard.pick.id == later.pick.id and heard.votes == {}
            votes = {(v.pick_id, v.user_id): v.into_it for v in await library.store.sessions.votes(state.session.id)}
            assert votes == {(first.id, 2): False, (first.id, 1): True}
            assert await session_likes(library, 1) == {first.artist_id}

    served.run(scenario)
