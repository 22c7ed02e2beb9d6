"""/like, /unlike and /likes: telling Encore what you like."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.components import TextStash
from bot.errors import NoMatch
from bot.menus import likes as menus
from bot.services.like_lists import ListLikes, like_names
from bot.utils import (
    CONTENT_LIMIT,
    artist_autocomplete,
    choice_name,
    liked_text,
    link,
    names_listed,
    reply,
    reply_error,
    safe,
)
from recommender.catalogue import Artist

AUTOCOMPLETE_CHOICES = 25
#: Names of a list shown in a reply before "and N more".
NAMES_LISTED = 15


def _names(artists: list[Artist]) -> str:
    return names_listed(artists, NAMES_LISTED, 60)


def list_liked_text(found: ListLikes) -> str:
    """The answer to a /like of several names: what was liked, and each name that matched no artist."""
    lines = []
    if found.liked:
        lines.append(f"Noted: you like {_names(found.liked)}.")
    if found.already:
        lines.append(f"You already like {_names(found.already)}.")
    if found.over_limit:
        lines.append(f"⚠️ {found.over_limit} left out: you like as many artists as Encore keeps; /unlike some first.")
    for unknown in found.unknown:
        said = unknown.reply_text(safe)
        lines.append(f"⚠️ {said[:1].upper()}{said[1:]}")
    text = "\n".join(lines)
    return text if len(text) <= CONTENT_LIMIT else text[: CONTENT_LIMIT - 1] + "…"


class Likes(commands.Cog):
    def __init__(self, bot) -> None:
        self.bot = bot
        self.library = bot.app.library

    async def own_likes_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        liked = await self.library.liked_artists(interaction.user.id)
        needle = current.casefold()
        names = [a.name for a in liked if needle in a.name.casefold()][:AUTOCOMPLETE_CHOICES]
        return [app_commands.Choice(name=choice_name(n), value=n[:100]) for n in names]

    @app_commands.command(name="like", description="Tell Encore you like an artist (or several, with commas)")
    @app_commands.describe(artist="The artist's name, or several separated by commas")
    @app_commands.autocomplete(artist=artist_autocomplete)
    async def like(self, interaction: discord.Interaction, artist: str) -> None:
        if "," in artist:
            found = await like_names(self.library, interaction.user.id, artist, interaction.guild_id)
            matched = [*found.liked, *found.already]
            if len(matched) + len(found.unknown) > 1:
                await reply(interaction, list_liked_text(found), ephemeral=True)
                return
            if matched:
                # One name with a comma in it ("Crosby, Stills, Nash & Young"): answered as any one name.
                await reply(interaction, liked_text(bool(found.liked), link(matched[0])), ephemeral=True)
                return
        try:
            result = await self.library.like(interaction.user.id, artist, interaction.guild_id)
        except NoMatch as error:
            suggestions = list(error.suggestions)
            view = menus.DidYouMean(interaction.user.id, error.query, suggestions, TextStash.of(self.bot))
            text = menus.no_match_text(error.query, self.library.new_artists.enabled)
            await view.show(interaction, text, ephemeral=True)
            return
        await reply(interaction, liked_text(result.new, link(result.artist)), ephemeral=True)

    @app_commands.command(name="unlike", description="Take back a like")
    @app_commands.describe(artist="One of the artists you like")
    @app_commands.autocomplete(artist=own_likes_autocomplete)
    async def unlike(self, interaction: discord.Interaction, artist: str) -> None:
        result = await self.library.unlike(interaction.user.id, artist)
        if result.new:
            await reply(interaction, f"Removed {link(result.artist)} from your likes.", ephemeral=True)
        else:
            await reply_error(interaction, f"{safe(result.artist.name)} was not among your likes.")

    @app_commands.command(name="likes", description="The artists you (or another member) like")
    @app_commands.describe(member="Whose likes to show (default: yours)")
    async def likes(self, interaction: discord.Interaction, member: discord.Member | None = None) -> None:
        target = member or interaction.user
        if target.id != interaction.user.id and await self.library.privacy_of(target.id) == "private":
            await reply_error(interaction, f"{safe(target.display_name)} keeps their likes private.")
            return
        liked = await self.library.liked_artists(target.id)
        if not liked:
            whose = "You have" if target.id == interaction.user.id else f"{safe(target.display_name)} has"
            await reply(interaction, f"{whose} not liked any artist yet. Try /like.", ephemeral=True)
            return
        title = f"Liked by {safe(target.display_name, 60)}"
        pages = menus.LikesPages(interaction.user.id, target.id, title, liked)
        ephemeral = target.id == interaction.user.id
        if pages.pages > 1:
            await pages.show(interaction, embed=pages.embed(), ephemeral=ephemeral)
        else:
            await reply(interaction, embed=pages.embed(), ephemeral=ephemeral)


async def setup(bot) -> None:
    await bot.add_cog(Likes(bot))
    bot.add_dynamic_items(*menus.ITEMS)
