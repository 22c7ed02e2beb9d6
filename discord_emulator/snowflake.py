"""Discord snowflake ids: 64-bit, time-ordered, the same layout Discord uses."""

from __future__ import annotations

import datetime as dt
import threading
import time

#: Milliseconds since the Unix epoch of the first second of 2015, Discord's epoch.
DISCORD_EPOCH_MS = 1_420_070_400_000


class SnowflakeGenerator:
    """Issues unique snowflakes: timestamp(42 bits) | worker(5) | process(5) | increment(12).

    Real ids matter because discord.py derives ``created_at`` from them and some code sorts by id.
    """

    def __init__(self, worker_id: int = 1, process_id: int = 0) -> None:
        if not (0 <= worker_id < 32 and 0 <= process_id < 32):
            raise ValueError("worker_id and process_id must fit in 5 bits")
        self._worker = worker_id
        self._process = process_id
        self._last_ms = -1
        self._increment = 0
        # Tests may create ids from a thread (the CLI demo); a lock keeps them unique anyway.
        self._lock = threading.Lock()

    def next(self) -> int:
        """Return a new snowflake, strictly greater than every earlier one from this generator."""
        with self._lock:
            now_ms = int(time.time() * 1000)
            if now_ms <= self._last_ms:
                # Same (or a backwards) millisecond: keep ordering by bumping the increment.
                now_ms = self._last_ms
                self._increment += 1
                if self._increment >= 4096:
                    now_ms += 1
                    self._increment = 0
            else:
                self._increment = 0
            self._last_ms = now_ms
            return ((now_ms - DISCORD_EPOCH_MS) << 22) | (self._worker << 17) | (self._process << 12) | self._increment


def snowflake_time(snowflake: int) -> dt.datetime:
    """The UTC creation time encoded in a snowflake."""
    return dt.datetime.fromtimestamp(((snowflake >> 22) + DISCORD_EPOCH_MS) / 1000, tz=dt.UTC)


def iso_timestamp(moment: dt.datetime | None = None) -> str:
    """An ISO 8601 timestamp with offset, as Discord writes them (``2024-01-01T00:00:00.000000+00:00``)."""
    moment = moment or dt.datetime.now(dt.UTC)
    return moment.isoformat(timespec="microseconds")
