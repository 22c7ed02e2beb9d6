"""Protocol P2 (new members, benchmarks/README.md) measured through the real command line.

For each seed: hold out 10 % of the Last.fm users (`encore fit --exclude-users`), give each held-out
user k random liked artists *by name*, run `encore recommend --batch FILE -n 10 --json`, map the names
it prints back to artists and score them against the user's other artists.

    python benchmarks/p2_batch.py [--seeds 0 1 2] [--likes 5] [--out benchmarks/results/p2-batch.json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from recommender.catalogue import ArtistCatalogue
from recommender.datasets import load_hetrec, resolve_data_dir
from recommender.evaluation.metrics import ranking_metrics
from recommender.evaluation.protocols import new_member_split
from recommender.interactions import LASTFM_USER_PREFIX, Interactions


def run_seed(seed: int, k: int, interactions: Interactions, catalogue: ArtistCatalogue, workdir: Path) -> dict:
    split = new_member_split(interactions.plays, seed, like_counts=(k,))
    held_out_ids = [key[len(LASTFM_USER_PREFIX) :] for key in interactions.user_keys[split.held_out]]
    (workdir / "exclude.txt").write_text("\n".join(held_out_ids) + "\n", encoding="utf-8")
    with open(workdir / "batch.jsonl", "w", encoding="utf-8") as batch:
        for member, likes in enumerate(split.likes[k]):
            names = [catalogue.get(int(interactions.artist_ids[c])).name for c in likes]
            batch.write(json.dumps({"id": member, "likes": names}, ensure_ascii=False) + "\n")
    env = os.environ | {"ENCORE_HOME": str(workdir / f"home-{seed}"), "OPENBLAS_NUM_THREADS": "1"}
    encore = [sys.executable, "-m", "bot.cli"]
    subprocess.run(
        encore + ["fit", "--exclude-users", str(workdir / "exclude.txt")],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    output = subprocess.run(
        encore + ["recommend", "--batch", str(workdir / "batch.jsonl"), "-n", "10", "--json"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.splitlines()
    recommended = np.full((len(split.likes[k]), 10), -1, dtype=np.int64)
    for line in output:
        answer = json.loads(line)
        columns = [
            interactions.artist_column(catalogue.lookup(r["artist"]).artist_id) for r in answer["recommendations"]
        ]
        recommended[answer["id"], : len(columns)] = columns
    return ranking_metrics(recommended, split.truth[k], 10) | {"seed": seed, "members": len(split.likes[k])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--likes", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "p2-batch.json")
    args = parser.parse_args()
    dataset = load_hetrec(resolve_data_dir(None, download=False))
    interactions = Interactions.from_plays(dataset.plays)
    catalogue = ArtistCatalogue.from_dataset(dataset)
    with tempfile.TemporaryDirectory() as tmp:
        runs = [run_seed(seed, args.likes, interactions, catalogue, Path(tmp)) for seed in args.seeds]
    summary = {
        "protocol": "p2",
        "through": "encore recommend --batch",
        "likes": args.likes,
        "seeds": args.seeds,
        "ndcg@10": float(np.mean([r["ndcg@10"] for r in runs])),
        "recall@10": float(np.mean([r["recall@10"] for r in runs])),
        "precision@10": float(np.mean([r["precision@10"] for r in runs])),
        "per_seed": runs,
        "data_fingerprint": dataset.fingerprint,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    print(
        f"P2 k={args.likes} through encore recommend --batch: NDCG@10 {summary['ndcg@10']:.4f}, "
        f"recall@10 {summary['recall@10']:.4f} (seeds {' '.join(map(str, args.seeds))})"
    )


if __name__ == "__main__":
    main()
