"""Encore at Last.fm-360K scale, on a synthetic data set of that shape (recommender/synthetic.py).

- refit_vs_bare_ratio: Encore's refit (members' likes -> MemberPlays, merge_members, BM25 weighting,
  ALSRecommender.fit, save_snapshot) against implicit's bare AlternatingLeastSquares fit of the same
  weighted matrix with the same factors, iterations and regularisation; the two alternate, several
  runs each, and the ratio is of their medians (target <= 1.25);
- snapshot_load_seconds: load_snapshot of the saved snapshot (median of the loads);
- recommend_p99_ms: Engine.recommend_for_likes for members with fresh likes (10 artists drawn by
  popularity), in process, after a warm-up (target <= 5 ms), with a breakdown of the hot path; with
  the engine's own penalty (0) and, as recommend_p99_ms_bot_default_penalty, with the one the bot
  passes by default (DEFAULT_POPULARITY_PENALTY). At this size the engine ranks with the pruned
  scorer (recommender/pruned_scoring.py); each call alternates with the same call on the dense pass
  over every artist, reported as recommend.dense_for_comparison (and the two answers compared);
- peak_rss_mb: the process's peak resident memory (ru_maxrss).

At this size ALS is slow on a small machine, so both fits use `--iterations` (default 5, not
Encore's 15): the ratio is what this measures. Results go to benchmarks/results/scale-360k.json.

    python benchmarks/scale_360k.py [--users 360000 --artists 160000 --pairs 17500000]
                                    [--iterations 5] [--runs 3] [--calls 1000]
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from implicit.cpu.als import AlternatingLeastSquares

from recommender.catalogue import ArtistCatalogue
from recommender.debias import DEFAULT_POPULARITY_PENALTY, listener_counts
from recommender.engine import LIKE_PLAYS, Engine
from recommender.interactions import Interactions
from recommender.merge import MemberPlays, merge_members
from recommender.models.als import ALSConfig, ALSRecommender
from recommender.ranking import top_n
from recommender.snapshot import load_snapshot, save_snapshot
from recommender.synthetic import artist_name, generate
from recommender.weighting import Weighting

sys.path.insert(0, str(Path(__file__).parent))
from common import machine

FIRST_MEMBER_ID = 900_000_000_000_000_000  # snowflake-sized
FIRST_NEW_ARTIST_ID = 50_000_000  # artists only members know
#: The members merged into the synthetic matrix, as in a refit: how many, their likes, and how many
#: artists only members know.
MEMBERS, LIKES_PER_MEMBER, NEW_ARTISTS = 10_000, 20, 200


def member_likes(
    popularity: np.ndarray, artist_ids: np.ndarray, *, members: int, per_member: int, new_artists: int, seed: int
) -> list[tuple[int, int, str, float | None]]:
    """(user_id, artist_id, source, weight) rows as the store gives them: artists drawn by popularity,
    distinct per member; about 1 % of the likes name an artist Last.fm does not have."""
    rng = np.random.default_rng(seed)
    likes = []
    for member in range(members):
        chosen = draw_distinct(rng, popularity, artist_ids, per_member)
        if new_artists and rng.random() < 0.2:
            chosen[-1] = FIRST_NEW_ARTIST_ID + rng.integers(new_artists)
        likes.extend((FIRST_MEMBER_ID + member, int(a), "like", None) for a in chosen)
    return likes


def draw_distinct(rng: np.random.Generator, popularity: np.ndarray, artist_ids: np.ndarray, k: int) -> np.ndarray:
    """k distinct artists drawn in proportion to `popularity` (rng.choice(p=...) is slow at this size)."""
    cdf = _CDF.get(id(popularity))
    if cdf is None:
        cdf = _CDF[id(popularity)] = np.cumsum(popularity) / popularity.sum()
    chosen: list[int] = []
    while len(chosen) < k:
        for column in np.searchsorted(cdf, rng.random(k), side="right").tolist():
            if column not in chosen and len(chosen) < k:
                chosen.append(min(column, artist_ids.size - 1))
    return artist_ids[np.array(chosen)]


_CDF: dict[int, np.ndarray] = {}


def synthetic_catalogue(interactions: Interactions) -> ArtistCatalogue:
    """The catalogue of a synthetic matrix: each artist's generated name and its listeners there."""
    ids = interactions.artist_ids.tolist()
    return ArtistCatalogue(
        pd.DataFrame([(int(a), artist_name(a)) for a in ids], columns=["artist_id", "name"]),
        dict(zip(ids, listener_counts(interactions.plays).astype(int).tolist())),
    )


def percentile_ms(samples: list[float], q: float) -> float:
    return float(np.percentile(np.array(samples) * 1e3, q))


def encore_refit(lastfm, likes, config: ALSConfig, iterations: int, directory: Path) -> tuple[dict, Path]:
    timings = {}
    started = time.perf_counter()
    members = MemberPlays.from_likes(likes, LIKE_PLAYS)
    interactions = merge_members(lastfm, members)
    timings["build"] = time.perf_counter() - started
    started = time.perf_counter()
    model = ALSRecommender(config).fit(interactions.plays, iterations=iterations)
    timings["fit"] = time.perf_counter() - started  # includes the BM25 weighting
    started = time.perf_counter()
    path = save_snapshot(directory, model, interactions, {"iterations": iterations, "benchmark": "scale-360k"})
    timings["save"] = time.perf_counter() - started
    timings["total"] = timings["build"] + timings["fit"] + timings["save"]
    return timings, path


def bare_fit(weighted, config: ALSConfig, iterations: int) -> float:
    model = AlternatingLeastSquares(
        factors=config.factors,
        regularization=config.regularization,
        alpha=config.alpha,
        iterations=iterations,
        random_state=config.random_state,
        calculate_training_loss=False,
    )
    started = time.perf_counter()
    model.fit(weighted, show_progress=False)
    return time.perf_counter() - started


def recommend_latency(
    engine: Engine, like_sets: list[np.ndarray], warmup: int, penalty: float | None
) -> tuple[list[float], list[float], int]:
    """Seconds per call as the engine serves (pruned scoring at this size) and, alternating call by
    call, with the dense pass over every artist; and how many calls' answers differ (should be 0)."""
    served_from = engine.pruned_from_artists
    samples: dict[str, list[float]] = {"served": [], "dense": []}
    differ = 0
    for i, liked in enumerate(like_sets):
        answers = {}
        for mode in ("served", "dense") if i % 2 == 0 else ("dense", "served"):
            engine.pruned_from_artists = served_from if mode == "served" else DENSE
            started = time.perf_counter()
            answers[mode] = engine.recommend_for_likes(liked.tolist(), n=10, popularity_penalty=penalty)
            if i >= warmup:
                samples[mode].append(time.perf_counter() - started)
        differ += answers["served"] != answers["dense"]
    engine.pruned_from_artists = served_from
    return samples["served"], samples["dense"], differ


#: Engine.pruned_from_artists that no catalogue reaches: the dense pass.
DENSE = 10**12


def hot_path_breakdown(engine: Engine, like_sets: list[np.ndarray]) -> dict[str, float]:
    """Median ms of each step of Engine.recommend_for_likes -> _recommend (penalty 0), in order; and,
    for comparison, of the dense pass's two steps that the pruned scorer replaces."""
    steps: dict[str, list[float]] = {
        k: []
        for k in (
            "likes_row",
            "solve_row",
            "pruned_top_n",
            "shares_and_results",
            "dense_scores_of",
            "dense_rerank_top_n",
        )
    }
    model = engine.model
    for liked in like_sets:
        t0 = time.perf_counter()
        row = engine.likes_row(liked.tolist())
        t1 = time.perf_counter()
        solved = model.solve_row(row)
        t2 = time.perf_counter()
        pruned = engine._pruned_top(solved, row, 10, None)
        t3 = time.perf_counter()
        found = pruned.columns if pruned is not None else np.empty(0, dtype=np.int64)
        reasons, _ = model.shares(solved, found)
        [engine._artist(int(c)) for c in found]
        [engine._artist(int(c)) for c in reasons]
        t4 = time.perf_counter()
        scores = model.scores_of(solved)
        t5 = time.perf_counter()
        top_n(engine._ranking_scores(scores, None), 10, exclude=row)
        t6 = time.perf_counter()
        for key, value in zip(steps, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4, t6 - t5)):
            steps[key].append(value)
    return {key: round(statistics.median(values) * 1e3, 4) for key, values in steps.items()}


def uses_pruned_scoring(engine: Engine) -> bool:
    """Whether the engine ranks with the pruned scorer (False: the dense pass, e.g. an unchecked BLAS)."""
    return engine.model.n_items >= engine.pruned_from_artists and engine._pruned is not None


def measure(args: argparse.Namespace, workdir: Path) -> dict:
    config = ALSConfig()
    result: dict = {"benchmark": "scale-360k"}

    started = time.perf_counter()
    lastfm = generate(users=args.users, artists=args.artists, pairs=args.pairs, seed=args.seed)
    generate_seconds = time.perf_counter() - started
    popularity = listener_counts(lastfm.plays)
    rows = np.diff(lastfm.plays.indptr)
    print(
        f"generated {lastfm.shape[0]:,} x {lastfm.shape[1]:,}, {lastfm.plays.nnz:,} pairs in {generate_seconds:.1f} s",
        flush=True,
    )

    likes = member_likes(
        popularity,
        lastfm.artist_ids,
        members=args.members,
        per_member=args.likes,
        new_artists=args.new_artists,
        seed=args.seed + 1,
    )
    merged = merge_members(lastfm, MemberPlays.from_likes(likes, LIKE_PLAYS))
    weighted = Weighting.fit(merged.plays, config.weighting, config.k1, config.b).transform(merged.plays)

    snapshots = workdir / "snapshots"
    bare_runs, refit_runs = [], []
    path = None
    for run in range(args.runs):
        bare_runs.append(bare_fit(weighted, config, args.iterations))
        if path is not None:
            shutil.rmtree(path)  # keep one snapshot on disk at a time
        timings, path = encore_refit(lastfm, likes, config, args.iterations, snapshots)
        refit_runs.append(timings)
        print(
            f"run {run + 1}: bare fit {bare_runs[-1]:.2f} s, Encore refit {timings['total']:.2f} s "
            f"(build {timings['build']:.2f}, fit {timings['fit']:.2f}, save {timings['save']:.2f})",
            flush=True,
        )
    del weighted

    load_runs = []
    for _ in range(args.loads):
        started = time.perf_counter()
        snapshot = load_snapshot(path)
        load_runs.append(time.perf_counter() - started)
    snapshot_bytes = sum(f.stat().st_size for f in path.iterdir())

    started = time.perf_counter()
    engine = Engine(snapshot.model, snapshot.interactions, synthetic_catalogue(snapshot.interactions))
    engine_seconds = time.perf_counter() - started
    started = time.perf_counter()
    engine.prepare()  # the pruned scorer, which the first request would otherwise build
    prepare_seconds = time.perf_counter() - started

    rng = np.random.default_rng(args.seed + 2)
    like_sets = [
        draw_distinct(rng, popularity, lastfm.artist_ids, args.likes_per_call) for _ in range(args.warmup + args.calls)
    ]
    plain, plain_dense, plain_differ = recommend_latency(engine, like_sets, args.warmup, None)
    penalised, penalised_dense, penalised_differ = recommend_latency(
        engine, like_sets, args.warmup, DEFAULT_POPULARITY_PENALTY
    )
    breakdown = hot_path_breakdown(engine, like_sets[args.warmup :])

    bare = statistics.median(bare_runs)
    refit_total = statistics.median(t["total"] for t in refit_runs)
    result |= {
        "what": "Encore's refit vs implicit's bare ALS fit, snapshot load and recommend latency at Last.fm-360K "
        "scale (synthetic data, recommender/synthetic.py)",
        "data": {
            "generator": "recommender.synthetic.generate",
            "seed": args.seed,
            "users": int(lastfm.shape[0]),
            "artists": int(lastfm.shape[1]),
            "pairs": int(lastfm.plays.nnz),
            "artists_per_user": {
                "mean": float(rows.mean()),
                "median": float(np.median(rows)),
                "p99": float(np.percentile(rows, 99)),
                "max": int(rows.max()),
            },
            "listeners_of_top_artist": int(popularity.max()),
            "artists_with_at_most_5_listeners": int((popularity <= 5).sum()),
            "plays": {
                "median": float(np.median(lastfm.plays.data)),
                "mean": float(lastfm.plays.data.mean()),
                "max": float(lastfm.plays.data.max()),
            },
            "generate_seconds": round(generate_seconds, 3),
        },
        "members": args.members,
        "likes_per_member": args.likes,
        "member_likes": len(likes),
        "matrix": {
            "users": int(merged.shape[0]),
            "artists": int(merged.shape[1]),
            "interactions": int(merged.plays.nnz),
        },
        "als": {
            "factors": config.factors,
            "regularization": config.regularization,
            "alpha": config.alpha,
            "iterations": args.iterations,
            "encore_default_iterations": config.iterations,
        },
        "runs": args.runs,
        "refit_vs_bare_ratio": round(refit_total / bare, 4),
        "refit_vs_bare_ratio_target": 1.25,
        "refit_vs_bare_ratio_per_run": [round(t["total"] / b, 4) for t, b in zip(refit_runs, bare_runs)],
        "bare_fit_seconds": round(bare, 3),
        "bare_fit_seconds_per_iteration": round(bare / args.iterations, 3),
        "refit_seconds": {k: round(statistics.median(t[k] for t in refit_runs), 3) for k in refit_runs[0]},
        "all_runs": {"bare": bare_runs, "refit": refit_runs},
        "snapshot_load_seconds": round(statistics.median(load_runs), 3),
        "snapshot_load_runs": load_runs,
        "snapshot_megabytes": round(snapshot_bytes / 2**20, 1),
        "engine_build_seconds": round(engine_seconds, 3),
        "engine_prepare_seconds": round(prepare_seconds, 3),
        "recommend": {
            "calls": args.calls,
            "warmup": args.warmup,
            "likes_per_call": args.likes_per_call,
            "n": 10,
            "p50_ms": round(percentile_ms(plain, 50), 3),
            "p90_ms": round(percentile_ms(plain, 90), 3),
            "p99_ms": round(percentile_ms(plain, 99), 3),
            "mean_ms": round(float(np.mean(plain)) * 1e3, 3),
            "max_ms": round(max(plain) * 1e3, 3),
            "with_popularity_penalty": {
                "penalty": DEFAULT_POPULARITY_PENALTY,
                "p50_ms": round(percentile_ms(penalised, 50), 3),
                "p99_ms": round(percentile_ms(penalised, 99), 3),
            },
            "hot_path_median_ms": breakdown,
            "pruned_scoring": uses_pruned_scoring(engine),
            "dense_for_comparison": {
                "p50_ms": round(percentile_ms(plain_dense, 50), 3),
                "p99_ms": round(percentile_ms(plain_dense, 99), 3),
                "with_popularity_penalty": {
                    "p50_ms": round(percentile_ms(penalised_dense, 50), 3),
                    "p99_ms": round(percentile_ms(penalised_dense, 99), 3),
                },
                "calls_that_differ": plain_differ + penalised_differ,
            },
        },
        "recommend_p50_ms": round(percentile_ms(plain, 50), 3),
        "recommend_p99_ms": round(percentile_ms(plain, 99), 3),
        "recommend_p99_ms_target": 5.0,
        # The bot passes the server's setting, Encore's default penalty unless an admin changed it.
        "recommend_p99_ms_bot_default_penalty": round(percentile_ms(penalised, 99), 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "machine": machine(
            numpy=np.__version__,
            platform=platform.platform(),
            processor=platform.processor() or platform.machine(),
        ),
    }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=360_000)
    parser.add_argument("--artists", type=int, default=160_000)
    parser.add_argument("--pairs", type=int, default=17_500_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--members", type=int, default=MEMBERS)
    parser.add_argument("--likes", type=int, default=LIKES_PER_MEMBER, help="likes per member in the refit")
    parser.add_argument("--new-artists", type=int, default=NEW_ARTISTS, help="artists only members know")
    parser.add_argument("--iterations", type=int, default=5)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--loads", type=int, default=3)
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--likes-per-call", type=int, default=10)
    parser.add_argument(
        "--workdir", type=Path, default=None, help="where snapshots go (default: a temporary directory)"
    )
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "scale-360k.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        result = measure(args, Path(tmp))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    r = result["recommend"]
    print(
        f"refit / bare = {result['refit_vs_bare_ratio']:.3f} (bare {result['bare_fit_seconds']:.1f} s, refit "
        f"{result['refit_seconds']['total']:.1f} s, {result['als']['iterations']} iterations); snapshot load "
        f"{result['snapshot_load_seconds']:.2f} s; recommend p50 {r['p50_ms']:.2f} ms, p99 {r['p99_ms']:.2f} ms; "
        f"peak RSS {result['peak_rss_mb']:.0f} MB"
    )
    dense = r["dense_for_comparison"]
    print(
        f"dense pass over every artist, alternating: p50 {dense['p50_ms']:.2f} ms, p99 {dense['p99_ms']:.2f} ms; "
        f"calls whose answers differ: {dense['calls_that_differ']}"
    )
    print("hot path (median ms):", r["hot_path_median_ms"])


if __name__ == "__main__":
    main()
