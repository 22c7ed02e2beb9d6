"""How Encore's cost grows with the number of Discord members, measured at a few sizes and extrapolated.

Synthetic members shaped like Discord members (benchmarks/scale_members_data.py: power-law likes per
member, median 12; about a fifth of the likes on 150,000 member-added artists, the rest over the HetRec 2k
catalogue) are written to the store's real tables (after the Alembic migrations) in batches with COPY
(PostgreSQL; SQLite gets batched executemany). Sizes grow in place: each adds members to the last. At each
size, each step in a fresh process (benchmarks/scale_members_steps.py), with its peak memory:

- load: the refit's read of the interaction matrix (store.likes.all_like_columns: packed columns, streamed)
  and its merge into the Last.fm matrix; and, as load_before_fix, the same through store.likes.all_likes
  (a list of row tuples), which the refit read before;
- refit by implicit and by Spark local[2]: the bot's own refit (ModelService.refit), `--iterations`
  iterations (not Encore's 15: the growth is what this measures), and the snapshot's size on disk;
- serve: one bot process (build_app) serving that snapshot: its resident memory, and /recommend and
  /blend (two members of one server) p50/p99 through the services the cogs call, for `--calls` random members.

Time and memory are fitted against likes with a power law (least squares in log-log) and an affine
line, and projected at 10 million members. Peak memory is the step's own (ru_maxrss) and, for the
process with its children (Spark's JVM), the sampled peak of their summed resident memory.

    python benchmarks/scale_members.py [--sizes 250000 500000 1000000] [--quick] [--database-url URL]
        [--iterations 5] [--calls 200] [--spark-timeout 900] [--spark-max-members N] [--no-spark] [--out PATH]

Without --database-url a throwaway PostgreSQL is started with .ci/postgres (needs root). The database's
Encore tables are dropped first. Results: benchmarks/results/scale-members.json.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import RESULTS, benchmark_parser, data_dir, machine, write_result
from scale_members_data import (
    ADDED_ARTISTS,
    ADDED_SHARE,
    BLOCK,
    FIRST_GUILD_ID,
    FIRST_MEMBER_ID,
    GUILDS,
    LIKES_SCALE,
    LIKES_TAIL,
    MAX_LIKES,
    LikeDrawer,
    added_artist_adder,
    added_artist_ids,
    guild_of,
    load_members,
)

from bot.services.startup import open_store
from db.engine import create_engine
from db.models import MEMBER_ARTIST_ID_BASE, metadata
from recommender.training import LastFmData

RESULT_PATH = RESULTS / "scale-members.json"
STEPS = Path(__file__).resolve().parent / "scale_members_steps.py"
REPO = Path(__file__).resolve().parent.parent
TARGET_MEMBERS = 10_000_000
#: Two small sizes, so that a quick run (the test, CI) fits a growth too.
QUICK_SIZES = [10_000, 20_000]
#: Figures fitted against likes, as (step, path inside the step's result).
FITTED = {
    "load_seconds": ("load", ("seconds",)),
    "load_peak_mb": ("load", ("peak_mb",)),
    "load_before_fix_seconds": ("load_before_fix", ("seconds",)),
    "load_before_fix_peak_mb": ("load_before_fix", ("peak_mb",)),
    "refit_implicit_seconds": ("refit_implicit", ("seconds",)),
    "refit_implicit_peak_mb": ("refit_implicit", ("peak_mb",)),
    "refit_spark_seconds": ("refit_spark", ("seconds",)),
    "refit_spark_tree_peak_mb": ("refit_spark", ("tree_peak_mb",)),
    "snapshot_mb": ("refit_implicit", ("snapshot_mb",)),
    "bot_resident_mb": ("serve", ("resident_mb_after_calls",)),
    "recommend_p99_ms": ("serve", ("recommend", "p99_ms")),
    "blend_p99_ms": ("serve", ("blend", "p99_ms")),
}


class TreeMemory:
    """Samples the summed resident memory of a process and its descendants; keeps the peak."""

    def __init__(self, pid: int, every: float = 0.2) -> None:
        self.pid, self.every, self.peak_kb = pid, every, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return round(self.peak_kb / 1024, 1)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self.peak_kb = max(self.peak_kb, sum(_rss_kb(p) for p in _tree(self.pid)))


def _tree(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                todo += [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                pass
    return found


def _rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def run_step(step: str, common: list[str], timeout: float) -> dict:
    """One step in a fresh process; its RESULT, with wall seconds and the process tree's peak memory."""
    command = [sys.executable, str(STEPS), step, *common]
    started = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    memory = TreeMemory(process.pid)
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        memory.stop()
        print(f"  {step}: timed out after {timeout:.0f} s", flush=True)
        return {"timed_out_after_seconds": timeout}
    tree_peak = memory.stop()
    results = [line for line in out.splitlines() if line.startswith("RESULT ")]
    if process.returncode != 0 or not results:
        raise RuntimeError(f"{step} failed ({process.returncode}):\n{err[-4000:]}")
    result = json.loads(results[-1].removeprefix("RESULT "))
    result |= {"wall_seconds": round(time.perf_counter() - started, 3), "tree_peak_mb": tree_peak}
    print(f"  {step}: {json.dumps(result)}", flush=True)
    return result


async def reset_store(url: str, data: LastFmData) -> None:
    """Drop Encore's tables, then migrate and seed the catalogue as the bot does."""
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(metadata.drop_all)
        await conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    await engine.dispose()
    store = await open_store(url, data.catalogue)
    await store.close()


def load_sqlite(path: str, drawer: LikeDrawer, first: int, stop: int, first_size: int) -> dict:
    """SQLite's stand-in for the COPY loader: the same rows, batched executemany in one transaction."""
    started = time.perf_counter()
    conn = sqlite3.connect(path)
    counts: dict[str, int] = {}
    new = np.arange(first, stop, dtype=np.int64)
    with conn:
        if first == 0:
            guild_rows = [(FIRST_GUILD_ID + g, f"scale server {g}") for g in range(GUILDS)]
            conn.executemany("INSERT INTO guilds (id, name) VALUES (?, ?)", guild_rows)
        ids = (FIRST_MEMBER_ID + new).tolist()
        conn.executemany("INSERT INTO users (id) VALUES (?)", [(u,) for u in ids])
        conn.executemany("INSERT INTO memberships (user_id, guild_id) VALUES (?, ?)", zip(ids, guild_of(new).tolist()))
        if first == 0:
            artists, adders = added_artist_ids().tolist(), added_artist_adder(first_size)
            names = [f"Scale Artist {i}" for i in range(ADDED_ARTISTS)]
            conn.executemany(
                "INSERT INTO artists (id, name, normalized_name, source) VALUES (?, ?, ?, 'member')",
                [(a, n, n.lower()) for a, n in zip(artists, names)],
            )
            adder_ids = (FIRST_MEMBER_ID + adders).tolist()
            conn.executemany("INSERT INTO artist_additions (artist_id, user_id) VALUES (?, ?)", zip(artists, adder_ids))
            conn.executemany(
                "INSERT INTO server_artists (guild_id, artist_id, added_by) VALUES (?, ?, ?)",
                zip(guild_of(adders).tolist(), artists, adder_ids),
            )
            conn.execute("UPDATE member_artist_ids SET next_id = ?", (MEMBER_ARTIST_ID_BASE + ADDED_ARTISTS,))
        counts["likes"] = 0
        for members, liked in drawer.likes(first, stop):
            rows = zip((FIRST_MEMBER_ID + members).tolist(), liked.tolist(), guild_of(members).tolist())
            counts["likes"] += conn.executemany(
                "INSERT INTO likes (user_id, artist_id, guild_id, source) VALUES (?, ?, ?, 'discord')", rows
            ).rowcount
        conn.execute("UPDATE store_revision SET revision = revision + 1")
    conn.close()
    counts["users"] = len(new)
    return {"rows": counts, "seconds": {"total": round(time.perf_counter() - started, 2)}}


def power_law(likes: list[float], values: list[float], at: float) -> dict:
    """value = coefficient * likes ** exponent by least squares in log-log, and its value `at` likes;
    beside it the affine fit (a fixed part plus a part per like) and its value there."""
    x, y = np.log(np.array(likes, dtype=float)), np.log(np.array(values, dtype=float))
    exponent, log_coefficient = np.polyfit(x, y, 1)
    per_like, fixed = np.polyfit(np.array(likes, dtype=float), np.array(values, dtype=float), 1)
    return {
        "exponent": round(float(exponent), 3),
        "coefficient": float(np.exp(log_coefficient)),
        "projected": round(float(np.exp(log_coefficient) * at**exponent), 2),
        "affine_fixed": round(float(fixed), 3),
        "affine_per_million_likes": round(float(per_like) * 1e6, 3),
        "affine_projected": round(float(fixed + per_like * at), 2),
    }


def fit_growth(sizes: list[dict]) -> dict:
    """Each FITTED figure against likes over the sizes that have it, projected at TARGET_MEMBERS."""
    largest = sizes[-1]
    likes_per_member = largest["likes"] / largest["members"]
    at = likes_per_member * TARGET_MEMBERS
    fits: dict = {"members": TARGET_MEMBERS, "likes": int(at), "likes_per_member": round(likes_per_member, 3)}
    for name, (step, path) in FITTED.items():
        points = []
        for size in sizes:
            value = size.get(step, {})
            for key in path:
                value = value.get(key) if isinstance(value, dict) else None
            if isinstance(value, (int, float)) and value > 0:
                points.append((size["likes"], float(value)))
        if len(points) >= 2:
            fits[name] = power_law([p[0] for p in points], [p[1] for p in points], at) | {"sizes": len(points)}
    return fits


def measure(args, url: str, workdir: Path) -> dict:
    lastfm_dir = data_dir(args.data_dir)
    data = LastFmData.load(lastfm_dir)
    catalogue = list(data.catalogue)
    drawer = LikeDrawer(
        np.array([a.artist_id for a in catalogue]), np.array([a.listeners for a in catalogue]), args.seed
    )
    asyncio.run(reset_store(url, data))
    sizes, loaded = [], 0
    for size in sorted(args.sizes):
        print(f"{size:,} members: loading members {loaded:,}..{size:,}", flush=True)
        if url.startswith("sqlite"):
            written = load_sqlite(url.split("///", 1)[1], drawer, loaded, size, min(args.sizes))
        else:
            written = asyncio.run(load_members(url, drawer, loaded, size, min(args.sizes)))
        print(f"  written: {written}", flush=True)
        loaded = size
        common = [
            *("--database-url", url, "--home", str(workdir), "--lastfm-dir", str(lastfm_dir)),
            *("--size", str(size), "--iterations", str(args.iterations), "--calls", str(args.calls)),
            *("--warmup", str(args.warmup), "--seed", str(args.seed)),
        ]
        entry: dict = {"members": size, "written": written}
        entry["load"] = run_step("load-columns", common, args.step_timeout)
        entry["load_before_fix"] = run_step("load-tuples", common, args.step_timeout)
        entry["likes"] = entry["load"]["likes"]
        entry["refit_implicit"] = run_step("refit-implicit", common, args.step_timeout)
        if args.spark and size <= args.spark_max_members:
            entry["refit_spark"] = run_step("refit-spark", common, args.spark_timeout)
        entry["serve"] = run_step("serve", common, args.step_timeout)
        sizes.append(entry)
        write_partial(args, sizes)
    return report(args, sizes)


def report(args, sizes: list[dict]) -> dict:
    return {
        "benchmark": "scale-members",
        "what": "load, refit (implicit and Spark local[2]), snapshot, bot memory and /recommend, /blend latency "
        "against a store of synthetic Discord members, fitted against likes and projected at 10 M members",
        "members_data": {
            "likes_per_member": f"1 + floor({LIKES_SCALE} * Lomax({LIKES_TAIL})), at most {MAX_LIKES}",
            "added_artists": ADDED_ARTISTS,
            "added_artist_share_of_likes": ADDED_SHARE,
            "servers": GUILDS,
            "block": BLOCK,
            "seed": args.seed,
        },
        "iterations": args.iterations,
        "calls": args.calls,
        "sizes": sizes,
        "projection": fit_growth(sizes) if len(sizes) >= 2 else None,
        "machine": machine(load_average=list(os.getloadavg())),
    }


def write_partial(args, sizes: list[dict]) -> None:
    """Each finished size is on disk at once, so a run cut short still leaves its curve."""
    write_result(args.out, report(args, sizes) | {"partial": True})


def main() -> None:
    parser = benchmark_parser(__doc__, RESULT_PATH)
    parser.add_argument("--sizes", type=int, nargs="+", default=[250_000, 500_000, 1_000_000])
    parser.add_argument("--quick", action="store_true", help="two small sizes, one iteration, 20 calls")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--iterations", type=int, default=5)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--step-timeout", type=float, default=1800.0)
    parser.add_argument("--spark-timeout", type=float, default=900.0)
    parser.add_argument("--no-spark", dest="spark", action="store_false")
    parser.add_argument("--spark-max-members", type=int, default=10**9, help="refit with Spark up to this size only")
    args = parser.parse_args()
    if args.quick:
        args.sizes, args.iterations, args.calls, args.warmup = QUICK_SIZES, 1, 20, 3
    if any(size % BLOCK for size in args.sizes):
        parser.error(f"sizes must be multiples of {BLOCK:,}")
    with tempfile.TemporaryDirectory(prefix="encore-scale-members-") as tmp:
        workdir = Path(tmp)
        if args.database_url:
            result = measure(args, args.database_url, workdir)
        else:
            pg_dir = Path(tempfile.mkdtemp(prefix="encore-scale-pg-"))  # .ci/postgres hands it to postgres
            url = subprocess.run(
                [str(REPO / ".ci" / "postgres"), "start", str(pg_dir)], check=True, capture_output=True, text=True
            ).stdout.strip()
            try:
                result = measure(args, url, workdir)
            finally:
                subprocess.run([str(REPO / ".ci" / "postgres"), "stop", str(pg_dir)], check=False)
    write_result(args.out, result)
    print(json.dumps(result["projection"], indent=2))


if __name__ == "__main__":
    main()
