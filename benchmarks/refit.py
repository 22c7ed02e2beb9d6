"""A full refit from the database to the swapped-in snapshot: Last.fm plus synthetic members.

10,000 members with 20 likes each (artists drawn by popularity, as real members would name them) go
into a real SQLite file through the store; then the model service's refit() runs several times and each run's
read / build / fit / save / swap split is recorded. Medians go to benchmarks/results/refit.json.

    python benchmarks/refit.py [--members 10000] [--likes 20] [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bot.app import build_app
from bot.settings import Settings
from db.engine import default_sqlite_url
from recommender.catalogue import ArtistCatalogue
from recommender.datasets import resolve_data_dir
from recommender.training import LastFmData

sys.path.insert(0, str(Path(__file__).parent))
from common import machine

FIRST_MEMBER_ID = 900_000_000_000_000_000  # snowflake-sized


def synthetic_likes(catalogue: ArtistCatalogue, members: int, per_member: int, seed: int = 0) -> list[tuple[int, int]]:
    artists = list(catalogue)
    ids = np.array([a.artist_id for a in artists])
    weights = np.array([a.listeners for a in artists], dtype=float) + 1.0
    weights /= weights.sum()
    rng = np.random.default_rng(seed)
    pairs = []
    for member in range(members):
        for artist in rng.choice(ids, size=per_member, replace=False, p=weights):
            pairs.append((FIRST_MEMBER_ID + member, int(artist)))
    return pairs


async def measure(members: int, per_member: int, runs: int, workdir: Path) -> dict:
    data = LastFmData.load(resolve_data_dir(None, download=False))
    catalogue = data.catalogue
    settings = Settings(home=workdir, lastfm_dir=None, database_url=default_sqlite_url(workdir))
    app = await build_app(settings, data=data, start=False)
    store, service = app.store, app.models
    try:
        started = time.perf_counter()
        added = await store.likes.import_likes(synthetic_likes(catalogue, members, per_member))
        insert_seconds = time.perf_counter() - started
        timings = []
        for _ in range(runs + 1):
            result = await service.refit()
            assert result is not None, service.last_error
            timings.append(result.as_dict())
        meta = service.state.snapshot.meta
    finally:
        await app.close()
    # The first refit starts cold (nothing served yet); the periodic ones after it start warm.
    warm = timings[1:]
    medians = {part: statistics.median(t[part] for t in warm) for part in warm[0]}
    return {
        "benchmark": "refit",
        "what": "ModelService.refit(): read likes from SQLite, merge with Last.fm, fit ALS, save and swap the snapshot",
        "members": members,
        "likes_per_member": per_member,
        "member_likes": added,
        "matrix": {"users": meta["users"], "artists": meta["artists"], "interactions": meta["interactions"]},
        "runs": runs,
        "median_seconds": medians,
        "median_of": "the periodic (warm-started) refits, runs 2..N",
        "cold_seconds": timings[0],
        "all_runs": timings,
        "setup_insert_seconds": insert_seconds,
        "target_median_total_seconds": 5.0,
        "machine": machine(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--likes", type=int, default=20)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "refit.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        result = asyncio.run(measure(args.members, args.likes, args.runs, Path(tmp)))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    m = result["median_seconds"]
    cold = result["cold_seconds"]
    print(f"first (cold) refit {cold['total']:.2f} s (fit {cold['fit']:.2f})")
    print(
        f"periodic refit of {result['matrix']['users']:,} users x {result['matrix']['artists']:,} artists: median "
        f"{m['total']:.2f} s (read {m['read']:.2f}, build {m['build']:.2f}, fit {m['fit']:.2f}, "
        f"save {m['save']:.2f}, swap {m['swap']:.2f}) over {result['runs']} runs"
    )


if __name__ == "__main__":
    main()
