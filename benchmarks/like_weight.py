"""Calibrating the weight of a like (a like has no play count) on protocol P2, k = 5.

A like enters the matrix as `like_plays` pseudo plays. This sweeps that value and reports NDCG@10 and
recall@10 for the instant path (no refit) and after a refit with the members' like rows added.

    python benchmarks/like_weight.py [--values 1 5 50 500] [--seeds 0 1 2]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from recommender.datasets import load_hetrec, resolve_data_dir
from recommender.engine import LIKE_PLAYS
from recommender.evaluation.protocols import evaluate_p2
from recommender.training import lastfm_interactions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--values", type=float, nargs="+", default=[1, 5, 50, 500])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "like-weight.json")
    args = parser.parse_args()
    dataset = load_hetrec(resolve_data_dir(None, download=False))
    plays = lastfm_interactions(dataset).plays
    sweep = {}
    for value in args.values:
        models = evaluate_p2(plays, args.seeds, value, like_counts=(5,))["models"]
        sweep[str(value)] = {
            name: {m: by_k["k5"][m] for m in ("ndcg@10", "recall@10")} for name, by_k in models.items()
        }
        row = sweep[str(value)]
        print(
            f"like = {value:>6g} plays: instant NDCG@10 {row['encore-instant']['ndcg@10']:.4f}, "
            f"refit {row['encore-refit']['ndcg@10']:.4f}",
            flush=True,
        )
    result = {"protocol": "p2", "likes": 5, "seeds": args.seeds, "chosen_like_plays": LIKE_PLAYS, "sweep": sweep}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
