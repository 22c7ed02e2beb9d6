"""/blend, /taste, /neighbours, /trending and /genres: music discovery with the other members; and the same
taste match and blend from a member's context menu (right-click → Apps → "Taste match", "Blend with me")."""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager

import discord
from discord import app_commands
from discord.ext import commands

from bot import checks, looks
from bot.errors import UserError
from bot.render.taste_card import render_taste_card
from bot.services.social import MAX_TREND_DAYS, MembersUnavailable, SocialService
from bot.utils import DESCRIPTION_LIMIT, join_names, link, member_of, reply, reply_error, safe

log = logging.getLogger(__name__)

CARD_NAME = "taste.png"
SHARED_SHOWN = 5
STRATEGY_TEXT = {
    "average": "ranked by everyone's taste together",
    "least-misery": "ranked by whoever likes it least (least misery)",
}


def clip(text: str, limit: int = DESCRIPTION_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def alike(percent: int, words: str) -> str:
    return f"more alike than {percent}% of pairs of listeners: {words}"


def who(user_ids, names: dict[int, str]) -> str:
    return join_names([safe(names.get(u, "a member"), 40) for u in user_ids])


def unavailable_text(error: MembersUnavailable, names: dict[int, str], asker: int) -> str:
    """Who cannot take part and why, with display names (never mentions)."""
    parts = []
    if error.private:
        many = len(error.private) > 1
        parts.append(f"{who(error.private, names)} {'keep' if many else 'keeps'} their taste private")
    others = [u for u in error.empty if u != asker]
    if asker in error.empty:
        parts.append("you have not liked any artist Encore knows yet (use /like first)")
    if others:
        many = len(others) > 1
        parts.append(f"{who(others, names)} {'have' if many else 'has'} not liked any artist Encore knows yet")
    return "; ".join(parts) + "."


@contextmanager
def naming_members(names: dict[int, str], asker: int) -> Iterator[None]:
    """The service names unavailable members by id; the member reads their display names."""
    try:
        yield
    except MembersUnavailable as error:
        raise UserError(unavailable_text(error, names, asker)) from error


#: The context-menu names members see (right-click a member → Apps).
TASTE_MATCH, BLEND_WITH_ME = "Taste match", "Blend with me"


def user_menu(name: str, callback) -> app_commands.ContextMenu:
    """A guild-only user context menu with the cooldown of the commands it stands for."""
    menu = app_commands.ContextMenu(name=name, callback=callback)
    app_commands.guild_only(menu)
    return checks.expensive()(menu)


def menu_target(interaction: discord.Interaction, member: discord.Member | discord.User) -> discord.Member:
    """The member right-clicked, if a context menu may use them: in this server, not a bot, not oneself.

    Discord only offers guild-only menus in servers, but a crafted request need not say so."""
    if interaction.guild is None:
        raise UserError("that works in a server, not in direct messages.")
    if not isinstance(member, discord.Member):
        raise UserError("that member is not in this server any more.")
    if member.bot:
        raise UserError("bots have no taste to compare; right-click a member instead.")
    if member.id == interaction.user.id:
        raise UserError("right-click another member: that one is you.")
    return member


class Social(commands.Cog):
    def __init__(self, bot) -> None:
        self.bot = bot
        self.social: SocialService = bot.app.social
        # Context menus cannot be cog methods in discord.py: each is added to the tree, and removed on unload.
        self.menus = [
            user_menu(TASTE_MATCH, self.taste_match_menu),
            user_menu(BLEND_WITH_ME, self.blend_with_me_menu),
        ]
        for menu in self.menus:
            bot.tree.add_command(menu)

    async def cog_unload(self) -> None:
        for menu in self.menus:
            self.bot.tree.remove_command(menu.name, type=menu.type)

    # -- the member context menus ---------------------------------------------------------------

    async def taste_match_menu(self, interaction: discord.Interaction, member: discord.Member | discord.User) -> None:
        """/taste with the member right-clicked."""
        await self._taste(interaction, menu_target(interaction, member))

    async def blend_with_me_menu(self, interaction: discord.Interaction, member: discord.Member | discord.User) -> None:
        """/blend of the invoker and the member right-clicked, as /blend member1:… does."""
        target = menu_target(interaction, member)
        await self._blend(interaction, [interaction.user, target], 10, "average", from_voice=False)

    # -- /blend -----------------------------------------------------------------------------------

    @app_commands.command(
        name="blend",
        description="Artists new to all of you that suit you all: you + the members named, or your voice channel",
    )
    @app_commands.describe(
        member1="A member to blend with (leave all out: everyone in your voice channel)",
        member2="Another member",
        member3="Another member",
        member4="Another member",
        member5="Another member",
        count="How many artists (1-25, default 10)",
        strategy="How to weigh the members (default: average)",
    )
    @app_commands.choices(
        strategy=[
            app_commands.Choice(name="average: best for the group as a whole", value="average"),
            app_commands.Choice(name="least misery: nobody should mind it", value="least-misery"),
        ]
    )
    @app_commands.guild_only()
    @checks.expensive()
    async def blend(
        self,
        interaction: discord.Interaction,
        member1: discord.Member | None = None,
        member2: discord.Member | None = None,
        member3: discord.Member | None = None,
        member4: discord.Member | None = None,
        member5: discord.Member | None = None,
        count: app_commands.Range[int, 1, 25] = 10,
        strategy: str = "average",
    ) -> None:
        named = [m for m in (member1, member2, member3, member4, member5) if m is not None]
        if named:
            group = [interaction.user] + [m for m in named if m.id != interaction.user.id]
            from_voice = False
        else:
            voice = getattr(interaction.user, "voice", None)
            if voice is None or voice.channel is None:
                await reply_error(
                    interaction,
                    "name the members to blend with, or join a voice channel with them and run /blend there.",
                )
                return
            group = [interaction.user] + self._voice_members(voice.channel, interaction.user.id)
            from_voice = True
        await self._blend(interaction, group, count, strategy, from_voice=from_voice)

    async def _blend(
        self, interaction: discord.Interaction, group: list, count: int, strategy: str, *, from_voice: bool
    ) -> None:
        names = {m.id: m.display_name for m in group}
        with naming_members(names, interaction.user.id):
            blend = await self.social.blend(
                interaction.user.id,
                [m.id for m in group],
                count,
                strategy,
                skip_unavailable=from_voice,
                guild_id=interaction.guild_id,
            )
        lines = []
        for rank, pick in enumerate(blend.picks, 1):
            most, least = blend.members[pick.suits_most], blend.members[pick.suits_least]
            suits = (
                "suits everyone alike"
                if most == least
                else f"suits {safe(names[most], 40)} most, {safe(names[least], 40)} least"
            )
            lines.append(f"**{rank}.** {link(pick.artist)} — {suits}")
        embed = discord.Embed(
            title=clip(f"A blend for {who(blend.members, names)}", 256),
            description=clip("\n".join(lines) or "Nothing new to all of you; like a few more artists."),
            colour=looks.SOCIAL,
        )
        embed.set_footer(text=f"Only artists new to all of you, {STRATEGY_TEXT[blend.strategy]}")
        content = None
        if blend.left_out is not None:
            content = "Left out: " + unavailable_text(blend.left_out, names, interaction.user.id)
        await reply(interaction, clip(content, 2000) if content else None, embed=embed)

    def _voice_members(self, channel, asker: int) -> list[discord.Member]:
        guild = channel.guild
        members = []
        for user_id in channel.voice_states:
            member = guild.get_member(user_id)
            if member is not None and not member.bot and member.id != asker:
                members.append(member)
        return members

    # -- /taste -----------------------------------------------------------------------------------

    @app_commands.command(name="taste", description="How alike your taste and another member's are, with a picture")
    @app_commands.describe(member="The member to compare your taste with")
    @app_commands.guild_only()
    @checks.expensive()
    async def taste(self, interaction: discord.Interaction, member: discord.Member) -> None:
        await self._taste(interaction, member)

    async def _taste(self, interaction: discord.Interaction, member: discord.Member) -> None:
        me = interaction.user
        names = {me.id: me.display_name, member.id: member.display_name}
        with naming_members(names, me.id):
            match = await self.social.compare(me.id, member.id)
        compatibility = match.compatibility
        lines = [
            f"Your tastes are more alike than **{compatibility.percent}%** of pairs of listeners: "
            f"{compatibility.words}."
        ]
        if match.shared:
            shown = [link(a) for a in match.shared[:SHARED_SHOWN]]
            more = len(match.shared) - len(shown)
            if more:
                shown.append(f"{more} more")
            lines.append(f"You both like {join_names(shown)}.")
        else:
            lines.append("You do not share a liked artist yet.")
        embed = discord.Embed(
            title=clip(f"Your taste and {safe(member.display_name, 60)}'s", 256),
            description=clip("\n".join(lines)),
            colour=looks.SOCIAL,
        )
        # Private askers see their comparison alone: it shows their likes.
        ephemeral = await self.bot.app.library.privacy_of(me.id) == "private"
        await reply(interaction, embed=embed, ephemeral=ephemeral)
        # The picture follows, rendered off the event loop: drawing it is slow next to the answer.
        try:
            png = await asyncio.to_thread(
                render_taste_card,
                me.display_name,
                member.display_name,
                match.genres,
                compatibility.percent,
                compatibility.words,
            )
            embed.set_image(url=f"attachment://{CARD_NAME}")
            await interaction.edit_original_response(
                embed=embed,
                attachments=[
                    discord.File(io.BytesIO(png), filename=CARD_NAME, description="Your top genres side by side")
                ],
            )
        except Exception:  # the text is already there; a missing picture is not worth an error reply
            log.warning("could not attach the taste picture", exc_info=True)

    # -- /neighbours ------------------------------------------------------------------------------

    @app_commands.command(name="neighbours", description="The members of this server whose taste is nearest yours")
    @app_commands.describe(count="How many (1-10, default 5)")
    @app_commands.guild_only()
    async def neighbours(self, interaction: discord.Interaction, count: app_commands.Range[int, 1, 10] = 5) -> None:
        # Without likes of their own the member is told so (the service's MembersUnavailable, by the error handler).
        found = await self.social.neighbours(interaction.user.id, interaction.guild_id)
        lines = []
        for neighbour in found:
            member = await member_of(interaction.guild, neighbour.user_id)
            if member is None or member.bot:
                continue  # left the server
            c = neighbour.compatibility
            common = (
                f" · {neighbour.shared} artist{'s' if neighbour.shared != 1 else ''} in common"
                if neighbour.shared
                else ""
            )
            lines.append(f"**{len(lines) + 1}.** {safe(member.display_name, 60)} — {alike(c.percent, c.words)}{common}")
            if len(lines) == count:
                break
        if not lines:
            await reply(
                interaction,
                "Nobody else here has shared their taste yet (members with privacy private are "
                "never listed). Invite them to /like a few artists!",
                ephemeral=True,
            )
            return
        embed = discord.Embed(
            title="Nearest tastes in this server", description=clip("\n".join(lines)), colour=looks.SOCIAL
        )
        embed.set_footer(text="Only members whose privacy is public are listed")
        await reply(interaction, embed=embed, ephemeral=True)

    # -- /trending --------------------------------------------------------------------------------

    @app_commands.command(name="trending", description="What this server has liked lately, and what is rising")
    @app_commands.describe(days=f"How many days back (1-{MAX_TREND_DAYS}, default 7)")
    @app_commands.guild_only()
    async def trending(
        self, interaction: discord.Interaction, days: app_commands.Range[int, 1, MAX_TREND_DAYS] = 7
    ) -> None:
        trends = await self.social.trending(interaction.guild_id, days)
        span = "day" if days == 1 else f"{days} days"
        if not trends.top:
            await reply(interaction, f"Nobody here has liked an artist in the last {span}. Try /like!", ephemeral=True)
            return
        lines = ["**Most liked**"]
        for rank, (artist, members) in enumerate(trends.top, 1):
            lines.append(f"**{rank}.** {link(artist)} — {members} member{'s' if members != 1 else ''}")
        if trends.rising:
            lines += ["", f"**Rising** (against the {span} before)"]
            for artist, now, before in trends.rising[:5]:
                change = "new" if before == 0 else f"was {before}"
                lines.append(f"▲ {link(artist)} — {now} ({change})")
        embed = discord.Embed(
            title=f"Trending in this server, last {span}", description=clip("\n".join(lines)), colour=looks.TRENDS
        )
        embed.set_footer(text="Counts members, not likes; members with privacy private are not counted")
        await reply(interaction, embed=embed)

    # -- /genres ----------------------------------------------------------------------------------

    @app_commands.command(
        name="genres", description="Your top genres (or a member's), from the tags of the artists liked"
    )
    @app_commands.describe(member="Whose genres (default: yours)")
    @app_commands.guild_only()
    async def genres(self, interaction: discord.Interaction, member: discord.Member | None = None) -> None:
        target = member or interaction.user
        names = {target.id: target.display_name}
        with naming_members(names, interaction.user.id):
            found = await self.social.genres(interaction.user.id, target.id)
        if not found:
            await reply(interaction, "None of those artists has genre tags in the catalogue yet.", ephemeral=True)
            return
        top = found[:10]
        widest = top[0][1]
        lines = [
            f"**{i}.** {safe(tag, 40)} — {share:.0%} {'▰' * max(1, round(8 * share / widest))}"
            for i, (tag, share) in enumerate(top, 1)
        ]
        whose = "Your" if target.id == interaction.user.id else f"{safe(target.display_name, 60)}'s"
        embed = discord.Embed(title=f"{whose} top genres", description=clip("\n".join(lines)), colour=looks.SOCIAL)
        embed.set_footer(text="From the Last.fm tags of the artists liked; /recommend genre: narrows to one")
        await reply(interaction, embed=embed, ephemeral=target.id == interaction.user.id)


async def setup(bot) -> None:
    await bot.add_cog(Social(bot))
