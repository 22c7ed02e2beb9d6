"""The `encore` command line's arguments: one subcommand each, with their checks and the --help text."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from recommender.debias import DEFAULT_POPULARITY_PENALTY
from recommender.engine import MAX_RESULTS
from recommender.evaluation.groups import GROUPS_PER_SIZE
from recommender.evaluation.protocols import P1_MODELS
from recommender.training import TRAINING_ENGINES

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
  encore evaluate --protocol sessions --seeds 0 1 2 --json sessions.json
  encore evaluate --report report/ --seeds 0 1 2
  encore db upgrade
  encore train --engine implicit
  encore run --shards 0-3 --shard-count 8

environment:
  ENCORE_LASTFM_DIR  folder of the HetRec 2011 Last.fm files (default: a cache, downloaded once)
  ENCORE_HOME        where model snapshots and the default database live (default: the per-user data folder)
  ENCORE_DATABASE_URL  the store (default: sqlite+aiosqlite:///$ENCORE_HOME/encore.sqlite3)
  ENCORE_REFIT_MINUTES minutes between background refits when something changed (default 30)
  ENCORE_SNAPSHOT_DIR  where snapshots are written and read (default: $ENCORE_HOME/snapshots)
  ENCORE_SNAPSHOT_POLL_SECONDS  how often a sharded bot checks for a published snapshot (default 10)
  DISCORD_TOKEN        the bot's token (encore run)
  ENCORE_DEV_GUILD     sync slash commands to this server only (instant; for development)
  ENCORE_DISCORD_API_BASE, ENCORE_DISCORD_GATEWAY  another Discord-compatible endpoint
  LASTFM_API_KEY       Last.fm API key for /lastfm link (ENCORE_LASTFM_API_BASE: another endpoint)
"""


class Parser(argparse.ArgumentParser):
    """Reports a usage mistake as one line, naming the command's --help."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def whole_number(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None


def result_count(text: str) -> int:
    value = whole_number(text)
    if not 1 <= value <= MAX_RESULTS:
        raise argparse.ArgumentTypeError(f"must be between 1 and {MAX_RESULTS} (got {value})")
    return value


def positive_int(text: str) -> int:
    value = whole_number(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1 (got {value})")
    return value


def shard_ids(text: str) -> list[int]:
    """'0-3' or '0,2,5' (or a mix, '0-1,4') as a sorted list of distinct shard ids."""
    ids: set[int] = set()
    for part in text.replace(" ", "").split(","):
        first, _, last = part.partition("-")
        if not first.isdigit() or (last and not last.isdigit()):
            raise argparse.ArgumentTypeError(f"expected shard ids like 0-3 or 0,2,5, got {text!r}")
        low, high = int(first), int(last or first)
        if low > high:
            raise argparse.ArgumentTypeError(f"the range {part} runs backwards")
        ids.update(range(low, high + 1))
    return sorted(ids)


def add_engine_option(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--engine",
        choices=TRAINING_ENGINES,
        default="implicit",
        help="implicit: the implicit library on this machine (default); "
        "spark: Spark MLlib ALS in local mode (pip install 'encore[spark]'; needs Java 17)",
    )


def build_parser() -> Parser:
    parser = Parser(
        prog="encore",
        description="Encore: music recommendations from Last.fm listening data and your likes.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser, required=True)

    fit = commands.add_parser("fit", help="fit the model on the Last.fm data and members' likes, and save a snapshot")
    fit.add_argument(
        "--exclude-users", type=Path, metavar="FILE", help="file of Last.fm user ids (one per line) to leave out"
    )
    add_engine_option(fit)

    recommend = commands.add_parser(
        "recommend", help="recommend artists for a Last.fm user, a list of likes, or a batch"
    )
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

    evaluate = commands.add_parser(
        "evaluate", help="measure Encore and the baselines (the protocols in benchmarks/README.md)"
    )
    evaluate.add_argument(
        "--protocol",
        choices=("p1", "p2", "groups", "sessions"),
        default="p1",
        help="p1: known users; p2: new members; groups: blends for groups of friends (P3); "
        "sessions: listening sessions, one artist a round with the group's votes (P4)",
    )
    evaluate.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="random seeds (default 0 1 2)")
    evaluate.add_argument(
        "--models", nargs="+", metavar="NAME", help=f"P1 models (default: all of {', '.join(P1_MODELS)})"
    )
    evaluate.add_argument("--json", type=Path, metavar="PATH", help="also write the results as JSON")
    evaluate.add_argument(
        "--groups-per-size",
        type=positive_int,
        default=GROUPS_PER_SIZE,
        metavar="N",
        help=f"groups, sessions: groups of each size per seed (default {GROUPS_PER_SIZE})",
    )
    evaluate.add_argument(
        "--report",
        type=Path,
        metavar="DIR",
        help="write the full report to DIR instead (report.md, report.json, PNG plots: accuracy, RMSE, "
        "popularity bias, fairness, popularity debiasing; --models and --protocol do not apply)",
    )
    evaluate.add_argument(
        "--popularity-penalty",
        type=float,
        metavar="X",
        help=f"with --report: Encore's popularity penalty, >= 0 (default {DEFAULT_POPULARITY_PENALTY:g})",
    )
    demo = commands.add_parser(
        "demo", help="the real bot on a local Discord emulator, shown in the terminal (no Discord account needed)"
    )
    demo.add_argument("--interactive", action="store_true", help="type slash commands yourself as a member")

    run = commands.add_parser(
        "run",
        help="run the Discord bot (needs DISCORD_TOKEN); stops cleanly on SIGTERM or Ctrl-C",
        description="Run the Discord bot. Alone, one process holds the whole bot and refits its own model. "
        "With --shards, this process holds only those shards and serves the snapshots that "
        "`encore train` publishes (start the trainer too).",
    )
    run.add_argument(
        "--shards",
        type=shard_ids,
        metavar="IDS",
        help="shard ids this process runs: a range like 0-3, or a list like 0,2,5 (needs --shard-count)",
    )
    run.add_argument("--shard-count", type=positive_int, metavar="N", help="how many shards the whole bot has")
    run.add_argument(
        "--follow-trainer",
        action="store_true",
        help="serve the snapshots `encore train` publishes instead of refitting here (implied by --shards)",
    )

    train = commands.add_parser(
        "train",
        help="refit on a schedule and publish each snapshot for the bot processes to serve",
        description="The trainer role: refits whenever members' data changed and ENCORE_REFIT_MINUTES have passed, "
        "writes each snapshot to the snapshot folder (ENCORE_SNAPSHOT_DIR) and records it in the database, "
        "where every `encore run --shards ...` process picks it up without restarting.",
    )
    add_engine_option(train)
    train.add_argument("--once", action="store_true", help="refit once now, publish, and exit (what `encore fit` does)")

    database = commands.add_parser("db", help="the SQL store of members' likes")
    database.add_argument(
        "action",
        choices=("upgrade", "current"),
        help="upgrade: migrate to the newest schema; current: show the schema revision",
    )
    return parser


def _check_shards(parser: Parser, args: argparse.Namespace) -> None:
    if (args.shards is None) != (args.shard_count is None):
        parser.error("--shards and --shard-count go together")
    if args.shards is not None and args.shards[-1] >= args.shard_count:
        parser.error(
            f"shard ids run from 0 to {args.shard_count - 1} with --shard-count {args.shard_count}"
            f" (got {args.shards[-1]})"
        )


def parse_arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The parsed command line; a usage mistake exits with status 2 and one line naming --help."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "run":
        _check_shards(parser, args)
    return args
