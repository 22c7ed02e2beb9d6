"""`encore evaluate`: Encore and the baselines on the protocols of benchmarks/README.md, or the full report."""

from __future__ import annotations

import argparse
import json
import sys

from bot.cli.errors import UserFacingError
from bot.cli.opening import load_data
from bot.cli.output import print_groups, print_p1, print_p2, print_sessions, say
from bot.settings import Settings
from recommender.debias import DEFAULT_POPULARITY_PENALTY
from recommender.engine import LIKE_PLAYS
from recommender.evaluation.groups import evaluate_groups, friendship_matrix
from recommender.evaluation.protocols import P1_MODELS, evaluate_p1, evaluate_p2
from recommender.evaluation.report import ReportSettings, build_report, write_report
from recommender.evaluation.sessions import evaluate_sessions


def evaluate(args: argparse.Namespace, settings: Settings) -> int:
    if args.report is not None or args.popularity_penalty is not None:
        return evaluate_report(args, settings)
    data = load_data(settings)
    plays = data.interactions.plays
    if args.protocol == "p1":
        try:
            results = evaluate_p1(plays, args.seeds, args.models or P1_MODELS, progress=say)
        except ValueError as error:
            raise UserFacingError(str(error)) from None
        print_p1(results, sys.stdout)
    elif args.protocol in ("groups", "sessions"):
        friends = friendship_matrix(
            data.interactions, data.dataset.friends["user_id"], data.dataset.friends["friend_id"]
        )
        if args.protocol == "groups":
            results = evaluate_groups(plays, friends, args.seeds, LIKE_PLAYS, args.groups_per_size, progress=say)
            print_groups(results, sys.stdout)
        else:
            results = evaluate_sessions(
                plays, friends, args.seeds, like_plays=LIKE_PLAYS, groups_per_size=args.groups_per_size, progress=say
            )
            print_sessions(results, sys.stdout)
    else:
        results = evaluate_p2(plays, args.seeds, LIKE_PLAYS, progress=say)
        print_p2(results, sys.stdout)
    results["data_fingerprint"] = data.fingerprint
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
        say(f"encore: wrote {args.json}")
    return 0


def evaluate_report(args: argparse.Namespace, settings: Settings) -> int:
    if args.report is None:
        raise UserFacingError("--popularity-penalty applies to the report: add --report DIR")
    penalty = DEFAULT_POPULARITY_PENALTY if args.popularity_penalty is None else args.popularity_penalty
    if not penalty >= 0:
        raise UserFacingError("--popularity-penalty must be a number >= 0")
    data = load_data(settings)
    report_settings = ReportSettings(
        seeds=tuple(args.seeds), penalty=penalty, extra={"data_fingerprint": data.fingerprint}
    )
    report = build_report(
        data.interactions, lambda artist: data.catalogue.top_tags(artist, 10), LIKE_PLAYS, report_settings
    )
    for path in write_report(report, args.report):
        say(f"encore: wrote {path}")
    return 0
