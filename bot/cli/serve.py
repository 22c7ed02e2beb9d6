"""`encore run` (the Discord bot, alone or as some of its shards) and `encore demo` (the bot on the emulator)."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

import aiohttp
import discord

from bot.app import build_app
from bot.cli.errors import UserFacingError
from bot.cli.opening import build_errors_as_one_line
from bot.cli.output import start_logging
from bot.cli.signals import stop_on_signals
from bot.client import EncoreBot, ShardedEncoreBot, point_at
from bot.demo import run_demo
from bot.settings import Settings
from recommender.datasets import DataError

TOKEN_REFUSED = "Discord refused DISCORD_TOKEN; copy the bot's token again from the developer portal"


@dataclass(frozen=True)
class Sharding:
    shard_ids: list[int]
    shard_count: int


def run_bot(args: argparse.Namespace, settings: Settings) -> int:
    """The bot, until SIGTERM or Ctrl-C; then the gateway closes and pending writes finish."""
    token = settings.require_token()
    sharding = Sharding(args.shards, args.shard_count) if getattr(args, "shards", None) is not None else None
    follow_trainer = sharding is not None or getattr(args, "follow_trainer", False)
    asyncio.run(_serve(settings, token=token, sharding=sharding, follow_trainer=follow_trainer))
    return 0


async def _check_token(token: str) -> None:
    """Ask Discord who the token belongs to before loading anything, so a wrong one is one line."""
    client = discord.Client(intents=discord.Intents.none())
    try:
        await client.login(token)
    except discord.LoginFailure:
        raise UserFacingError(TOKEN_REFUSED) from None
    except (aiohttp.ClientError, OSError, discord.HTTPException) as error:
        raise UserFacingError(f"cannot reach Discord at {discord.http.Route.BASE}: {error}") from None
    finally:
        await client.close()


async def _serve(settings: Settings, *, token: str, sharding: Sharding | None, follow_trainer: bool) -> None:
    point_at(settings.discord_api_base, settings.discord_gateway)
    await _check_token(token)
    start_logging()
    # The bot owns the app from here: closing the bot closes it.
    with build_errors_as_one_line(settings):
        app = await build_app(settings, follow_trainer=follow_trainer)
    if sharding is not None:
        bot: EncoreBot | ShardedEncoreBot = ShardedEncoreBot(
            app, shard_ids=sharding.shard_ids, shard_count=sharding.shard_count, follow_trainer=True
        )
    else:
        bot = EncoreBot(app, follow_trainer=follow_trainer)
    with stop_on_signals() as stop:
        try:
            await _until_stopped(bot.start(token), stop)
        except discord.LoginFailure:
            raise UserFacingError(TOKEN_REFUSED) from None
        finally:
            await bot.close()


async def _until_stopped(work: Coroutine[Any, Any, None], stop: asyncio.Event) -> None:
    """Run `work` until it ends (raising what stopped it) or `stop` is set, whichever comes first."""
    runner = asyncio.create_task(work)
    stopper = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait({runner, stopper}, return_when=asyncio.FIRST_COMPLETED)
    stopper.cancel()
    if runner in done:
        runner.result()


def demo(args: argparse.Namespace, settings: Settings) -> int:
    """The real bot and a local Discord emulator, on a throwaway database; no token needed."""
    try:
        run_demo(settings, interactive=args.interactive)
    except DataError as error:
        raise UserFacingError(str(error)) from None
    return 0
