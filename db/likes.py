"""`Likes`: members' likes and not-interested marks, and the taste the recommender reads from them."""

from __future__ import annotations

import gc
import operator
from array import array
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from math import nan
from typing import Any

from sqlalchemy import Integer, delete, func, literal_column, null, select, tuple_, union_all
from sqlalchemy.ext.asyncio import AsyncConnection

from db.artists import show_in_server
from db.database import (
    CHUNK,
    Database,
    UnknownArtistError,
    bump_revision,
    check_choice,
    optional_snowflake,
    run,
    snowflake,
    unique_snowflakes,
)
from db.models import LIKE_SOURCES, artists, likes, not_interested, users, utcnow
from db.rows import LikeColumns, LikeRow, LikeSource, Taste

_NO_TASTE = Taste((), (), ())
# The kinds of row in the one query behind `tastes_of`.
_LIKED, _MARKED = 0, 1
#: Likes per page of `all_like_columns`.
CHUNK_ROWS = 100_000


class LikeLimitReached(Exception):
    """The member already has as many likes as one member may store; nothing was added."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"at most {limit} likes per member")
        self.limit = limit


def _taste_key(user_id: int) -> tuple[str, int]:
    return ("taste", user_id)


class Likes:
    """What members like and asked not to be recommended; tastes are cached (see db.read_cache)."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def like(
        self,
        user_id: int,
        artist_id: int,
        guild_id: int | None = None,
        source: LikeSource = "discord",
        weight: float | None = None,
        limit: int | None = None,
    ) -> bool:
        """Record that the member likes the artist; True if the like is new.

        Records the member (and server) if needed and clears a not-interested mark on the same
        artist. Repeating a like changes nothing, not even its weight or time; but a member artist
        liked in a server is from then on seen there (`server_artists`), repeated or not.
        Raises `UnknownArtistError` for an artist id the store lacks, and `LikeLimitReached` when a
        new like would take the member past `limit` likes (counted in the same transaction).
        """
        user_id = snowflake(user_id)
        guild_id = optional_snowflake(guild_id)
        check_choice(source, LIKE_SOURCES, "like source")
        async with self._db.write() as conn:
            artist_source = await _require_artist(conn, artist_id)
            changed = await self._db.ensure_member(conn, user_id, guild_id)
            inserted = await self._db.insert_new(
                conn,
                likes,
                user_id=user_id,
                artist_id=artist_id,
                guild_id=guild_id,
                source=source,
                weight=weight,
                created_at=utcnow(),
            )
            if inserted and limit is not None and await _like_count(conn, user_id) > limit:
                # Raising rolls the whole transaction back: the like and the member rows go.
                raise LikeLimitReached(limit)
            shown = guild_id is not None and artist_source == "member"
            if shown:
                shown = await show_in_server(self._db, conn, guild_id, user_id, [artist_id]) > 0
            cleared = await run(
                conn,
                delete(not_interested).where(
                    not_interested.c.user_id == user_id, not_interested.c.artist_id == artist_id
                ),
            )
            if changed or inserted or shown or cleared.rowcount:
                await bump_revision(conn)
        return inserted

    async def import_likes(
        self,
        rows: Iterable[tuple[int, int]],
        source: LikeSource = "discord",
        weights: Iterable[float | None] | None = None,
    ) -> int:
        """Bulk form of `like` for (user_id, artist_id) pairs: one transaction, batched inserts.

        For imports (a migration, a benchmark); existing likes are kept as they are. Unknown artist
        ids raise `UnknownArtistError` and nothing is written. Returns how many likes were new.
        """
        check_choice(source, LIKE_SOURCES, "like source")
        pairs = [(snowflake(u), operator.index(a)) for u, a in rows]
        weight_list = list(weights) if weights is not None else [None] * len(pairs)
        if len(weight_list) != len(pairs):
            raise ValueError("weights must match rows one to one")
        if not pairs:
            return 0
        now = utcnow()
        async with self._db.write() as conn:
            wanted = {a for _, a in pairs}
            known = set(await conn.scalars(select(artists.c.id).where(artists.c.id.in_(wanted))))
            if wanted - known:
                raise UnknownArtistError(min(wanted - known))
            user_ids = sorted({u for u, _ in pairs})
            for start in range(0, len(user_ids), CHUNK):
                await conn.execute(
                    self._db.insert(users).on_conflict_do_nothing(),
                    [{"id": u, "created_at": now} for u in user_ids[start : start + CHUNK]],
                )
            statement = self._db.insert(likes).on_conflict_do_nothing().returning(likes.c.user_id)
            params = [
                {"user_id": u, "artist_id": a, "guild_id": None, "source": source, "weight": w, "created_at": now}
                for (u, a), w in zip(pairs, weight_list)
            ]
            added = 0
            for start in range(0, len(params), CHUNK):
                added += len((await conn.execute(statement, params[start : start + CHUNK])).all())
            if added:
                await bump_revision(conn)
        return added

    async def unlike(self, user_id: int, artist_id: int) -> bool:
        """Remove the member's like of the artist; True if there was one."""
        user_id = snowflake(user_id)
        async with self._db.write() as conn:
            result = await run(
                conn,
                delete(likes).where(likes.c.user_id == user_id, likes.c.artist_id == artist_id),
            )
            if result.rowcount:
                await bump_revision(conn)
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
            .where(likes.c.user_id == snowflake(user_id))
            .order_by(likes.c.created_at.desc(), likes.c.artist_id.desc())
        )
        async with self._db.connect() as conn:
            result = await conn.execute(query)
            return [LikeRow(*row) for row in result]

    async def all_likes(self) -> list[tuple[int, int, str, float | None]]:
        """Every like as ``(user_id, artist_id, source, weight)``, ordered by user then artist."""
        query = select(likes.c.user_id, likes.c.artist_id, likes.c.source, likes.c.weight).order_by(
            likes.c.user_id, likes.c.artist_id
        )
        async with self._db.connect() as conn:
            result = await conn.execute(query)
            return [tuple(row) for row in result]

    async def all_like_columns(self) -> LikeColumns:
        """Every like as three packed columns, ordered by user then artist: what a refit reads. Read in
        pages of CHUNK_ROWS (by primary key, so each page is an index range) into arrays of machine
        numbers, so the store's biggest read never holds a row object per like."""
        columns = LikeColumns(array("q"), array("q"), array("d"))
        key = tuple_(likes.c.user_id, likes.c.artist_id)
        page = select(likes.c.user_id, likes.c.artist_id, likes.c.weight).order_by(likes.c.user_id, likes.c.artist_id)
        async with self._db.connect() as conn:
            with _collector_paused():
                return await _read_like_columns(conn, page, key, columns)

    async def mark_not_interested(self, user_id: int, artist_id: int) -> bool:
        """Ask not to be recommended the artist; True if the mark is new. Likes are left alone."""
        user_id = snowflake(user_id)
        async with self._db.write() as conn:
            await _require_artist(conn, artist_id)
            changed = await self._db.ensure_member(conn, user_id, None)
            inserted = await self._db.insert_new(
                conn, not_interested, user_id=user_id, artist_id=artist_id, created_at=utcnow()
            )
            if changed or inserted:
                await bump_revision(conn)
        return inserted

    async def taste_of(self, user_id: int) -> Taste:
        """The member's likes (with imported play counts) and marks: the recommendation hot path,
        answered from memory when nothing was written since (see db.read_cache)."""
        user_id = snowflake(user_id)
        await self._db.check_cache()
        cached = self._db.cache.get(_taste_key(user_id))
        if cached is not None:
            return cached
        generation = self._db.cache.generation
        async with self._db.connect() as conn:
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
        self._db.cache.put(_taste_key(user_id), taste, generation)
        return taste

    async def tastes_of(self, user_ids: Iterable[int]) -> dict[int, Taste]:
        """`taste_of` for many members: cached ones from memory, the rest in one query.

        Every requested member is in the answer (an empty taste for one the store does not know).
        """
        wanted = unique_snowflakes(user_ids)
        await self._db.check_cache()
        tastes: dict[int, Taste] = {}
        missing = []
        for user_id in wanted:
            cached = self._db.cache.get(_taste_key(user_id))
            if cached is None:
                missing.append(user_id)
            else:
                tastes[user_id] = cached
        if not missing:
            return tastes
        generation = self._db.cache.generation
        async with self._db.connect() as conn:
            # Two parameters per member (likes and marks): half a chunk keeps the statement's size.
            step = CHUNK // 2
            for start in range(0, len(missing), step):
                chunk = missing[start : start + step]
                read = _read_tastes(await conn.execute(_tastes_query(chunk)))
                for user_id in chunk:
                    taste = read.get(user_id, _NO_TASTE)
                    tastes[user_id] = taste
                    self._db.cache.put(_taste_key(user_id), taste, generation)
        return tastes


async def _read_like_columns(conn: AsyncConnection, page: Any, key: Any, columns: LikeColumns) -> LikeColumns:
    after: tuple[int, int] | None = None
    while True:
        query = page if after is None else page.where(key > tuple_(*after))
        rows = (await conn.execute(query.limit(CHUNK_ROWS))).all()
        if not rows:
            return columns
        users_part, artists_part, weights_part = zip(*rows)
        columns.user_ids.extend(users_part)
        columns.artist_ids.extend(artists_part)
        columns.weights.extend(nan if w is None else w for w in weights_part)
        after = (users_part[-1], artists_part[-1])


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Hold off Python's cyclic garbage collector. Each page's row objects outlive the young
    generations, and with the packed columns holding no objects the old generation stays small, so
    every page set off a full collection; the rows hold no cycles, so nothing is lost by waiting."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _tastes_query(user_ids: list[int]) -> Any:
    """Likes and marks of these members in one statement, ordered as `taste_of` orders them."""
    liked = select(
        likes.c.user_id.label("user_id"),
        literal_column(str(_LIKED), Integer).label("kind"),
        likes.c.artist_id.label("artist_id"),
        likes.c.weight.label("weight"),
    ).where(likes.c.user_id.in_(user_ids))
    marked = select(
        not_interested.c.user_id.label("user_id"),
        literal_column(str(_MARKED), Integer).label("kind"),
        not_interested.c.artist_id.label("artist_id"),
        null().label("weight"),
    ).where(not_interested.c.user_id.in_(user_ids))
    both = union_all(liked, marked).subquery()
    return select(both.c.user_id, both.c.kind, both.c.artist_id, both.c.weight).order_by(
        both.c.user_id, both.c.kind, both.c.artist_id
    )


def _read_tastes(rows: Iterable[Any]) -> dict[int, Taste]:
    parts: dict[int, tuple[list[int], list[float | None], list[int]]] = {}
    for user_id, kind, artist_id, weight in rows:
        liked, plays, marked = parts.setdefault(int(user_id), ([], [], []))
        if kind == _LIKED:
            liked.append(int(artist_id))
            plays.append(weight)
        else:
            marked.append(int(artist_id))
    return {
        user_id: Taste(liked=tuple(liked), plays=tuple(plays), not_interested=tuple(marked))
        for user_id, (liked, plays, marked) in parts.items()
    }


async def _require_artist(conn: AsyncConnection, artist_id: int) -> str:
    """The artist's source ('lastfm' or 'member'); UnknownArtistError if the store lacks it."""
    found = await conn.scalar(select(artists.c.source).where(artists.c.id == artist_id))
    if found is None:
        raise UnknownArtistError(artist_id)
    return str(found)


async def _like_count(conn: AsyncConnection, user_id: int) -> int:
    return int(await conn.scalar(select(func.count()).select_from(likes).where(likes.c.user_id == user_id)) or 0)
