"""`SessionService`: start, vote, next pick, join and leave, end, recap and history of listening sessions.

The group is the voice channel's members whose privacy is public (private ones are left out, and told):
their tastes are read from the store for every pick, so a vote (an Into it is a like with source
'session', a Not for me a not-interested mark) counts at once, with no refit. A member who joins takes
part from the next pick; the current pick moves on once everyone who was there when it was proposed has
voted, or someone presses Next.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.errors import UserError
from bot.services.library import MAX_NAME_LENGTH, MemberLibrary
from bot.services.sessions.recap import HistoryPage, Recap, build_recap
from db.models import SESSION_STRATEGIES, utcnow
from db.sessions import PickRow, SessionAlreadyOpen, SessionMemberRow, SessionRow
from db.store import Store
from recommender.catalogue import Artist
from recommender.engine import EngineError
from recommender.sessions import SessionVote, next_pick
from recommender.text import normalize_name

#: A session with no vote for this long ends by itself.
IDLE_MINUTES = 30
HISTORY_PAGE = 5
#: How many artists of one Spotify activity are matched against the picks (a song names a few at most).
MAX_LISTENED_ARTISTS = 10


class SessionError(UserError, ValueError):
    """A session request that cannot be done; the message is for the member."""


class SessionOpen(SessionError):
    """The voice channel has a session already; `session` says where its panel is."""

    def __init__(self, session: SessionRow) -> None:
        super().__init__("a listening session is already running in that voice channel")
        self.session = session


class NotInGroup(SessionError):
    """A vote or a Next from someone outside the session's group."""


@dataclass(frozen=True)
class SessionState:
    """A session as the panel shows it."""

    session: SessionRow
    #: The group now, in the order they joined.
    members: tuple[int, ...]
    pick: PickRow | None
    artist: Artist | None
    because: tuple[Artist, ...]
    #: Votes on the current pick: member -> Into it.
    votes: dict[int, bool]
    #: Since the current pick: (member, "joined" or "left").
    changes: tuple[tuple[int, str], ...] = ()
    recap: Recap | None = None

    @property
    def ended(self) -> bool:
        return self.session.ended_at is not None


@dataclass(frozen=True)
class Started:
    state: SessionState
    #: In the voice channel but left out: privacy private.
    private: tuple[int, ...]
    #: In the group, but with no like Encore knows: the picks do not use their taste yet.
    no_likes: tuple[int, ...]


@dataclass
class _Live:
    """What a process keeps about a session beyond the store: a lock over its picks, recent changes."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    changes: list[tuple[int, str]] = field(default_factory=list)


class SessionService:
    def __init__(self, store: Store, library: MemberLibrary, *, clock: Callable[[], datetime] = utcnow) -> None:
        self.store = store
        self.library = library
        self.models = library.models
        self.clock = clock
        self._live: dict[int, _Live] = {}

    # -- starting ---------------------------------------------------------------------------------

    async def start(
        self,
        *,
        guild_id: int,
        voice_channel_id: int,
        text_channel_id: int,
        started_by: int,
        voice_members: Sequence[int],
        strategy: str = "average",
    ) -> Started:
        """Open a session for the voice channel's members (bots already left out) and propose a first artist."""
        if strategy not in SESSION_STRATEGIES:
            raise SessionError(f"choose a strategy from {', '.join(SESSION_STRATEGIES)}")
        existing = await self.store.sessions.open_in_channel(voice_channel_id)
        if existing is not None:
            raise SessionOpen(existing)
        present = list(dict.fromkeys(voice_members))
        privacies = await self.store.members.privacies_of(present)
        private = tuple(u for u in present if privacies.get(u) == "private")
        group = [u for u in present if u not in private]
        if not group:
            raise SessionError(
                "nobody in that voice channel can take part: members whose privacy is private are left out"
            )
        no_likes = tuple(await self._without_usable_likes(group))
        if len(no_likes) == len(group):
            raise SessionError("nobody in the voice channel has liked an artist Encore knows yet; use /like first")
        try:
            session = await self.store.sessions.open(
                guild_id=guild_id,
                voice_channel_id=voice_channel_id,
                text_channel_id=text_channel_id,
                strategy=strategy,
                started_by=started_by,
                members=group,
                now=self.clock(),
            )
        except SessionAlreadyOpen as already:
            found = await self.store.sessions.get(already.session_id)
            assert found is not None
            raise SessionOpen(found) from None
        pick = await self._propose(session)
        if pick is None:
            await self.store.sessions.end(session.id, "ended", self.clock())
            raise SessionError("Encore has nothing new to propose to this group; like a few more artists")
        return Started(await self.state(session.id), private, no_likes)

    async def set_panel(self, session_id: int, message_id: int) -> None:
        await self.store.sessions.set_panel(session_id, message_id)

    async def open_in_channel(self, voice_channel_id: int) -> SessionRow | None:
        return await self.store.sessions.open_in_channel(voice_channel_id)

    # -- what the panel shows ---------------------------------------------------------------------

    async def state(self, session_id: int) -> SessionState:
        session = await self._session(session_id)
        members = await self.store.sessions.members(session_id)
        picks = await self.store.sessions.picks(session_id)
        pick = picks[-1] if picks else None
        votes = {}
        if pick is not None:
            votes = {v.user_id: v.into_it for v in await self.store.sessions.votes(session_id) if v.pick_id == pick.id}
        catalogue = self.library.catalogue
        artist = catalogue.get(pick.artist_id) if pick is not None and pick.artist_id in catalogue else None
        because = tuple(catalogue.get(a) for a in (pick.because if pick else ()) if a in catalogue)
        recap = await self.recap(session_id) if session.ended_at is not None else None
        return SessionState(
            session,
            tuple(m.user_id for m in members if m.left_at is None),
            pick,
            artist,
            because,
            votes,
            tuple(self._live_of(session_id).changes),
            recap,
        )

    # -- votes and picks --------------------------------------------------------------------------

    async def vote(self, session_id: int, user_id: int, *, into_it: bool, pick_id: int | None = None) -> SessionState:
        """The member's Into it (a like) or Not for me (a mark) on the current pick; the next pick once
        everyone expected has voted. `pick_id`: the pick the button was for (an older one is refused)."""
        session = await self._open(session_id)
        members = await self._require_member(session, user_id)
        picks = await self.store.sessions.picks(session_id)
        if not picks:
            raise SessionError("there is nothing to vote on yet")
        pick = picks[-1]
        if pick_id is not None and pick_id != pick.id:
            raise SessionError("that artist is no longer the one proposed; vote on the current one")
        before = await self.store.sessions.vote(session_id, pick.id, user_id, into_it=into_it, now=self.clock())
        if into_it:
            await self.library.like_artist_id(user_id, pick.artist_id, session.guild_id, source="session")
        else:
            await self.store.likes.mark_not_interested(user_id, pick.artist_id)
            if before:
                # Undo only the like this session's Into it made; a like from elsewhere stays.
                sources = {r.artist_id: r.source for r in await self.store.likes.likes_of(user_id)}
                if sources.get(pick.artist_id) == "session":
                    await self.store.likes.unlike(user_id, pick.artist_id)
        await self._advance_if_done(session, pick, members)
        return await self.state(session_id)

    async def skip(self, session_id: int, user_id: int, *, pick_id: int | None = None) -> SessionState:
        """Next: propose another artist now (a member of the group asked)."""
        session = await self._open(session_id)
        await self._require_member(session, user_id)
        async with self._live_of(session_id).lock:
            picks = await self.store.sessions.picks(session_id)
            if pick_id is None or (picks and picks[-1].id == pick_id):
                if await self._propose(session) is None:
                    raise SessionError("Encore has nothing new to propose to this group right now")
        return await self.state(session_id)

    async def _advance_if_done(self, session: SessionRow, pick: PickRow, members: list[SessionMemberRow]) -> bool:
        expected = {m.user_id for m in members if m.left_at is None and m.joined_at <= pick.proposed_at}
        async with self._live_of(session.id).lock:
            picks = await self.store.sessions.picks(session.id)
            if not picks or picks[-1].id != pick.id:
                return False  # another vote moved on already
            voted = {v.user_id for v in await self.store.sessions.votes(session.id) if v.pick_id == pick.id}
            if not expected <= voted:
                return False
            return await self._propose(session) is not None

    async def _propose(self, session: SessionRow) -> PickRow | None:
        members = [m.user_id for m in await self.store.sessions.members(session.id) if m.left_at is None]
        tastes = await self.store.likes.tastes_of(members)
        votes = [SessionVote(v.user_id, v.artist_id, v.into_it) for v in await self.store.sessions.votes(session.id)]
        proposed = {p.artist_id for p in await self.store.sessions.picks(session.id)}
        seen = await self.library.artists.view(None, session.guild_id)
        try:
            found = next_pick(
                self.models.engine,
                {u: tastes[u] for u in members},
                votes=votes,
                proposed=proposed,
                strategy=session.strategy,
                visible=seen.is_visible,
            )
        except EngineError as error:
            raise SessionError(str(error)) from None
        if found is None:
            return None
        self._live_of(session.id).changes.clear()
        return await self.store.sessions.add_pick(
            session.id,
            found.artist.artist_id,
            for_members=[int(u) for u in found.for_members],
            because=[a.artist_id for a in found.because],
            now=self.clock(),
        )

    # -- listening activity -----------------------------------------------------------------------

    async def listened(self, voice_channel_id: int, user_id: int, artist_names: Sequence[str]) -> SessionState | None:
        """The member is playing these artists (the artists of their Spotify activity): each pick of the
        voice channel's session by one of them counts as their Into it, as the button would, unless they
        voted on it already. Only for a member of the group who opted in (/privacy listening); nothing of
        the activity is kept but those votes. The session's new state, or None when nothing was recorded."""
        wanted = {normalize_name(name[:MAX_NAME_LENGTH]) for name in artist_names[:MAX_LISTENED_ARTISTS]} - {""}
        if not wanted:
            return None
        session = await self.store.sessions.open_in_channel(voice_channel_id)
        if session is None:
            return None
        members = await self.store.sessions.members(session.id)
        if not any(m.user_id == user_id and m.left_at is None for m in members):
            return None
        if not await self.store.members.listening_opt_in(user_id):
            return None
        catalogue = self.library.catalogue
        picks = await self.store.sessions.picks(session.id)
        voted = {v.pick_id for v in await self.store.sessions.votes(session.id) if v.user_id == user_id}
        heard = [
            p
            for p in picks
            if p.id not in voted
            and p.artist_id in catalogue
            and normalize_name(catalogue.get(p.artist_id).name) in wanted
        ]
        if not heard:
            return None
        for pick in heard:
            await self.store.sessions.vote(session.id, pick.id, user_id, into_it=True, now=self.clock())
            await self.library.like_artist_id(user_id, pick.artist_id, session.guild_id, source="session")
        if heard[-1].id == picks[-1].id:
            await self._advance_if_done(session, picks[-1], members)
        return await self.state(session.id)

    # -- the voice channel ------------------------------------------------------------------------

    async def joined(self, voice_channel_id: int, user_id: int) -> SessionState | None:
        """A member joined the voice channel: into the group from the next pick (unless private).
        The session's new state, or None when nothing changed."""
        session = await self.store.sessions.open_in_channel(voice_channel_id)
        if session is None or await self.store.members.privacy_of(user_id) == "private":
            return None
        if not await self.store.sessions.join(session.id, user_id, session.guild_id, self.clock()):
            return None
        self._live_of(session.id).changes.append((user_id, "joined"))
        return await self.state(session.id)

    async def left(self, voice_channel_id: int, user_id: int, *, channel_empty: bool) -> SessionState | None:
        """A member left the voice channel: out of the group; the session ends once the channel (or
        the group) is empty. The session's new state, or None when nothing changed."""
        session = await self.store.sessions.open_in_channel(voice_channel_id)
        if session is None:
            return None
        gone = await self.store.sessions.leave(session.id, user_id, self.clock())
        members = await self.store.sessions.members(session.id)
        if channel_empty or not any(m.left_at is None for m in members):
            await self.store.sessions.end(session.id, "empty", self.clock())
            return await self.state(session.id)
        if not gone:
            return None
        self._live_of(session.id).changes.append((user_id, "left"))
        picks = await self.store.sessions.picks(session.id)
        if picks:
            await self._advance_if_done(session, picks[-1], members)
        return await self.state(session.id)

    # -- ending -----------------------------------------------------------------------------------

    async def end(self, session_id: int, user_id: int | None = None, *, reason: str = "ended") -> SessionState:
        """End the session (`user_id`: who asked; they must be in its group or have started it)."""
        session = await self._open(session_id)
        if user_id is not None and user_id != session.started_by:
            await self._require_member(session, user_id)
        await self.store.sessions.end(session_id, reason, self.clock())
        self._live.pop(session_id, None)
        return await self.state(session_id)

    async def expire_idle(self) -> list[SessionState]:
        """End every session with no vote for `IDLE_MINUTES`; their final states."""
        cutoff = self.clock() - timedelta(minutes=IDLE_MINUTES)
        ended = []
        for session in await self.store.sessions.open_sessions(idle_since=cutoff):
            if await self.store.sessions.end(session.id, "idle", self.clock()):
                self._live.pop(session.id, None)
                ended.append(await self.state(session.id))
        return ended

    async def recap(self, session_id: int) -> Recap:
        session = await self._session(session_id)
        members = [m.user_id for m in await self.store.sessions.members(session_id)]
        catalogue = self.library.catalogue
        picks = await self.store.sessions.picks(session_id)
        return build_recap(
            session,
            picks,
            await self.store.sessions.votes(session_id),
            members=members,
            privacies=await self.store.members.privacies_of(members),
            artist={p.artist_id: catalogue.get(p.artist_id) for p in picks if p.artist_id in catalogue},
        )

    async def history(self, guild_id: int, page: int = 1) -> HistoryPage:
        """The server's past sessions, newest first, `HISTORY_PAGE` a page (pages count from 1)."""
        page = max(page, 1)
        found, total = await self.store.sessions.history(guild_id, offset=(page - 1) * HISTORY_PAGE, limit=HISTORY_PAGE)
        return HistoryPage(tuple(found), page, max(1, math.ceil(total / HISTORY_PAGE)))

    # -- helpers ----------------------------------------------------------------------------------

    def _live_of(self, session_id: int) -> _Live:
        live = self._live.get(session_id)
        if live is None:
            live = self._live[session_id] = _Live()
        return live

    async def _session(self, session_id: int) -> SessionRow:
        session = await self.store.sessions.get(session_id)
        if session is None:
            raise SessionError("that listening session is not known (it may have been removed)")
        return session

    async def _open(self, session_id: int) -> SessionRow:
        session = await self._session(session_id)
        if session.ended_at is not None:
            raise SessionError("this listening session has ended; start another with /session start")
        return session

    async def _require_member(self, session: SessionRow, user_id: int) -> list[SessionMemberRow]:
        members = await self.store.sessions.members(session.id)
        if any(m.user_id == user_id and m.left_at is None for m in members):
            return members
        if await self.store.members.privacy_of(user_id) == "private":
            raise NotInGroup("members whose privacy is private are left out of listening sessions")
        raise NotInGroup("only the members in this session's voice channel can vote; join it to take part")

    async def _without_usable_likes(self, members: Sequence[int]) -> list[int]:
        tastes = await self.store.likes.tastes_of(members)
        engine: Any = self.models.engine
        empty = []
        for user_id in members:
            taste = tastes[user_id]
            try:
                engine.likes_row(taste.liked, taste.not_interested, taste.plays)
            except EngineError:
                empty.append(user_id)
        return empty
