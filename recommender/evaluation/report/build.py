"""`build_report`: every protocol, model and penalty measured into one JSON-ready dict."""

from __future__ import annotations

import sys
from dataclasses import asdict

import numpy as np
import scipy.sparse as sp
from implicit.evaluation import train_test_split
from tqdm import tqdm

from recommender.debias import PopularityPenalised, listener_counts, normalised_log_popularity
from recommender.evaluation.fairness import USER_GROUPS, activity, mainstreaminess, regional_membership, thirds
from recommender.evaluation.metrics import ranking_metrics
from recommender.evaluation.protocols import K, evaluate_p2, like_rows, new_member_split, recommend_in_batches
from recommender.evaluation.report.seeds import SeedContext, fit_model, summarise
from recommender.evaluation.report.settings import ACCURACY_KEYS, DEBIASED, ReportSettings, TopTags
from recommender.evaluation.report.target import target_summary
from recommender.interactions import Interactions
from recommender.models.registry import MEMBER_MODEL, MODEL_DESCRIPTIONS, make_model


def build_report(
    interactions: Interactions, top_tags: TopTags, like_plays: float, settings: ReportSettings = ReportSettings()
) -> dict:
    plays = interactions.plays
    for name in settings.models:
        make_model(name)  # reject an unknown name before any work
    if settings.penalty < 0 or any(p < 0 for p in settings.penalties):
        raise ValueError("popularity penalties must be >= 0")
    penalties = tuple(sorted(set(settings.penalties) | {0.0, settings.penalty}))
    regions = regional_membership(interactions.artist_ids, top_tags)
    # User attributes describe the user, not the model's input: measured once on all their listening.
    user_groups = {"activity": thirds(activity(plays)), "mainstreaminess": thirds(mainstreaminess(plays))}
    rows = list(settings.models) + ([DEBIASED] if settings.penalty > 0 else [])

    per_seed: dict[str, list[dict]] = {name: [] for name in rows}
    curve: dict[float, list[dict]] = {p: [] for p in penalties}
    steps = len(settings.seeds) * (len(settings.models) + len(penalties))
    with tqdm(total=steps, desc="P1", file=sys.stderr, disable=not settings.show_progress) as bar:
        for seed in settings.seeds:
            train, test = (sp.csr_matrix(m) for m in train_test_split(plays, 0.8, random_state=seed))
            users = np.flatnonzero(np.diff(test.indptr))
            seen = SeedContext(
                train=train,
                test=test,
                users=users,
                seed=seed,
                regions=regions,
                user_groups={g: v[users] for g, v in user_groups.items()},
                rmse_negatives=settings.rmse_negatives,
            )
            for name in settings.models:
                bar.set_description(f"P1 seed {seed}: {name}")
                model = fit_model(name, train)
                per_seed[name].append(seen.measure(model))
                if name == MEMBER_MODEL:
                    encore = model
                bar.update()
            if MEMBER_MODEL not in settings.models:
                encore = fit_model(MEMBER_MODEL, train)
            for penalty in penalties:
                bar.set_description(f"P1 seed {seed}: encore, penalty {penalty:g}")
                penalised = PopularityPenalised(encore, penalty, seen.popularity)
                result = seen.measure(penalised, with_groups=penalty == settings.penalty)
                curve[penalty].append(result)
                if penalty == settings.penalty and settings.penalty > 0:
                    per_seed[DEBIASED].append(result)
                bar.update()

    p1 = {name: summarise(runs) for name, runs in per_seed.items()}
    p2, p2_curve = _p2(plays, like_plays=like_plays, penalties=penalties, settings=settings)
    p2_k = f"k{5 if 5 in settings.like_counts else settings.like_counts[0]}"
    trade_off = [
        {"penalty": p} | summarise(runs)["mean"] | {f"p2_{key}": value for key, value in p2_curve[p][p2_k].items()}
        for p, runs in curve.items()
    ]
    report = {
        "settings": {k: v for k, v in asdict(settings).items() if k not in ("show_progress", "extra")} | settings.extra,
        "k": K,
        "descriptions": {name: _describe(name, settings.penalty) for name in rows},
        "p1": p1,
        "p2": p2,
        "p2_trade_off_likes": int(p2_k[1:]),
        "trade_off": trade_off,
        "regions": {region: int(members.sum()) for region, members in regions.items()},
        "user_groups": _user_group_ranges(plays, user_groups),
    }
    report["target"] = target_summary(report, settings.penalty)
    return report


def _p2(
    plays: sp.csr_matrix, *, like_plays: float, penalties: tuple[float, ...], settings: ReportSettings
) -> tuple[dict, dict]:
    """P2 as `encore evaluate --protocol p2` measures it, and Encore's instant recommendations for
    new members re-ranked at each penalty: (the P2 table, the P2 trade-off per penalty)."""
    with tqdm(
        total=len(settings.seeds) * len(settings.like_counts),
        desc="P2",
        file=sys.stderr,
        disable=not settings.show_progress,
    ) as bar:

        def progress(message: str) -> None:
            bar.set_description(message)
            if "k=" in message:
                bar.update()

        p2 = evaluate_p2(
            plays, settings.seeds, like_plays, settings.like_counts, refit=settings.p2_refit, progress=progress
        )
    models = {
        name: {k: {key: m[key] for key in (*ACCURACY_KEYS, "users")} for k, m in by_k.items()}
        for name, by_k in p2["models"].items()
    }
    per_penalty: dict[float, dict[str, list[dict]]] = {
        p: {f"k{k}": [] for k in settings.like_counts} for p in penalties
    }
    for seed in tqdm(settings.seeds, desc="P2 penalties", file=sys.stderr, disable=not settings.show_progress):
        split = new_member_split(plays, seed, settings.like_counts)
        encore = make_model(MEMBER_MODEL).fit(split.train)
        popularity = normalised_log_popularity(listener_counts(split.train))
        for k in settings.like_counts:
            rows = like_rows(split.likes[k], plays.shape[1], like_plays)
            for penalty in penalties:
                top = recommend_in_batches(PopularityPenalised(encore, penalty, popularity), rows, K)
                per_penalty[penalty][f"k{k}"].append(ranking_metrics(top, split.truth[k], K))
    curve = {
        penalty: {k: {key: float(np.mean([r[key] for r in runs])) for key in ACCURACY_KEYS} for k, runs in by_k.items()}
        for penalty, by_k in per_penalty.items()
    }
    if settings.penalty > 0:
        models[f"{DEBIASED}-instant"] = {
            k: m | {"users": models["encore-instant"][k]["users"]} for k, m in curve[settings.penalty].items()
        }
    return {"like_plays": like_plays, "models": models}, curve


def _user_group_ranges(plays: sp.csr_matrix, user_groups: dict[str, np.ndarray]) -> dict:
    values = {"activity": activity(plays), "mainstreaminess": mainstreaminess(plays)}
    return {
        grouping: {
            group: {
                "users": int(np.sum(groups == g)),
                "min": float(values[grouping][groups == g].min()),
                "max": float(values[grouping][groups == g].max()),
            }
            for g, group in enumerate(USER_GROUPS)
        }
        for grouping, groups in user_groups.items()
    }


def _describe(name: str, penalty: float) -> str:
    if name == DEBIASED:
        return f"Encore re-ranked with popularity penalty {penalty:g}"
    return MODEL_DESCRIPTIONS.get(name, name)
