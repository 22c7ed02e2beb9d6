"""/encore status, /encore refit, /encore settings, /encore artists and /encore digest: the model's state, a
refit on demand, the server's settings, the artists its members added, and the weekly server digest."""

from __future__ import annotations

import asyncio
import logging
import time

import discord
from discord import app_commands
from discord.ext import commands

from bot import checks, looks
from bot.services.digest import WEEKDAYS, Digest, next_post
from bot.services.library import MAX_POPULARITY_PENALTY
from bot.utils import (
    CHOICE_LIMIT,
    DESCRIPTION_LIMIT,
    NEEDS_MANAGE_SERVER,
    NO_MENTIONS,
    choice_name,
    link,
    reply,
    reply_error,
    safe,
)
from recommender.debias import DEFAULT_POPULARITY_PENALTY

log = logging.getLogger(__name__)

#: What the bot needs in a digest's channel to post it.
DIGEST_PERMISSIONS = discord.Permissions(view_channel=True, send_messages=True, embed_links=True)


# Discord can only restrict a whole top-level command, not one subcommand, so all of /encore is for
# members with Manage Server; bot.checks checks it again in code, as a server can override it.
@app_commands.default_permissions(manage_guild=True)
@app_commands.guild_only()
class Admin(commands.GroupCog, group_name="encore", group_description="Encore's model and data (Manage Server)"):
    digest = app_commands.Group(name="digest", description="A weekly digest of this server's music (Manage Server)")

    def __init__(self, bot) -> None:
        self.bot = bot
        super().__init__()
        self._digest_stop = asyncio.Event()
        self._digest_task: asyncio.Task | None = None

    @commands.Cog.listener()
    async def on_ready(self) -> None:
        # The digest loop starts once the bot is connected (READY comes again after a reconnect).
        if self._digest_task is None:
            self._digest_task = asyncio.create_task(self._post_digests(), name="encore-digests")

    async def cog_unload(self) -> None:
        self._digest_stop.set()
        if self._digest_task is not None:
            try:
                await asyncio.wait_for(self._digest_task, timeout=30)
            except TimeoutError:
                log.warning("a digest was still being posted at shutdown")

    @app_commands.command(name="status", description="Model version, last refit, members and likes")
    async def status(self, interaction: discord.Interaction) -> None:
        models = self.bot.app.models
        status = await self.bot.app.library.status()
        meta, counts = status.meta, status.counts
        embed = discord.Embed(title="Encore status", colour=looks.INFO)
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
    @checks.refit_cooldown()
    async def refit(self, interaction: discord.Interaction) -> None:
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

    async def added_artist_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        # Autocomplete runs no command checks: only moderators get the server's list.
        if interaction.guild_id is None or not interaction.permissions.manage_guild:
            return []
        needle = current.casefold()
        rows = await self.bot.app.library.artists.listed(interaction.guild_id)
        names = [r.name for r in rows if needle in r.name.casefold()][:25]
        return [app_commands.Choice(name=choice_name(n), value=n[:CHOICE_LIMIT]) for n in names]

    @app_commands.command(name="artists", description="Artists members added in this server (Manage Server only)")
    @app_commands.describe(remove="An added artist to remove from this server")
    @app_commands.autocomplete(remove=added_artist_autocomplete)
    async def artists(self, interaction: discord.Interaction, remove: str | None = None) -> None:
        if not interaction.permissions.manage_guild:
            await reply_error(interaction, NEEDS_MANAGE_SERVER)
            return
        seen, guild_id = self.bot.app.library.artists, interaction.guild_id
        if remove is not None:
            removed = await seen.remove(guild_id, remove)
            if removed is None:
                await reply_error(interaction, f"no artist added in this server is called “{safe(remove)}”.")
                return
            gone = (
                " It is deleted too, as nothing outside this server referred to it."
                if removed.removal == "deleted"
                else ""
            )
            await reply(
                interaction,
                f"Removed {safe(removed.artist.name)}: members here no longer see it, and it cannot be added "
                f"here again.{gone}",
                ephemeral=True,
            )
            return
        rows = await seen.listed(guild_id)
        if not rows:
            await reply(interaction, "No member has added an artist in this server.", ephemeral=True)
            return
        lines, length = [], 0
        for row in rows:
            by = f" by <@{row.added_by}>" if row.added_by else ""
            line = f"• {safe(row.name)} — {discord.utils.format_dt(row.added_at, 'R')}{by}"
            if length + len(line) + 1 > DESCRIPTION_LIMIT - 100:
                lines.append(f"…and {len(rows) - len(lines)} more")
                break
            lines.append(line)
            length += len(line) + 1
        embed = discord.Embed(title="Artists added in this server", description="\n".join(lines), colour=looks.INFO)
        embed.set_footer(text=f"{len(rows)} artist{'s' if len(rows) != 1 else ''} · /encore artists remove:<name>")
        await reply(interaction, embed=embed, ephemeral=True)

    # -- /encore digest ---------------------------------------------------------------------------

    @digest.command(name="set", description="Post a weekly digest in a channel, on a day and hour (UTC)")
    @app_commands.describe(
        channel="Where to post it",
        day="Which day of the week",
        hour="Which hour, in UTC (0-23)",
    )
    @app_commands.choices(day=[app_commands.Choice(name=name, value=i) for i, name in enumerate(WEEKDAYS)])
    async def digest_set(
        self,
        interaction: discord.Interaction,
        channel: discord.TextChannel,
        day: int,
        hour: app_commands.Range[int, 0, 23],
    ) -> None:
        guild = interaction.guild
        target = guild.get_channel(channel.id) if guild is not None else None
        if target is None or not isinstance(target, discord.TextChannel):
            await reply_error(interaction, "choose a text channel of this server.")
            return
        if not target.permissions_for(guild.me) >= DIGEST_PERMISSIONS:
            await reply_error(
                interaction,
                f"Encore cannot post in {target.mention}: it needs View Channel, Send Messages and Embed Links there.",
            )
            return
        digests = self.bot.app.digests
        schedule = await digests.set(guild.id, target.id, day, hour)
        when = discord.utils.format_dt(next_post(schedule, digests.clock()), "F")
        await reply(
            interaction,
            f"Saved. The weekly digest posts in {target.mention} every {WEEKDAYS[day]} at {hour:02d}:00 UTC; "
            f"the next one {when}. `/encore digest off` stops it.",
            ephemeral=True,
        )

    @digest.command(name="off", description="Stop this server's weekly digest")
    async def digest_off(self, interaction: discord.Interaction) -> None:
        stopped = await self.bot.app.digests.off(interaction.guild_id)
        text = "Stopped: no more weekly digests here." if stopped else "This server has no weekly digest to stop."
        await reply(interaction, text, ephemeral=True)

    @digest.command(name="show", description="When and where this server's weekly digest posts")
    async def digest_show(self, interaction: discord.Interaction) -> None:
        digests = self.bot.app.digests
        schedule = await digests.schedule(interaction.guild_id)
        if schedule is None:
            await reply(interaction, "No weekly digest here; `/encore digest set` starts one.", ephemeral=True)
            return
        last = discord.utils.format_dt(schedule.last_posted_at, "R") if schedule.last_posted_at is not None else "never"
        await reply(
            interaction,
            f"The weekly digest posts in <#{schedule.channel_id}> every {WEEKDAYS[schedule.weekday]} at "
            f"{schedule.hour:02d}:00 UTC; next {discord.utils.format_dt(next_post(schedule, digests.clock()), 'F')}, "
            f"last posted {last}.",
            ephemeral=True,
        )

    async def _post_digests(self) -> None:
        """The digest loop: post the digests that are due, every few minutes."""
        await self.bot.app.digests.run(self._digest_stop, self.post_digest, handles=self._handles)

    def _handles(self, guild_id: int) -> bool:
        # Of a sharded bot, the process holding the server's shard posts its digest.
        return self.bot.get_guild(guild_id) is not None

    async def post_due_digests(self) -> list[Digest]:
        """Post the digests due now (by the digest service's clock): what the loop does on each pass."""
        return await self.bot.app.digests.post_due(self.post_digest, handles=self._handles)

    async def post_digest(self, digest: Digest) -> None:
        guild = self.bot.get_guild(digest.guild_id)
        channel = guild.get_channel(digest.channel_id) if guild is not None else None
        if not isinstance(channel, discord.TextChannel):
            log.warning("server %s's digest channel is gone; /encore digest set picks another", digest.guild_id)
            return
        if not channel.permissions_for(guild.me) >= DIGEST_PERMISSIONS:
            log.warning("Encore may no longer post server %s's digest in its channel", digest.guild_id)
            return
        await channel.send(embed=digest_embed(digest, guild.name), allowed_mentions=NO_MENTIONS)


def _penalty_meaning(penalty: float) -> str:
    if penalty == 0:
        return "recommendations follow taste alone, popular artists included"
    if penalty < 0.4:
        return "a light nudge towards lesser-known artists"
    if penalty <= 0.6:
        return "lesser-known artists get a fair share at almost no cost in accuracy (measured)"
    return "strongly favours lesser-known artists, at some cost in accuracy"


def digest_embed(digest: Digest, guild_name: str) -> discord.Embed:
    """The week's digest: a blend for the week's active members, then what rose that week.

    Members are counted, never named: the post is for the whole server, and private members are
    left out of both parts."""
    lines = []
    if digest.picks:
        # A blend takes the most active members up to its limit, and only those with a taste the model knows.
        who = (
            f"the {digest.blended} members active this week"
            if digest.blended == digest.active
            else f"{digest.blended} of the {digest.active} members active this week"
        )
        lines.append(f"**A blend for {who}** (artists new to all of them)")
        lines += [f"**{rank}.** {link(pick.artist)}" for rank, pick in enumerate(digest.picks, 1)]
    if digest.rising:
        if lines:
            lines.append("")
        lines.append("**Rising this week**")
        for artist, now, before in digest.rising:
            change = "new" if before == 0 else f"was {before}"
            lines.append(f"▲ {link(artist)} — {now} member{'s' if now != 1 else ''} ({change})")
    embed = discord.Embed(
        title=f"This week in {safe(guild_name, 100)}",
        description="\n".join(lines)[:DESCRIPTION_LIMIT],
        timestamp=digest.until,
        colour=looks.TRENDS,
    )
    embed.set_footer(text="Members with privacy private are not included · /blend and /trending for more")
    return embed


async def setup(bot) -> None:
    await bot.add_cog(Admin(bot))
