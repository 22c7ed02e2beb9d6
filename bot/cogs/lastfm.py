"""/lastfm link and /lastfm unlink: a member's Last.fm listening as part of their taste."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.utils import join_names, reply, reply_error, safe

NOT_SET_UP = (
    "Last.fm import is not set up on this bot: whoever runs it sets LASTFM_API_KEY "
    "(a free key from https://www.last.fm/api/account/create)."
)


class LastFm(commands.GroupCog, group_name="lastfm", group_description="Import your Last.fm listening"):
    def __init__(self, bot) -> None:
        self.bot = bot
        super().__init__()

    @app_commands.command(name="link", description="Import your top artists from Last.fm (refreshed daily)")
    @app_commands.describe(username="Your Last.fm username")
    async def link(self, interaction: discord.Interaction, username: app_commands.Range[str, 1, 100]) -> None:
        importer = self.bot.app.lastfm
        if importer is None:
            await reply_error(interaction, NOT_SET_UP)
            return
        # Last.fm may take seconds (and pages) to answer: longer than Discord's 3 s to respond.
        await interaction.response.defer(ephemeral=True, thinking=True)
        # A LastFmError is told to the member by the command tree's error handler.
        summary = await importer.link(interaction.user.id, username, guild_id=interaction.guild_id)
        if summary.artists == 0:
            await reply(
                interaction,
                f"Linked to Last.fm user **{safe(summary.username)}**, who has no plays yet. "
                "Encore checks again daily.",
                ephemeral=True,
            )
            return
        top = join_names([safe(name, 40) for name in summary.top[:3]])
        await reply(
            interaction,
            f"Linked to Last.fm user **{safe(summary.username)}**: {summary.artists} top artists imported "
            f"as {summary.plays:,} plays, led by {top}. They count in /recommend now and are refreshed daily; "
            "/lastfm unlink removes them.",
            ephemeral=True,
        )

    @app_commands.command(name="unlink", description="Stop importing from Last.fm and remove what was imported")
    async def unlink(self, interaction: discord.Interaction) -> None:
        importer = self.bot.app.lastfm
        if importer is None:
            await reply_error(interaction, NOT_SET_UP)
            return
        # Unlinking rewrites the served snapshot without the imported plays (and may wait for a refit):
        # longer than Discord's 3 s to respond.
        await interaction.response.defer(ephemeral=True, thinking=True)
        if await importer.unlink(interaction.user.id):
            await reply(
                interaction,
                "Unlinked: the artists imported from Last.fm are gone from your taste. Your own /like likes stay.",
                ephemeral=True,
            )
        else:
            await reply_error(interaction, "you have no Last.fm account linked; /lastfm link <username> adds one.")


async def setup(bot) -> None:
    await bot.add_cog(LastFm(bot))
