"""`Store`: Encore's own data in SQL, one attribute per aggregate.

``store.members`` (privacy, forgetting), ``store.artists`` (catalogue and member-added artists),
``store.likes`` (likes, not-interested marks, tastes), ``store.guilds`` (server reads and settings),
``store.lastfm`` (Last.fm links and imports), ``store.snapshots`` (fitted models), ``store.sessions``
(listening sessions) and ``store.digests`` (weekly server digests). They share one
engine, write path and read cache (`db.database`), so a write through any of them is seen by all.
"""

from __future__ import annotations

from typing import Any, Self

from sqlalchemy import Table, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from db.artists import AddedArtistLimitReached, Artists, UnknownMemberError
from db.database import Database, UnknownArtistError
from db.digests import Digests
from db.engine import create_engine
from db.guilds import Guilds
from db.lastfm_links import LastFmLinks
from db.likes import LikeLimitReached, Likes
from db.members import Members
from db.models import artists, guilds, lastfm_links, likes, model_snapshots, not_interested, users
from db.sessions import SessionAlreadyOpen, Sessions
from db.snapshots import Snapshots

__all__ = [
    "AddedArtistLimitReached",
    "LikeLimitReached",
    "SessionAlreadyOpen",
    "Store",
    "UnknownArtistError",
    "UnknownMemberError",
]


class Store:
    """The SQL store of Encore's own data, over an AsyncEngine from `db.engine.create_engine`.

    The schema must exist already (`db.migrations.upgrade`). Use a Store from one event loop
    (its engine's connections belong to that loop); calls may run concurrently, and several
    processes may share one database.
    """

    def __init__(self, engine: AsyncEngine, revision_poll_seconds: float = 1.0) -> None:
        self._db = Database(engine, revision_poll_seconds)
        self.members = Members(self._db)
        self.artists = Artists(self._db)
        self.likes = Likes(self._db)
        self.guilds = Guilds(self._db)
        self.lastfm = LastFmLinks(self._db)
        self.snapshots = Snapshots(self._db)
        self.sessions = Sessions(self._db)
        self.digests = Digests(self._db)

    @classmethod
    def from_url(cls, url: str) -> Store:
        """A store over a new engine for `url` (e.g. ``sqlite+aiosqlite:///path``)."""
        return cls(create_engine(url))

    @property
    def engine(self) -> AsyncEngine:
        return self._db.engine

    async def close(self) -> None:
        """Close the engine's pooled connections."""
        await self._db.engine.dispose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def revision(self) -> int:
        """A number that grows whenever member data changes (deletions included)."""
        return await self._db.revision()

    async def counts(self) -> dict[str, int]:
        """Row counts for a status command: members, likes, artists and a few more."""

        def count(table: Table, *where: Any) -> Any:
            return select(func.count()).select_from(table).where(*where).scalar_subquery()

        query = select(
            count(users).label("members"),
            count(guilds).label("guilds"),
            count(likes).label("likes"),
            count(artists).label("artists"),
            count(artists, artists.c.source == "member").label("member_artists"),
            count(not_interested).label("not_interested"),
            count(lastfm_links).label("lastfm_links"),
            count(model_snapshots).label("snapshots"),
        )
        async with self._db.connect() as conn:
            row = (await conn.execute(query)).one()
        return {key: int(value) for key, value in row._mapping.items()}
