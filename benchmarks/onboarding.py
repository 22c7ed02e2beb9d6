"""/start measured as protocol P2 (new members, benchmarks/README.md): are the first recommendations after
onboarding as good as after five random likes?

For each seed, the P2 split (recommender.evaluation.protocols.new_member_split) holds out 10 % of the
users; the model is fitted on the others, and the catalogue the menus read is built from the others'
plays and tags alone, so no held-out user shapes what they are offered. Each held-out user then goes
through /start as recommender/onboarding.py offers it:

1. picks their 3 most-listened music types among the type menu's (their artists' genre shares,
   recommender.taste.genre_profile, weighted by plays);
2. picks, among every artist the artist menus offer for those types (all "Show others" pages), the 8
   they listen to most;

and gets the model's top 10 for those likes, scored (NDCG@10 and the rest) against their other artists.
Beside it: the same users with P2's own draw of 5 random artists of theirs, and with the first 5 of their
8 onboarding picks (as many likes as the random draw). Medians over seeds, as benchmarks/README.md says.

    python -m benchmarks.onboarding [--seeds 0 1 2] [--out benchmarks/results/onboarding.json]
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import time
from pathlib import Path

import numpy as np

from benchmarks.common import RESULTS, data_dir, machine, write_result
from recommender.catalogue import ArtistCatalogue
from recommender.datasets import LastFmDataset, load_hetrec
from recommender.engine import LIKE_PLAYS
from recommender.evaluation.metrics import ranking_metrics
from recommender.evaluation.protocols import K, like_rows, new_member_split, recommend_in_batches
from recommender.interactions import LASTFM_USER_PREFIX, Interactions
from recommender.models.registry import MEMBER_MODEL, make_model
from recommender.onboarding import PAGE_SIZE, music_types, offers
from recommender.taste import genre_profile

TYPES_PICKED = 3
ARTISTS_PICKED = 8
RANDOM_LIKES = 5
METRICS = ("ndcg@10", "recall@10", "precision@10", "map@10")
CONDITIONS = ("onboarding", "onboarding_first_5", "random_5")


def without_users(dataset: LastFmDataset, user_ids: set[int]) -> LastFmDataset:
    """The data set as if these users had never used Last.fm (their plays and their tags gone)."""
    return dataclasses.replace(
        dataset,
        plays=dataset.plays[~dataset.plays["user_id"].isin(user_ids)],
        tag_assignments=dataset.tag_assignments[~dataset.tag_assignments["user_id"].isin(user_ids)],
    )


def onboarding_picks(
    catalogue: ArtistCatalogue,
    menu: list[str],
    artists: np.ndarray,
    plays: np.ndarray,
    cache: dict,
    offer_seconds: list[float],
) -> tuple[list[str], list[int], int]:
    """(types picked, artist ids picked best first, pages the picks span) for one user's artists and plays;
    the time each new choice of types takes to offer goes in `offer_seconds`."""
    shares = genre_profile(catalogue, artists.tolist(), plays.tolist())
    offered_types = set(menu)
    types = [t for t, _ in shares if t in offered_types][:TYPES_PICKED]
    key = tuple(types)
    if key not in cache:
        started = time.perf_counter()
        cache[key] = offers(catalogue, types)
        offer_seconds.append(time.perf_counter() - started)
    position = {a.artist_id: i for i, a in enumerate(cache[key])}
    order = np.argsort(-plays, kind="stable")
    picked = [int(a) for a in artists[order] if int(a) in position][:ARTISTS_PICKED]
    pages = len({position[a] // PAGE_SIZE for a in picked})
    return types, picked, pages


def run_seed(seed: int, dataset: LastFmDataset, interactions: Interactions) -> dict:
    plays = interactions.plays
    split = new_member_split(plays, seed, like_counts=(RANDOM_LIKES,))
    held_out_ids = {int(key[len(LASTFM_USER_PREFIX) :]) for key in interactions.user_keys[split.held_out]}
    catalogue = ArtistCatalogue.from_dataset(without_users(dataset, held_out_ids))
    menu = music_types(catalogue)
    model = make_model(MEMBER_MODEL)
    model.fit(split.train)

    # The users P2 draws likes for, in its order (it skips those with fewer than k + 5 artists).
    eligible = [u for u in split.held_out if plays.indptr[u + 1] - plays.indptr[u] >= RANDOM_LIKES + 5]
    assert len(eligible) == len(split.likes[RANDOM_LIKES])
    cache: dict = {}
    column_of = {int(a): c for c, a in enumerate(interactions.artist_ids)}
    onboarding, first_five, random_five = [], [], []
    truth_onboarding, truth_first_five, truth_random, truth_common = [], [], [], []
    pages, picks_per_user = [], []
    offer_seconds: list[float] = []
    skipped = 0
    for i, user in enumerate(eligible):
        columns = plays.indices[plays.indptr[user] : plays.indptr[user + 1]]
        counts = plays.data[plays.indptr[user] : plays.indptr[user + 1]]
        artist_ids = interactions.artist_ids[columns]
        _, picked, spanned = onboarding_picks(catalogue, menu, artist_ids, counts, cache, offer_seconds)
        if not picked:
            skipped += 1
            continue
        liked = np.asarray(sorted(column_of[a] for a in picked))
        liked_five = np.asarray(sorted(column_of[a] for a in picked[:RANDOM_LIKES]))
        onboarding.append(liked)
        first_five.append(liked_five)
        truth_onboarding.append(np.setdiff1d(columns, liked))
        truth_first_five.append(np.setdiff1d(columns, liked_five))
        random_five.append(split.likes[RANDOM_LIKES][i])
        truth_random.append(split.truth[RANDOM_LIKES][i])
        truth_common.append(np.setdiff1d(columns, np.union1d(liked, split.likes[RANDOM_LIKES][i])))
        pages.append(spanned)
        picks_per_user.append(len(picked))

    def scored(likes: list[np.ndarray], truth: list[np.ndarray]) -> dict:
        top = recommend_in_batches(model, like_rows(likes, plays.shape[1], LIKE_PLAYS), K)
        return ranking_metrics(top, truth, K)

    return {
        "seed": seed,
        "held_out_users": int(len(split.held_out)),
        "eligible_users": len(eligible),
        "users_with_no_offered_artist": skipped,
        "onboarding": scored(onboarding, truth_onboarding),
        "onboarding_first_5": scored(first_five, truth_first_five),
        "random_5": scored(random_five, truth_random),
        # Each above is scored against the artists it did not like; here all three against the artists
        # neither the onboarding picks nor the random draw hold, so the truth is the same.
        "same_truth": {
            "onboarding": scored(onboarding, truth_common),
            "onboarding_first_5": scored(first_five, truth_common),
            "random_5": scored(random_five, truth_common),
        },
        "median_artists_picked": float(statistics.median(picks_per_user)),
        "share_picking_8": float(np.mean([n == ARTISTS_PICKED for n in picks_per_user])),
        "median_pages_picked_from": float(statistics.median(pages)),
        "type_choices": len(cache),
        "median_offer_ms": 1000 * statistics.median(offer_seconds),
    }


def median_of(results: list[dict]) -> dict:
    return {metric: float(statistics.median(r[metric] for r in results)) for metric in METRICS} | {
        "users": int(statistics.median(r["users"] for r in results))
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--out", type=Path, default=RESULTS / "onboarding.json")
    args = parser.parse_args()
    dataset = load_hetrec(data_dir(args.data))
    interactions = Interactions.from_plays(dataset.plays)
    runs = [run_seed(seed, dataset, interactions) for seed in args.seeds]
    result = {
        "protocol": "p2",
        "through": "recommender.onboarding offers, the P2 split and the member model's instant solve",
        "types_picked": TYPES_PICKED,
        "artists_picked": ARTISTS_PICKED,
        "random_likes": RANDOM_LIKES,
        "like_plays": LIKE_PLAYS,
        "seeds": args.seeds,
        "median": {name: median_of([r[name] for r in runs]) for name in CONDITIONS},
        "median_same_truth": {name: median_of([r["same_truth"][name] for r in runs]) for name in CONDITIONS},
        "median_pages_picked_from": float(statistics.median(r["median_pages_picked_from"] for r in runs)),
        "median_share_picking_8": float(statistics.median(r["share_picking_8"] for r in runs)),
        "median_offer_ms": float(statistics.median(r["median_offer_ms"] for r in runs)),
        "per_seed": runs,
        "data_fingerprint": dataset.fingerprint,
        "machine": machine(model=MEMBER_MODEL),
    }
    write_result(args.out, result)
    medians, same = result["median"], result["median_same_truth"]
    print(
        f"NDCG@10 after /start ({ARTISTS_PICKED} likes) {medians['onboarding']['ndcg@10']:.4f}, "
        f"its first 5 {medians['onboarding_first_5']['ndcg@10']:.4f}, "
        f"{RANDOM_LIKES} random likes {medians['random_5']['ndcg@10']:.4f} "
        f"({medians['onboarding']['users']} users, seeds {' '.join(map(str, args.seeds))}); on the same truth "
        f"{same['onboarding']['ndcg@10']:.4f} / {same['onboarding_first_5']['ndcg@10']:.4f} / "
        f"{same['random_5']['ndcg@10']:.4f}"
    )


if __name__ == "__main__":
    main()
