"""Time one listening-session pick (`recommender.sessions.next_pick`); write benchmarks/results/session-pick.json.

In process, on the default ALS model fitted on the full Last.fm data (the bot's engine): groups of 2
to 5 members, each member holding 5-20 likes among the 2,000 most played artists, play sessions of
`--rounds` rounds; after each pick every member votes Into it with probability 0.35 (about P4's
Into-it rate), else Not for me, and the next call gets every vote so far, as the bot calls it. Every
call of every round is timed; the JSON holds each run's p50/p99 per group size and their median over
`--runs` runs. The target is a p50 of a few milliseconds for 5 members (the bot calls it after each
round of votes).

Usage: python benchmarks/session_pick.py [--sessions 50] [--rounds 20] [--runs 3] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from recommender.catalogue import ArtistCatalogue
from recommender.datasets import load_hetrec, resolve_data_dir
from recommender.engine import Engine
from recommender.models import ALSRecommender
from recommender.sessions import SessionVote, next_pick
from recommender.training import lastfm_interactions

sys.path.insert(0, str(Path(__file__).parent))
from common import machine

RESULT_PATH = Path(__file__).resolve().parent / "results" / "session-pick.json"
GROUP_SIZES = (2, 3, 4, 5)
POPULAR_POOL = 2_000
INTO_IT_PROBABILITY = 0.35
TARGET_P50_MS = 5.0


@dataclass(frozen=True)
class Likes:
    liked: tuple[int, ...]
    not_interested: tuple[int, ...] = ()
    plays: tuple[float | None, ...] | None = None


def session_timings(
    engine: Engine, pool: np.ndarray, *, size: int, rounds: int, rng: np.random.Generator
) -> list[float]:
    """Every call's seconds in one session of a random group of `size`."""
    tastes = {
        member: Likes(tuple(int(a) for a in rng.choice(pool, size=int(rng.integers(5, 21)), replace=False)))
        for member in range(size)
    }
    votes: list[SessionVote] = []
    proposed: list[int] = []
    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        pick = next_pick(engine, tastes, votes=votes, proposed=proposed)
        timings.append(time.perf_counter() - started)
        assert pick is not None
        proposed.append(pick.artist.artist_id)
        votes.extend(
            SessionVote(member, pick.artist.artist_id, bool(rng.random() < INTO_IT_PROBABILITY)) for member in tastes
        )
    return timings


def percentiles(samples: list[float]) -> dict[str, float]:
    ms = np.array(samples) * 1000
    return {"p50_ms": round(float(np.percentile(ms, 50)), 3), "p99_ms": round(float(np.percentile(ms, 99)), 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=50, help="sessions per group size per run")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=RESULT_PATH)
    args = parser.parse_args()
    dataset = load_hetrec(resolve_data_dir(None, download=False))
    interactions = lastfm_interactions(dataset)
    engine = Engine(ALSRecommender().fit(interactions.plays), interactions, ArtistCatalogue.from_dataset(dataset))
    listeners = np.asarray((interactions.plays > 0).sum(axis=0)).ravel()
    pool = interactions.artist_ids[np.argsort(-listeners, kind="stable")[:POPULAR_POOL]]
    rng = np.random.default_rng(args.seed)
    session_timings(engine, pool, size=5, rounds=args.rounds, rng=rng)  # warm-up, uncounted
    runs: dict[str, list[dict[str, float]]] = {str(size): [] for size in GROUP_SIZES}
    for run in range(args.runs):
        for size in GROUP_SIZES:
            samples = [
                t
                for _ in range(args.sessions)
                for t in session_timings(engine, pool, size=size, rounds=args.rounds, rng=rng)
            ]
            runs[str(size)].append(percentiles(samples) | {"calls": len(samples)})
        print(f"run {run + 1}: 5 members p50 {runs['5'][-1]['p50_ms']:.2f} ms, p99 {runs['5'][-1]['p99_ms']:.2f} ms")
    median = {
        size: {key: float(statistics.median(r[key] for r in by_run)) for key in ("p50_ms", "p99_ms")}
        for size, by_run in runs.items()
    }
    result = {
        "benchmark": "session-pick",
        "artists": int(interactions.shape[1]),
        "sessions_per_size": args.sessions,
        "rounds": args.rounds,
        "into_it_probability": INTO_IT_PROBABILITY,
        "target_p50_ms_5_members": TARGET_P50_MS,
        "median": median,
        "runs": runs,
        "machine": machine(platform=platform.platform()),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
