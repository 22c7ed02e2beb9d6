"""report.md from the report's dict (tables and their definitions), and the folder it is written to."""

from __future__ import annotations

import json
from pathlib import Path

from recommender.evaluation import plots
from recommender.evaluation.fairness import USER_GROUPS
from recommender.evaluation.report.prose import (
    definition_text,
    head_size,
    headline,
    rmse_against_ndcg,
    target_text,
    top_fifth_size,
)


def write_report(report: dict, directory: Path) -> list[Path]:
    """report.json, the PNG plots and report.md in `directory`; returns the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    data = directory / "report.json"
    data.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    images = plots.draw_all(report, directory)
    markdown = directory / "report.md"
    markdown.write_text(report_markdown(report, {path.stem: path.name for path in images}), encoding="utf-8")
    return [data, *images, markdown]


def report_markdown(report: dict, images: dict[str, str]) -> str:
    """report.md: the numbers of `report` in tables, with the definitions a reader needs."""
    target, p1, seeds = report["target"], report["p1"], " ".join(map(str, report["settings"]["seeds"]))
    lines = [
        "# Encore evaluation report",
        "",
        f"HetRec 2011 Last.fm (1,892 users, 17,632 artists); mean of seeds {seeds}; top {report['k']}. "
        "Written by `encore evaluate --report DIR`; every number is in report.json. "
        "± is the half-width of a 95 % Student-t interval over the seeds.",
        "",
        "## Headline",
        "",
        headline(report),
        "",
        "## Accuracy",
        "",
        "P1, known users (benchmarks/README.md): a random 80/20 split of the (user, artist) pairs; every artist the "
        "user did not train on is ranked.",
        "",
        "| model | precision@10 | recall@10 | NDCG@10 | MAP@10 |",
        "|---|---|---|---|---|",
        *[
            f"| {name} | {_pm(r, 'precision@10')} | {_pm(r, 'recall@10')} | {_pm(r, 'ndcg@10')} | {_pm(r, 'map@10')} |"
            for name, r in p1.items()
        ],
        "",
        f"![P1 accuracy]({images.get('p1_accuracy', 'p1_accuracy.png')})",
        "",
        "P2, new members: 10 % of users held out, each given k random likes; the rest of their artists are the truth.",
        "",
        "| model | likes | precision@10 | recall@10 | NDCG@10 | MAP@10 |",
        "|---|---|---|---|---|---|",
        *[
            f"| {name} | {k[1:]} | {m['precision@10']:.4f} | {m['recall@10']:.4f} | {m['ndcg@10']:.4f} | "
            f"{m['map@10']:.4f} |"
            for name, by_k in report["p2"]["models"].items()
            for k, m in by_k.items()
        ],
        "",
        "Models: " + "; ".join(f"**{name}**: {text}" for name, text in report["descriptions"].items()) + ".",
        "",
        "## RMSE, and why ranking metrics lead",
        "",
        "Implicit ALS predicts a *preference* p_ui: 1 if user u listens to artist i, 0 if not (the play count "
        "only sets how confident that 0 or 1 is). RMSE here is the error of the predicted x_u·y_i against p_ui "
        "on every held-out (test) pair, where p_ui = 1, plus as many pairs drawn at random from those the user "
        "never played, where p_ui = 0 (a seeded draw, so it is reproducible). Only the ALS models predict p_ui, so "
        "only they have an RMSE.",
        "",
        "| model | RMSE | on held-out pairs (p = 1) | on unobserved pairs (p = 0) |",
        "|---|---|---|---|",
        *[
            f"| {name} | {r['mean']['rmse']:.3f} | {r['mean']['rmse_positives']:.3f} | "
            f"{r['mean']['rmse_unobserved']:.3f} |"
            for name, r in p1.items()
            if "rmse" in r["mean"]
        ],
        "",
        "An unobserved pair is not a dislike: most are artists the user has never come across, and a few are ones "
        "they would love, which is what a recommender is for. So RMSE punishes a model for scoring exactly the "
        "artists it should recommend, and rewards a model that predicts 0 almost everywhere. A member sees only "
        "the top ten, in order: precision, recall, NDCG and MAP at 10 measure that list, so they lead.",
        rmse_against_ndcg(p1),
        "",
        "## Beyond accuracy: popularity bias",
        "",
        "Each of the 10 places in each user's list is one *slot*; listeners are counted in the training split.",
        "",
        "- **coverage**: distinct artists recommended to anyone ÷ all artists.",
        "- **Gini**: Gini coefficient of the slots per artist over the whole catalogue (0: equal exposure, 1: one "
        "artist takes all).",
        "- **ARP**: average recommendation popularity, the mean over users of the mean listeners of their recommended "
        "artists.",
        "- **head / mid / tail** (Abdollahpouri et al. 2019): artists ranked by listeners; the *head* is the shortest "
        "run of most-listened artists that together hold 20 % of all (user, artist) listening pairs "
        f"(about {head_size(report)} artists), the *tail* the least-listened artists that together hold the last 20 "
        "%, "
        "the *mid* the rest.",
        "- **long-tail share**: share of slots on artists outside the most popular 20 % of artists, ranked by "
        f"listeners ({top_fifth_size(report)}). The target below uses this share.",
        "- **outside head**: share of slots on artists outside the head (mid or tail).",
        "",
        definition_text(report),
        "",
        "| model | coverage | Gini | ARP | long-tail share | outside head | head | mid | tail |",
        "|---|---|---|---|---|---|---|---|---|",
        *[
            f"| {name} | {m['coverage']:.3f} | {m['gini']:.3f} | {m['arp']:.1f} | {m['long_tail_share']:.4f} | "
            f"{m['outside_head_share']:.3f} | {m['exposure_head']:.1%} | {m['exposure_mid']:.1%} | "
            f"{m['exposure_tail']:.1%} |"
            for name, m in ((n, r["mean"]) for n, r in p1.items())
        ],
        _listening_row(p1),
        "",
        f"![exposure by popularity group]({images.get('popularity_exposure', 'popularity_exposure.png')})",
        "",
        "## Popularity debiasing",
        "",
        "`recommender.debias.rerank` orders artists by score − λ · best score of the row · log(1 + listeners) ÷ "
        "log(1 + most listeners). Scaling by the row's best score makes λ mean the same for a heavy listener and for "
        "a member with three likes; the scores members see stay the model's own. It is `PopularityPenalised` as a "
        "model option, `Engine(..., popularity_penalty=λ)` in the engine and `--popularity-penalty` in "
        "`encore evaluate`.",
        "",
        f"| λ | NDCG@10 (P1) | NDCG@10 (P2, {report['p2_trade_off_likes']} likes) | long-tail share | outside head | "
        "coverage | Gini | ARP |",
        "|---|---|---|---|---|---|---|---|",
        *[
            f"| {p['penalty']:g}{' (default)' if p['penalty'] == target['penalty'] else ''} | {p['ndcg@10']:.4f} | "
            f"{p['p2_ndcg@10']:.4f} | "
            f"{p['long_tail_share']:.4f} | {p['outside_head_share']:.3f} | {p['coverage']:.3f} | {p['gini']:.3f} | "
            f"{p['arp']:.1f} |"
            for p in report["trade_off"]
        ],
        "",
        f"![trade-off]({images.get('trade_off', 'trade_off.png')})",
        "",
        target_text(report),
        "",
        "## Fairness between users",
        "",
        "Users are split into thirds twice, on all their listening: by **activity** (total play count) and by "
        "**mainstreaminess** (cosine between their listening, 1 per artist they play, and every artist's listener "
        "count: how much of their taste is what everyone plays). Per third: NDCG@10 and recall@10 on P1. "
        "**Demographic-parity gap**: NDCG@10 of the high third minus the low third (quality should not depend on the "
        "group). **Equal-opportunity gap**: the same for recall@10, the share of each user's held-out artists found "
        "(their true-positive rate). Positive gaps favour the high third.",
        "",
        *_group_ranges(report),
        "",
        "| model | grouping | NDCG@10 low | mid | high | demographic-parity gap | equal-opportunity gap |",
        "|---|---|---|---|---|---|---|",
        *[
            f"| {name} | {grouping} | "
            + " | ".join(_ci(f[grouping]["ndcg@10"][g]) for g in USER_GROUPS)
            + f" | {_ci(f[grouping]['demographic_parity_gap'], True)}"
            + f" | {_ci(f[grouping]['equal_opportunity_gap'], True)} |"
            for name, r in p1.items()
            if (f := r.get("fairness"))
            for grouping in f
        ],
        "",
        f"![user fairness]({images.get('user_fairness', 'user_fairness.png')})",
        "",
        "## Exposure of artists by region",
        "",
        "An artist belongs to a region when one of its 5 top tags (by distinct tagging users, in "
        "user_taggedartists.dat) is one of that region's tags (`recommender.evaluation.fairness.REGIONAL_TAGS`); an "
        "artist can be in several regions or none. Share of listening: the region's share of (user, artist) pairs "
        "in training. Ratio: share of recommendation slots ÷ share of listening (1: exposed as much as listened to).",
        "",
        *_region_table(report),
        "",
        f"![regional exposure]({images.get('regional_exposure', 'regional_exposure.png')})",
        "",
    ]
    return "\n".join(lines)


def _pm(result: dict, key: str) -> str:
    interval = result["interval"][key]
    return f"{result['mean'][key]:.4f} ± {(interval['high'] - interval['low']) / 2:.4f}"


def _ci(cell: dict, signed: bool = False) -> str:
    sign = "+" if signed else ""
    return f"{cell['mean']:{sign}.3f} [{cell['low']:{sign}.3f}, {cell['high']:{sign}.3f}]"


def _listening_row(p1: dict) -> str:
    m = next(iter(p1.values()))["mean"]
    return (
        f"| *share of listening* | | | | | | {m['listening_head']:.1%} | {m['listening_mid']:.1%} | "
        f"{m['listening_tail']:.1%} |"
    )


def _group_ranges(report: dict) -> list[str]:
    out = []
    for grouping, groups in report["user_groups"].items():
        unit = "plays" if grouping == "activity" else "cosine"
        parts = [f"{g} {c['min']:,.3g}–{c['max']:,.3g} ({c['users']} users)" for g, c in groups.items()]
        out.append(f"- {grouping} thirds ({unit}): " + "; ".join(parts) + ".")
    return out


def _region_table(report: dict) -> list[str]:
    names = [n for n, r in report["p1"].items() if "regions" in r]
    header = "| region | artists | share of listening | " + " | ".join(f"{n}: share (ratio)" for n in names) + " |"
    rows = [header, "|" + "---|" * (3 + len(names))]
    first = report["p1"][names[0]]["regions"]
    for region, artists in report["regions"].items():
        cells = " | ".join(
            f"{report['p1'][n]['regions'][region]['recommended_share']:.2%} "
            f"({report['p1'][n]['regions'][region]['ratio']:.2f})"
            for n in names
        )
        rows.append(f"| {region} | {artists} | {first[region]['listening_share']:.2%} | {cells} |")
    return rows
