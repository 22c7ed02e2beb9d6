"""`Members`: who Encore knows, whether others may see them, and forgetting them on request."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import cast

from sqlalchemy import delete, exists, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from db.database import CHUNK, Database, bump_revision, check_choice, run, snowflake, unique_snowflakes
from db.models import PRIVACY_VALUES, artists, lastfm_links, likes, memberships, not_interested, users
from db.rows import Privacy
from db.sessions import forget_in_sessions

_DEFAULT_PRIVACY: Privacy = "public"


class Members:
    """Members' own rows: the member, their privacy and listening choice; `forget_user` removes everything
    about them."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def set_privacy(self, user_id: int, privacy: Privacy) -> None:
        """Whether others in a server may see this member's likes and taste."""
        user_id = snowflake(user_id)
        check_choice(privacy, PRIVACY_VALUES, "privacy")
        async with self._db.write() as conn:
            changed = await self._db.ensure_member(conn, user_id, None)
            result = await run(
                conn,
                update(users).where(users.c.id == user_id, users.c.privacy != privacy).values(privacy=privacy),
            )
            if changed or result.rowcount:
                await bump_revision(conn)

    async def privacy_of(self, user_id: int) -> Privacy:
        """The member's privacy; 'public' (the default) for a member the store has not seen."""
        async with self._db.connect() as conn:
            value = await conn.scalar(select(users.c.privacy).where(users.c.id == snowflake(user_id)))
        return cast(Privacy, value or _DEFAULT_PRIVACY)

    async def privacies_of(self, user_ids: Iterable[int]) -> dict[int, Privacy]:
        """`privacy_of` for many members in one query (one per few thousand members)."""
        wanted = unique_snowflakes(user_ids)
        found: dict[int, Privacy] = {}
        async with self._db.connect() as conn:
            for start in range(0, len(wanted), CHUNK):
                chunk = wanted[start : start + CHUNK]
                rows = await conn.execute(select(users.c.id, users.c.privacy).where(users.c.id.in_(chunk)))
                found.update((int(user_id), cast(Privacy, privacy)) for user_id, privacy in rows)
        return {user_id: found.get(user_id, _DEFAULT_PRIVACY) for user_id in wanted}

    async def set_listening_opt_in(self, user_id: int, opted_in: bool) -> None:
        """Whether a Spotify artist the member plays during a listening session counts as their Into it."""
        user_id = snowflake(user_id)
        async with self._db.write() as conn:
            changed = await self._db.ensure_member(conn, user_id, None)
            await run(conn, update(users).where(users.c.id == user_id).values(listening_opt_in=bool(opted_in)))
            # The model reads nothing of the choice: only a new member row is a change for a refit.
            if changed:
                await bump_revision(conn)

    async def listening_opt_in(self, user_id: int) -> bool:
        """The member's listening choice; off for a member the store has not seen."""
        async with self._db.connect() as conn:
            value = await conn.scalar(select(users.c.listening_opt_in).where(users.c.id == snowflake(user_id)))
        return bool(value)

    async def forget_user(self, user_id: int) -> dict[str, int]:
        """Delete every row about the member; returns how many rows went from each table.

        Servers stay: they are not about the member. Member-added artists the member liked or marked
        go too (``artists`` in the counts), their names being what members typed or imported, unless
        someone else still likes or marked them. Likes they made leave no trace in the model's input
        from the next `Likes.all_likes()` on. On SQLite the deleted rows are zeroed (secure_delete)
        and the write-ahead log emptied before this returns.
        """
        user_id = snowflake(user_id)
        counts: dict[str, int] = {}
        async with self._db.write() as conn:
            added = await member_artists_of(conn, user_id)
            counts.update(await forget_in_sessions(conn, user_id))
            # Children first, so each count is this table's own rows rather than a cascade's.
            for table in (likes, not_interested, memberships, lastfm_links):
                result = await run(conn, delete(table).where(table.c.user_id == user_id))
                counts[table.name] = result.rowcount
            result = await run(conn, delete(users).where(users.c.id == user_id))
            counts[users.name] = result.rowcount
            counts[artists.name] = await delete_unused_member_artists(conn, added)
            if any(counts.values()):
                await bump_revision(conn)
        await self._db.purge_journal()
        return counts


async def member_artists_of(conn: AsyncConnection, user_id: int, *, like_source: str | None = None) -> list[int]:
    """Member-added artists (``source='member'``) the member likes or marked; with `like_source`, only
    those liked from that source (marks then do not count)."""
    liked = select(likes.c.artist_id).where(likes.c.user_id == user_id)
    if like_source is not None:
        liked = liked.where(likes.c.source == like_source)
    marked = select(not_interested.c.artist_id).where(not_interested.c.user_id == user_id)
    query = select(artists.c.id).where(
        artists.c.source == "member",
        artists.c.id.in_(liked if like_source is not None else liked.union(marked)),
    )
    return list(await conn.scalars(query))


async def delete_unused_member_artists(conn: AsyncConnection, artist_ids: Sequence[int]) -> int:
    """Delete those of these member artists that no like or mark names any more; returns how many.

    Only artists a departing member had: a member artist nobody likes yet may be one another member
    is adding right now (added first, liked next), and must stay.
    """
    deleted = 0
    for start in range(0, len(artist_ids), CHUNK):
        chunk = list(artist_ids[start : start + CHUNK])
        statement = delete(artists).where(
            artists.c.id.in_(chunk),
            artists.c.source == "member",
            ~exists().where(likes.c.artist_id == artists.c.id),
            ~exists().where(not_interested.c.artist_id == artists.c.id),
        )
        deleted += (await run(conn, statement)).rowcount
    return deleted
