"""The Encore bot: discord.py's Bot with Encore's cogs, services and background refits."""

from __future__ import annotations

import asyncio
import gc
import logging

import discord
import yarl
from discord.ext import commands

from bot.services.container import Services
from bot.utils import NO_MENTIONS, reply_error

log = logging.getLogger(__name__)

COGS = ("bot.cogs.likes", "bot.cogs.discover", "bot.cogs.account", "bot.cogs.admin", "bot.cogs.lastfm", "bot.cogs.social")


def point_at(api_base: str | None, gateway: str | None) -> None:
    """Send the unmodified client to another Discord-compatible endpoint (the local emulator)."""
    if api_base:
        discord.http.Route.BASE = api_base
    if gateway:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway)


class EncoreBot(commands.Bot):
    def __init__(self, services: Services, *, refit_poll_seconds: float = 30.0) -> None:
        # Default intents hold guilds and voice states: all that /blend-by-voice-channel needs;
        # no privileged intent, so no review is needed to invite the bot.
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=discord.Intents.default(),
            allowed_mentions=NO_MENTIONS,
            help_command=None,
        )
        self.services = services
        self.refit_poll_seconds = refit_poll_seconds
        self._stopping = asyncio.Event()
        self._refit_task: asyncio.Task | None = None
        self._lastfm_task: asyncio.Task | None = None
        self.tree.on_error = self.on_app_command_error

    async def setup_hook(self) -> None:
        for cog in COGS:
            await self.load_extension(cog)
        guild_id = self.services.settings.dev_guild
        if guild_id:
            guild = discord.Object(id=guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
        else:
            synced = await self.tree.sync()
        log.info("synced %d commands%s", len(synced), f" to server {guild_id}" if guild_id else "")
        self._refit_task = asyncio.create_task(
            self.services.models.run(self._stopping, self.refit_poll_seconds), name="encore-refits"
        )
        if self.services.lastfm is not None:
            self._lastfm_task = asyncio.create_task(self.services.lastfm.run(self._stopping), name="encore-lastfm")
        # The catalogue, the store's metadata and discord.py's state live as long as the process;
        # freezing them spares the collector from rescanning them on every full collection.
        gc.freeze()

    async def close(self) -> None:
        """Stop refits, close the gateway, then the store: nothing is cut off mid-write."""
        self._stopping.set()
        if self._refit_task is not None:
            try:
                await asyncio.wait_for(self._refit_task, timeout=60)
            except asyncio.TimeoutError:
                log.warning("a refit was still running at shutdown; its snapshot is discarded")
        if self._lastfm_task is not None:
            try:
                await asyncio.wait_for(self._lastfm_task, timeout=15)
            except asyncio.TimeoutError:
                log.warning("a Last.fm refresh was still running at shutdown; that member keeps the earlier import")
        await super().close()
        await self.services.close()

    async def on_app_command_error(self, interaction: discord.Interaction, error: discord.app_commands.AppCommandError) -> None:
        if isinstance(error, discord.app_commands.MissingPermissions):
            await reply_error(interaction, "you need the Manage Server permission for that.")
            return
        if isinstance(error, discord.app_commands.CheckFailure):
            await reply_error(interaction, "you cannot use that command here.")
            return
        log.error("command %s failed", interaction.command.name if interaction.command else "?", exc_info=error)
        await reply_error(interaction, "something went wrong on Encore's side; it has been logged. Please try again.")
