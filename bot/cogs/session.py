"""/session start, /session end and /session history, and the voice channel (and listening) events a session follows."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import discord
from discord import app_commands
from discord.ext import commands

from bot import checks, looks
from bot.errors import UserError
from bot.menus import session as menus
from bot.services.periodic import run_periodically
from bot.services.sessions import SessionOpen, SessionService, Started
from bot.utils import NO_MENTIONS, reply, reply_error, safe
from db.sessions import SessionRow

log = logging.getLogger(__name__)

#: How often idle sessions are looked for (they end after bot.services.sessions.IDLE_MINUTES).
IDLE_CHECK_SECONDS = 60.0


def panel_url(guild_id: int, channel_id: int, message_id: int | None) -> str:
    return f"https://discord.com/channels/{guild_id}/{channel_id}/{message_id or ''}".rstrip("/")


def voice_members(channel: discord.VoiceChannel | discord.StageChannel) -> list[int]:
    """The people (not bots) in the voice channel."""
    guild = channel.guild
    found = []
    for user_id in channel.voice_states:
        member = guild.get_member(user_id)
        if member is None or not member.bot:
            found.append(user_id)
    return found


def started_note(started: Started, names: dict[int, str]) -> str:
    lines = ["Listening session started: vote on the panel below."]
    if started.private:
        lines.append(f"Left out: {menus.who(started.private, names)} (privacy private).")
    if started.no_likes:
        lines.append(
            f"{menus.who(started.no_likes, names)}: no likes Encore knows yet, so the picks start from the others' "
            "taste; your votes count from now on."
        )
    return "\n".join(lines)


class Session(commands.Cog):
    group = app_commands.Group(
        name="session", description="Listen together: one artist at a time for your voice channel", guild_only=True
    )

    def __init__(self, bot) -> None:
        self.bot = bot
        self.sessions: SessionService = bot.app.sessions
        self._stop = asyncio.Event()
        self._idle_task: asyncio.Task | None = None

    async def cog_load(self) -> None:
        self._idle_task = asyncio.create_task(
            run_periodically(
                self._stop, every=IDLE_CHECK_SECONDS, step=self.end_idle, logger=log, what="ending idle sessions"
            ),
            name="encore-idle-sessions",
        )

    async def cog_unload(self) -> None:
        self._stop.set()
        if self._idle_task is not None:
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(self._idle_task, 10)

    async def end_idle(self) -> None:
        for state in await self.sessions.expire_idle():
            await menus.refresh_panel(self.bot, state.session.id)

    # -- /session start ---------------------------------------------------------------------------

    @group.command(name="start", description="Start a listening session for everyone in your voice channel")
    @app_commands.describe(strategy="How to weigh the group (default: average)")
    @app_commands.choices(
        strategy=[
            app_commands.Choice(name="average: best for the group as a whole", value="average"),
            app_commands.Choice(name="least misery: nobody should mind it", value="least-misery"),
        ]
    )
    @checks.expensive()
    async def start(self, interaction: discord.Interaction, strategy: str = "average") -> None:
        voice = getattr(interaction.user, "voice", None)
        channel = interaction.channel
        if voice is None or voice.channel is None:
            await reply_error(interaction, "join a voice channel with your friends, then run /session start.")
            return
        if not isinstance(channel, discord.abc.Messageable):
            await reply_error(interaction, "run /session start in a text channel.")
            return
        open_already = await self.sessions.open_in_channel(voice.channel.id)
        if open_already is not None:
            # Told before the (public) defer, so that only the member who asked sees it.
            await self._point_to(interaction, open_already)
            return
        await interaction.response.defer(thinking=True)
        present = voice_members(voice.channel)
        if interaction.user.id not in present:
            present.insert(0, interaction.user.id)
        names = menus.names_in(interaction.guild, present)
        try:
            started = await self.sessions.start(
                guild_id=interaction.guild_id,
                voice_channel_id=voice.channel.id,
                text_channel_id=channel.id,
                started_by=interaction.user.id,
                voice_members=present,
                strategy=strategy,
            )
        except SessionOpen as already:
            await self._point_to(interaction, already.session)
            return
        state = started.state
        message = await channel.send(
            embed=menus.panel_embed(state, names), view=menus.panel_view(state), allowed_mentions=NO_MENTIONS
        )
        await self.sessions.set_panel(state.session.id, message.id)
        await reply(interaction, started_note(started, names))

    @staticmethod
    async def _point_to(interaction: discord.Interaction, row: SessionRow) -> None:
        url = panel_url(row.guild_id, row.text_channel_id, row.panel_message_id)
        await reply_error(interaction, f"a session is already running in that voice channel: {url}")

    # -- /session end -----------------------------------------------------------------------------

    @group.command(name="end", description="End the listening session of your voice channel and see the recap")
    async def end(self, interaction: discord.Interaction) -> None:
        voice = getattr(interaction.user, "voice", None)
        session = await self.sessions.open_in_channel(voice.channel.id) if voice and voice.channel else None
        if session is None:
            await reply_error(interaction, "there is no listening session in your voice channel.")
            return
        await self.sessions.end(session.id, interaction.user.id)
        await menus.refresh_panel(self.bot, session.id)
        url = panel_url(session.guild_id, session.text_channel_id, session.panel_message_id)
        await reply(interaction, f"The listening session has ended; the recap is on its panel: {url}")

    # -- /session history -------------------------------------------------------------------------

    @group.command(name="history", description="This server's past listening sessions")
    @app_commands.describe(page="Which page (default 1: the newest)")
    async def history(self, interaction: discord.Interaction, page: app_commands.Range[int, 1, 1000] = 1) -> None:
        found = await self.sessions.history(interaction.guild_id, page)
        if not found.sessions:
            await reply(interaction, "No listening session has ended in this server yet.", ephemeral=True)
            return
        names = menus.names_in(
            interaction.guild, {s.session.started_by for s in found.sessions if s.session.started_by}
        )
        lines = []
        for summary in found.sessions:
            row = summary.session
            by = f" by {safe(names[row.started_by], 40)}" if row.started_by in names else ""
            artists = f"{summary.picks} artist{'s' if summary.picks != 1 else ''}"
            members = f"{summary.members} member{'s' if summary.members != 1 else ''}"
            lines.append(
                f"**#{row.id}** {discord.utils.format_dt(row.started_at, 'f')}{by} — {artists}, {members}, "
                f"{menus.END_TEXT.get(row.end_reason or 'ended', 'ended')} "
                f"([recap]({panel_url(row.guild_id, row.text_channel_id, row.panel_message_id)}))"
            )
        embed = discord.Embed(
            title="Past listening sessions", description=menus.clip("\n".join(lines)), colour=looks.SESSION
        )
        more = f"; /session history page:{found.page + 1} for older ones" if found.page < found.pages else ""
        embed.set_footer(text=f"Page {found.page} of {found.pages}{more}")
        await reply(interaction, embed=embed)

    # -- the voice channels -----------------------------------------------------------------------

    @commands.Cog.listener()
    async def on_voice_state_update(
        self, member: discord.Member, before: discord.VoiceState, after: discord.VoiceState
    ) -> None:
        if member.bot or before.channel == after.channel:
            return
        changed = []
        if before.channel is not None:
            empty = not voice_members(before.channel)
            state = await self.sessions.left(before.channel.id, member.id, channel_empty=empty)
            changed.append(state)
        if after.channel is not None:
            changed.append(await self.sessions.joined(after.channel.id, member.id))
        for state in changed:
            if state is not None:
                await menus.refresh_panel(self.bot, state.session.id)

    # -- listening activity (ENCORE_PRESENCE) -----------------------------------------------------

    @commands.Cog.listener()
    async def on_presence_update(self, before: discord.Member, after: discord.Member) -> None:
        """An opted-in member of a session playing one of its artists on Spotify: their Into it.

        Discord sends presences only with the intent ENCORE_PRESENCE asks for; the check here keeps the
        handler inert should one arrive anyway. Only the artists are read, and nothing of them is kept."""
        if not self.bot.app.settings.presence or after.bot:
            return
        voice = after.voice
        artists = spotify_artists(after)
        if voice is None or voice.channel is None or not artists:
            return
        try:
            state = await self.sessions.listened(voice.channel.id, after.id, artists)
        except UserError as refused:  # e.g. the member's likes are full: no one asked, so no one is told
            log.info("a listened artist was not counted for a session: %s", refused)
            return
        if state is not None:
            await menus.refresh_panel(self.bot, state.session.id)


def spotify_artists(member: discord.Member) -> list[str]:
    """The artists of the song Discord shows the member playing on Spotify (none if they are not)."""
    for activity in member.activities:
        if isinstance(activity, discord.Spotify):
            return activity.artists
    return []


async def setup(bot) -> None:
    bot.add_dynamic_items(*menus.ITEMS)
    await bot.add_cog(Session(bot))
