"""Restarting the end-to-end harness's bot: a new bot on the same database and snapshot folder.

The old bot closes as on SIGTERM (its app too); the new one loads the data, the store and the newest
snapshot anew and logs in to the same emulator, so what a message's components need must come from the
message, its custom ids or the store, as after a real restart.
"""

from __future__ import annotations

import asyncio
import contextlib

from bot.app import build_app
from bot.client import EncoreBot
from bot.settings import Settings
from tests.helpers.e2e import Encore, start_ready


async def _restart(harness: Encore, settings: Settings) -> None:
    await asyncio.wait_for(harness.bot.close(), 30)
    if harness.task is not None:
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await asyncio.wait_for(harness.task, 15)
    app = await build_app(settings)
    bot = EncoreBot(app)
    task = await start_ready(bot, harness.emulator.token)
    # The harness's teardown closes whichever bot it holds: from now on, the new one.
    harness.bot, harness.app, harness.task = bot, app, task


def restart_bot(harness: Encore, timeout: float = 120.0, *, settings: Settings | None = None) -> None:
    """Stop `harness`'s bot and start a new one in its place, on the same database and snapshots.

    `settings`: what the new bot runs with, if not the old bot's (the same database and folders, say,
    with a feature turned off)."""
    harness.run(_restart(harness, harness.app.settings if settings is None else settings), timeout)
