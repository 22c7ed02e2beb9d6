"""Choosing a listening session's weight of a "Not for me" vote on protocol P4, seed 0 only.

A session's Not for me is a "not interested" mark whose confidence is `rejection_weight` times a standing
mark's (recommender/sessions.py). This runs P4 (`recommender.evaluation.sessions`) for each weight and
reports group hits after 20 rounds; seeds 1 and 2 are kept for the report (`encore evaluate --protocol
sessions`).

    python benchmarks/rejection_weight.py [--values 1 3 5 10 15 20] [--seeds 0]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from recommender.datasets import load_hetrec, resolve_data_dir
from recommender.engine import LIKE_PLAYS
from recommender.evaluation.groups import friendship_matrix
from recommender.evaluation.sessions import evaluate_sessions
from recommender.sessions import REJECTION_WEIGHT
from recommender.training import lastfm_interactions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--values", type=float, nargs="+", default=[1, 3, 5, 10, 15, 20])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "rejection-weight.json")
    args = parser.parse_args()
    dataset = load_hetrec(resolve_data_dir(None, download=False))
    interactions = lastfm_interactions(dataset)
    friends = friendship_matrix(interactions, dataset.friends["user_id"], dataset.friends["friend_id"])
    sweep = {}
    baselines = {}
    for value in args.values:
        results = evaluate_sessions(
            interactions.plays, friends, args.seeds, like_plays=LIKE_PLAYS, rejection_weight=value
        )
        sweep[str(value)] = results["models"]["session"]
        baselines = {name: results["models"][name] for name in ("static-blend", "most-popular")}
        print(
            f"rejection weight {value:>4g}: session hits@20 {sweep[str(value)]['hits@20']:.3f} "
            f"(static blend {baselines['static-blend']['hits@20']:.3f})",
            flush=True,
        )
    result = {
        "protocol": "sessions",
        "seeds": args.seeds,
        "chosen_rejection_weight": REJECTION_WEIGHT,
        "sweep": sweep,
        "baselines": baselines,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
