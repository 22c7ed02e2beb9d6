"""One member's recommendations with and without pruned scoring (recommender/pruned_scoring.py).

In one process, on one engine, Engine.recommend_for_likes for members with fresh likes (`--likes`
artists drawn by popularity), alternating call by call between the dense pass over every artist and
the pruned scorer (which `Engine` uses from `PRUNED_FROM_ARTISTS` artists on), with the engine's own
penalty (0) and with the bot's default (DEFAULT_POPULARITY_PENALTY). Every call's recommendations are
compared too: the two paths must give the same artists, order and scores. The machine may be busy,
so both wall-clock and this thread's CPU time are reported.

- `--data 2k`: the HetRec 2011 Last.fm data (17,632 artists), Encore's default ALS fit;
- `--data 360k`: the synthetic Last.fm-360K-shaped set of benchmarks/scale_360k.py, members' likes
  merged in the same way, ALS with `--iterations` (default 5); or `--snapshot DIR` to load a snapshot
  that benchmarks/scale_360k.py (with --workdir) or an earlier run saved.

Results go to benchmarks/results/pruned-scoring-<data>.json.

    python benchmarks/pruned_scoring.py --data 2k
    python benchmarks/pruned_scoring.py --data 360k [--iterations 5] [--calls 1000] [--save-snapshot DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from recommender.catalogue import ArtistCatalogue
from recommender.datasets import load_hetrec, resolve_data_dir
from recommender.debias import DEFAULT_POPULARITY_PENALTY, listener_counts
from recommender.engine import LIKE_PLAYS, PRUNED_FROM_ARTISTS, Engine
from recommender.merge import MemberPlays, merge_members
from recommender.models.als import ALSConfig, ALSRecommender
from recommender.snapshot import load_snapshot, save_snapshot
from recommender.synthetic import generate
from recommender.training import lastfm_interactions

sys.path.insert(0, str(Path(__file__).parent))
from common import machine
from scale_360k import LIKES_PER_MEMBER, MEMBERS, NEW_ARTISTS, draw_distinct, member_likes, synthetic_catalogue

DENSE = 10**12  # pruned_from_artists that no catalogue reaches: the dense path


def engine_2k() -> Engine:
    dataset = load_hetrec(resolve_data_dir(None, download=False))
    interactions = lastfm_interactions(dataset)
    model = ALSRecommender().fit(interactions.plays)
    return Engine(model, interactions, ArtistCatalogue.from_dataset(dataset))


def engine_360k(args: argparse.Namespace) -> Engine:
    if args.snapshot:
        snapshot = load_snapshot(args.snapshot)
        model, interactions = snapshot.model, snapshot.interactions
        args.iterations = snapshot.meta.get("iterations")
    else:
        lastfm = generate(seed=args.seed)
        likes = member_likes(
            listener_counts(lastfm.plays),
            lastfm.artist_ids,
            members=MEMBERS,
            per_member=LIKES_PER_MEMBER,
            new_artists=NEW_ARTISTS,
            seed=args.seed + 1,
        )
        interactions = merge_members(lastfm, MemberPlays.from_likes(likes, LIKE_PLAYS))
        del lastfm
        print(
            f"fitting {interactions.shape[0]:,} x {interactions.shape[1]:,} ({args.iterations} iterations)", flush=True
        )
        model = ALSRecommender(ALSConfig()).fit(interactions.plays, iterations=args.iterations)
        if args.save_snapshot:
            print(
                "saved",
                save_snapshot(
                    args.save_snapshot, model, interactions, {"iterations": args.iterations, "benchmark": "scale-360k"}
                ),
            )
    return Engine(model, interactions, synthetic_catalogue(interactions))


def compare(engine: Engine, like_sets: list[list[int]], warmup: int, penalty: float | None, n: int) -> dict:
    """Alternate dense and pruned call by call (which goes first alternates too)."""
    wall: dict[str, list[float]] = {"dense": [], "pruned": []}
    cpu: dict[str, list[float]] = {"dense": [], "pruned": []}
    differ = 0
    for i, liked in enumerate(like_sets):
        answers = {}
        for mode in ("dense", "pruned") if i % 2 else ("pruned", "dense"):
            engine.pruned_from_artists = DENSE if mode == "dense" else 0
            started, started_cpu = time.perf_counter(), time.thread_time()
            answers[mode] = engine.recommend_for_likes(liked, n=n, popularity_penalty=penalty)
            if i >= warmup:
                cpu[mode].append(time.thread_time() - started_cpu)
                wall[mode].append(time.perf_counter() - started)
        differ += answers["dense"] != answers["pruned"]
    engine.pruned_from_artists = PRUNED_FROM_ARTISTS

    def summary(samples: list[float]) -> dict:
        ms = np.array(samples) * 1e3
        return {
            "p50_ms": round(float(np.percentile(ms, 50)), 3),
            "p90_ms": round(float(np.percentile(ms, 90)), 3),
            "p99_ms": round(float(np.percentile(ms, 99)), 3),
            "mean_ms": round(float(ms.mean()), 3),
        }

    return {
        "penalty": 0.0 if penalty is None else penalty,
        "calls_that_differ": differ,
        "wall": {mode: summary(v) for mode, v in wall.items()},
        "thread_cpu": {mode: summary(v) for mode, v in cpu.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", choices=("2k", "360k"), default="2k")
    parser.add_argument("--snapshot", type=Path, default=None, help="360k: load this snapshot instead of fitting")
    parser.add_argument(
        "--save-snapshot", type=Path, default=None, help="360k: save the fitted model under this folder"
    )
    parser.add_argument("--iterations", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--likes", type=int, default=10, help="liked artists per call")
    parser.add_argument("-n", type=int, default=10, help="recommendations per call")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()

    engine = engine_2k() if args.data == "2k" else engine_360k(args)
    engine.pruned_from_artists = 0  # build the pruned scorer whatever the catalogue's size
    started = time.perf_counter()
    engine.prepare()
    prepare_seconds = time.perf_counter() - started
    popularity = listener_counts(engine.interactions.plays)
    rng = np.random.default_rng(args.seed + 2)
    like_sets = [
        draw_distinct(rng, popularity, engine.interactions.artist_ids, args.likes).tolist()
        for _ in range(args.warmup + args.calls)
    ]
    result = {
        "benchmark": "pruned-scoring",
        "what": "Engine.recommend_for_likes, dense pass vs pruned scoring, alternating call by call in one process",
        "data": args.data,
        "artists": int(engine.model.n_items),
        "als_iterations": engine.model.config.iterations if args.data == "2k" else args.iterations,
        "from_snapshot": args.snapshot is not None,
        "factors": int(engine.model.config.factors),
        "calls": args.calls,
        "warmup": args.warmup,
        "likes_per_call": args.likes,
        "n": args.n,
        "prepare_seconds": round(prepare_seconds, 3),
        "pruned_available": engine._pruned is not None,
        "pruned_from_artists": PRUNED_FROM_ARTISTS,
        "runs": [
            compare(engine, like_sets, args.warmup, penalty, args.n) for penalty in (None, DEFAULT_POPULARITY_PENALTY)
        ],
        "machine": machine(numpy=np.__version__, load_average=os.getloadavg()),
    }
    out = args.out or Path(__file__).parent / "results" / f"pruned-scoring-{args.data}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    for run in result["runs"]:
        print(
            f"penalty {run['penalty']}: differ {run['calls_that_differ']}; "
            + "; ".join(
                f"{kind} {mode} p50 {s['p50_ms']:.3f} p99 {s['p99_ms']:.3f} ms"
                for kind in ("wall", "thread_cpu")
                for mode, s in run[kind].items()
            )
        )


if __name__ == "__main__":
    main()
