"""What the bot reads on every command, held in memory: members' tastes and servers' settings.

Every /recommend, /why and "show more" needs the member's likes and marks, and the server's
settings. Reading them costs queries (about 2 ms of CPU for a taste through SQLAlchemy and
aiosqlite), more than the recommendation itself, so a store keeps what it read here.

Staying correct:
- A write through the same store clears the cache when it commits, so a member's own like counts at
  once. A read that overlapped a write is not kept (the generation changed under it).
- Writes by other processes sharing the database (a second shard, the `encore` CLI) show up in the
  store's revision counter, which is read at most once per `poll_seconds`; a changed revision clears
  the cache. Such writes are therefore seen within `poll_seconds`.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Any


class ReadCache:
    def __init__(self, poll_seconds: float = 1.0, max_entries: int = 100_000) -> None:
        self.poll_seconds = poll_seconds
        self.max_entries = max_entries
        self._values: dict[Hashable, Any] = {}
        self._generation = 0
        self._revision: int | None = None
        self._checked_at = float("-inf")

    @property
    def generation(self) -> int:
        """Changes whenever cached values may have gone stale; compare before and after a read."""
        return self._generation

    def get(self, key: Hashable) -> Any | None:
        return self._values.get(key)

    def put(self, key: Hashable, value: Any, generation: int) -> None:
        """Keep `value` if nothing was written since `generation` was taken, before the read."""
        if generation != self._generation:
            return
        if len(self._values) >= self.max_entries:
            # Dropping everything is crude but bounded and rare: 100,000 active members.
            self._values.clear()
        self._values[key] = value

    def invalidate(self) -> None:
        self._generation += 1
        self._values.clear()

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
