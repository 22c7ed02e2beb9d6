"""`Guilds`: who the store knows in a server, what they liked there lately, and server settings."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, select, update

from db.database import Database, aware, bump_revision, snowflake
from db.models import guilds, likes, memberships, users, utcnow


class Guilds:
    """Server-wide reads for /neighbours and /trending, and each server's settings (cached)."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def guild_member_ids(self, guild_id: int, public_only: bool = True) -> list[int]:
        """Members the store knows in the server (a membership, or a like made there), in id order;
        with `public_only`, only those whose privacy is public."""
        known = _known_members(snowflake(guild_id))
        query = select(known.c.user_id).join(users, users.c.id == known.c.user_id)
        if public_only:
            query = query.where(users.c.privacy == "public")
        async with self._db.connect() as conn:
            return sorted(await conn.scalars(query.distinct()))

    async def guild_like_counts(
        self, guild_id: int, since: datetime, until: datetime, public_only: bool = True
    ) -> dict[int, int]:
        """Artist id -> how many members liked it in the server in ``[since, until)``; with
        `public_only`, private members' likes are left out."""
        guild_id = snowflake(guild_id)
        members = func.count(likes.c.user_id.distinct())
        query = (
            select(likes.c.artist_id, members)
            .where(
                likes.c.guild_id == guild_id,
                likes.c.created_at >= aware(since),
                likes.c.created_at < aware(until),
            )
            .group_by(likes.c.artist_id)
        )
        if public_only:
            query = query.join(users, users.c.id == likes.c.user_id).where(users.c.privacy == "public")
        async with self._db.connect() as conn:
            return {int(artist_id): int(count) for artist_id, count in await conn.execute(query)}

    async def likers_in_guild(self, guild_id: int, artist_ids: Iterable[int]) -> dict[int, dict[str, list[int]]]:
        """Artist id -> privacy -> ids of the members known in the server (as `guild_member_ids`) who
        like it, wherever they liked it; artists nobody there likes are left out. One query."""
        wanted = sorted({int(a) for a in artist_ids})
        if not wanted:
            return {}
        known = _known_members(snowflake(guild_id))
        query = (
            select(likes.c.artist_id, likes.c.user_id, users.c.privacy)
            .join(known, known.c.user_id == likes.c.user_id)
            .join(users, users.c.id == likes.c.user_id)
            .where(likes.c.artist_id.in_(wanted))
            .distinct()
            .order_by(likes.c.artist_id, likes.c.user_id)
        )
        found: dict[int, dict[str, list[int]]] = {}
        async with self._db.connect() as conn:
            for artist_id, user_id, privacy in await conn.execute(query):
                found.setdefault(int(artist_id), {}).setdefault(str(privacy), []).append(int(user_id))
        return found

    async def server_popularity_penalty(self, guild_id: int) -> float | None:
        """The server's popularity penalty, or None for Encore's default; cached like tastes."""
        guild_id = snowflake(guild_id)
        await self._db.check_cache()
        key = ("popularity_penalty", guild_id)
        cached = self._db.cache.get(key)
        if cached is not None:
            return cached[0]
        generation = self._db.cache.generation
        async with self._db.connect() as conn:
            value = await conn.scalar(select(guilds.c.popularity_penalty).where(guilds.c.id == guild_id))
        # Wrapped: a cached None (the default) must not read as "not cached".
        self._db.cache.put(key, (value,), generation)
        return value

    async def set_server_popularity_penalty(self, guild_id: int, penalty: float | None) -> None:
        """Set the server's popularity penalty (>= 0), or None to go back to Encore's default."""
        guild_id = snowflake(guild_id)
        if penalty is not None and not (penalty >= 0 and penalty != float("inf")):
            raise ValueError("the popularity penalty must be a number >= 0")
        async with self._db.write() as conn:
            await self._db.insert_new(conn, guilds, id=guild_id, created_at=utcnow())
            await conn.execute(update(guilds).where(guilds.c.id == guild_id).values(popularity_penalty=penalty))
            # Other processes' caches only notice a write through the revision.
            await bump_revision(conn)


def _known_members(guild_id: int):
    """The ids of the members the store knows in a server: a membership, or a like made there."""
    return (
        select(memberships.c.user_id.label("user_id"))
        .where(memberships.c.guild_id == guild_id)
        .union(select(likes.c.user_id.label("user_id")).where(likes.c.guild_id == guild_id))
        .subquery()
    )
