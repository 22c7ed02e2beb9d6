"""Members' tastes held in memory, for the recommendation hot path.

Every /recommend, /why and "show more" needs the member's likes and marks. Reading them costs two
queries (about 2 ms of CPU through SQLAlchemy and aiosqlite), more than the recommendation itself,
so a store keeps what it read here.

Staying correct:
- A write through the same store clears the cache when it commits, so a member's own like counts at
  once. A read that overlapped a write is not kept (the generation changed under it).
- Writes by other processes sharing the database (a second shard, the `encore` CLI) show up in the
  store's revision counter, which is read at most once per `poll_seconds`; a changed revision clears
  the cache. Such writes are therefore seen within `poll_seconds`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Awaitable, Callable


@dataclass(frozen=True)
class Taste:
    """What a member told Encore: liked artists (with a play count for imported ones) and marks."""

    liked: tuple[int, ...]
    #: Per liked artist: its play count when imported from Last.fm, None for a like.
    plays: tuple[float | None, ...]
    not_interested: tuple[int, ...]


class TasteCache:
    def __init__(self, poll_seconds: float = 1.0, max_members: int = 100_000) -> None:
        self.poll_seconds = poll_seconds
        self.max_members = max_members
        self._tastes: dict[int, Taste] = {}
        self._generation = 0
        self._revision: int | None = None
        self._checked_at = float("-inf")

    @property
    def generation(self) -> int:
        """Changes whenever cached tastes may have gone stale; compare before and after a read."""
        return self._generation

    def get(self, user_id: int) -> Taste | None:
        return self._tastes.get(user_id)

    def put(self, user_id: int, taste: Taste, generation: int) -> None:
        """Keep `taste` if nothing was written since `generation` was taken, before the read."""
        if generation != self._generation:
            return
        if len(self._tastes) >= self.max_members:
            # Dropping everything is crude but bounded and rare: a server of 100,000 active members.
            self._tastes.clear()
        self._tastes[user_id] = taste

    def invalidate(self) -> None:
        self._generation += 1
        self._tastes.clear()

    async def check_revision(self, read_revision: Callable[[], Awaitable[int]]) -> None:
        """Clear the cache if the store's revision moved since the last check (throttled)."""
        now = time.monotonic()
        if now - self._checked_at < self.poll_seconds:
            return
        self._checked_at = now
        revision = await read_revision()
        if revision != self._revision:
            self._revision = revision
            self.invalidate()
