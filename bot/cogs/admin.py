"""/encore status and /encore refit: the model's state, and a refit on demand."""

from __future__ import annotations

import time

import discord
from discord import app_commands
from discord.ext import commands

from bot.utils import reply, reply_error


# Discord can only restrict a whole top-level command, not one subcommand, so /encore (status and
# refit) is for members with Manage Server; refit checks it again, as a server can override this.
@app_commands.default_permissions(manage_guild=True)
@app_commands.guild_only()
class Admin(commands.GroupCog, group_name="encore", group_description="Encore's model and data (Manage Server)"):
    def __init__(self, bot) -> None:
        self.bot = bot
        super().__init__()

    @app_commands.command(name="status", description="Model version, last refit, members and likes")
    async def status(self, interaction: discord.Interaction) -> None:
        models = self.bot.services.models
        counts = await self.bot.services.store.counts()
        state = models.state
        meta = state.snapshot.meta if state else {}
        embed = discord.Embed(title="Encore status")
        embed.add_field(name="Model", value=f"`{meta.get('version', 'none')}`", inline=False)
        embed.add_field(name="Fitted", value=meta.get("created", "never"))
        embed.add_field(name="Loaded", value=discord.utils.format_dt(state.loaded_at, "R") if state else "never")
        embed.add_field(name="Matrix", value=f"{meta.get('users', 0):,} users × {meta.get('artists', 0):,} artists")
        embed.add_field(name="Members", value=f"{counts.get('members', 0):,}")
        embed.add_field(name="Likes", value=f"{counts.get('likes', 0):,}")
        embed.add_field(name="Refits", value=f"every {models.refit_interval / 60:g} min when something changed")
        if models.last_error:
            embed.add_field(name="Last refit failed", value=models.last_error[:1000], inline=False)
        await reply(interaction, embed=embed, ephemeral=True)

    @app_commands.command(name="refit", description="Refit the model now (Manage Server only)")
    async def refit(self, interaction: discord.Interaction) -> None:
        # default_permissions only hides the command; a server can override it, so check here too.
        if not interaction.permissions.manage_guild:
            await reply_error(interaction, "you need the Manage Server permission for that.")
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        started = time.perf_counter()
        timings = await self.bot.services.models.refit()
        if timings is None:
            await reply_error(interaction, f"the refit failed and the previous model keeps serving: {self.bot.services.models.last_error}")
            return
        version = self.bot.services.models.state.snapshot.version
        await reply(interaction, f"Refitted in {time.perf_counter() - started:.1f} s; now serving `{version}`.", ephemeral=True)


async def setup(bot) -> None:
    await bot.add_cog(Admin(bot))
