"""`Artists`: the Last.fm catalogue seeded at start-up, artists members added by name (who added each,
``artist_additions``, within a daily limit), and the servers each added one may be seen in
(``server_artists``: where it was added or liked, or removed by moderators)."""

from __future__ import annotations

import operator
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, Final, Literal, cast

from sqlalchemy import case, delete, func, or_, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from db.database import CHUNK, Database, bump_revision, optional_snowflake, run, snowflake
from db.models import (
    MEMBER_ARTIST_ID_BASE,
    artist_additions,
    artists,
    guilds,
    likes,
    member_artist_ids,
    server_artists,
    users,
    utcnow,
)
from db.rows import ArtistRow, ServerArtistRow

#: What `remove_from_server` did: hid the artist in that server, or deleted it as nothing else refers to it.
Removal = Literal["hidden", "deleted"]

# Ids taken by rows written outside the store are skipped, this many at most.
_ID_ATTEMPTS: Final = 50
#: The window of `add_member_artist`'s daily limit.
LIMIT_WINDOW: Final = timedelta(days=1)


class UnknownMemberError(LookupError):
    """`add_member_artist` was to record an addition by a member the store does not have."""


class AddedArtistLimitReached(Exception):
    """The member already added `limit` new artists in the last 24 hours; nothing was added.

    `retry_at` is when the oldest of those leaves the window, so that another may be added."""

    def __init__(self, limit: int, retry_at: datetime) -> None:
        super().__init__(f"at most {limit} new artists per member in 24 hours; next at {retry_at.isoformat()}")
        self.limit = limit
        self.retry_at = retry_at


class Artists:
    """Artists by id: catalogue ids below ``MEMBER_ARTIST_ID_BASE``, member-added ones from it up."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def seed_catalogue(self, rows: Iterable[tuple[int, str, str, str | None]]) -> int:
        """Add Last.fm catalogue artists ``(artist_id, name, normalized_name, url)``.

        Existing ids are left as they are, so seeding again is a no-op. Returns how many were new.
        """
        params = []
        for artist_id, name, normalized_name, url in rows:
            artist_id = operator.index(artist_id)
            if not 0 <= artist_id < MEMBER_ARTIST_ID_BASE:
                raise ValueError(f"catalogue artist id {artist_id} outside [0, {MEMBER_ARTIST_ID_BASE})")
            params.append({"id": artist_id, "name": name, "normalized_name": normalized_name, "url": url})
        # One server-side timestamp for the whole batch: converting a datetime per row costs
        # more than the insert itself. RETURNING makes SQLAlchemy send multi-row VALUES batches
        # (PostgreSQL otherwise runs one INSERT per row) and counts exactly the rows inserted.
        statement = (
            self._db.insert(artists)
            .values(source="lastfm", created_at=func.now())
            .on_conflict_do_nothing()
            .returning(artists.c.id)
        )
        async with self._db.write() as conn:
            # Re-seeding at every start-up is the common case: send only ids not stored yet.
            stored = set(await conn.scalars(select(artists.c.id).where(artists.c.id < MEMBER_ARTIST_ID_BASE)))
            params = [p for p in params if p["id"] not in stored]
            added = 0
            for start in range(0, len(params), CHUNK):
                result = await conn.execute(statement, params[start : start + CHUNK])
                added += len(result.all())
            if added:
                await bump_revision(conn)
        return added

    async def add_member_artist(
        self,
        name: str,
        normalized_name: str,
        url: str | None = None,
        *,
        added_by: int | None = None,
        daily_limit: int | None = None,
        record_member: bool = True,
    ) -> int:
        """The id of the artist with this normalised name, adding a member artist if none has it.

        A Last.fm artist wins over a member-added one of the same name, then the lowest id. New
        member artists get ids from ``MEMBER_ARTIST_ID_BASE`` up, each id once ever (a deleted
        artist's id is not given to the next). Concurrent calls for the same new name all get the
        one id. A new artist records who added it (`added_by`); a member the store lacks is recorded
        too, or with `record_member=False` (a refresh for a member who may have been forgotten since)
        `UnknownMemberError`. With `daily_limit`, `AddedArtistLimitReached` when that member already
        added as many in the last 24 hours (counted in the same transaction). Either way nothing is
        written. An existing name never counts.
        """
        if not normalized_name:
            raise ValueError("normalized_name must not be empty")
        if daily_limit is not None and added_by is None:
            raise ValueError("a daily limit needs the member who adds (added_by)")
        added_by = optional_snowflake(added_by)
        async with self._db.write() as conn:
            existing = await _artist_id_by_name(conn, normalized_name)
            if existing is not None:
                return existing
            # Every new member artist takes this row lock first (SQLite: the write lock), so adds are
            # serialised from here on: the id, the name check below and the member's count cannot race.
            next_id = await conn.scalar(
                select(member_artist_ids.c.next_id).where(member_artist_ids.c.id == 1).with_for_update()
            )
            if next_id is None:
                raise RuntimeError("member_artist_ids row missing: run db.migrations.upgrade first")
            existing = await _artist_id_by_name(conn, normalized_name)
            if existing is not None:
                return existing
            if added_by is not None:
                if record_member:
                    await self._db.ensure_member(conn, added_by, None)
                elif not await _member_stays(conn, added_by):
                    raise UnknownMemberError(added_by)
                if daily_limit is not None:
                    await _check_daily_limit(conn, added_by, daily_limit)
            # Only a row inserted outside the store can hold an id the counter has not passed yet.
            for new_id in range(next_id, next_id + _ID_ATTEMPTS):
                now = utcnow()
                added = await self._db.insert_new(
                    conn,
                    artists,
                    id=new_id,
                    name=name,
                    normalized_name=normalized_name,
                    url=url,
                    source="member",
                    created_at=now,
                )
                if added and added_by is not None:
                    await self._db.insert_new(conn, artist_additions, artist_id=new_id, user_id=added_by, added_at=now)
                existing = new_id if added else await _artist_id_by_name(conn, normalized_name)
                if existing is not None:
                    await run(
                        conn, update(member_artist_ids).where(member_artist_ids.c.id == 1).values(next_id=new_id + 1)
                    )
                    await bump_revision(conn)
                    return existing
            # Raised inside the transaction, so the member row goes with it.
            raise RuntimeError(f"could not allocate an artist id after {_ID_ATTEMPTS} attempts")

    async def get_artist(self, artist_id: int) -> ArtistRow | None:
        """The artist with this id, if any."""
        async with self._db.connect() as conn:
            row = (await conn.execute(select(artists).where(artists.c.id == artist_id))).first()
        return None if row is None else _artist_row(row._mapping)

    async def member_artists(self) -> list[ArtistRow]:
        """Artists members added (``source='member'``), oldest id first."""
        async with self._db.connect() as conn:
            result = await conn.execute(select(artists).where(artists.c.source == "member").order_by(artists.c.id))
            return [_artist_row(row._mapping) for row in result]

    # -- the servers member artists are seen in ------------------------------------------------------

    async def show_in_server(self, guild_id: int, user_id: int, artist_ids: Iterable[int]) -> int:
        """Record that the member added or liked these artists in this server, so its members see them.

        Only member artists get a row (Last.fm artists are seen everywhere); a server that removed one
        keeps it removed. Records the member and the server if needed. Returns how many rows are new.
        """
        user_id, guild_id = snowflake(user_id), snowflake(guild_id)
        async with self._db.write() as conn:
            changed = await self._db.ensure_member(conn, user_id, guild_id)
            added = await show_in_server(self._db, conn, guild_id, user_id, artist_ids)
            if changed or added:
                await bump_revision(conn)
        return added

    async def server_visibility(self) -> list[tuple[int, int, bool]]:
        """Every server row as (artist_id, guild_id, hidden there), for the serving catalogue to mirror."""
        query = select(server_artists.c.artist_id, server_artists.c.guild_id, server_artists.c.hidden_at.is_not(None))
        async with self._db.connect() as conn:
            return [(int(a), int(g), bool(h)) for a, g, h in await conn.execute(query)]

    async def server_artists(self, guild_id: int) -> list[ServerArtistRow]:
        """The member artists this server sees because they were added or liked there, newest first."""
        query = (
            select(server_artists.c.artist_id, artists.c.name, server_artists.c.added_by, server_artists.c.added_at)
            .join(artists, artists.c.id == server_artists.c.artist_id)
            .where(server_artists.c.guild_id == snowflake(guild_id), server_artists.c.hidden_at.is_(None))
            .order_by(server_artists.c.added_at.desc(), server_artists.c.artist_id.desc())
        )
        async with self._db.connect() as conn:
            return [ServerArtistRow(*row) for row in await conn.execute(query)]

    async def remove_from_server(self, guild_id: int, artist_id: int) -> Removal | None:
        """Hide a member artist in this server for good; None if it is no member artist.

        If nothing outside this server refers to it (a like made elsewhere or in a DM, another server
        that sees it), the artist is deleted, and with it the likes and marks it had here.
        """
        guild_id = snowflake(guild_id)
        now = utcnow()
        async with self._db.write() as conn:
            source = await conn.scalar(select(artists.c.source).where(artists.c.id == artist_id))
            if source != "member":
                return None
            here = (server_artists.c.guild_id == guild_id, server_artists.c.artist_id == artist_id)
            hidden = await run(conn, update(server_artists).where(*here).values(hidden_at=now))
            if not hidden.rowcount:
                # Seen everywhere without a row here: the row records the removal.
                await self._db.insert_new(conn, guilds, id=guild_id, created_at=now)
                await self._db.insert_new(
                    conn, server_artists, guild_id=guild_id, artist_id=artist_id, added_at=now, hidden_at=now
                )
            liked_elsewhere = await conn.scalar(
                select(func.count())
                .select_from(likes)
                .where(likes.c.artist_id == artist_id, or_(likes.c.guild_id.is_(None), likes.c.guild_id != guild_id))
            )
            seen_elsewhere = await conn.scalar(
                select(func.count())
                .select_from(server_artists)
                .where(
                    server_artists.c.artist_id == artist_id,
                    server_artists.c.guild_id != guild_id,
                    server_artists.c.hidden_at.is_(None),
                )
            )
            removal: Removal = "hidden"
            if not liked_elsewhere and not seen_elsewhere:
                await run(conn, delete(artists).where(artists.c.id == artist_id))
                removal = "deleted"
            await bump_revision(conn)
        return removal


async def show_in_server(
    database: Database, conn: AsyncConnection, guild_id: int, user_id: int, artist_ids: Iterable[int]
) -> int:
    """`Artists.show_in_server` inside a caller's write transaction (a like records it with the like)."""
    wanted = sorted({operator.index(a) for a in artist_ids if operator.index(a) >= MEMBER_ARTIST_ID_BASE})
    if not wanted:
        return 0
    now = utcnow()
    statement = database.insert(server_artists).on_conflict_do_nothing().returning(server_artists.c.artist_id)
    added = 0
    for start in range(0, len(wanted), CHUNK):
        members = await conn.scalars(
            select(artists.c.id).where(artists.c.id.in_(wanted[start : start + CHUNK]), artists.c.source == "member")
        )
        params = [
            {"guild_id": guild_id, "artist_id": a, "added_by": user_id, "added_at": now, "hidden_at": None}
            for a in members
        ]
        if params:
            added += len((await conn.execute(statement, params)).all())
    return added


async def _member_stays(conn: AsyncConnection, user_id: int) -> bool:
    """Whether the store has the member; on PostgreSQL FOR KEY SHARE then holds off a concurrent /forget-me
    of them until the caller commits, so an addition never names a member deleted meanwhile."""
    query = select(users.c.id).where(users.c.id == user_id).with_for_update(read=True, key_share=True)
    return await conn.scalar(query) is not None


async def _check_daily_limit(conn: AsyncConnection, user_id: int, limit: int) -> None:
    """`AddedArtistLimitReached` if the member added `limit` artists or more in the last 24 hours."""
    recent = list(
        await conn.scalars(
            select(artist_additions.c.added_at)
            .where(artist_additions.c.user_id == user_id, artist_additions.c.added_at > utcnow() - LIMIT_WINDOW)
            .order_by(artist_additions.c.added_at)
        )
    )
    if len(recent) >= limit:
        # The limit may have been lowered meanwhile: enough of them must leave the window for one more.
        raise AddedArtistLimitReached(limit, recent[len(recent) - limit] + LIMIT_WINDOW)


async def _artist_id_by_name(conn: AsyncConnection, normalized_name: str) -> int | None:
    return cast(
        "int | None",
        await conn.scalar(
            select(artists.c.id)
            .where(artists.c.normalized_name == normalized_name)
            .order_by(_catalogue_first(), artists.c.id)
            .limit(1)
        ),
    )


def _catalogue_first() -> Any:
    return case((artists.c.source == "lastfm", 0), else_=1)


def _artist_row(row: RowMapping) -> ArtistRow:
    return ArtistRow(
        id=row["id"],
        name=row["name"],
        normalized_name=row["normalized_name"],
        url=row["url"],
        source=row["source"],
        created_at=row["created_at"],
    )
