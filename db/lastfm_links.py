"""`LastFmLinks`: members' linked Last.fm accounts and the likes imported from them."""

from __future__ import annotations

import operator
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import case, delete, select, update

from db.database import (
    CHUNK,
    Database,
    UnknownArtistError,
    aware,
    bump_revision,
    optional_snowflake,
    run,
    snowflake,
)
from db.members import delete_unused_member_artists, member_artists_of
from db.models import artists, lastfm_links, likes, utcnow
from db.rows import LastFmLinkRow


class LastFmLinks:
    """A member's Last.fm link and import, replaced whole or not at all."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def unlink_lastfm(self, user_id: int, forget_imported_likes: bool = False) -> bool:
        """Remove the member's Last.fm link (and, if asked, the likes imported from it).

        True if there was a link. With the imported likes go the artists the import added that no one
        else likes; on SQLite the deleted rows are zeroed and the write-ahead log emptied, as
        `Members.forget_user` does, so the username and the imported plays are gone from the files.
        """
        user_id = snowflake(user_id)
        async with self._db.write() as conn:
            result = await run(conn, delete(lastfm_links).where(lastfm_links.c.user_id == user_id))
            dropped = 0
            if forget_imported_likes:
                added = await member_artists_of(conn, user_id, like_source="lastfm")
                dropped = (
                    await run(
                        conn,
                        delete(likes).where(likes.c.user_id == user_id, likes.c.source == "lastfm"),
                    )
                ).rowcount
                dropped += await delete_unused_member_artists(conn, added)
            if result.rowcount or dropped:
                await bump_revision(conn)
        if result.rowcount or dropped:
            await self._db.purge_journal()
        return result.rowcount > 0

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
        user_id = snowflake(user_id)
        guild_id = optional_snowflake(guild_id)
        if not username:
            raise ValueError("username must not be empty")
        wanted = _checked_plays(plays)
        now = utcnow()
        async with self._db.write() as conn:
            linked_as = await conn.scalar(select(lastfm_links.c.username).where(lastfm_links.c.user_id == user_id))
            if only_if_linked and linked_as != username:
                return None
            known = set(await conn.scalars(select(artists.c.id).where(artists.c.id.in_(list(wanted)))))
            if set(wanted) - known:
                raise UnknownArtistError(min(set(wanted) - known))
            changed = await self._db.ensure_member(conn, user_id, guild_id)
            if linked_as is None:
                await conn.execute(
                    self._db.insert(lastfm_links).values(
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
                statement = self._db.insert(likes).on_conflict_do_nothing()
                for start in range(0, len(params), CHUNK):
                    await conn.execute(statement, params[start : start + CHUNK])
                changed = True
            if changed:
                await bump_revision(conn)
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
            .where(lastfm_links.c.refreshed_at.is_(None) | (lastfm_links.c.refreshed_at < aware(refreshed_before)))
            .order_by(
                case((lastfm_links.c.refreshed_at.is_(None), 0), else_=1),
                lastfm_links.c.refreshed_at,
                lastfm_links.c.user_id,
            )
            .limit(limit)
        )
        async with self._db.connect() as conn:
            result = await conn.execute(query)
            return [LastFmLinkRow(*row) for row in result]


def _checked_plays(plays: Iterable[tuple[int, float]]) -> dict[int, float]:
    """Artist id -> play count, each artist once and each count a positive finite number."""
    wanted: dict[int, float] = {}
    for artist_id, weight in plays:
        artist_id = operator.index(artist_id)
        weight = float(weight)
        if not 0 < weight < float("inf"):
            raise ValueError(f"play count {weight} for artist {artist_id} must be positive")
        if artist_id in wanted:
            raise ValueError(f"artist {artist_id} is listed twice")
        wanted[artist_id] = weight
    return wanted
