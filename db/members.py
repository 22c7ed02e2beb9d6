"""`Members`: who Encore knows, whether others may see them, and forgetting them on request."""

from __future__ import annotations

from collections.abc import Iterable
from typing import cast

from sqlalchemy import delete, select, update

from db.database import CHUNK, Database, bump_revision, check_choice, run, snowflake, unique_snowflakes
from db.models import PRIVACY_VALUES, lastfm_links, likes, memberships, not_interested, users
from db.rows import Privacy

_DEFAULT_PRIVACY: Privacy = "public"


class Members:
    """Members' own rows: the member and their privacy; `forget_user` removes everything about them."""

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

    async def forget_user(self, user_id: int) -> dict[str, int]:
        """Delete every row about the member; returns how many rows went from each table.

        Servers stay: they are not about the member. Likes they made leave no trace in the model's
        input from the next `Likes.all_likes()` on.
        """
        user_id = snowflake(user_id)
        counts: dict[str, int] = {}
        async with self._db.write() as conn:
            # Children first, so each count is this table's own rows rather than a cascade's.
            for table in (likes, not_interested, memberships, lastfm_links):
                result = await run(conn, delete(table).where(table.c.user_id == user_id))
                counts[table.name] = result.rowcount
            result = await run(conn, delete(users).where(users.c.id == user_id))
            counts[users.name] = result.rowcount
            if any(counts.values()):
                await bump_revision(conn)
        return counts
