"""What each `encore` subcommand does, once its arguments are parsed."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy.exc import SQLAlchemyError

from bot.services.library import split_names
from bot.services.refit import RefitService
from bot.services.startup import open_store
from bot.settings import Settings, redact_url
from db.migrations import current as current_revision
from db.migrations import upgrade
from recommender.catalogue import Artist, ArtistCatalogue
from recommender.datasets import DataError, LastFmDataset, load_hetrec, resolve_data_dir
from recommender.debias import DEFAULT_POPULARITY_PENALTY
from recommender.engine import MAX_RESULTS, Engine, EngineError, Recommendation, join_names
from recommender.evaluation.groups import GROUPS_PER_SIZE, evaluate_groups, friendship_matrix
from recommender.evaluation.protocols import P1_MODELS, evaluate_p1, evaluate_p2
from recommender.interactions import lastfm_user_key
from recommender.snapshot import SnapshotError, load_snapshot, snapshot_paths
from recommender.text import clean_user_text
from recommender.training import (
    TRAINING_ENGINES,
    Trainer,
    TrainingEngineError,
    fit_snapshot,
    lastfm_interactions,
    make_trainer,
)

__all__ = [
    "DEFAULT_POPULARITY_PENALTY",
    "GROUPS_PER_SIZE",
    "MAX_RESULTS",
    "P1_MODELS",
    "TRAINING_ENGINES",
    "UserFacingError",
    "run",
]


class UserFacingError(Exception):
    """Ends the command with one line on stderr and exit status 2."""


def run(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    handler = {
        "fit": fit,
        "recommend": recommend,
        "similar": similar,
        "evaluate": evaluate,
        "db": database,
        "run": run_bot,
        "train": train,
        "demo": demo,
    }[args.command]
    return handler(args, settings)


# -- shared steps ---------------------------------------------------------------------------------


def load_dataset(settings: Settings) -> LastFmDataset:
    try:
        return load_hetrec(resolve_data_dir(settings.lastfm_dir))
    except DataError as error:
        raise UserFacingError(str(error)) from None


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def load_engine(settings: Settings) -> Engine:
    """The newest snapshot for this data; fits one first if there is none yet."""
    dataset = load_dataset(settings)
    catalogue = ArtistCatalogue.from_dataset(dataset)
    paths = snapshot_paths(settings.snapshot_dir)
    snapshot = None
    if paths:
        try:
            snapshot = load_snapshot(paths[0])
        except SnapshotError as error:
            raise UserFacingError(f"{error}; run `encore fit` to write a fresh snapshot") from None
        if snapshot.meta.get("data_fingerprint") != dataset.fingerprint:
            say("encore: the Last.fm data changed since the last fit; fitting again")
            snapshot = None
    if snapshot is None:
        say(f"encore: fitting the model (a few seconds); the snapshot goes to {settings.snapshot_dir}")
        snapshot = fit_snapshot(lastfm_interactions(dataset), settings.snapshot_dir, dataset.fingerprint)
    return Engine(snapshot.model, snapshot.interactions, catalogue.extended(snapshot.member_artists))


# -- fit ------------------------------------------------------------------------------------------


def fit(args: argparse.Namespace, settings: Settings) -> int:
    """The same refit the bot runs: Last.fm plus every member's likes in the store."""
    trainer = _trainer(getattr(args, "engine", "implicit"))
    dataset = load_dataset(settings)
    excluded = _read_user_ids(args.exclude_users) if getattr(args, "exclude_users", None) else []
    lastfm = lastfm_interactions(dataset, [lastfm_user_key(u) for u in excluded])
    catalogue = ArtistCatalogue.from_dataset(dataset)
    timings, snapshot = asyncio.run(_refit(settings, lastfm, dataset.fingerprint, catalogue, trainer))
    meta = snapshot.meta
    print(
        f"Fitted {meta['users']:,} users ({meta['members']:,} members) x {meta['artists']:,} artists "
        f"({meta['interactions']:,} interactions) in {timings.total:.1f} s "
        f"(read {timings.read:.2f}, build {timings.build:.2f}, fit {timings.fit:.2f}, save {timings.save:.2f}); "
        f"snapshot {snapshot.path}"
    )
    return 0


def _trainer(engine: str) -> Trainer:
    try:
        return make_trainer(engine)
    except TrainingEngineError as error:
        raise UserFacingError(str(error)) from None


async def _refit(settings: Settings, lastfm, fingerprint: str, catalogue: ArtistCatalogue, trainer: Trainer):
    store = await _open_store(settings, catalogue)
    try:
        service = RefitService(
            store, lastfm, fingerprint, catalogue, settings.snapshot_dir, settings.refit_minutes, trainer=trainer
        )
        try:
            timings = await service.refit()
        except Exception as error:  # noqa: BLE001 - with nothing served yet, refit raises what stopped it
            raise UserFacingError(f"the fit failed: {type(error).__name__}: {error}") from None
        if timings is None or service.state is None:
            raise UserFacingError(f"the fit failed: {service.last_error}")
        return timings, service.state.snapshot
    finally:
        await store.close()


async def _open_store(settings: Settings, catalogue: ArtistCatalogue):
    try:
        return await open_store(settings.database_url, catalogue)
    except (SQLAlchemyError, OSError) as error:
        raise database_error(settings, error) from None


def _read_user_ids(path: Path) -> list[int]:
    try:
        lines = path.read_text(encoding="utf-8").split()
    except OSError as error:
        raise UserFacingError(f"cannot read {path}: {error.strerror}") from None
    try:
        return [int(token) for token in lines]
    except ValueError:
        raise UserFacingError(f"{path} must hold Last.fm user ids, one per line") from None


# -- recommend ------------------------------------------------------------------------------------


@dataclass
class ParsedLikes:
    artists: list[Artist]
    unknown: list[str]


def parse_likes(names: Iterable[str], catalogue: ArtistCatalogue) -> ParsedLikes:
    artists: list[Artist] = []
    unknown: list[str] = []
    for name in names:
        name = clean_user_text(str(name))
        if not name:
            continue
        artist = catalogue.lookup(name)
        if artist is None:
            unknown.append(name)
        elif artist not in artists:
            artists.append(artist)
    return ParsedLikes(artists, unknown)


def no_match_message(name: str, catalogue: ArtistCatalogue) -> str:
    suggestions = [a.name for a in catalogue.suggestions(name, 3)]
    hint = f"; did you mean {', '.join(suggestions)}?" if suggestions else ""
    return f"no match for {name!r}{hint}"


def recommend(args: argparse.Namespace, settings: Settings) -> int:
    if args.batch:
        return recommend_batch(args, settings)
    engine = load_engine(settings)
    try:
        if args.lastfm_user is not None:
            key = lastfm_user_key(args.lastfm_user)
            if engine.interactions.user_row(key) is None:
                raise UserFacingError(
                    f"unknown Last.fm user {args.lastfm_user}; the data set has users 2 to 2100 with gaps"
                )
            results = engine.recommend_for_user(key, args.n, listeners=engine.listener_blend())
            title = f"Recommendations for Last.fm user {args.lastfm_user}"
        else:
            if not clean_user_text(args.likes).strip(" ,"):
                raise UserFacingError('--likes is empty; give artist names, e.g. --likes "Radiohead, Björk"')
            parsed = parse_likes(split_names(args.likes, engine.catalogue), engine.catalogue)
            for name in parsed.unknown:
                say(f"encore: {no_match_message(name, engine.catalogue)}")
            if not parsed.artists:
                raise UserFacingError("none of those names is an artist Encore knows; nothing to recommend from")
            results = engine.recommend_for_likes([a.artist_id for a in parsed.artists], args.n)
            title = "Recommendations for someone who likes " + ", ".join(a.name for a in parsed.artists)
    except EngineError as error:
        raise UserFacingError(str(error)) from None
    if args.json:
        print(json.dumps({"recommendations": [recommendation_json(r) for r in results]}, ensure_ascii=False))
    else:
        print_recommendations(title, results, sys.stdout)
    return 0


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


def recommend_batch(args: argparse.Namespace, settings: Settings) -> int:
    """One JSON line out per line in; a bad line is reported on its own line, never fatal."""
    try:
        handle = sys.stdin if str(args.batch) == "-" else open(args.batch, encoding="utf-8")
    except OSError as error:
        raise UserFacingError(f"cannot read {args.batch}: {error.strerror}") from None
    engine = load_engine(settings)
    with handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            print(json.dumps(batch_line(line, number, engine, args.n), ensure_ascii=False), flush=False)
    sys.stdout.flush()
    return 0


def batch_line(line: str, number: int, engine: Engine, n: int) -> dict[str, Any]:
    try:
        request = json.loads(line)
    except json.JSONDecodeError as error:
        return {"line": number, "error": f"not valid JSON ({error.msg})"}
    if not isinstance(request, dict) or not isinstance(request.get("likes"), list):
        return {
            "line": number,
            "id": request.get("id") if isinstance(request, dict) else None,
            "error": 'expected an object with a "likes" list of artist names',
        }
    parsed = parse_likes([x for x in request["likes"] if isinstance(x, str)], engine.catalogue)
    out: dict[str, Any] = {"id": request.get("id")}
    if parsed.unknown:
        out["unknown"] = parsed.unknown
    if not parsed.artists:
        out["recommendations"] = []
        out["error"] = "no known artist in likes"
        return out
    try:
        results = engine.recommend_for_likes([a.artist_id for a in parsed.artists], n)
    except EngineError as error:
        return out | {"recommendations": [], "error": str(error)}
    out["recommendations"] = [recommendation_json(r) for r in results]
    return out


# -- similar --------------------------------------------------------------------------------------


def similar(args: argparse.Namespace, settings: Settings) -> int:
    engine = load_engine(settings)
    name = clean_user_text(args.artist)
    if not name:
        raise UserFacingError("give an artist name")
    artist = engine.catalogue.lookup(name)
    if artist is None:
        raise UserFacingError(no_match_message(name, engine.catalogue))
    try:
        results = engine.similar(artist.artist_id, args.n)
    except EngineError as error:
        raise UserFacingError(str(error)) from None
    if args.json:
        print(
            json.dumps(
                {
                    "artist": artist.name,
                    "similar": [{"artist": a.name, "url": a.url, "similarity": round(s, 6)} for a, s in results],
                },
                ensure_ascii=False,
            )
        )
        return 0
    print(f"Artists similar to {artist.name}:")
    width = max((len(a.name) for a, _ in results), default=0)
    for rank, (other, similarity) in enumerate(results, 1):
        print(f"{rank:>3}. {other.name:<{width}}  similarity {similarity:.2f}  {other.url}")
    return 0


# -- evaluate -------------------------------------------------------------------------------------


def evaluate(args: argparse.Namespace, settings: Settings) -> int:
    if args.report is not None or args.popularity_penalty is not None:
        return evaluate_report(args, settings)
    dataset = load_dataset(settings)
    plays = lastfm_interactions(dataset).plays
    if args.protocol == "p1":
        try:
            results = evaluate_p1(plays, args.seeds, args.models or P1_MODELS, progress=say)
        except ValueError as error:
            raise UserFacingError(str(error)) from None
        print_p1(results, sys.stdout)
    elif args.protocol == "groups":
        from recommender.engine import LIKE_PLAYS

        interactions = lastfm_interactions(dataset)
        friends = friendship_matrix(interactions, dataset.friends["user_id"], dataset.friends["friend_id"])
        results = evaluate_groups(
            interactions.plays, friends, args.seeds, LIKE_PLAYS, args.groups_per_size, progress=say
        )
        print_groups(results, sys.stdout)
    else:
        from recommender.engine import LIKE_PLAYS

        results = evaluate_p2(plays, args.seeds, LIKE_PLAYS, progress=say)
        print_p2(results, sys.stdout)
    results["data_fingerprint"] = dataset.fingerprint
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
        say(f"encore: wrote {args.json}")
    return 0


def evaluate_report(args: argparse.Namespace, settings: Settings) -> int:
    from recommender.engine import LIKE_PLAYS
    from recommender.evaluation.report import ReportSettings, build_report, write_report

    if args.report is None:
        raise UserFacingError("--popularity-penalty applies to the report: add --report DIR")
    penalty = DEFAULT_POPULARITY_PENALTY if args.popularity_penalty is None else args.popularity_penalty
    if not penalty >= 0:
        raise UserFacingError("--popularity-penalty must be a number >= 0")
    dataset = load_dataset(settings)
    catalogue = ArtistCatalogue.from_dataset(dataset)
    report_settings = ReportSettings(
        seeds=tuple(args.seeds), penalty=penalty, extra={"data_fingerprint": dataset.fingerprint}
    )
    report = build_report(
        lastfm_interactions(dataset), lambda artist: catalogue.top_tags(artist, 10), LIKE_PLAYS, report_settings
    )
    for path in write_report(report, args.report):
        say(f"encore: wrote {path}")
    return 0


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


# -- db -------------------------------------------------------------------------------------------


def database(args: argparse.Namespace, settings: Settings) -> int:
    try:
        if args.action == "upgrade":
            upgrade(settings.database_url)
        revision = current_revision(settings.database_url)
    except (SQLAlchemyError, OSError) as error:
        raise database_error(settings, error) from None
    print(f"{redact_url(settings.database_url)}: schema revision {revision or 'none (run encore db upgrade)'}")
    return 0


def database_error(settings: Settings, error: Exception) -> UserFacingError:
    return UserFacingError(f"cannot open the database {redact_url(settings.database_url)}: {_first_line(error)}")


def _first_line(error: Exception) -> str:
    """Database errors carry the SQL and a link on later lines; the first says what went wrong.
    The URL, which may hold a password, is never part of it."""
    text = str(getattr(error, "orig", None) or error)
    return redact_url(text.strip().splitlines()[0] if text.strip() else type(error).__name__)


# -- run ------------------------------------------------------------------------------------------


def _start_logging() -> None:
    import logging

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


@dataclass(frozen=True)
class Sharding:
    shard_ids: list[int]
    shard_count: int


def run_bot(args: argparse.Namespace, settings: Settings) -> int:
    """The bot, until SIGTERM or Ctrl-C; then the gateway closes and pending writes finish."""
    token = settings.require_token()
    sharding = Sharding(args.shards, args.shard_count) if getattr(args, "shards", None) is not None else None
    follow = sharding is not None or getattr(args, "follow_trainer", False)
    asyncio.run(_serve(settings, token, _start_logging, sharding, follow))
    return 0


async def _check_token(token: str) -> None:
    """Ask Discord who the token belongs to before loading anything, so a wrong one is one line."""
    import aiohttp
    import discord

    client = discord.Client(intents=discord.Intents.none())
    try:
        await client.login(token)
    except discord.LoginFailure:
        raise UserFacingError(
            "Discord refused DISCORD_TOKEN; copy the bot's token again from the developer portal"
        ) from None
    except (aiohttp.ClientError, OSError, discord.HTTPException) as error:
        raise UserFacingError(f"cannot reach Discord at {discord.http.Route.BASE}: {error}") from None
    finally:
        await client.close()


async def _serve(
    settings: Settings, token: str, start_logging, sharding: Sharding | None = None, follow_trainer: bool = False
) -> None:
    import signal

    import discord

    from bot.client import EncoreBot, ShardedEncoreBot, point_at
    from bot.services.container import build_services

    point_at(settings.discord_api_base, settings.discord_gateway)
    await _check_token(token)
    start_logging()
    try:
        services = await build_services(settings, follow_trainer=follow_trainer)
    except DataError as error:
        raise UserFacingError(str(error)) from None
    except (SQLAlchemyError, OSError) as error:
        raise database_error(settings, error) from None
    if sharding is not None:
        bot: EncoreBot | ShardedEncoreBot = ShardedEncoreBot(
            services, shard_ids=sharding.shard_ids, shard_count=sharding.shard_count, follow_trainer=True
        )
    else:
        bot = EncoreBot(services, follow_trainer=follow_trainer)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        runner = asyncio.create_task(bot.start(token))
        stopper = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait({runner, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if runner in done:
            runner.result()
    except discord.LoginFailure:
        raise UserFacingError(
            "Discord refused DISCORD_TOKEN; copy the bot's token again from the developer portal"
        ) from None
    finally:
        await bot.close()


# -- train ----------------------------------------------------------------------------------------


def train(args: argparse.Namespace, settings: Settings) -> int:
    """The trainer role: refit when due and publish, until SIGTERM or Ctrl-C; --once: `encore fit`."""
    if args.once:
        return fit(args, settings)
    trainer = _trainer(args.engine)
    dataset = load_dataset(settings)
    catalogue = ArtistCatalogue.from_dataset(dataset)
    _start_logging()
    asyncio.run(_train(settings, trainer, lastfm_interactions(dataset), dataset.fingerprint, catalogue))
    return 0


async def _train(settings: Settings, trainer: Trainer, lastfm, fingerprint: str, catalogue: ArtistCatalogue) -> None:
    import logging
    import signal

    store = await _open_store(settings, catalogue)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        service = RefitService(
            store, lastfm, fingerprint, catalogue, settings.snapshot_dir, settings.refit_minutes, trainer=trainer
        )
        state = await service.start()
        # The snapshot it starts from may never have been recorded (a first start, or `encore fit`).
        await service.publish(state.snapshot)
        logging.getLogger("bot.trainer").info(
            "training with %s every %g minutes when members' data changed; snapshots in %s",
            trainer.name,
            settings.refit_minutes,
            settings.snapshot_dir,
        )
        await service.run(stop, poll_seconds=min(30.0, settings.refit_minutes * 60.0))
    finally:
        await store.close()


# -- demo -----------------------------------------------------------------------------------------


def demo(args: argparse.Namespace, settings: Settings) -> int:
    """The real bot and a local Discord emulator, on a throwaway database; no token needed."""
    from bot.demo import run_demo

    try:
        run_demo(settings, interactive=args.interactive)
    except DataError as error:
        raise UserFacingError(str(error)) from None
    return 0
