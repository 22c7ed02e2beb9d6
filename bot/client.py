"""The Encore bot: discord.py's Bot with Encore's cogs, services and background refits."""

from __future__ import annotations

import asyncio
import datetime
import gc
import logging
from typing import Any

import discord
import yarl
from discord.ext import commands

from bot import checks
from bot.app import App
from bot.components import answer_unclaimed, note_whether_claimed
from bot.errors import as_user_error
from bot.utils import NEEDS_MANAGE_SERVER, NO_MENTIONS, reply_error, reply_user_error

log = logging.getLogger(__name__)

COGS = (
    "bot.cogs.likes",
    "bot.cogs.discover",
    "bot.cogs.account",
    "bot.cogs.admin",
    "bot.cogs.lastfm",
    "bot.cogs.social",
    "bot.cogs.session",
    "bot.cogs.whoknows",
    "bot.cogs.help",
    "bot.cogs.start",
)


def point_at(api_base: str | None, gateway: str | None) -> None:
    """Send the unmodified client to another Discord-compatible endpoint (the local emulator)."""
    if api_base:
        discord.http.Route.BASE = api_base
    if gateway:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway)


class EncoreBotBase(commands.bot.BotBase, discord.Client):
    """Encore's cogs, services and background model updates, on either kind of discord.py client.

    `follow_trainer`: instead of refitting itself, the bot serves each snapshot that `encore train`
    publishes (every process of a sharded bot must serve the same model).
    """

    def __init__(
        self,
        app: App,
        *,
        refit_poll_seconds: float = 30.0,
        follow_trainer: bool = False,
        **client_options: object,
    ) -> None:
        # Default intents hold guilds and voice states: all that /blend-by-voice-channel needs;
        # no privileged intent, so no review is needed to invite the bot.
        intents = discord.Intents.default()
        # ENCORE_PRESENCE opts the bot into the privileged presence intent. Voice members are cached
        # anyway (voice states), and only they can be in a session, so the members intent is not needed.
        intents.presences = app.settings.presence
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            allowed_mentions=NO_MENTIONS,
            help_command=None,
            **client_options,
        )
        self.app = app
        self.refit_poll_seconds = refit_poll_seconds
        self.follow_trainer = follow_trainer
        self._stopping = asyncio.Event()
        self._refit_task: asyncio.Task | None = None
        self._lastfm_task: asyncio.Task | None = None
        self.tree.on_error = self.on_app_command_error

    async def setup_hook(self) -> None:
        for cog in COGS:
            await self.load_extension(cog)
        checks.install(self.tree)
        if self.syncs_commands:
            await self._sync_commands()
        models = self.app.models
        if self.follow_trainer:
            watch = models.follow(self._stopping, self.app.settings.snapshot_poll_seconds)
        else:
            watch = models.run(self._stopping, self.refit_poll_seconds)
        self._refit_task = asyncio.create_task(watch, name="encore-model-updates")
        if self.app.lastfm is not None:
            self._lastfm_task = asyncio.create_task(self.app.lastfm.run(self._stopping), name="encore-lastfm")
        # The catalogue, the store's metadata and discord.py's state live as long as the process;
        # freezing them spares the collector from rescanning them on every full collection.
        gc.freeze()

    @property
    def syncs_commands(self) -> bool:
        """Commands are the application's, not a shard's: of a sharded bot's processes, only the one
        holding shard 0 registers them, so the processes do not overwrite each other at start."""
        return True

    async def _sync_commands(self) -> None:
        guild_id = self.app.settings.dev_guild
        if guild_id:
            guild = discord.Object(id=guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
        else:
            synced = await self.tree.sync()
        log.info("synced %d commands%s", len(synced), f" to server {guild_id}" if guild_id else "")

    async def close(self) -> None:
        """Stop refits, close the gateway, then the store: nothing is cut off mid-write."""
        self._stopping.set()
        if self._refit_task is not None:
            try:
                await asyncio.wait_for(self._refit_task, timeout=60)
            except TimeoutError:
                log.warning("a refit was still running at shutdown; its snapshot is discarded")
        if self._lastfm_task is not None:
            try:
                await asyncio.wait_for(self._lastfm_task, timeout=15)
            except TimeoutError:
                log.warning("a Last.fm refresh was still running at shutdown; that member keeps the earlier import")
        await super().close()
        await self.app.close()

    def dispatch(self, event_name: str, /, *args: Any, **kwargs: Any) -> None:
        if event_name == "interaction":
            note_whether_claimed(self, args[0])  # the view store has just chosen; no handler has run yet
        super().dispatch(event_name, *args, **kwargs)

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        """A click no button, menu or live view took (forged, or its menu gone) still gets an answer."""
        await answer_unclaimed(interaction)

    async def on_app_command_error(
        self, interaction: discord.Interaction, error: discord.app_commands.AppCommandError
    ) -> None:
        cause = error.original if isinstance(error, discord.app_commands.CommandInvokeError) else error
        user_error = as_user_error(cause)
        if user_error is not None:
            await reply_user_error(interaction, user_error)
            return
        if isinstance(error, discord.app_commands.CommandOnCooldown):
            retry = discord.utils.utcnow() + datetime.timedelta(seconds=error.retry_after)
            await reply_error(
                interaction,
                f"slow down: that command is cooling down; try again {discord.utils.format_dt(retry, 'R')}.",
            )
            return
        if isinstance(error, discord.app_commands.MissingPermissions):
            await reply_error(interaction, NEEDS_MANAGE_SERVER)
            return
        if isinstance(error, checks.InvalidOption | discord.app_commands.NoPrivateMessage):
            await reply_error(interaction, str(error))
            return
        if isinstance(error, discord.app_commands.CheckFailure):
            await reply_error(interaction, "you cannot use that command here.")
            return
        log.error("command %s failed", interaction.command.name if interaction.command else "?", exc_info=error)
        await reply_error(interaction, "something went wrong on Encore's side; it has been logged. Please try again.")


class EncoreBot(EncoreBotBase, commands.Bot):
    """One gateway connection: the embedded one-process bot (`encore run`)."""


class ShardedEncoreBot(EncoreBotBase, commands.AutoShardedBot):
    """Some of the bot's shards in this process (`encore run --shards 0-3 --shard-count 8`)."""

    def __init__(self, app: App, *, shard_ids: list[int], shard_count: int, **options: object) -> None:
        super().__init__(app, shard_ids=shard_ids, shard_count=shard_count, **options)

    @property
    def syncs_commands(self) -> bool:
        return 0 in (self.shard_ids or ())
