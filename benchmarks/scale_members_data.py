"""Synthetic Discord members for benchmarks/scale_members.py, written to the store's real tables with COPY.

Member `m` (0, 1, 2, …) has the snowflake FIRST_MEMBER_ID + m and is in one of GUILDS servers. Its number
of likes is 1 + floor(LIKES_SCALE * X) with X Lomax (Pareto II) of tail index LIKES_TAIL, capped at the
bot's default ENCORE_MAX_LIKES: median 12, mean about 22, a long right tail. A like names a Last.fm
catalogue artist in proportion to its listeners, or (a share ADDED_SHARE of the likes) one of ADDED_ARTISTS
artists added by members, Zipf-popular; a member's likes are distinct. Members are generated in blocks of
BLOCK from a seed per block, so a larger size is a smaller one plus more members, and is loaded as such.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence

import asyncpg
import numpy as np

from db.models import MEMBER_ARTIST_ID_BASE

FIRST_MEMBER_ID = 800_000_000_000_000_000
FIRST_GUILD_ID = 700_000_000_000_000_000
GUILDS = 2_000
ADDED_ARTISTS = 150_000
ADDED_SHARE = 0.2
ADDED_ZIPF = 1.1
LIKES_TAIL, LIKES_SCALE, MAX_LIKES = 3.0, 44.0, 2_000
BLOCK = 10_000
#: Rows per COPY: big enough that a round trip is negligible, small enough to bound the loader's memory.
COPY_ROWS = 500_000


def guild_of(members: np.ndarray) -> np.ndarray:
    """The server of each member index (a fixed scatter, so any process can tell without the store)."""
    return FIRST_GUILD_ID + (members.astype(np.int64) * 2_654_435_761) % GUILDS


def added_artist_ids() -> np.ndarray:
    return MEMBER_ARTIST_ID_BASE + np.arange(ADDED_ARTISTS, dtype=np.int64)


def added_artist_adder(first_members: int) -> np.ndarray:
    """Which member (index, among the first `first_members`) added each added artist."""
    return (np.arange(ADDED_ARTISTS, dtype=np.int64) * 7_919) % first_members


class LikeDrawer:
    """Draws members' likes over the catalogue (by listeners) and the added artists (Zipf)."""

    def __init__(self, catalogue_ids: np.ndarray, catalogue_listeners: np.ndarray, seed: int) -> None:
        self.catalogue_ids = np.asarray(catalogue_ids, dtype=np.int64)
        self.catalogue_cdf = _cdf(np.asarray(catalogue_listeners, dtype=np.float64) + 1.0)
        self.added_ids = added_artist_ids()
        self.added_cdf = _cdf((np.arange(ADDED_ARTISTS) + 10.0) ** -ADDED_ZIPF)
        self.seed = seed

    def block(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """(member index, artist id) of the likes of members [index * BLOCK, (index + 1) * BLOCK), sorted."""
        rng = np.random.default_rng([self.seed, index])
        counts = np.minimum(MAX_LIKES, 1 + np.floor(LIKES_SCALE * rng.pareto(LIKES_TAIL, BLOCK))).astype(np.int64)
        members = np.repeat(np.arange(index * BLOCK, (index + 1) * BLOCK, dtype=np.int64), counts)
        added = rng.random(members.size) < ADDED_SHARE
        draws = rng.random(members.size)
        artists = np.where(
            added,
            self.added_ids[np.minimum(np.searchsorted(self.added_cdf, draws), ADDED_ARTISTS - 1)],
            self.catalogue_ids[np.minimum(np.searchsorted(self.catalogue_cdf, draws), self.catalogue_ids.size - 1)],
        )
        # Repeated draws for one member collapse into one like, as the store's primary key would.
        codes = np.unique((members << 24) | artists)
        return codes >> 24, codes & ((1 << 24) - 1)

    def likes(self, first: int, stop: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        for index in range(first // BLOCK, stop // BLOCK):
            yield self.block(index)


def _cdf(weights: np.ndarray) -> np.ndarray:
    return np.cumsum(weights) / weights.sum()


def asyncpg_dsn(url: str) -> str:
    """asyncpg's DSN for the store's SQLAlchemy URL (postgresql+asyncpg://…)."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def copy_rows(conn: asyncpg.Connection, table: str, columns: Sequence[str], rows: Iterator[tuple]) -> int:
    """COPY `rows` into `table` in batches of COPY_ROWS; how many were written."""
    written, batch = 0, []
    for row in rows:
        batch.append(row)
        if len(batch) == COPY_ROWS:
            await conn.copy_records_to_table(table, records=batch, columns=list(columns))
            written, batch = written + len(batch), []
    if batch:
        await conn.copy_records_to_table(table, records=batch, columns=list(columns))
        written += len(batch)
    return written


async def load_members(url: str, drawer: LikeDrawer, first: int, stop: int, first_size: int) -> dict:
    """Add members [first, stop) with their memberships and likes; with first == 0 also the servers and
    the added artists (added by members among the first `first_size`). Returns rows written and seconds."""
    conn = await asyncpg.connect(asyncpg_dsn(url))
    timings: dict[str, float] = {}
    counts: dict[str, int] = {}
    try:
        foreign_keys_checked = not await _skip_foreign_key_checks(conn)
        started = time.perf_counter()
        new = np.arange(first, stop, dtype=np.int64)
        if first == 0:
            guild_rows = ((FIRST_GUILD_ID + g, f"scale server {g}") for g in range(GUILDS))
            counts["guilds"] = await copy_rows(conn, "guilds", ("id", "name"), guild_rows)
        counts["users"] = await copy_rows(conn, "users", ("id",), ((u,) for u in (FIRST_MEMBER_ID + new).tolist()))
        memberships = zip((FIRST_MEMBER_ID + new).tolist(), guild_of(new).tolist())
        counts["memberships"] = await copy_rows(conn, "memberships", ("user_id", "guild_id"), memberships)
        if first == 0:
            counts |= await _load_added_artists(conn, first_size)
        timings["members_and_artists"] = time.perf_counter() - started

        started = time.perf_counter()
        counts["likes"] = 0
        for members, artists in drawer.likes(first, stop):
            rows = zip(
                (FIRST_MEMBER_ID + members).tolist(), artists.tolist(), guild_of(members).tolist(), _repeat("discord")
            )
            counts["likes"] += await copy_rows(conn, "likes", ("user_id", "artist_id", "guild_id", "source"), rows)
        timings["likes"] = time.perf_counter() - started

        started = time.perf_counter()
        await conn.execute("UPDATE store_revision SET revision = revision + 1")
        # As autovacuum would in time: sets the new rows' hint bits, which the first reader would pay for.
        await conn.execute("VACUUM ANALYZE")
        timings["vacuum_analyze"] = time.perf_counter() - started
    finally:
        await conn.close()
    rates = {"likes_per_second": round(counts["likes"] / timings["likes"]) if timings["likes"] else None}
    seconds = {k: round(v, 2) for k, v in timings.items()}
    return {"rows": counts, "seconds": seconds, "foreign_keys_checked": foreign_keys_checked} | rates


async def _skip_foreign_key_checks(conn: asyncpg.Connection) -> bool:
    """Bulk loading's usual shortcut: the generated rows are consistent by construction, and PostgreSQL's
    per-row foreign-key triggers would make the COPY several times slower. Needs a superuser; without
    one the keys are checked as usual."""
    try:
        await conn.execute("SET session_replication_role = replica")
    except asyncpg.InsufficientPrivilegeError:
        return False
    return True


async def _load_added_artists(conn: asyncpg.Connection, first_size: int) -> dict[str, int]:
    ids = added_artist_ids().tolist()
    adders = added_artist_adder(first_size)
    names = [f"Scale Artist {i}" for i in range(ADDED_ARTISTS)]
    artist_rows = ((a, n, n.lower(), None, "member") for a, n in zip(ids, names))
    counts = {
        "artists": await copy_rows(conn, "artists", ("id", "name", "normalized_name", "url", "source"), artist_rows)
    }
    adder_ids = (FIRST_MEMBER_ID + adders).tolist()
    counts["artist_additions"] = await copy_rows(
        conn, "artist_additions", ("artist_id", "user_id"), zip(ids, adder_ids)
    )
    shown = zip(guild_of(adders).tolist(), ids, adder_ids)
    counts["server_artists"] = await copy_rows(conn, "server_artists", ("guild_id", "artist_id", "added_by"), shown)
    await conn.execute("UPDATE member_artist_ids SET next_id = $1", MEMBER_ARTIST_ID_BASE + ADDED_ARTISTS)
    return counts


def _repeat(value: str) -> Iterator[str]:
    while True:
        yield value
