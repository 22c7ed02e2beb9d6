"""Time 20 concurrent "Add as new artist" after 300 adds; write benchmarks/results/catalogue-add.json.

In process, through the services the button calls (`MemberLibrary.add_artist_and_like`), built by
`bot.app.build_app` over a real SQLite file and the default ALS model fitted on the full Last.fm data.
Each run starts from an empty store: 300 members add one new artist each, one after another, in ten
servers; then 20 more members press the button at the same moment (`asyncio.gather`), each adding
a name of their own in one server. A member's latency is from that moment to their add's answer, as
Discord's 3-second deadline counts it. Also counted: how many artist catalogues the adds built (every
add used to rebuild the whole one).

The JSON holds every run's p50/p99 of the 20 and their medians over `--runs` runs; the target is
p99 < 1 s.

Usage: python benchmarks/catalogue_add.py [--data-dir DIR] [--runs 5] [--before 300] [--burst 20]
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
from recommender.catalogue import ArtistCatalogue
from recommender.training import LastFmData

sys.path.insert(0, str(Path(__file__).parent))
from common import RESULTS, benchmark_parser, data_dir, machine, write_result

RESULT_PATH = RESULTS / "catalogue-add.json"
FIRST_GUILD = 1_000_000_000_000_000_000
FIRST_MEMBER = 2_000_000_000_000_000_000
SERVERS = 10
TARGET_P99_S = 1.0


class CatalogueBuilds:
    """Counts `ArtistCatalogue` constructions (a rebuild is one) while installed."""

    def __init__(self) -> None:
        self.count = 0
        self._original = ArtistCatalogue.__init__

    def __enter__(self) -> CatalogueBuilds:
        original = self._original

        def counting(catalogue, *args, **kwargs):
            self.count += 1
            original(catalogue, *args, **kwargs)

        ArtistCatalogue.__init__ = counting  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc_info: object) -> None:
        ArtistCatalogue.__init__ = self._original  # type: ignore[method-assign]


async def one_run(data: LastFmData, home: Path, run: int, args: argparse.Namespace) -> dict:
    settings = Settings(home=home, lastfm_dir=None, database_url=f"sqlite+aiosqlite:///{home}/run-{run}.sqlite3")
    # The first run fits the default model and saves it; later runs serve that snapshot.
    app = await build_app(settings, data=data)
    try:
        library = app.library
        with CatalogueBuilds() as builds:
            sequential = []
            for i in range(args.before):
                started = time.perf_counter()
                await library.add_artist_and_like(FIRST_MEMBER + i, f"Bench Band {run} {i}", FIRST_GUILD + i % SERVERS)
                sequential.append(time.perf_counter() - started)

            async def add(i: int, at: float) -> float:
                member = FIRST_MEMBER + args.before + i
                await library.add_artist_and_like(member, f"Burst Band {run} {i}", FIRST_GUILD)
                return time.perf_counter() - at

            at = time.perf_counter()
            burst = await asyncio.gather(*(add(i, at) for i in range(args.burst)))
        member_artists = (await app.store.counts())["member_artists"]
    finally:
        await app.close()
    assert member_artists == args.before + args.burst, member_artists
    ms = np.array(burst) * 1000
    return {
        "burst_p50_ms": round(float(np.percentile(ms, 50)), 2),
        "burst_p99_ms": round(float(np.percentile(ms, 99)), 2),
        "burst_max_ms": round(float(ms.max()), 2),
        "sequential_add_p50_ms": round(float(np.percentile(np.array(sequential) * 1000, 50)), 2),
        "catalogue_builds": builds.count,
    }


async def bench(args: argparse.Namespace) -> dict:
    data = LastFmData.load(data_dir(args.data_dir))
    with tempfile.TemporaryDirectory(prefix="encore-bench-add-") as tmp:
        runs = [await one_run(data, Path(tmp), run, args) for run in range(args.runs)]
    p99 = statistics.median(r["burst_p99_ms"] for r in runs)
    return {
        "benchmark": "catalogue add: concurrent 'Add as new artist' through MemberLibrary over build_app's services",
        "machine": machine(platform=platform.platform()),
        "setup": {
            "added_before": args.before,
            "concurrent_adds": args.burst,
            "servers": SERVERS,
            "database": "SQLite (aiosqlite), file; a fresh one per run",
            "model": "default ALS on the Last.fm data",
            "last_fm_artists": len(data.catalogue),
        },
        "target_p99_ms": TARGET_P99_S * 1000,
        "runs": runs,
        "burst_p50_ms": round(statistics.median(r["burst_p50_ms"] for r in runs), 2),
        "burst_p99_ms": round(p99, 2),
        "sequential_add_p50_ms": round(statistics.median(r["sequential_add_p50_ms"] for r in runs), 2),
        "catalogue_builds": sum(r["catalogue_builds"] for r in runs),
        "meets_target": p99 < TARGET_P99_S * 1000,
    }


def main() -> None:
    parser = benchmark_parser(__doc__, RESULT_PATH)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--before", type=int, default=300)
    parser.add_argument("--burst", type=int, default=20)
    args = parser.parse_args()
    report = asyncio.run(bench(args))
    write_result(args.out, report)
    print(
        f"{args.burst} concurrent adds after {args.before}: p50 {report['burst_p50_ms']:.1f} ms, "
        f"p99 {report['burst_p99_ms']:.1f} ms (median of {args.runs} runs); "
        f"catalogue builds during adds: {report['catalogue_builds']}"
    )
    print(f"target p99 < {TARGET_P99_S:g} s: {'met' if report['meets_target'] else 'NOT met'}")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
