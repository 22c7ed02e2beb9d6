"""The report's figures, drawn from report.json's dict with matplotlib's Agg backend (no display)."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Patch

from recommender import palette

# No display: pyplot picks its backend at the first figure, so this still takes effect.
matplotlib.use("Agg")

DPI = 100
# Okabe-Ito colours (recommender.palette): they stay apart under the common colour-vision deficiencies.
ENCORE, DEBIASED, TUTORIAL, OTHER = palette.BLUE, palette.VERMILLION, palette.GREY, palette.SLATE
#: Head, mid, tail (and low, mid, high third): light enough for the black figures drawn on them.
GROUP_COLOURS = (palette.ORANGE, palette.SKY_BLUE, palette.YELLOW)
#: Every text at least this large, so the figures stay readable on a phone.
FONT = palette.MIN_FONT_POINTS
_KINDS = {ENCORE: "Encore", DEBIASED: "Encore, debiased", TUTORIAL: "tutorial", OTHER: "other baselines"}
_RC = {"font.size": FONT, "axes.titlesize": FONT + 2, "figure.titlesize": FONT + 3, "legend.fontsize": FONT}


def draw_all(report: dict, directory: Path) -> list[Path]:
    """Every figure as a PNG in `directory`; returns their paths."""
    drawers = (accuracy, trade_off, popularity_exposure, user_fairness, regional_exposure)
    with plt.rc_context(_RC):
        return [drawer(report, directory) for drawer in drawers]


def _save(figure: plt.Figure, path: Path) -> Path:
    figure.tight_layout()
    # Software rendering of plain charts: no metadata, so the same numbers give the same bytes.
    figure.savefig(path, dpi=DPI, metadata={"Software": None})
    plt.close(figure)
    return path


def _colour(name: str) -> str:
    return {"encore": ENCORE, "encore-als": ENCORE, "encore-debiased": DEBIASED, "tutorial": TUTORIAL}.get(name, OTHER)


def accuracy(report: dict, directory: Path) -> Path:
    """P1 NDCG@10 per model with its 95 % interval over seeds."""
    names = list(report["p1"])
    means = [report["p1"][n]["mean"]["ndcg@10"] for n in names]
    intervals = [report["p1"][n]["interval"]["ndcg@10"] for n in names]
    errors = np.array(
        [[m - i["low"] for m, i in zip(means, intervals)], [i["high"] - m for m, i in zip(means, intervals)]]
    )
    figure, axis = plt.subplots(figsize=(9, 4.8))
    bars = axis.bar(names, means, yerr=errors, capsize=4, color=[_colour(n) for n in names])
    axis.bar_label(bars, labels=[f"{m:.3f}" for m in means], padding=6, fontsize=FONT)
    axis.set_ylabel("NDCG@10 (P1, known users)")
    axis.set_title(f"Accuracy, mean of seeds {_seeds(report)} with 95 % intervals")
    axis.set_ylim(0, max(means) * 1.45)
    kinds = dict.fromkeys(_colour(n) for n in names)
    axis.legend(
        handles=[Patch(color=c, label=_KINDS[c]) for c in kinds], loc="upper center", ncol=len(kinds), frameon=False
    )
    axis.tick_params(axis="x", labelrotation=15)
    return _save(figure, directory / "p1_accuracy.png")


def trade_off(report: dict, directory: Path) -> Path:
    """NDCG@10 against long-tail share (outside the top fifth of artists) over the penalties, with the
    baselines as points. The shares run from 0.0001 to 0.5, so the x axis is logarithmic, in percent;
    a share of 0 (most popular's) is drawn at the axis' left end."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    curve = report["trade_off"]
    penalty = report["target"]["penalty"]
    figure, (left, right) = plt.subplots(1, 2, figsize=(13, 7))
    shares = [p["long_tail_share"] for p in curve] + [r["mean"]["long_tail_share"] for r in report["p1"].values()]
    floor = 10.0 ** np.floor(np.log10(min([v for v in shares if v > 0], default=1e-4)))

    def share(value: float) -> float:
        return max(value, floor)

    x = [share(p["long_tail_share"]) for p in curve]
    left.plot(x, [p["ndcg@10"] for p in curve], "o-", color=ENCORE, label="Encore's ALS, penalty λ")
    right.plot(x, [p["p2_ndcg@10"] for p in curve], "o-", color=ENCORE, label="Encore instant, penalty λ")
    # The small λ sit close together (the default's star marks one of them): label the first and
    # those from 0.7 on.
    labelled = [p for i, p in enumerate(curve) if i == 0 or p["penalty"] >= 0.7]
    for point in labelled if len(curve) > 6 else curve:
        for axis, key in ((left, "ndcg@10"), (right, "p2_ndcg@10")):
            axis.annotate(
                f"λ={point['penalty']:g}",
                (share(point["long_tail_share"]), point[key]),
                textcoords="offset points",
                xytext=(-6, 7),
                fontsize=FONT,
            )
    chosen = next(p for p in curve if p["penalty"] == penalty)
    for axis, key in ((left, "ndcg@10"), (right, "p2_ndcg@10")):
        axis.plot(
            share(chosen["long_tail_share"]), chosen[key], "*", ms=16, color=DEBIASED, label=f"default λ = {penalty:g}"
        )
    for name, result in report["p1"].items():
        if name.startswith("encore"):
            continue
        value = result["mean"]["long_tail_share"]
        text = name if value > 0 else f"{name} (0 %, drawn at the edge)"
        left.plot(share(value), result["mean"]["ndcg@10"], "s" if value > 0 else "<", color=_colour(name))
        # Labelled on the left, away from the curve's labels (at the edge, on the right).
        left.annotate(
            text,
            (share(value), result["mean"]["ndcg@10"]),
            textcoords="offset points",
            fontsize=FONT,
            va="center",
            xytext=(-7, 0) if value > 0 else (7, 0),
            ha="right" if value > 0 else "left",
        )
    target = report["target"]
    best = target["best_ndcg@10"]
    left.axhline(0.95 * best, ls="--", lw=1, color="black", label="95 % of Encore's best NDCG@10")
    right.axhline(0.95 * max(p["p2_ndcg@10"] for p in curve), ls="--", lw=1, color="black", label="95 % of the best")
    tutorial = target["tutorial_long_tail_share"]
    if tutorial == tutorial and tutorial > 0:  # measured, and on the axis
        for axis in (left, right):
            axis.axvline(
                1.5 * tutorial,
                ls=":",
                lw=1.2,
                color=TUTORIAL,
                label=f"1.5 × tutorial's long-tail share ({1.5 * tutorial * 100:.2f} %)",
            )
    left.set_title("P1, known users")
    right.set_title(f"P2, new members with {report['p2_trade_off_likes']} likes")
    percent = FuncFormatter(lambda value, _: f"{value * 100:g} %")
    for axis in (left, right):
        axis.set_xscale("log")
        axis.set_xlim(floor * 0.7, 1)
        axis.xaxis.set_major_locator(LogLocator(base=10))
        axis.xaxis.set_major_formatter(percent)
        axis.xaxis.set_minor_formatter(NullFormatter())
        axis.set_xlabel("long-tail share: slots outside the top 20 % of artists (log scale)")
        axis.set_ylabel("NDCG@10")
        axis.grid(alpha=0.3, which="both")
    left.set_ylim(top=max(p["ndcg@10"] for p in curve) * 1.08)
    right.set_ylim(top=max(p["p2_ndcg@10"] for p in curve) * 1.05)
    for axis in (left, right):
        axis.legend(fontsize=FONT, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=1, frameon=False)
    figure.suptitle("Popularity penalty λ: accuracy against long-tail exposure")
    return _save(figure, directory / "trade_off.png")


def popularity_exposure(report: dict, directory: Path) -> Path:
    """Share of recommendation slots on head, mid and tail artists, against their share of listening."""
    names = list(report["p1"])
    any_model = report["p1"][names[0]]["mean"]
    rows = ["listening"] + names
    shares = np.array(
        [[any_model[f"listening_{g}"] for g in ("head", "mid", "tail")]]
        + [[report["p1"][n]["mean"][f"exposure_{g}"] for g in ("head", "mid", "tail")] for n in names]
    )
    figure, axis = plt.subplots(figsize=(11, 5))
    left = np.zeros(len(rows))
    for column, (group, colour) in enumerate(zip(("head", "mid", "tail"), GROUP_COLOURS)):
        axis.barh(rows, shares[:, column], left=left, color=colour, label=group)
        for row, (start, width) in enumerate(zip(left, shares[:, column])):
            if width > 0.06:
                axis.text(start + width / 2, row, f"{width:.0%}", ha="center", va="center", fontsize=FONT)
        left += shares[:, column]
    axis.invert_yaxis()
    axis.set_xlim(0, 1)
    axis.set_xlabel("share of recommendation slots (top row: share of listening pairs)")
    axis.set_title("Exposure by artist popularity group (head: most listened, 20 % of listening)")
    axis.legend(fontsize=FONT, loc="center left", bbox_to_anchor=(1.01, 0.5))
    return _save(figure, directory / "popularity_exposure.png")


def user_fairness(report: dict, directory: Path) -> Path:
    """NDCG@10 per user third (activity, mainstreaminess) with 95 % intervals over seeds."""
    names = [n for n in report["p1"] if "fairness" in report["p1"][n]]
    figure, axes = plt.subplots(1, 2, figsize=(13, 5.5), sharey=True)
    width = 0.8 / 3
    for axis, grouping in zip(axes, ("activity", "mainstreaminess")):
        for g, (group, colour) in enumerate(zip(("low", "mid", "high"), GROUP_COLOURS)):
            cells = [report["p1"][n]["fairness"][grouping]["ndcg@10"][group] for n in names]
            means = np.array([c["mean"] for c in cells])
            errors = np.array([means - [c["low"] for c in cells], [c["high"] for c in cells] - means])
            axis.bar(
                np.arange(len(names)) + (g - 1) * width,
                means,
                width,
                yerr=errors,
                capsize=2,
                color=colour,
                label=f"{group} third",
            )
        axis.set_xticks(np.arange(len(names)), names, rotation=30, ha="right", rotation_mode="anchor", fontsize=FONT)
        axis.set_title(f"users by {grouping}")
        axis.grid(axis="y", alpha=0.3)
    axes[0].set_ylabel("NDCG@10 (P1)")
    axes[0].legend(fontsize=FONT)
    figure.suptitle("Quality per user group, 95 % intervals over seeds")
    return _save(figure, directory / "user_fairness.png")


def regional_exposure(report: dict, directory: Path) -> Path:
    """Per regional tag: share of recommendations divided by share of listening."""
    names = [
        n for n in ("encore-als", "encore-debiased", "tutorial") if n in report["p1"] and "regions" in report["p1"][n]
    ]
    regions = list(report["regions"])
    figure, axis = plt.subplots(figsize=(10, 7))
    height = 0.8 / max(len(names), 1)
    for i, name in enumerate(names):
        ratios = [report["p1"][name]["regions"][r]["ratio"] for r in regions]
        axis.barh(
            np.arange(len(regions)) + (i - (len(names) - 1) / 2) * height,
            ratios,
            height,
            color=_colour(name),
            label=name,
        )
    axis.axvline(1.0, color="black", lw=1)
    axis.set_yticks(np.arange(len(regions)), [f"{r} ({report['regions'][r]} artists)" for r in regions], fontsize=FONT)
    axis.invert_yaxis()
    axis.set_xlabel("share of recommendations ÷ share of listening (1 = exposed as listened)")
    axis.set_title("Exposure of artists by regional tag (among their top 5 tags)")
    axis.legend(fontsize=FONT, loc="best")
    axis.grid(axis="x", alpha=0.3)
    return _save(figure, directory / "regional_exposure.png")


def _seeds(report: dict) -> str:
    return " ".join(str(s) for s in report["settings"]["seeds"])
