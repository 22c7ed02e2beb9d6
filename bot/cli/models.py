"""`encore fit` and `encore train`: the bot's refit, once or on a schedule, through the app's model service."""

from __future__ import annotations

import argparse
import asyncio
import logging
from pathlib import Path

from bot.app import build_app
from bot.cli.errors import UserFacingError
from bot.cli.opening import load_data, opened_app, refit_now, trainer_named
from bot.cli.output import start_logging
from bot.cli.signals import stop_on_signals
from bot.services.models import RefitTimings
from bot.settings import Settings
from recommender.interactions import lastfm_user_key
from recommender.snapshot import Snapshot
from recommender.training import LastFmData, Trainer

log = logging.getLogger("bot.trainer")


def fit(args: argparse.Namespace, settings: Settings) -> int:
    """The same refit the bot runs: Last.fm plus every member's likes in the store."""
    trainer = trainer_named(getattr(args, "engine", "implicit"), settings)
    excluded = read_user_ids(args.exclude_users) if getattr(args, "exclude_users", None) else []
    data = load_data(settings).without_users(lastfm_user_key(user) for user in excluded)
    timings, snapshot = asyncio.run(_fit(settings, data, trainer))
    meta = snapshot.meta
    print(
        f"Fitted {meta['users']:,} users ({meta['members']:,} members) x {meta['artists']:,} artists "
        f"({meta['interactions']:,} interactions) in {timings.total:.1f} s "
        f"(read {timings.read:.2f}, build {timings.build:.2f}, fit {timings.fit:.2f}, save {timings.save:.2f}); "
        f"snapshot {snapshot.path}"
    )
    return 0


async def _fit(settings: Settings, data: LastFmData, trainer: Trainer) -> tuple[RefitTimings, Snapshot]:
    async with opened_app(settings, build_app(settings, data=data, trainer=trainer, start=False)) as app:
        return await refit_now(app)


def read_user_ids(path: Path) -> list[int]:
    try:
        lines = path.read_text(encoding="utf-8").split()
    except OSError as error:
        raise UserFacingError(f"cannot read {path}: {error.strerror}") from None
    try:
        return [int(token) for token in lines]
    except ValueError:
        raise UserFacingError(f"{path} must hold Last.fm user ids, one per line") from None


def train(args: argparse.Namespace, settings: Settings) -> int:
    """The trainer role: refit when due and publish, until SIGTERM or Ctrl-C; --once: `encore fit`."""
    if args.once:
        return fit(args, settings)
    trainer = trainer_named(args.engine, settings)
    data = load_data(settings)
    start_logging()
    asyncio.run(_train(settings, data, trainer))
    return 0


async def _train(settings: Settings, data: LastFmData, trainer: Trainer) -> None:
    with stop_on_signals() as stop:
        async with opened_app(settings, build_app(settings, data=data, trainer=trainer, start=True)) as app:
            state = app.models.state
            assert state is not None, "build_app(start=True) serves a snapshot"
            # The snapshot it starts from may never have been recorded (a first start, or `encore fit`).
            await app.models.publish(state.snapshot)
            log.info(
                "training with %s every %g minutes when members' data changed; snapshots in %s",
                trainer.name,
                settings.refit_minutes,
                settings.snapshot_dir,
            )
            await app.models.run(stop, poll_seconds=min(30.0, settings.refit_minutes * 60.0))
