"""Issue 6's target (long-tail share against the tutorial's, at bounded accuracy loss) and the penalty rule."""

from __future__ import annotations

from recommender.evaluation.report.settings import LONG_TAIL_FACTOR, NDCG_TOLERANCE


def target_summary(report: dict, penalty: float) -> dict:
    """Issue 6's target at the report's penalty: long-tail share (outside the top fifth of artists)
    >= 1.5 x the tutorial's with NDCG@10 within 5 % of Encore's best over the penalties. Also the
    share outside the head beside it, and the penalty that `choose_penalty` picks."""
    curve = report["trade_off"]
    best = max(curve, key=lambda point: point["ndcg@10"])
    tutorial = report["p1"].get("tutorial")
    nan = float("nan")
    tutorial_long_tail = tutorial["mean"]["long_tail_share"] if tutorial else nan
    tutorial_outside_head = tutorial["mean"]["outside_head_share"] if tutorial else nan
    chosen = next(point for point in curve if point["penalty"] == penalty)
    long_tail_met = chosen["long_tail_share"] >= LONG_TAIL_FACTOR * tutorial_long_tail
    return {
        "tutorial_long_tail_share": tutorial_long_tail,
        "tutorial_outside_head_share": tutorial_outside_head,
        "best_penalty": best["penalty"],
        "best_ndcg@10": best["ndcg@10"],
        "penalty": penalty,
        "ndcg@10": chosen["ndcg@10"],
        "ndcg_ratio": chosen["ndcg@10"] / best["ndcg@10"],
        "p2_ndcg_ratio": chosen["p2_ndcg@10"] / max(point["p2_ndcg@10"] for point in curve),
        "long_tail_share": chosen["long_tail_share"],
        "long_tail_ratio": share_ratio(chosen["long_tail_share"], tutorial_long_tail),
        "long_tail_reachable": LONG_TAIL_FACTOR * tutorial_long_tail <= 1.0,
        "outside_head_share": chosen["outside_head_share"],
        "outside_head_ratio": share_ratio(chosen["outside_head_share"], tutorial_outside_head),
        "outside_head_reachable": LONG_TAIL_FACTOR * tutorial_outside_head <= 1.0,
        "met": bool(tutorial) and long_tail_met and chosen["ndcg@10"] >= (1 - NDCG_TOLERANCE) * best["ndcg@10"],
        "chosen_by_rule": choose_penalty(curve),
        "chosen_by_rule_outside_head": choose_penalty(curve, key="outside_head_share"),
    }


def share_ratio(share: float, tutorial: float) -> float:
    if tutorial != tutorial:  # nan: no tutorial row
        return tutorial
    return share / tutorial if tutorial > 0 else float("inf")


def choose_penalty(curve: list[dict], tolerance: float = NDCG_TOLERANCE, key: str = "long_tail_share") -> float:
    """The penalty with the largest long-tail share (or `key`) whose NDCG@10 stays within `tolerance`
    of the best, on P1 and on P2 (new members) alike; the smaller penalty on a tie."""
    best_p1 = max(point["ndcg@10"] for point in curve)
    best_p2 = max(point["p2_ndcg@10"] for point in curve)
    allowed = [
        point
        for point in curve
        if point["ndcg@10"] >= (1 - tolerance) * best_p1 and point["p2_ndcg@10"] >= (1 - tolerance) * best_p2
    ]
    return max(allowed, key=lambda point: (point[key], -point["penalty"]))["penalty"]
