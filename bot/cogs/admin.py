"""/encore status, /encore refit and /encore settings: the model's state, a refit on demand, the server's settings."""

from __future__ import annotations

import time

import discord
from discord import app_commands
from discord.ext import commands

from bot.utils import NEEDS_MANAGE_SERVER, reply, reply_error
from recommender.debias import DEFAULT_POPULARITY_PENALTY

#: Past about 1 the penalty outweighs taste: P1 NDCG@10 falls from 0.264 at 0 to 0.200 at 0.9 (the evaluation report).
MAX_POPULARITY_PENALTY = 2.0


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
        models = self.bot.app.models
        status = await self.bot.app.library.status()
        meta, counts = status.meta, status.counts
        embed = discord.Embed(title="Encore status")
        embed.add_field(name="Model", value=f"`{meta.get('version', 'none')}`", inline=False)
        embed.add_field(name="Fitted", value=meta.get("created", "never"))
        loaded = discord.utils.format_dt(status.loaded_at, "R") if status.loaded_at else "never"
        embed.add_field(name="Loaded", value=loaded)
        embed.add_field(name="Matrix", value=f"{meta.get('users', 0):,} users × {meta.get('artists', 0):,} artists")
        embed.add_field(name="Members", value=f"{counts.get('members', 0):,}")
        embed.add_field(name="Likes", value=f"{counts.get('likes', 0):,}")
        if self.bot.follow_trainer:
            poll = self.bot.app.settings.snapshot_poll_seconds
            embed.add_field(
                name="Refits", value=f"by `encore train`; published snapshots are picked up within {poll:g} s"
            )
        else:
            embed.add_field(name="Refits", value=f"every {models.refit_interval / 60:g} min when something changed")
        if self.bot.shard_count:
            embed.add_field(
                name="Shard",
                value=f"{interaction.guild.shard_id if interaction.guild else 0} of {self.bot.shard_count}",
            )
        if status.last_error:
            embed.add_field(name="Last refit failed", value=status.last_error[:1000], inline=False)
        await reply(interaction, embed=embed, ephemeral=True)

    @app_commands.command(name="refit", description="Refit the model now (Manage Server only)")
    async def refit(self, interaction: discord.Interaction) -> None:
        # default_permissions only hides the command; a server can override it, so check here too.
        if not interaction.permissions.manage_guild:
            await reply_error(interaction, NEEDS_MANAGE_SERVER)
            return
        if self.bot.follow_trainer:
            # A local refit would make this process serve another model than the bot's other shards.
            await self.bot.app.models.pick_up_published()
            version = self.bot.app.library.serving_version
            await reply(
                interaction,
                "This bot's model is refitted by `encore train`, which refits when members' data "
                f"changed; serving the newest published snapshot, `{version}`.",
                ephemeral=True,
            )
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        started = time.perf_counter()
        timings = await self.bot.app.models.refit()
        if timings is None:
            await reply_error(
                interaction,
                f"the refit failed and the previous model keeps serving: {self.bot.app.models.last_error}",
            )
            return
        version = self.bot.app.library.serving_version
        await reply(
            interaction, f"Refitted in {time.perf_counter() - started:.1f} s; now serving `{version}`.", ephemeral=True
        )

    @app_commands.command(name="settings", description="This server's settings (Manage Server only)")
    @app_commands.describe(
        popularity_penalty="0 ranks purely by taste; higher favours lesser-known artists "
        f"(0-{MAX_POPULARITY_PENALTY:g}, default {DEFAULT_POPULARITY_PENALTY:g})",
        reset="Go back to Encore's defaults",
    )
    async def settings(
        self,
        interaction: discord.Interaction,
        popularity_penalty: app_commands.Range[float, 0.0, MAX_POPULARITY_PENALTY] | None = None,
        reset: bool = False,
    ) -> None:
        if not interaction.permissions.manage_guild:
            await reply_error(interaction, NEEDS_MANAGE_SERVER)
            return
        library, guild_id = self.bot.app.library, interaction.guild_id
        if reset:
            await library.set_popularity_penalty(guild_id, None)
        elif popularity_penalty is not None:
            await library.set_popularity_penalty(guild_id, popularity_penalty)
        current = await library.popularity_penalty(guild_id)
        changed = "Saved. " if reset or popularity_penalty is not None else ""
        await reply(
            interaction,
            f"{changed}Popularity penalty: **{current:g}** — {_penalty_meaning(current)} "
            f"(Encore's default is {DEFAULT_POPULARITY_PENALTY:g}; it applies to /recommend and /why here).",
            ephemeral=True,
        )


def _penalty_meaning(penalty: float) -> str:
    if penalty == 0:
        return "recommendations follow taste alone, popular artists included"
    if penalty < 0.4:
        return "a light nudge towards lesser-known artists"
    if penalty <= 0.6:
        return "lesser-known artists get a fair share at almost no cost in accuracy (measured)"
    return "strongly favours lesser-known artists, at some cost in accuracy"


async def setup(bot) -> None:
    await bot.add_cog(Admin(bot))
