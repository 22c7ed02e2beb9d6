"""`Artists`: the Last.fm catalogue seeded at start-up, and artists members added by name."""

from __future__ import annotations

import operator
from collections.abc import Iterable
from typing import Any, Final, cast

from sqlalchemy import case, func, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from db.database import CHUNK, Database, bump_revision
from db.models import MEMBER_ARTIST_ID_BASE, artists, utcnow
from db.rows import ArtistRow

# Concurrent adds of *different* new names can pick the same next id; the loser retries.
_ID_ATTEMPTS: Final = 50


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

    async def add_member_artist(self, name: str, normalized_name: str, url: str | None = None) -> int:
        """The id of the artist with this normalised name, adding a member artist if none has it.

        A Last.fm artist wins over a member-added one of the same name, then the lowest id. New
        member artists get ids from ``MEMBER_ARTIST_ID_BASE`` up. Concurrent calls for the same new
        name all get the one id: the partial unique index decides, not timing.
        """
        if not normalized_name:
            raise ValueError("normalized_name must not be empty")
        for _ in range(_ID_ATTEMPTS):
            async with self._db.write() as conn:
                existing = await _artist_id_by_name(conn, normalized_name)
                if existing is not None:
                    return existing
                highest = await conn.scalar(select(func.max(artists.c.id)).where(artists.c.id >= MEMBER_ARTIST_ID_BASE))
                new_id = MEMBER_ARTIST_ID_BASE if highest is None else highest + 1
                added = await self._db.insert_new(
                    conn,
                    artists,
                    id=new_id,
                    name=name,
                    normalized_name=normalized_name,
                    url=url,
                    source="member",
                    created_at=utcnow(),
                )
                if added:
                    await bump_revision(conn)
                    return new_id
                # Someone else's insert won: either this very name (use theirs) or this id
                # for another name (try the next id).
                existing = await _artist_id_by_name(conn, normalized_name)
                if existing is not None:
                    return existing
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
