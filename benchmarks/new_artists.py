"""Time "Add as new artist" for artists Last.fm knows (looked up, tagged and placed); write
benchmarks/results/new-artists.json.

In process, through the services the button calls (`MemberLibrary.add_artist_and_like`), built by
`bot.app.build_app` with a Last.fm key pointed at the local fake Last.fm (real HTTP on 127.0.0.1), over a
real SQLite file and the default ALS model fitted on the full Last.fm data. The fake holds made-up
post-2011 artists, each with eight similar artists drawn from the 2011 catalogue. Each run starts from
an empty store: `--sequential` members add one such artist each, one after another; then `--burst`
members press the button at the same moment (`asyncio.gather`). Latency runs from the press to the
answer, as Discord's 3-second deadline counts it. Each run does the same without a Last.fm key too (the
artists added as typed, as `benchmarks/catalogue_add.py` does), on a fresh store, so that the cost of the
lookup and the placement reads against the machine's load at that moment. Also timed alone: placing one
artist over the served engine (`recommender.placement.with_placed`, then the pruned scorer's rebuild,
which serving does in the background), and how many engines the burst built.

The JSON holds every run's figures and their medians over `--runs` runs; the target is a burst p99 < 1 s.

Usage: python benchmarks/new_artists.py [--data-dir DIR] [--runs 5] [--sequential 20] [--burst 20]
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bot.app import build_app
from bot.settings import Settings
from fake_lastfm import FakeArtist, FakeLastFm
from recommender import placement
from recommender.placement import Neighbour, with_placed
from recommender.training import LastFmData

sys.path.insert(0, str(Path(__file__).parent))
from common import RESULTS, benchmark_parser, data_dir, machine, write_result

RESULT_PATH = RESULTS / "new-artists.json"
API_KEY = "bench-new-artists-key"
GUILD = 1_000_000_000_000_000_000
FIRST_MEMBER = 2_000_000_000_000_000_000
NEIGHBOURS = 8
TARGET_P99_S = 1.0


def fake_artists(data: LastFmData, count: int, seed: int = 0) -> list[FakeArtist]:
    rng = np.random.default_rng(seed)
    popular = [a.name for a in list(data.catalogue)[:2000]]
    return [
        FakeArtist(
            f"Bench Newcomer {i}",
            similar=tuple(
                (str(name), round(float(match), 2))
                for name, match in zip(
                    rng.choice(popular, NEIGHBOURS, replace=False), np.sort(rng.uniform(0.2, 1.0, NEIGHBOURS))[::-1]
                )
            ),
            tags=(("pop", 100), ("indie", 50)),
        )
        for i in range(count)
    ]


class EngineBuilds:
    """Counts `with_placed` calls that built an engine, as the serving side calls it."""

    def __init__(self) -> None:
        self.count = 0

    def __enter__(self) -> EngineBuilds:
        from bot.services.models import serving

        self._module, self._original = serving, serving.with_placed

        def counting(engine, placements):
            placed = self._original(engine, placements)
            self.count += placed.engine is not engine
            return placed

        serving.with_placed = counting
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._module.with_placed = self._original


async def one_run(data: LastFmData, home: Path, run: int, args: argparse.Namespace, keyed: bool = True) -> dict:
    total = args.sequential + args.burst
    artists = fake_artists(data, total * (run + 1))[total * run :]
    async with FakeLastFm(api_key=API_KEY, artists=artists) as fake:
        settings = Settings(
            home=home,
            lastfm_dir=None,
            database_url=f"sqlite+aiosqlite:///{home}/run-{run}-{keyed}.sqlite3",
            lastfm_api_key=API_KEY if keyed else None,
            lastfm_api_base=fake.base_url.rstrip("/"),
            snapshot_dir_override=home / f"snapshots-{run}-{keyed}",
        )
        app = await build_app(settings, data=data)
        try:
            library = app.library
            sequential = []
            for i in range(args.sequential):
                started = time.perf_counter()
                added = await library.add_artist_and_like(FIRST_MEMBER + i, artists[i].name, GUILD)
                sequential.append(time.perf_counter() - started)
                assert added.counts_now == keyed and bool(added.placed_beside) == keyed, added

            async def add(i: int, at: float) -> float:
                member = FIRST_MEMBER + args.sequential + i
                added = await library.add_artist_and_like(member, artists[args.sequential + i].name, GUILD)
                assert added.counts_now == keyed, added
                return time.perf_counter() - at

            with EngineBuilds() as builds:
                at = time.perf_counter()
                burst = await asyncio.gather(*(add(i, at) for i in range(args.burst)))

            engine = app.models.engine
            neighbours = [Neighbour(a, 1.0) for a in engine.interactions.artist_ids[:NEIGHBOURS].tolist()]
            alone = []
            for i in range(5):
                started = time.perf_counter()
                with_placed(engine, {9_000_000_000 + i: neighbours}).engine.prepare()
                alone.append(time.perf_counter() - started)
        finally:
            await app.close()
    seq_ms, burst_ms = np.array(sequential) * 1000, np.array(burst) * 1000
    return {
        "sequential_add_p50_ms": round(float(np.percentile(seq_ms, 50)), 2),
        "sequential_add_max_ms": round(float(seq_ms.max()), 2),
        "burst_p50_ms": round(float(np.percentile(burst_ms, 50)), 2),
        "burst_p99_ms": round(float(np.percentile(burst_ms, 99)), 2),
        "burst_engine_builds": builds.count,
        "placing_one_ms": round(float(np.median(alone)) * 1000, 2),
    }


async def bench(args: argparse.Namespace) -> dict:
    data = LastFmData.load(data_dir(args.data_dir))
    with tempfile.TemporaryDirectory(prefix="encore-bench-new-") as tmp:
        runs, unkeyed = [], []
        for run in range(args.runs):
            runs.append(await one_run(data, Path(tmp), run, args))
            unkeyed.append(await one_run(data, Path(tmp), run, args, keyed=False))
    p99 = statistics.median(r["burst_p99_ms"] for r in runs)
    return {
        "benchmark": "new artists: 'Add as new artist' looked up on the fake Last.fm and placed, through MemberLibrary",
        "machine": machine(platform=platform.platform()),
        "setup": {
            "sequential_adds": args.sequential,
            "concurrent_adds": args.burst,
            "similar_artists_each": NEIGHBOURS,
            "min_neighbours": placement.MIN_NEIGHBOURS,
            "database": "SQLite (aiosqlite), file; a fresh one per run",
            "last_fm": "fake_lastfm on 127.0.0.1 (three requests per artist)",
            "model": "default ALS on the Last.fm data",
            "last_fm_artists": len(data.catalogue),
        },
        "target_p99_ms": TARGET_P99_S * 1000,
        "runs": runs,
        "sequential_add_p50_ms": round(statistics.median(r["sequential_add_p50_ms"] for r in runs), 2),
        "burst_p50_ms": round(statistics.median(r["burst_p50_ms"] for r in runs), 2),
        "burst_p99_ms": round(p99, 2),
        "burst_engine_builds_median": statistics.median(r["burst_engine_builds"] for r in runs),
        "placing_one_ms": round(statistics.median(r["placing_one_ms"] for r in runs), 2),
        "without_key": {
            "runs": [{k: v for k, v in r.items() if k != "placing_one_ms"} for r in unkeyed],
            "sequential_add_p50_ms": round(statistics.median(r["sequential_add_p50_ms"] for r in unkeyed), 2),
            "burst_p50_ms": round(statistics.median(r["burst_p50_ms"] for r in unkeyed), 2),
            "burst_p99_ms": round(statistics.median(r["burst_p99_ms"] for r in unkeyed), 2),
        },
        "meets_target": p99 < TARGET_P99_S * 1000,
    }


def main() -> None:
    parser = benchmark_parser(__doc__, RESULT_PATH)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sequential", type=int, default=20)
    parser.add_argument("--burst", type=int, default=20)
    args = parser.parse_args()
    report = asyncio.run(bench(args))
    write_result(args.out, report)
    print(
        f"one add placed: p50 {report['sequential_add_p50_ms']:.1f} ms; {args.burst} at once: "
        f"p50 {report['burst_p50_ms']:.1f} ms, p99 {report['burst_p99_ms']:.1f} ms, "
        f"{report['burst_engine_builds_median']} engine builds (median of {args.runs} runs); "
        f"placing one artist alone {report['placing_one_ms']:.1f} ms"
    )
    plain = report["without_key"]
    print(
        f"the same without a key: one add p50 {plain['sequential_add_p50_ms']:.1f} ms; at once: "
        f"p50 {plain['burst_p50_ms']:.1f} ms, p99 {plain['burst_p99_ms']:.1f} ms"
    )
    print(f"target p99 < {TARGET_P99_S:g} s: {'met' if report['meets_target'] else 'NOT met'}")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
