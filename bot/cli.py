"""`encore`: the command line in front of the recommender, the store and the bot."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import NoReturn, Sequence

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # implicit is slower (and warns) with threaded BLAS

from bot import cli_actions as actions  # noqa: E402  (after the BLAS setting)
from bot.settings import SettingsError  # noqa: E402

EXAMPLES = """\
examples:
  encore demo
  encore demo --interactive
  encore fit
  encore recommend --lastfm-user 2 -n 5
  encore recommend --likes "Radiohead, Björk" -n 10
  encore recommend --batch members.jsonl -n 10 --json
  encore similar "Daft Punk" -n 10
  encore evaluate --protocol p1 --seeds 0 1 2 --json p1.json
  encore evaluate --protocol p2 --seeds 0 1 2 --json p2.json
  encore evaluate --protocol groups --seeds 0 1 2 --json groups.json
  encore evaluate --report report/ --seeds 0 1 2
  encore db upgrade

environment:
  ENCORE_LASTFM_DIR  folder of the HetRec 2011 Last.fm files (default: a cache, downloaded once)
  ENCORE_HOME        where model snapshots and the default database live (default: the per-user data folder)
  ENCORE_DATABASE_URL  the store (default: sqlite+aiosqlite:///$ENCORE_HOME/encore.sqlite3)
  ENCORE_REFIT_MINUTES minutes between background refits when something changed (default 30)
  DISCORD_TOKEN        the bot's token (encore run)
  ENCORE_DEV_GUILD     sync slash commands to this server only (instant; for development)
  ENCORE_DISCORD_API_BASE, ENCORE_DISCORD_GATEWAY  another Discord-compatible endpoint
  LASTFM_API_KEY       Last.fm API key for /lastfm link (ENCORE_LASTFM_API_BASE: another endpoint)
"""


class Parser(argparse.ArgumentParser):
    """Reports a usage mistake as one line, naming the command's --help."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def result_count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if not 1 <= value <= actions.MAX_RESULTS:
        raise argparse.ArgumentTypeError(f"must be between 1 and {actions.MAX_RESULTS} (got {value})")
    return value


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1 (got {value})")
    return value


def build_parser() -> Parser:
    parser = Parser(
        prog="encore",
        description="Encore: music recommendations from Last.fm listening data and your likes.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser, required=True)

    fit = commands.add_parser("fit", help="fit the model on the Last.fm data and members' likes, and save a snapshot")
    fit.add_argument("--exclude-users", type=Path, metavar="FILE", help="file of Last.fm user ids (one per line) to leave out")

    recommend = commands.add_parser("recommend", help="recommend artists for a Last.fm user, a list of likes, or a batch")
    who = recommend.add_mutually_exclusive_group(required=True)
    who.add_argument("--lastfm-user", type=int, metavar="ID", help="a user of the Last.fm data set")
    who.add_argument("--likes", metavar="NAMES", help='comma-separated artist names, e.g. "Radiohead, Björk"')
    who.add_argument("--batch", type=Path, metavar="FILE", help='JSON lines {"id": ..., "likes": ["name", ...]}')
    recommend.add_argument("-n", type=result_count, default=10, help="how many artists (1-100, default 10)")
    recommend.add_argument("--json", action="store_true", help="print JSON (always on with --batch)")

    similar = commands.add_parser("similar", help="artists similar to one artist")
    similar.add_argument("artist", help="an artist name")
    similar.add_argument("-n", type=result_count, default=10, help="how many artists (1-100, default 10)")
    similar.add_argument("--json", action="store_true", help="print JSON")

    evaluate = commands.add_parser("evaluate", help="measure Encore and the baselines (BENCHMARKS.md protocols)")
    evaluate.add_argument("--protocol", choices=("p1", "p2", "groups"), default="p1",
                          help="p1: known users; p2: new members; groups: blends for groups of friends (P3)")
    evaluate.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="random seeds (default 0 1 2)")
    evaluate.add_argument("--models", nargs="+", metavar="NAME", help=f"P1 models (default: all of {', '.join(actions.P1_MODELS)})")
    evaluate.add_argument("--json", type=Path, metavar="PATH", help="also write the results as JSON")
    evaluate.add_argument("--groups-per-size", type=positive_int, default=actions.GROUPS_PER_SIZE, metavar="N",
                          help=f"groups: groups of each size per seed (default {actions.GROUPS_PER_SIZE})")
    evaluate.add_argument("--report", type=Path, metavar="DIR",
                          help="write the full report to DIR instead (report.md, report.json, PNG plots: accuracy, RMSE, "
                               "popularity bias, fairness, popularity debiasing; --models and --protocol do not apply)")
    evaluate.add_argument("--popularity-penalty", type=float, metavar="X",
                          help=f"with --report: Encore's popularity penalty, >= 0 (default {actions.DEFAULT_POPULARITY_PENALTY:g})")
    demo = commands.add_parser("demo", help="the real bot on a local Discord emulator, shown in the terminal (no Discord account needed)")
    demo.add_argument("--interactive", action="store_true", help="type slash commands yourself as a member")

    commands.add_parser("run", help="run the Discord bot (needs DISCORD_TOKEN); stops cleanly on SIGTERM or Ctrl-C")

    database = commands.add_parser("db", help="the SQL store of members' likes")
    database.add_argument("action", choices=("upgrade", "current"), help="upgrade: migrate to the newest schema; current: show the schema revision")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return actions.run(args)
    except (actions.UserFacingError, SettingsError) as error:
        print(f"encore: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("encore: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
