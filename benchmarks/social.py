"""Time /taste and /blend's answers on the Last.fm-sized model; write benchmarks/results/social.json.

In process, through the services the cog calls (`SocialService.compare` and `.blend`) over a real
SQLite store and the default ALS model fitted on the full Last.fm data, with `--members` members of
one server holding 5-20 likes each among the 2,000 most played artists. Measured:

- ``taste``: `compare(a, b)` for random pairs, with the store's taste cache and the member-vector
  cache as they are in steady state (warm);
- ``taste_cold``: the same with both caches emptied before every call (two store reads, two solves);
- ``blend_5``: `blend` of random 5-member groups, 10 artists, default strategy (five privacy reads,
  five solves, the group scores over every artist);
- ``taste_picture``: rendering the PNG that follows /taste's text (in a worker thread in the bot).

Each is `--calls` calls, repeated `--runs` times; the JSON holds every run's p50/p99 and their median.
The target is p99 <= 100 ms for the text answers.

Usage: python benchmarks/social.py [--data-dir DIR] [--calls 500] [--runs 3] [--members 200] [--seed 0]
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bot.app import build_app
from bot.render.taste_card import render_taste_card
from bot.settings import Settings
from recommender.training import LastFmData

sys.path.insert(0, str(Path(__file__).parent))
from common import RESULTS, benchmark_parser, data_dir, machine, write_result

RESULT_PATH = RESULTS / "social.json"
GUILD = 1_000_000_000_000_000_000
FIRST_MEMBER = 2_000_000_000_000_000_000
TARGET_P99_MS = 100.0


def percentiles(samples: list[float]) -> dict[str, float]:
    ms = np.array(samples) * 1000
    return {
        "p50_ms": round(float(np.percentile(ms, 50)), 3),
        "p99_ms": round(float(np.percentile(ms, 99)), 3),
        "max_ms": round(float(ms.max()), 3),
    }


async def timed(calls: int, make_call) -> list[float]:
    samples = []
    for i in range(calls):
        call = make_call(i)
        started = time.perf_counter()
        await call()
        samples.append(time.perf_counter() - started)
    return samples


async def bench(args: argparse.Namespace) -> dict:
    data = LastFmData.load(data_dir(args.data_dir))
    catalogue = data.catalogue
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="encore-bench-social-") as tmp:
        settings = Settings(home=Path(tmp), lastfm_dir=None, database_url=f"sqlite+aiosqlite:///{tmp}/encore.sqlite3")
        app = await build_app(settings, data=data, start=False)
        store, models = app.store, app.models
        try:
            started = time.perf_counter()
            await models.start()  # fits the default model: no snapshot yet
            fit_s = time.perf_counter() - started
            popular = [a.artist_id for a in list(catalogue)[:2000]]
            members = [FIRST_MEMBER + i for i in range(args.members)]
            for member in members:
                for artist_id in rng.sample(popular, rng.randint(5, 20)):
                    await store.likes.like(member, artist_id, guild_id=GUILD)
            social = app.social
            started = time.perf_counter()
            await social.calibration()
            calibration_s = time.perf_counter() - started

            pairs = [tuple(rng.sample(members, 2)) for _ in range(args.calls)]
            groups = [rng.sample(members, 5) for _ in range(args.calls)]

            def taste_call(i: int):
                a, b = pairs[i]
                return lambda: social.compare(a, b)

            def cold_taste_call(i: int):
                a, b = pairs[i]

                async def call():
                    store._db.cache.invalidate()  # noqa: SLF001  (the benchmark wants cold reads)
                    if social._cache is not None:  # noqa: SLF001
                        social._cache.vectors.clear()  # noqa: SLF001
                    return await social.compare(a, b)

                return call

            def blend_call(i: int):
                group = groups[i]
                return lambda: social.blend(group[0], group, 10)

            match = await social.compare(*pairs[0])

            async def picture():
                await asyncio.to_thread(
                    render_taste_card,
                    "Alice",
                    "Bob",
                    match.genres,
                    match.compatibility.percent,
                    match.compatibility.words,
                )

            cases = {
                "taste": (taste_call, args.calls),
                "taste_cold": (cold_taste_call, args.calls),
                "blend_5": (blend_call, args.calls),
                "taste_picture": (lambda i: picture, max(20, args.calls // 10)),
            }
            runs: dict[str, list[dict[str, float]]] = {name: [] for name in cases}
            for _ in range(args.runs):
                for name, (make, calls) in cases.items():
                    await timed(min(20, calls), make)  # warm up
                    runs[name].append(percentiles(await timed(calls, make)))
        finally:
            await app.close()
    results = {}
    for name, measured in runs.items():
        results[name] = {
            "calls_per_run": cases[name][1],
            "runs": measured,
            "p50_ms": round(statistics.median(r["p50_ms"] for r in measured), 3),
            "p99_ms": round(statistics.median(r["p99_ms"] for r in measured), 3),
        }
    return {
        "benchmark": "social: /taste and /blend through SocialService on the Last.fm-sized model",
        "machine": machine(platform=platform.platform()),
        "setup": {
            "members": args.members,
            "likes_per_member": "5-20 of the 2,000 most played artists",
            "database": "SQLite (aiosqlite), file",
            "fit_s": round(fit_s, 2),
            "calibration_s": round(calibration_s, 3),
            "seed": args.seed,
        },
        "target_p99_ms": TARGET_P99_MS,
        "meets_target": all(results[n]["p99_ms"] <= TARGET_P99_MS for n in ("taste", "taste_cold", "blend_5")),
        "results": results,
    }


def main() -> None:
    parser = benchmark_parser(__doc__, RESULT_PATH)
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    report = asyncio.run(bench(args))
    write_result(args.out, report)
    for name, result in report["results"].items():
        print(
            f"{name:14s} p50 {result['p50_ms']:7.2f} ms   p99 {result['p99_ms']:7.2f} ms"
            f"   (median of {len(result['runs'])} runs)"
        )
    print(
        f"target p99 <= {TARGET_P99_MS:.0f} ms for the text answers: {'met' if report['meets_target'] else 'NOT met'}"
    )
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
