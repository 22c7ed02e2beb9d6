"""`Store`: async reads and writes of members' likes, marks, links and model snapshots.

Each method is one short transaction. Idempotence comes from the schema (primary keys, the
partial unique index on member artists) through ``INSERT ... ON CONFLICT DO NOTHING``, so it
holds under concurrent callers, across processes, on SQLite and PostgreSQL alike.

Every call that changes member data bumps ``store_revision`` in the same transaction, and only
when a row actually changed: `revision()` then answers "did anything change since N" for a refit
loop. Recording a model snapshot does not bump it, or each refit would trigger the next one.
"""

from __future__ import annotations

import asyncio
import operator
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Self, cast

from sqlalchemy import Table, case, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult, RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from db.engine import create_engine, writer
from db.models import (
    LIKE_SOURCES,
    MEMBER_ARTIST_ID_BASE,
    PRIVACY_VALUES,
    SNAPSHOT_STATUSES,
    artists,
    guilds,
    lastfm_links,
    likes,
    memberships,
    model_snapshots,
    not_interested,
    store_revision,
    users,
    utcnow,
)
from db.read_cache import ReadCache
from db.rows import (
    ArtistRow,
    LastFmLinkRow,
    LikeRow,
    LikeSource,
    Privacy,
    SnapshotRow,
    SnapshotStatus,
    Taste,
)

# Bounds a parameter list per statement: memory stays flat and SQLite's variable limit is safe.
_CHUNK: Final = 2_000
# Concurrent adds of *different* new names can pick the same next id; the loser retries.
_ID_ATTEMPTS: Final = 50
_MAX_SNOWFLAKE: Final = 2**63 - 1


class UnknownArtistError(LookupError):
    """A like or mark named an artist id the store does not have."""


class Store:
    """The SQL store of Encore's own data, over an AsyncEngine from `db.engine.create_engine`.

    The schema must exist already (`db.migrations.upgrade`). Use a Store from one event loop
    (its engine's connections belong to that loop); calls may run concurrently, and several
    processes may share one database.
    """

    def __init__(self, engine: AsyncEngine, revision_poll_seconds: float = 1.0) -> None:
        dialect = engine.dialect.name
        if dialect not in ("sqlite", "postgresql"):
            raise ValueError(f"unsupported database {dialect!r}: use SQLite or PostgreSQL")
        self._engine = engine
        self._writer = writer(engine)
        # SQLite admits one writer at a time anyway. Queueing this process's writers here is
        # FIFO and wakes at once, whereas SQLite's busy handler polls with sleeps of up to 100 ms:
        # on a burst of 200 writes the slowest waited ~0.4 s instead of ~1.8 s. The busy timeout
        # still covers other processes sharing the file.
        self._write_lock: asyncio.Lock | None = asyncio.Lock() if dialect == "sqlite" else None
        self._dialect_insert = sqlite.insert if dialect == "sqlite" else postgresql.insert
        # Other processes' writes are seen within this many seconds; see db.read_cache.
        self._cache = ReadCache(revision_poll_seconds)

    @classmethod
    def from_url(cls, url: str) -> Store:
        """A store over a new engine for `url` (e.g. ``sqlite+aiosqlite:///path``)."""
        return cls(create_engine(url))

    @property
    def engine(self) -> AsyncEngine:
        return self._engine

    async def close(self) -> None:
        """Close the engine's pooled connections."""
        await self._engine.dispose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # -- members and servers -------------------------------------------------------------------

    async def ensure_user(self, user_id: int, guild_id: int | None = None, guild_name: str | None = None) -> bool:
        """Record the member and the server they were seen in; True if a row was new or renamed."""
        user_id = _snowflake(user_id)
        guild_id = None if guild_id is None else _snowflake(guild_id)
        async with self._write() as conn:
            changed = await self._ensure(conn, user_id, guild_id, guild_name)
            if changed:
                await _bump(conn)
        return changed

    async def set_privacy(self, user_id: int, privacy: Privacy) -> None:
        """Whether others in a server may see this member's likes and taste."""
        user_id = _snowflake(user_id)
        _check(privacy, PRIVACY_VALUES, "privacy")
        async with self._write() as conn:
            changed = await self._ensure(conn, user_id, None, None)
            result = await _run(
                conn,
                update(users).where(users.c.id == user_id, users.c.privacy != privacy).values(privacy=privacy),
            )
            if changed or result.rowcount:
                await _bump(conn)

    async def privacy_of(self, user_id: int) -> Privacy:
        """The member's privacy; 'public' (the default) for a member the store has not seen."""
        async with self._engine.connect() as conn:
            value = await conn.scalar(select(users.c.privacy).where(users.c.id == _snowflake(user_id)))
        return cast(Privacy, value or "public")

    async def forget_user(self, user_id: int) -> dict[str, int]:
        """Delete every row about the member; returns how many rows went from each table.

        Servers stay: they are not about the member. Likes they made leave no trace in the model's
        input from the next `all_likes()` on.
        """
        user_id = _snowflake(user_id)
        counts: dict[str, int] = {}
        async with self._write() as conn:
            # Children first, so each count is this table's own rows rather than a cascade's.
            for table in (likes, not_interested, memberships, lastfm_links):
                result = await _run(conn, delete(table).where(table.c.user_id == user_id))
                counts[table.name] = result.rowcount
            result = await _run(conn, delete(users).where(users.c.id == user_id))
            counts[users.name] = result.rowcount
            if any(counts.values()):
                await _bump(conn)
        return counts

    # -- artists -----------------------------------------------------------------------------

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
            self._insert(artists)
            .values(source="lastfm", created_at=func.now())
            .on_conflict_do_nothing()
            .returning(artists.c.id)
        )
        async with self._write() as conn:
            # Re-seeding at every start-up is the common case: send only ids not stored yet.
            stored = set(await conn.scalars(select(artists.c.id).where(artists.c.id < MEMBER_ARTIST_ID_BASE)))
            params = [p for p in params if p["id"] not in stored]
            added = 0
            for start in range(0, len(params), _CHUNK):
                result = await conn.execute(statement, params[start : start + _CHUNK])
                added += len(result.all())
            if added:
                await _bump(conn)
        return added

    async def add_member_artist(self, name: str, normalized_name: str, url: str | None = None) -> int:
        """The id of the artist with this normalised name, adding a member artist if none has it.

        New member artists get ids from ``MEMBER_ARTIST_ID_BASE`` up. Concurrent calls for the
        same new name all get the one id: the partial unique index decides, not timing.
        """
        if not normalized_name:
            raise ValueError("normalized_name must not be empty")
        for _ in range(_ID_ATTEMPTS):
            async with self._write() as conn:
                existing = await _artist_id_by_name(conn, normalized_name)
                if existing is not None:
                    return existing
                highest = await conn.scalar(select(func.max(artists.c.id)).where(artists.c.id >= MEMBER_ARTIST_ID_BASE))
                new_id = MEMBER_ARTIST_ID_BASE if highest is None else highest + 1
                result = await _run(
                    conn,
                    self._insert(artists)
                    .values(
                        id=new_id,
                        name=name,
                        normalized_name=normalized_name,
                        url=url,
                        source="member",
                        created_at=utcnow(),
                    )
                    .on_conflict_do_nothing(),
                )
                if result.rowcount:
                    await _bump(conn)
                    return new_id
                # Someone else's insert won: either this very name (use theirs) or this id
                # for another name (try the next id).
                existing = await _artist_id_by_name(conn, normalized_name)
                if existing is not None:
                    return existing
        raise RuntimeError(f"could not allocate an artist id after {_ID_ATTEMPTS} attempts")

    async def find_artist(self, normalized_name: str) -> ArtistRow | None:
        """The artist with this normalised name: Last.fm before member-added, then lowest id."""
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(
                    select(artists)
                    .where(artists.c.normalized_name == normalized_name)
                    .order_by(_catalogue_first(), artists.c.id)
                    .limit(1)
                )
            ).first()
        return None if row is None else _artist_row(row._mapping)

    async def get_artist(self, artist_id: int) -> ArtistRow | None:
        """The artist with this id, if any."""
        async with self._engine.connect() as conn:
            row = (await conn.execute(select(artists).where(artists.c.id == artist_id))).first()
        return None if row is None else _artist_row(row._mapping)

    async def member_artists(self) -> list[ArtistRow]:
        """Artists members added (``source='member'``), oldest id first."""
        async with self._engine.connect() as conn:
            result = await conn.execute(select(artists).where(artists.c.source == "member").order_by(artists.c.id))
            return [_artist_row(row._mapping) for row in result]

    # -- likes and marks -----------------------------------------------------------------------

    async def like(
        self,
        user_id: int,
        artist_id: int,
        guild_id: int | None = None,
        source: LikeSource = "discord",
        weight: float | None = None,
    ) -> bool:
        """Record that the member likes the artist; True if the like is new.

        Records the member (and server) if needed and clears a not-interested mark on the same
        artist. Repeating a like changes nothing, not even its weight or time.
        Raises `UnknownArtistError` for an artist id the store lacks.
        """
        user_id = _snowflake(user_id)
        guild_id = None if guild_id is None else _snowflake(guild_id)
        _check(source, LIKE_SOURCES, "like source")
        async with self._write() as conn:
            await _require_artist(conn, artist_id)
            changed = await self._ensure(conn, user_id, guild_id, None)
            inserted = await _run(
                conn,
                self._insert(likes)
                .values(
                    user_id=user_id,
                    artist_id=artist_id,
                    guild_id=guild_id,
                    source=source,
                    weight=weight,
                    created_at=utcnow(),
                )
                .on_conflict_do_nothing(),
            )
            cleared = await _run(
                conn,
                delete(not_interested).where(
                    not_interested.c.user_id == user_id, not_interested.c.artist_id == artist_id
                ),
            )
            if changed or inserted.rowcount or cleared.rowcount:
                await _bump(conn)
        return inserted.rowcount > 0

    async def import_likes(
        self,
        rows: Iterable[tuple[int, int]],
        source: LikeSource = "discord",
        weights: Iterable[float | None] | None = None,
    ) -> int:
        """Bulk form of `like` for (user_id, artist_id) pairs: one transaction, batched inserts.

        For imports (a Last.fm account's top artists, a migration, a benchmark); existing likes are
        kept as they are. Unknown artist ids raise `UnknownArtistError` and nothing is written.
        Returns how many likes were new.
        """
        _check(source, LIKE_SOURCES, "like source")
        pairs = [(_snowflake(u), operator.index(a)) for u, a in rows]
        weight_list = list(weights) if weights is not None else [None] * len(pairs)
        if len(weight_list) != len(pairs):
            raise ValueError("weights must match rows one to one")
        if not pairs:
            return 0
        now = utcnow()
        async with self._write() as conn:
            wanted = {a for _, a in pairs}
            known = set(await conn.scalars(select(artists.c.id).where(artists.c.id.in_(wanted))))
            if wanted - known:
                raise UnknownArtistError(min(wanted - known))
            user_ids = sorted({u for u, _ in pairs})
            for start in range(0, len(user_ids), _CHUNK):
                await conn.execute(
                    self._insert(users).on_conflict_do_nothing(),
                    [{"id": u, "created_at": now} for u in user_ids[start : start + _CHUNK]],
                )
            statement = self._insert(likes).on_conflict_do_nothing().returning(likes.c.user_id)
            params = [
                {"user_id": u, "artist_id": a, "guild_id": None, "source": source, "weight": w, "created_at": now}
                for (u, a), w in zip(pairs, weight_list)
            ]
            added = 0
            for start in range(0, len(params), _CHUNK):
                added += len((await conn.execute(statement, params[start : start + _CHUNK])).all())
            if added:
                await _bump(conn)
        return added

    async def unlike(self, user_id: int, artist_id: int) -> bool:
        """Remove the member's like of the artist; True if there was one."""
        user_id = _snowflake(user_id)
        async with self._write() as conn:
            result = await _run(
                conn,
                delete(likes).where(likes.c.user_id == user_id, likes.c.artist_id == artist_id),
            )
            if result.rowcount:
                await _bump(conn)
        return result.rowcount > 0

    async def likes_of(self, user_id: int) -> list[LikeRow]:
        """The member's likes with artist names, newest first."""
        query = (
            select(
                likes.c.artist_id,
                artists.c.name,
                likes.c.source,
                likes.c.weight,
                likes.c.created_at,
                likes.c.guild_id,
            )
            .join(artists, artists.c.id == likes.c.artist_id)
            .where(likes.c.user_id == _snowflake(user_id))
            .order_by(likes.c.created_at.desc(), likes.c.artist_id.desc())
        )
        async with self._engine.connect() as conn:
            result = await conn.execute(query)
            return [LikeRow(*row) for row in result]

    async def all_likes(self) -> list[tuple[int, int, str, float | None]]:
        """Every like as ``(user_id, artist_id, source, weight)``, ordered by user then artist."""
        query = select(likes.c.user_id, likes.c.artist_id, likes.c.source, likes.c.weight).order_by(
            likes.c.user_id, likes.c.artist_id
        )
        async with self._engine.connect() as conn:
            result = await conn.execute(query)
            return [tuple(row) for row in result]

    async def mark_not_interested(self, user_id: int, artist_id: int) -> bool:
        """Ask not to be recommended the artist; True if the mark is new. Likes are left alone."""
        user_id = _snowflake(user_id)
        async with self._write() as conn:
            await _require_artist(conn, artist_id)
            changed = await self._ensure(conn, user_id, None, None)
            inserted = await _run(
                conn,
                self._insert(not_interested)
                .values(user_id=user_id, artist_id=artist_id, created_at=utcnow())
                .on_conflict_do_nothing(),
            )
            if changed or inserted.rowcount:
                await _bump(conn)
        return inserted.rowcount > 0

    async def unmark_not_interested(self, user_id: int, artist_id: int) -> bool:
        """Withdraw a not-interested mark; True if there was one."""
        user_id = _snowflake(user_id)
        async with self._write() as conn:
            result = await _run(
                conn,
                delete(not_interested).where(
                    not_interested.c.user_id == user_id, not_interested.c.artist_id == artist_id
                ),
            )
            if result.rowcount:
                await _bump(conn)
        return result.rowcount > 0

    async def not_interested_of(self, user_id: int) -> list[int]:
        """Artist ids the member marked not interested, in id order."""
        async with self._engine.connect() as conn:
            result = await conn.scalars(
                select(not_interested.c.artist_id)
                .where(not_interested.c.user_id == _snowflake(user_id))
                .order_by(not_interested.c.artist_id)
            )
            return list(result)

    async def taste_of(self, user_id: int) -> Taste:
        """The member's likes (with imported play counts) and marks: the recommendation hot path,
        answered from memory when nothing was written since (see db.read_cache)."""
        user_id = _snowflake(user_id)
        await self._cache.check_revision(self.revision)
        cached = self._cache.get(("taste", user_id))
        if cached is not None:
            return cached
        generation = self._cache.generation
        async with self._engine.connect() as conn:
            liked = (
                await conn.execute(
                    select(likes.c.artist_id, likes.c.weight)
                    .where(likes.c.user_id == user_id)
                    .order_by(likes.c.artist_id)
                )
            ).all()
            marked = await conn.scalars(
                select(not_interested.c.artist_id)
                .where(not_interested.c.user_id == user_id)
                .order_by(not_interested.c.artist_id)
            )
            taste = Taste(
                liked=tuple(row.artist_id for row in liked),
                plays=tuple(row.weight for row in liked),
                not_interested=tuple(marked),
            )
        self._cache.put(("taste", user_id), taste, generation)
        return taste

    # -- servers: who is here, what they like lately ------------------------------------------

    async def guild_member_ids(self, guild_id: int, public_only: bool = True) -> list[int]:
        """Members the store knows in the server (a membership, or a like made there), in id order;
        with `public_only`, only those whose privacy is public."""
        guild_id = _snowflake(guild_id)
        known = (
            select(memberships.c.user_id.label("user_id"))
            .where(memberships.c.guild_id == guild_id)
            .union(select(likes.c.user_id.label("user_id")).where(likes.c.guild_id == guild_id))
            .subquery()
        )
        query = select(known.c.user_id).join(users, users.c.id == known.c.user_id)
        if public_only:
            query = query.where(users.c.privacy == "public")
        async with self._engine.connect() as conn:
            return sorted(await conn.scalars(query.distinct()))

    async def guild_like_counts(
        self, guild_id: int, since: datetime, until: datetime, public_only: bool = True
    ) -> dict[int, int]:
        """Artist id -> how many members liked it in the server in ``[since, until)``; with
        `public_only`, private members' likes are left out."""
        guild_id = _snowflake(guild_id)
        members = func.count(likes.c.user_id.distinct())
        query = (
            select(likes.c.artist_id, members)
            .where(
                likes.c.guild_id == guild_id,
                likes.c.created_at >= _aware(since),
                likes.c.created_at < _aware(until),
            )
            .group_by(likes.c.artist_id)
        )
        if public_only:
            query = query.join(users, users.c.id == likes.c.user_id).where(users.c.privacy == "public")
        async with self._engine.connect() as conn:
            return {int(artist_id): int(count) for artist_id, count in await conn.execute(query)}

    # -- server settings -----------------------------------------------------------------------

    async def server_popularity_penalty(self, guild_id: int) -> float | None:
        """The server's popularity penalty, or None for Encore's default; cached like tastes."""
        guild_id = _snowflake(guild_id)
        await self._cache.check_revision(self.revision)
        key = ("popularity_penalty", guild_id)
        cached = self._cache.get(key)
        if cached is not None:
            return cached[0]
        generation = self._cache.generation
        async with self._engine.connect() as conn:
            value = await conn.scalar(select(guilds.c.popularity_penalty).where(guilds.c.id == guild_id))
        self._cache.put(key, (value,), generation)
        return value

    async def set_server_popularity_penalty(self, guild_id: int, penalty: float | None) -> None:
        """Set the server's popularity penalty (>= 0), or None to go back to Encore's default."""
        guild_id = _snowflake(guild_id)
        if penalty is not None and not (penalty >= 0 and penalty != float("inf")):
            raise ValueError("the popularity penalty must be a number >= 0")
        async with self._write() as conn:
            await conn.execute(self._insert(guilds).values(id=guild_id, created_at=utcnow()).on_conflict_do_nothing())
            await conn.execute(update(guilds).where(guilds.c.id == guild_id).values(popularity_penalty=penalty))
            # Other processes' caches only notice a write through the revision.
            await _bump(conn)

    # -- Last.fm links -------------------------------------------------------------------------

    async def link_lastfm(self, user_id: int, username: str) -> None:
        """Link the member to a Last.fm username; linking another name replaces the old link."""
        user_id = _snowflake(user_id)
        if not username:
            raise ValueError("username must not be empty")
        async with self._write() as conn:
            changed = await self._ensure(conn, user_id, None, None)
            now = utcnow()
            inserted = await _run(
                conn,
                self._insert(lastfm_links)
                .values(user_id=user_id, username=username, linked_at=now, refreshed_at=None)
                .on_conflict_do_nothing(),
            )
            replaced = await _run(
                conn,
                update(lastfm_links)
                .where(lastfm_links.c.user_id == user_id, lastfm_links.c.username != username)
                .values(username=username, linked_at=now, refreshed_at=None),
            )
            if changed or inserted.rowcount or replaced.rowcount:
                await _bump(conn)

    async def mark_lastfm_refreshed(self, user_id: int, at: datetime | None = None) -> bool:
        """Note a fresh import of their Last.fm plays (at `at`, default now); False if unlinked."""
        when = _aware(at) if at is not None else utcnow()
        async with self._write() as conn:
            result = await _run(
                conn,
                update(lastfm_links).where(lastfm_links.c.user_id == _snowflake(user_id)).values(refreshed_at=when),
            )
            if result.rowcount:
                await _bump(conn)
        return result.rowcount > 0

    async def unlink_lastfm(self, user_id: int, forget_imported_likes: bool = False) -> bool:
        """Remove the member's Last.fm link (and, if asked, the likes imported from it).

        True if there was a link.
        """
        user_id = _snowflake(user_id)
        async with self._write() as conn:
            result = await _run(conn, delete(lastfm_links).where(lastfm_links.c.user_id == user_id))
            dropped = 0
            if forget_imported_likes:
                dropped = (
                    await _run(
                        conn,
                        delete(likes).where(likes.c.user_id == user_id, likes.c.source == "lastfm"),
                    )
                ).rowcount
            if result.rowcount or dropped:
                await _bump(conn)
        return result.rowcount > 0

    async def lastfm_link(self, user_id: int) -> LastFmLinkRow | None:
        """The member's Last.fm link, if any."""
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(
                    select(
                        lastfm_links.c.user_id,
                        lastfm_links.c.username,
                        lastfm_links.c.linked_at,
                        lastfm_links.c.refreshed_at,
                    ).where(lastfm_links.c.user_id == _snowflake(user_id))
                )
            ).first()
        return None if row is None else LastFmLinkRow(*row)

    async def replace_lastfm_import(
        self,
        user_id: int,
        username: str,
        plays: Iterable[tuple[int, float]],
        guild_id: int | None = None,
        *,
        only_if_linked: bool = False,
    ) -> int | None:
        """Link the member to `username` and make `plays` ``(artist_id, playcount)`` their Last.fm likes.

        One transaction: the member's earlier Last.fm likes go, these come (weight = plays), and the
        link is marked refreshed now. Likes made in Discord stay as they are, so an artist the member
        also liked themselves remains a plain like. With `only_if_linked` (a background refresh)
        nothing is written unless the member is still linked to `username`: a refresh that was
        fetching while the member unlinked, relinked or asked to be forgotten must not undo that.

        Returns how many Last.fm likes the member now has; None when `only_if_linked` found no such
        link. Unknown artist ids raise `UnknownArtistError` and nothing is written. The revision is
        bumped only when likes or the linked name changed, not for the refresh time alone.
        """
        user_id = _snowflake(user_id)
        guild_id = None if guild_id is None else _snowflake(guild_id)
        if not username:
            raise ValueError("username must not be empty")
        wanted: dict[int, float] = {}
        for artist_id, weight in plays:
            artist_id = operator.index(artist_id)
            weight = float(weight)
            if not 0 < weight < float("inf"):
                raise ValueError(f"play count {weight} for artist {artist_id} must be positive")
            if artist_id in wanted:
                raise ValueError(f"artist {artist_id} is listed twice")
            wanted[artist_id] = weight
        now = utcnow()
        async with self._write() as conn:
            linked_as = await conn.scalar(select(lastfm_links.c.username).where(lastfm_links.c.user_id == user_id))
            if only_if_linked and linked_as != username:
                return None
            known = set(await conn.scalars(select(artists.c.id).where(artists.c.id.in_(list(wanted)))))
            if set(wanted) - known:
                raise UnknownArtistError(min(set(wanted) - known))
            changed = await self._ensure(conn, user_id, guild_id, None)
            if linked_as is None:
                await conn.execute(
                    self._insert(lastfm_links).values(
                        user_id=user_id, username=username, linked_at=now, refreshed_at=now
                    )
                )
            else:
                values: dict[str, Any] = {"refreshed_at": now}
                if linked_as != username:
                    values |= {"username": username, "linked_at": now}
                await conn.execute(update(lastfm_links).where(lastfm_links.c.user_id == user_id).values(**values))
            changed = changed or linked_as != username

            rows = (
                await conn.execute(
                    select(likes.c.artist_id, likes.c.source, likes.c.weight).where(likes.c.user_id == user_id)
                )
            ).all()
            own = {artist_id for artist_id, source, _ in rows if source != "lastfm"}
            before = {artist_id: weight for artist_id, source, weight in rows if source == "lastfm"}
            after = {a: w for a, w in wanted.items() if a not in own}
            if after != before:
                await conn.execute(delete(likes).where(likes.c.user_id == user_id, likes.c.source == "lastfm"))
                params = [
                    {
                        "user_id": user_id,
                        "artist_id": artist_id,
                        "guild_id": None,
                        "source": "lastfm",
                        "weight": weight,
                        "created_at": now,
                    }
                    for artist_id, weight in after.items()
                ]
                # DO NOTHING: a Discord like made since the read above wins, as it does above.
                statement = self._insert(likes).on_conflict_do_nothing()
                for start in range(0, len(params), _CHUNK):
                    await conn.execute(statement, params[start : start + _CHUNK])
                changed = True
            if changed:
                await _bump(conn)
        return len(after)

    async def lastfm_links_due(self, refreshed_before: datetime, limit: int | None = None) -> list[LastFmLinkRow]:
        """Links never refreshed or last refreshed before `refreshed_before`, stalest first."""
        query = (
            select(
                lastfm_links.c.user_id,
                lastfm_links.c.username,
                lastfm_links.c.linked_at,
                lastfm_links.c.refreshed_at,
            )
            .where(lastfm_links.c.refreshed_at.is_(None) | (lastfm_links.c.refreshed_at < _aware(refreshed_before)))
            .order_by(
                case((lastfm_links.c.refreshed_at.is_(None), 0), else_=1),
                lastfm_links.c.refreshed_at,
                lastfm_links.c.user_id,
            )
            .limit(limit)
        )
        async with self._engine.connect() as conn:
            result = await conn.execute(query)
            return [LastFmLinkRow(*row) for row in result]

    # -- model snapshots and status ------------------------------------------------------------

    async def record_snapshot(
        self,
        version: str,
        path: str | Path,
        created_at: datetime,
        users: int,
        artists: int,
        interactions: int,
        metrics: Mapping[str, Any],
        status: SnapshotStatus = "ready",
    ) -> None:
        """Record a fitted snapshot; recording a version again replaces its row.

        Does not bump the revision: a snapshot is not member data.
        """
        _check(status, SNAPSHOT_STATUSES, "snapshot status")
        values = {
            "path": str(path),
            "created_at": _aware(created_at),
            "users": users,
            "artists": artists,
            "interactions": interactions,
            "metrics": dict(metrics),
            "status": status,
        }
        statement = self._insert(model_snapshots).values(version=version, **values)
        statement = statement.on_conflict_do_update(index_elements=["version"], set_=values)
        async with self._write() as conn:
            await conn.execute(statement)

    async def snapshots(self, limit: int = 10) -> list[SnapshotRow]:
        """The latest `limit` snapshots, newest first."""
        query = (
            select(
                model_snapshots.c.version,
                model_snapshots.c.path,
                model_snapshots.c.created_at,
                model_snapshots.c.users,
                model_snapshots.c.artists,
                model_snapshots.c.interactions,
                model_snapshots.c.metrics,
                model_snapshots.c.status,
            )
            .order_by(model_snapshots.c.created_at.desc(), model_snapshots.c.version.desc())
            .limit(limit)
        )
        async with self._engine.connect() as conn:
            result = await conn.execute(query)
            return [SnapshotRow(*row) for row in result]

    async def revision(self) -> int:
        """A number that grows whenever member data changes (deletions included)."""
        async with self._engine.connect() as conn:
            value = await conn.scalar(select(store_revision.c.revision).where(store_revision.c.id == 1))
        if value is None:
            raise RuntimeError("store_revision row missing: run db.migrations.upgrade first")
        return int(value)

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
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).one()
        return {key: int(value) for key, value in row._mapping.items()}

    # -- internals -----------------------------------------------------------------------------

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[AsyncConnection]:
        # Cached tastes go before the write starts (reads overlapping it are not kept) and again
        # once it has committed or failed.
        self._cache.invalidate()
        try:
            # The writer engine takes SQLite's write lock at BEGIN; see db.engine.writer.
            if self._write_lock is None:
                async with self._writer.begin() as conn:
                    yield conn
                return
            async with self._write_lock, self._writer.begin() as conn:
                yield conn
        finally:
            self._cache.invalidate()

    def _insert(self, table: Table) -> Any:
        # Both dialects' insert() offer on_conflict_do_nothing / on_conflict_do_update.
        return self._dialect_insert(table)

    async def _ensure(self, conn: AsyncConnection, user_id: int, guild_id: int | None, guild_name: str | None) -> bool:
        now = utcnow()
        changed = (
            await _run(
                conn,
                self._insert(users).values(id=user_id, created_at=now).on_conflict_do_nothing(),
            )
        ).rowcount > 0
        if guild_id is None:
            return changed
        new_guild = (
            await _run(
                conn,
                self._insert(guilds).values(id=guild_id, name=guild_name, created_at=now).on_conflict_do_nothing(),
            )
        ).rowcount > 0
        changed = changed or new_guild
        if guild_name is not None and not new_guild:
            renamed = await _run(
                conn,
                update(guilds)
                .where(guilds.c.id == guild_id, guilds.c.name.is_distinct_from(guild_name))
                .values(name=guild_name),
            )
            changed = changed or renamed.rowcount > 0
        joined = await _run(
            conn,
            self._insert(memberships)
            .values(user_id=user_id, guild_id=guild_id, joined_at=now)
            .on_conflict_do_nothing(),
        )
        return changed or joined.rowcount > 0


async def _run(conn: AsyncConnection, statement: Any) -> CursorResult[Any]:
    """Execute a DML statement; typed so `.rowcount` is available."""
    return cast(CursorResult[Any], await conn.execute(statement))


async def _bump(conn: AsyncConnection) -> None:
    # Last statement of the transaction on purpose: on PostgreSQL this row lock serialises
    # writers, and taking it last keeps it held only for the commit.
    await conn.execute(
        update(store_revision).where(store_revision.c.id == 1).values(revision=store_revision.c.revision + 1)
    )


async def _require_artist(conn: AsyncConnection, artist_id: int) -> None:
    found = await conn.scalar(select(artists.c.id).where(artists.c.id == artist_id))
    if found is None:
        raise UnknownArtistError(artist_id)


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


def _snowflake(value: int) -> int:
    """A Discord id as a plain int, checked to fit the signed 64-bit column."""
    number = operator.index(value)
    if not 0 <= number <= _MAX_SNOWFLAKE:
        raise ValueError(f"id {number} does not fit a signed 64-bit column")
    return number


def _check(value: str, allowed: Sequence[str], what: str) -> None:
    if value not in allowed:
        raise ValueError(f"{what} must be one of {', '.join(allowed)}; got {value!r}")


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: pass a timezone-aware one")
    return value
