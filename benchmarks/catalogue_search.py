"""Time ArtistCatalogue.search on the real data and write benchmarks/results/catalogue_search.json.

Usage: python benchmarks/catalogue_search.py [--data-dir DIR] [--queries 500] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import string
import sys
import time
from pathlib import Path

from recommender.catalogue import ArtistCatalogue
from recommender.datasets import load_hetrec

sys.path.insert(0, str(Path(__file__).parent))
from common import REPO_ROOT, data_dir

RESULT_PATH = REPO_ROOT / "benchmarks" / "results" / "catalogue_search.json"


def _typo(name: str, rng: random.Random) -> str:
    if len(name) < 3:
        return name + rng.choice(string.ascii_lowercase)
    i = rng.randrange(len(name) - 1)
    kind = rng.choice(("delete", "substitute", "swap"))
    if kind == "delete":
        return name[:i] + name[i + 1 :]
    if kind == "substitute":
        return name[:i] + rng.choice(string.ascii_lowercase) + name[i + 1 :]
    return name[:i] + name[i + 1] + name[i] + name[i + 2 :]


def make_queries(catalogue: ArtistCatalogue, n: int, seed: int) -> list[tuple[str, str]]:
    """Equal shares of what people type: prefixes, exact names, names with a typo, nonsense."""
    rng = random.Random(seed)
    artists = list(catalogue)
    # People mostly look for artists others listen to, so sample by popularity (+1 for unheard).
    weights = [a.listeners + 1 for a in artists]
    queries: list[tuple[str, str]] = []
    kinds = ("prefix", "exact", "typo", "nonsense")
    for k in range(n):
        kind = kinds[k % len(kinds)]
        name = rng.choices(artists, weights)[0].name.lower()
        if kind == "prefix":
            query = name[: rng.randint(2, 6)]
        elif kind == "exact":
            query = name
        elif kind == "typo":
            query = _typo(name, rng)
        else:
            alphabet = string.ascii_lowercase + " "
            query = "".join(rng.choice(alphabet) for _ in range(rng.randint(4, 14)))
        queries.append((kind, query))
    return queries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    started = time.perf_counter()
    dataset = load_hetrec(data_dir(args.data_dir))
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    catalogue = ArtistCatalogue.from_dataset(dataset)
    build_s = time.perf_counter() - started

    queries = make_queries(catalogue, args.queries, args.seed)
    for _, query in queries[:20]:  # warm caches and rapidfuzz's first-call setup
        catalogue.search(query)
    timings: dict[str, list[float]] = {}
    every: list[float] = []
    for kind, query in queries:
        t0 = time.perf_counter_ns()
        catalogue.search(query, 10)
        elapsed_ms = (time.perf_counter_ns() - t0) / 1e6
        timings.setdefault(kind, []).append(elapsed_ms)
        every.append(elapsed_ms)

    def p99(values: list[float]) -> float:
        return statistics.quantiles(values, n=100, method="inclusive")[98]

    result = {
        "benchmark": "catalogue_search",
        "queries": len(every),
        "artists": len(catalogue),
        "limit": 10,
        "median_ms": round(statistics.median(every), 4),
        "p99_ms": round(p99(every), 4),
        "mean_ms": round(statistics.fmean(every), 4),
        "max_ms": round(max(every), 4),
        "median_ms_by_kind": {k: round(statistics.median(v), 4) for k, v in timings.items()},
        "p99_ms_by_kind": {k: round(p99(v), 4) for k, v in timings.items()},
        "load_s": round(load_s, 3),
        "catalogue_build_s": round(build_s, 3),
        "data_fingerprint": dataset.fingerprint,
        "seed": args.seed,
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    RESULT_PATH.parent.mkdir(parents=True, exist_ok=True)
    RESULT_PATH.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
