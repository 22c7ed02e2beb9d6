"""One measured step of benchmarks/scale_members.py, run in a fresh process so its peak memory is its own.

    python benchmarks/scale_members_steps.py STEP --database-url URL --home DIR --lastfm-dir DIR --size N

STEP is `load-columns` (the refit's read of the matrix: store.likes.all_like_columns, then the merge
into the Last.fm matrix) or `load-tuples` (the same through store.likes.all_likes, as the refit read it
before), `refit-implicit` / `refit-spark` (the bot's own refit, ModelService.refit, from build_app), or
`serve` (a bot process serving the newest snapshot, then /recommend, /blend and /trending through the
services the cogs call). The last line of stdout is `RESULT {json}`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from scale_members_data import FIRST_GUILD_ID, FIRST_MEMBER_ID, GUILDS, guild_of

from bot.app import build_app
from bot.services.startup import open_store
from bot.settings import Settings
from recommender.engine import LIKE_PLAYS
from recommender.merge import MemberPlays, merge_members
from recommender.models.als import ALSConfig
from recommender.models.spark_settings import SparkSettings
from recommender.training import LastFmData, make_trainer

TRENDING_WARMUP = 1


def peak_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def resident_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def settings_for(args: argparse.Namespace, engine: str) -> Settings:
    return Settings(
        home=args.home,
        lastfm_dir=args.lastfm_dir,
        database_url=args.database_url,
        snapshot_dir_override=args.home / f"snapshots-{engine}",
        spark=SparkSettings(master="local[2]", driver_memory=args.spark_driver_memory),
    )


async def load(args: argparse.Namespace, packed: bool) -> dict:
    """The refit's read and merge: as a list of row tuples (all_likes, the refit before it streamed
    packed columns) or as packed columns (all_like_columns, what the refit reads now)."""
    data = await asyncio.to_thread(LastFmData.load, args.lastfm_dir)
    store = await open_store(args.database_url)
    try:
        baseline = resident_mb()
        started = time.perf_counter()
        likes = await (store.likes.all_like_columns() if packed else store.likes.all_likes())
        read = time.perf_counter() - started
        read_resident = resident_mb()
        started = time.perf_counter()
        if packed:
            members = MemberPlays.from_columns(likes.user_ids, likes.artist_ids, likes.weights, LIKE_PLAYS)
        else:
            members = MemberPlays.from_likes(likes, LIKE_PLAYS)
        merged = merge_members(data.interactions, members)
        build = time.perf_counter() - started
    finally:
        await store.close()
    return {
        "reader": "all_like_columns" if packed else "all_likes",
        "likes": len(likes),
        "matrix": {"users": int(merged.shape[0]), "artists": int(merged.shape[1]), "nnz": int(merged.plays.nnz)},
        "read_seconds": round(read, 3),
        "build_seconds": round(build, 3),
        "seconds": round(read + build, 3),
        "resident_mb_before": baseline,
        "resident_mb_after_read": read_resident,
        "peak_mb": peak_mb(),
    }


async def refit(args: argparse.Namespace, engine: str) -> dict:
    settings = settings_for(args, engine)
    trainer = make_trainer(engine, ALSConfig(iterations=args.iterations), settings.spark)
    app = await build_app(settings, trainer=trainer, start=False)
    try:
        started = time.perf_counter()
        timings = await app.models.refit()
        seconds = time.perf_counter() - started
        state = app.models.state
        assert timings is not None and state is not None
        path = settings.snapshot_dir / state.snapshot.version
        snapshot_bytes = sum(f.stat().st_size for f in path.iterdir())
    finally:
        if engine == "spark":
            from recommender.models.spark_als import stop_spark

            stop_spark()
        await app.close()
    return {
        "engine": engine,
        "iterations": args.iterations,
        "seconds": round(seconds, 3),
        "timings": {k: round(v, 3) for k, v in timings.as_dict().items()},
        "snapshot_mb": round(snapshot_bytes / 2**20, 1),
        "snapshot_version": state.snapshot.version,
        "peak_mb": peak_mb(),
    }


async def serve(args: argparse.Namespace) -> dict:
    settings = settings_for(args, "implicit")
    started = time.perf_counter()
    app = await build_app(settings)
    start_seconds = time.perf_counter() - started
    resident_serving = resident_mb()
    rng = np.random.default_rng(args.seed)
    askers = rng.choice(args.size, size=args.warmup + args.calls, replace=False)
    latencies: dict[str, list[float]] = {"recommend": [], "blend": [], "trending": []}
    try:
        for i, member in enumerate(askers.tolist()):
            user_id, guild_id = FIRST_MEMBER_ID + member, int(guild_of(np.array([member]))[0])
            # Another member of the same server, for a two-member blend.
            other = (member + args.size // 2) % args.size
            while int(guild_of(np.array([other]))[0]) != guild_id:
                other = (other + 1) % args.size
            started = time.perf_counter()
            await app.library.recommend(user_id, 10, guild_id=guild_id)
            recommended = time.perf_counter()
            await app.social.blend(user_id, [user_id, FIRST_MEMBER_ID + other], 10, guild_id=guild_id)
            blended = time.perf_counter()
            if i >= args.warmup:
                latencies["recommend"].append(recommended - started)
                latencies["blend"].append(blended - recommended)
        # /trending reads one server's recent likes: the query a likes(guild_id, created_at) index serves.
        guilds = rng.choice(GUILDS, size=TRENDING_WARMUP + args.trending_calls, replace=False)
        for i, guild in enumerate(guilds.tolist()):
            started = time.perf_counter()
            await app.social.trending(FIRST_GUILD_ID + guild)
            if i >= TRENDING_WARMUP:
                latencies["trending"].append(time.perf_counter() - started)
    finally:
        resident_after = resident_mb()
        await app.close()
    return {
        "start_seconds": round(start_seconds, 3),
        "resident_mb_serving": resident_serving,
        "resident_mb_after_calls": resident_after,
        "peak_mb": peak_mb(),
        "calls": args.calls,
        "warmup": args.warmup,
        "trending_calls": args.trending_calls,
        **{name: percentiles(samples) for name, samples in latencies.items()},
    }


def percentiles(samples: list[float]) -> dict[str, float]:
    ms = np.array(samples) * 1e3
    return {
        "p50_ms": round(float(np.percentile(ms, 50)), 3),
        "p99_ms": round(float(np.percentile(ms, 99)), 3),
        "mean_ms": round(float(statistics.fmean(ms)), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("step", choices=("load-tuples", "load-columns", "refit-implicit", "refit-spark", "serve"))
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--lastfm-dir", type=Path, required=True)
    parser.add_argument("--size", type=int, required=True)
    parser.add_argument("--iterations", type=int, default=5)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--trending-calls", type=int, default=10)
    parser.add_argument("--spark-driver-memory", default="8g")
    args = parser.parse_args()
    if args.step.startswith("load-"):
        result = asyncio.run(load(args, packed=args.step == "load-columns"))
    elif args.step == "serve":
        result = asyncio.run(serve(args))
    else:
        result = asyncio.run(refit(args, args.step.removeprefix("refit-")))
    print("RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
