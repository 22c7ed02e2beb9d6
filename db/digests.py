"""`Digests`: each server's weekly digest schedule, and who was active in a server over a period.

A schedule is one row per server. Posting is claimed in the database (`claim`) before the digest is
sent, so one week's digest is posted once, whichever process (or restart) gets there first. The
schedule is not member data: changing it does not bump the store's revision (no refit waits on it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, literal, or_, select, union_all, update

from db.database import Database, aware, run, snowflake
from db.models import guilds, likes, listening_sessions, server_digests, session_picks, session_votes, users, utcnow


@dataclass(frozen=True, slots=True)
class DigestSchedule:
    """When and where a server's weekly digest is posted (weekday 0 = Monday, hour in UTC)."""

    guild_id: int
    channel_id: int
    weekday: int
    hour: int
    #: When the schedule was last set; a digest is never due for a time before it.
    set_at: datetime
    last_posted_at: datetime | None


class Digests:
    """Weekly digest schedules (/encore digest) and the activity a digest is drawn from."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def set(
        self, guild_id: int, channel_id: int, weekday: int, hour: int, *, now: datetime | None = None
    ) -> DigestSchedule:
        """Post the server's digest in `channel_id` every `weekday` at `hour` UTC (replacing any schedule).

        When it last posted is kept: setting the schedule again does not post that week's digest twice."""
        guild_id, channel_id = snowflake(guild_id), snowflake(channel_id)
        if not 0 <= weekday <= 6:
            raise ValueError("weekday must be 0 (Monday) to 6 (Sunday)")
        if not 0 <= hour <= 23:
            raise ValueError("hour must be 0 to 23")
        now = aware(now) if now is not None else utcnow()
        values = {"channel_id": channel_id, "weekday": weekday, "hour": hour, "set_at": now}
        async with self._db.write() as conn:
            await self._db.insert_new(conn, guilds, id=guild_id, created_at=now)
            statement = self._db.insert(server_digests).values(guild_id=guild_id, **values)
            await conn.execute(statement.on_conflict_do_update(index_elements=["guild_id"], set_=values))
        found = await self.get(guild_id)
        assert found is not None
        return found

    async def get(self, guild_id: int) -> DigestSchedule | None:
        query = select(server_digests).where(server_digests.c.guild_id == snowflake(guild_id))
        async with self._db.connect() as conn:
            row = (await conn.execute(query)).one_or_none()
        return None if row is None else _schedule(row)

    async def scheduled(self) -> list[DigestSchedule]:
        """Every server's schedule, in server id order."""
        async with self._db.connect() as conn:
            rows = await conn.execute(select(server_digests).order_by(server_digests.c.guild_id))
            return [_schedule(row) for row in rows]

    async def off(self, guild_id: int) -> bool:
        """Stop the server's digest; True if it had one."""
        async with self._db.write() as conn:
            result = await run(conn, delete(server_digests).where(server_digests.c.guild_id == snowflake(guild_id)))
        return result.rowcount > 0

    async def claim(self, guild_id: int, due_at: datetime, now: datetime) -> bool:
        """Mark the digest due at `due_at` as posted (at `now`); True for the one caller that may post it.

        False when it was posted already (at or after `due_at`), or the schedule is gone."""
        due_at, now = aware(due_at), aware(now)
        statement = (
            update(server_digests)
            .where(
                server_digests.c.guild_id == snowflake(guild_id),
                or_(server_digests.c.last_posted_at.is_(None), server_digests.c.last_posted_at < due_at),
            )
            .values(last_posted_at=now)
        )
        async with self._db.write() as conn:
            result = await run(conn, statement)
        return result.rowcount > 0

    async def active_members(
        self, guild_id: int, since: datetime, until: datetime, *, public_only: bool = True
    ) -> list[int]:
        """Members who liked an artist in the server, or voted in one of its listening sessions, in
        ``[since, until)``: the most active first (likes and votes counted together), then by id. With
        `public_only`, members whose privacy is private are left out."""
        guild_id, since, until = snowflake(guild_id), aware(since), aware(until)
        liked = select(likes.c.user_id.label("user_id"), literal(1).label("one")).where(
            likes.c.guild_id == guild_id, likes.c.created_at >= since, likes.c.created_at < until
        )
        voted = (
            select(session_votes.c.user_id.label("user_id"), literal(1).label("one"))
            .join(session_picks, session_picks.c.id == session_votes.c.pick_id)
            .join(listening_sessions, listening_sessions.c.id == session_picks.c.session_id)
            .where(
                listening_sessions.c.guild_id == guild_id,
                session_votes.c.voted_at >= since,
                session_votes.c.voted_at < until,
            )
        )
        acts = union_all(liked, voted).subquery()
        activity = func.count(acts.c.one)
        query = (
            select(acts.c.user_id, activity.label("activity"))
            .join(users, users.c.id == acts.c.user_id)
            .group_by(acts.c.user_id)
            .order_by(activity.desc(), acts.c.user_id)
        )
        if public_only:
            query = query.where(users.c.privacy == "public")
        async with self._db.connect() as conn:
            return [int(user_id) for user_id, _ in await conn.execute(query)]


def _schedule(row) -> DigestSchedule:
    return DigestSchedule(
        guild_id=int(row.guild_id),
        channel_id=int(row.channel_id),
        weekday=int(row.weekday),
        hour=int(row.hour),
        set_at=row.set_at,
        last_posted_at=row.last_posted_at,
    )
