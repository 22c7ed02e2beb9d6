"""What the commands print: the tables people read and the JSON scripts read."""

from __future__ import annotations

import logging
import sys
from typing import Any, TextIO

from bot.errors import NoMatch
from recommender.catalogue import Artist
from recommender.engine import Recommendation, join_names


def say(message: str) -> None:
    """A note for the person at the terminal, on stderr, so stdout stays the command's output."""
    print(message, file=sys.stderr, flush=True)


def no_match_line(no_match: NoMatch) -> str:
    suggestions = [a.name for a in no_match.suggestions]
    hint = f"; did you mean {', '.join(suggestions)}?" if suggestions else ""
    return f"no match for {no_match.query!r}{hint}"


# -- recommend and similar --------------------------------------------------------------------------


def recommendation_json(recommendation: Recommendation) -> dict[str, Any]:
    return {
        "artist": recommendation.artist.name,
        "url": recommendation.artist.url,
        "score": round(recommendation.score, 6),
        "because": [a.name for a in recommendation.because],
    }


def print_recommendations(title: str, results: list[Recommendation], out: TextIO) -> None:
    print(f"{title}:", file=out)
    width = max((len(r.artist.name) for r in results), default=0)
    for rank, result in enumerate(results, 1):
        print(f"{rank:>3}. {result.artist.name:<{width}}  score {result.score:.2f}  {result.artist.url}", file=out)
        if result.because:
            print(f"     because you like {join_names([a.name for a in result.because])}", file=out)


def similar_json(artist: Artist, results: list[tuple[Artist, float]]) -> dict[str, Any]:
    return {
        "artist": artist.name,
        "similar": [{"artist": a.name, "url": a.url, "similarity": round(s, 6)} for a, s in results],
    }


def print_similar(artist: Artist, results: list[tuple[Artist, float]], out: TextIO) -> None:
    print(f"Artists similar to {artist.name}:", file=out)
    width = max((len(a.name) for a, _ in results), default=0)
    for rank, (other, similarity) in enumerate(results, 1):
        print(f"{rank:>3}. {other.name:<{width}}  similarity {similarity:.2f}  {other.url}", file=out)


# -- evaluate -----------------------------------------------------------------------------------------


def print_p1(results: dict, out: TextIO) -> None:
    print(f"P1, known users: mean of seeds {' '.join(map(str, results['seeds']))}, top {results['k']}", file=out)
    print(f"{'model':<14} {'NDCG@10':>8} {'prec@10':>8} {'recall@10':>9} {'MAP@10':>8} {'fit s':>7}", file=out)
    for name, m in results["models"].items():
        print(
            f"{name:<14} {m['ndcg@10']:>8.4f} {m['precision@10']:>8.4f} {m['recall@10']:>9.4f} "
            f"{m['map@10']:>8.4f} {m['fit_seconds']:>7.2f}",
            file=out,
        )


def print_p2(results: dict, out: TextIO) -> None:
    print(f"P2, new members: mean of seeds {' '.join(map(str, results['seeds']))}, top {results['k']}", file=out)
    print(f"{'model':<16} {'likes':>5} {'NDCG@10':>8} {'recall@10':>9}", file=out)
    for name, by_k in results["models"].items():
        for k, m in by_k.items():
            print(f"{name:<16} {k[1:]:>5} {m['ndcg@10']:>8.4f} {m['recall@10']:>9.4f}", file=out)


def print_groups(results: dict, out: TextIO) -> None:
    sizes = list(next(iter(results["per_size"].values())))
    default = results["default"]
    print(
        f"P3, groups of friends: mean of seeds {' '.join(map(str, results['seeds']))}, top {results['k']}, "
        f"{results['groups_per_size']} groups per size per seed; encore-blend = {default['strategy']} of "
        f"{default['normalisation']} scores; recall@10 also by group size",
        file=out,
    )
    by_size = " ".join(f"{'size ' + s:>7}" for s in sizes)
    width = max(len(name) for name in results["models"])
    print(f"{'model':<{width}} {'NDCG@10':>8} {'recall@10':>9} {by_size}", file=out)
    for name, m in results["models"].items():
        per_size = " ".join(f"{results['per_size'][name][s]['recall@10']:>7.4f}" for s in sizes)
        print(f"{name:<{width}} {m['ndcg@10']:>8.4f} {m['recall@10']:>9.4f} {per_size}", file=out)


def print_sessions(results: dict, out: TextIO) -> None:
    print(
        f"P4, listening sessions: mean of seeds {' '.join(map(str, results['seeds']))}, {results['rounds']} rounds, "
        f"{results['groups_per_size']} groups per size per seed; group hits (half the group into it) after "
        "5, 10 and 20 rounds, and the share of votes that are Into it",
        file=out,
    )
    rows = {**results["models"], "(ceiling)": results["ceiling"]}
    width = max(len(name) for name in rows)
    print(f"{'model':<{width}} {'hits@5':>7} {'hits@10':>7} {'hits@20':>7} {'into it':>7}", file=out)
    for name, m in rows.items():
        into_it = f"{m['into_it_rate']:>7.3f}" if "into_it_rate" in m else f"{'-':>7}"
        print(f"{name:<{width}} {m['hits@5']:>7.3f} {m['hits@10']:>7.3f} {m['hits@20']:>7.3f} {into_it}", file=out)


def start_logging() -> None:
    """The long-running roles (`encore run`, `encore train`) log what they do; the one-shot commands print."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
