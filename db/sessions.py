"""`Sessions`: listening sessions in voice channels, their groups, the artists proposed and the votes.

A session is open until `end`; the database keeps at most one open per voice channel (a partial unique
index), so two starts racing in one channel give one session and a `SessionAlreadyOpen` for the other.
Votes are rows about their member: `forget_in_sessions` removes them, with the member's place in groups.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from db.database import Database, aware, bump_revision, check_choice, run, snowflake
from db.models import (
    SESSION_END_REASONS,
    SESSION_STRATEGIES,
    listening_sessions,
    session_members,
    session_picks,
    session_votes,
    utcnow,
)


class SessionAlreadyOpen(Exception):
    """The voice channel has an open session already (`session_id`); nothing was written."""

    def __init__(self, session_id: int) -> None:
        super().__init__(f"session {session_id} is open in that voice channel")
        self.session_id = session_id


@dataclass(frozen=True, slots=True)
class SessionRow:
    id: int
    guild_id: int
    voice_channel_id: int
    text_channel_id: int
    panel_message_id: int | None
    strategy: str
    started_by: int | None
    started_at: datetime
    last_vote_at: datetime
    ended_at: datetime | None
    end_reason: str | None


@dataclass(frozen=True, slots=True)
class SessionMemberRow:
    user_id: int
    joined_at: datetime
    #: None while the member is in the group.
    left_at: datetime | None


@dataclass(frozen=True, slots=True)
class PickRow:
    id: int
    position: int
    artist_id: int
    for_members: tuple[int, ...]
    because: tuple[int, ...]
    proposed_at: datetime


@dataclass(frozen=True, slots=True)
class VoteRow:
    pick_id: int
    artist_id: int
    user_id: int
    into_it: bool
    voted_at: datetime


@dataclass(frozen=True, slots=True)
class SessionSummary:
    session: SessionRow
    picks: int
    members: int


def _session(row: object) -> SessionRow:
    return SessionRow(*row)  # type: ignore[misc]


_SESSION_COLUMNS = [listening_sessions.c[name] for name in SessionRow.__slots__]  # type: ignore[attr-defined]


class Sessions:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def open(
        self,
        *,
        guild_id: int,
        voice_channel_id: int,
        text_channel_id: int,
        strategy: str,
        started_by: int,
        members: Sequence[int],
        now: datetime | None = None,
    ) -> SessionRow:
        """Open a session with `members` as its group; `SessionAlreadyOpen` if the channel has one."""
        check_choice(strategy, SESSION_STRATEGIES, "session strategy")
        now = aware(now or utcnow())
        guild_id, voice_channel_id = snowflake(guild_id), snowflake(voice_channel_id)
        try:
            async with self._db.write() as conn:
                changed = await self._db.ensure_member(conn, snowflake(started_by), guild_id)
                result = await conn.execute(
                    listening_sessions.insert()
                    .values(
                        guild_id=guild_id,
                        voice_channel_id=voice_channel_id,
                        text_channel_id=snowflake(text_channel_id),
                        strategy=strategy,
                        started_by=started_by,
                        started_at=now,
                        last_vote_at=now,
                    )
                    .returning(listening_sessions.c.id)
                )
                session_id = int(result.scalar_one())
                for user_id in dict.fromkeys(members):
                    changed = await self._db.ensure_member(conn, snowflake(user_id), guild_id) or changed
                    await conn.execute(
                        session_members.insert().values(session_id=session_id, user_id=user_id, joined_at=now)
                    )
                if changed:
                    await bump_revision(conn)
        except IntegrityError:
            found = await self.open_in_channel(voice_channel_id)
            if found is None:
                raise
            raise SessionAlreadyOpen(found.id) from None
        opened = await self.get(session_id)
        assert opened is not None
        return opened

    async def get(self, session_id: int) -> SessionRow | None:
        async with self._db.connect() as conn:
            row = (await conn.execute(select(*_SESSION_COLUMNS).where(listening_sessions.c.id == session_id))).first()
        return None if row is None else _session(row)

    async def open_in_channel(self, voice_channel_id: int) -> SessionRow | None:
        query = select(*_SESSION_COLUMNS).where(
            listening_sessions.c.voice_channel_id == snowflake(voice_channel_id),
            listening_sessions.c.ended_at.is_(None),
        )
        async with self._db.connect() as conn:
            row = (await conn.execute(query)).first()
        return None if row is None else _session(row)

    async def open_sessions(self, *, idle_since: datetime | None = None) -> list[SessionRow]:
        """Every open session; with `idle_since`, only those without a vote since then."""
        query = select(*_SESSION_COLUMNS).where(listening_sessions.c.ended_at.is_(None))
        if idle_since is not None:
            query = query.where(listening_sessions.c.last_vote_at < aware(idle_since))
        async with self._db.connect() as conn:
            return [_session(row) for row in await conn.execute(query.order_by(listening_sessions.c.id))]

    async def set_panel(self, session_id: int, message_id: int) -> None:
        async with self._db.write() as conn:
            await conn.execute(
                update(listening_sessions)
                .where(listening_sessions.c.id == session_id)
                .values(panel_message_id=snowflake(message_id))
            )

    async def end(self, session_id: int, reason: str, now: datetime | None = None) -> bool:
        """End the session if it is open; True if this call ended it."""
        check_choice(reason, SESSION_END_REASONS, "end reason")
        async with self._db.write() as conn:
            result = await run(
                conn,
                update(listening_sessions)
                .where(listening_sessions.c.id == session_id, listening_sessions.c.ended_at.is_(None))
                .values(ended_at=aware(now or utcnow()), end_reason=reason),
            )
        return result.rowcount > 0

    # -- the group --------------------------------------------------------------------------------

    async def members(self, session_id: int) -> list[SessionMemberRow]:
        """Everyone who has been in the group, in the order they joined."""
        query = (
            select(session_members.c.user_id, session_members.c.joined_at, session_members.c.left_at)
            .where(session_members.c.session_id == session_id)
            .order_by(session_members.c.joined_at, session_members.c.user_id)
        )
        async with self._db.connect() as conn:
            return [SessionMemberRow(*row) for row in await conn.execute(query)]

    async def join(self, session_id: int, user_id: int, guild_id: int, now: datetime | None = None) -> bool:
        """Add the member to the group (or back to it); True if they were not in it."""
        user_id, now = snowflake(user_id), aware(now or utcnow())
        async with self._db.write() as conn:
            changed = await self._db.ensure_member(conn, user_id, snowflake(guild_id))
            new = await self._db.insert_new(
                conn, session_members, session_id=session_id, user_id=user_id, joined_at=now
            )
            back = False
            if not new:
                result = await run(
                    conn,
                    update(session_members)
                    .where(
                        session_members.c.session_id == session_id,
                        session_members.c.user_id == user_id,
                        session_members.c.left_at.is_not(None),
                    )
                    .values(left_at=None, joined_at=now),
                )
                back = result.rowcount > 0
            if changed:
                await bump_revision(conn)
        return new or back

    async def leave(self, session_id: int, user_id: int, now: datetime | None = None) -> bool:
        """Take the member out of the group; True if they were in it."""
        async with self._db.write() as conn:
            result = await run(
                conn,
                update(session_members)
                .where(
                    session_members.c.session_id == session_id,
                    session_members.c.user_id == snowflake(user_id),
                    session_members.c.left_at.is_(None),
                )
                .values(left_at=aware(now or utcnow())),
            )
        return result.rowcount > 0

    # -- picks and votes --------------------------------------------------------------------------

    async def add_pick(
        self,
        session_id: int,
        artist_id: int,
        *,
        for_members: Sequence[int] = (),
        because: Sequence[int] = (),
        now: datetime | None = None,
    ) -> PickRow:
        """Propose the artist next (after every earlier pick)."""
        now = aware(now or utcnow())
        async with self._db.write() as conn:
            last = await conn.scalar(
                select(func.max(session_picks.c.position)).where(session_picks.c.session_id == session_id)
            )
            position = 1 if last is None else int(last) + 1
            values = {
                "session_id": session_id,
                "position": position,
                "artist_id": artist_id,
                "for_members": [int(u) for u in for_members],
                "because": [int(a) for a in because],
                "proposed_at": now,
            }
            pick_id = (
                await conn.execute(session_picks.insert().values(**values).returning(session_picks.c.id))
            ).scalar_one()
        return PickRow(int(pick_id), position, artist_id, tuple(values["for_members"]), tuple(values["because"]), now)

    async def picks(self, session_id: int) -> list[PickRow]:
        query = (
            select(
                session_picks.c.id,
                session_picks.c.position,
                session_picks.c.artist_id,
                session_picks.c.for_members,
                session_picks.c.because,
                session_picks.c.proposed_at,
            )
            .where(session_picks.c.session_id == session_id)
            .order_by(session_picks.c.position)
        )
        async with self._db.connect() as conn:
            return [
                PickRow(pick_id, position, artist_id, tuple(members or ()), tuple(because or ()), at)
                for pick_id, position, artist_id, members, because, at in await conn.execute(query)
            ]

    async def vote(
        self, session_id: int, pick_id: int, user_id: int, *, into_it: bool, now: datetime | None = None
    ) -> bool | None:
        """Record the member's vote on the pick (a new vote replaces theirs); the vote it replaced
        (None: their first), and the session's last vote time moves to `now`."""
        user_id, now = snowflake(user_id), aware(now or utcnow())
        async with self._db.write() as conn:
            before = await conn.scalar(
                select(session_votes.c.into_it).where(
                    session_votes.c.pick_id == pick_id, session_votes.c.user_id == user_id
                )
            )
            if before is None:
                await conn.execute(
                    session_votes.insert().values(pick_id=pick_id, user_id=user_id, into_it=into_it, voted_at=now)
                )
            else:
                await conn.execute(
                    update(session_votes)
                    .where(session_votes.c.pick_id == pick_id, session_votes.c.user_id == user_id)
                    .values(into_it=into_it, voted_at=now)
                )
            await conn.execute(
                update(listening_sessions).where(listening_sessions.c.id == session_id).values(last_vote_at=now)
            )
        return None if before is None else bool(before)

    async def votes(self, session_id: int) -> list[VoteRow]:
        """Every vote of the session, oldest first."""
        query = (
            select(
                session_votes.c.pick_id,
                session_picks.c.artist_id,
                session_votes.c.user_id,
                session_votes.c.into_it,
                session_votes.c.voted_at,
            )
            .join(session_picks, session_picks.c.id == session_votes.c.pick_id)
            .where(session_picks.c.session_id == session_id)
            .order_by(session_votes.c.voted_at, session_picks.c.position, session_votes.c.user_id)
        )
        async with self._db.connect() as conn:
            return [VoteRow(p, a, int(u), bool(i), at) for p, a, u, i, at in await conn.execute(query)]

    # -- a server's past sessions -----------------------------------------------------------------

    async def history(self, guild_id: int, *, offset: int = 0, limit: int = 10) -> tuple[list[SessionSummary], int]:
        """The server's ended sessions, newest first (a page of them), and how many there are."""
        ended = (listening_sessions.c.guild_id == snowflake(guild_id), listening_sessions.c.ended_at.is_not(None))
        picks = (
            select(func.count())
            .where(session_picks.c.session_id == listening_sessions.c.id)
            .correlate(listening_sessions)
            .scalar_subquery()
        )
        members = (
            select(func.count())
            .where(session_members.c.session_id == listening_sessions.c.id)
            .correlate(listening_sessions)
            .scalar_subquery()
        )
        query = (
            select(*_SESSION_COLUMNS, picks, members)
            .where(*ended)
            .order_by(listening_sessions.c.started_at.desc(), listening_sessions.c.id.desc())
            .offset(max(offset, 0))
            .limit(limit)
        )
        async with self._db.connect() as conn:
            rows = (await conn.execute(query)).all()
            total = await conn.scalar(select(func.count()).select_from(listening_sessions).where(*ended))
        width = len(_SESSION_COLUMNS)
        found = [SessionSummary(_session(row[:width]), int(row[width]), int(row[width + 1])) for row in rows]
        return found, int(total or 0)


async def forget_in_sessions(conn: AsyncConnection, user_id: int) -> dict[str, int]:
    """Delete the member's votes and places in groups, and take them out of the picks' reasons
    ("for Alice and Bob"); the rows deleted per table."""
    theirs = select(session_members.c.session_id).where(session_members.c.user_id == user_id)
    reasons = await conn.execute(
        select(session_picks.c.id, session_picks.c.for_members).where(session_picks.c.session_id.in_(theirs))
    )
    for pick_id, for_members in reasons.all():
        if user_id in (for_members or ()):
            kept = [u for u in for_members if u != user_id]
            await conn.execute(update(session_picks).where(session_picks.c.id == pick_id).values(for_members=kept))
    counts = {}
    for table in (session_votes, session_members):
        result = await run(conn, table.delete().where(table.c.user_id == user_id))
        counts[table.name] = result.rowcount
    return counts
