"""/recommend, /similar and /why: finding new artists, and saying why."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot import checks, looks
from bot.components import TextStash
from bot.menus.recommend import ITEMS, RecommendationView, describe
from bot.utils import (
    CHOICE_LIMIT,
    artist_autocomplete,
    choice_name,
    link,
    listen_links,
    reply,
    safe,
    with_listen_links,
)


class Discover(commands.Cog):
    def __init__(self, bot) -> None:
        self.bot = bot
        self.library = bot.app.library

    async def genre_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return [
            app_commands.Choice(name=choice_name(tag), value=tag[:CHOICE_LIMIT])
            for tag in self.library.catalogue.search_tags(current[:CHOICE_LIMIT], 25)
        ]

    @app_commands.command(name="recommend", description="Artists you may like, and why")
    @app_commands.describe(count="How many (1-25, default 10)", genre="Only artists with this tag, e.g. jazz")
    @app_commands.autocomplete(genre=genre_autocomplete)
    @checks.expensive()
    async def recommend(
        self, interaction: discord.Interaction, count: app_commands.Range[int, 1, 25] = 10, genre: str | None = None
    ) -> None:
        genre = genre.strip() if genre else None
        found = await self.library.recommend(interaction.user.id, count, genre=genre, guild_id=interaction.guild_id)
        liked_here = None
        if interaction.guild_id is not None:
            ids = [r.artist.artist_id for r in found]
            liked_here = await self.bot.app.social.liked_here(interaction.guild_id, ids, asker=interaction.user.id)
        title = "Recommended for you" + (f" in {safe(genre, 40)}" if genre else "")
        embed = discord.Embed(title=title, description=describe(found, liked_here=liked_here), colour=looks.RECOMMEND)
        embed.set_footer(text="Use /why <artist> for the full reasoning")
        shown = [r.artist for r in found]
        view = RecommendationView(interaction.user.id, shown, count, genre, TextStash.of(self.bot))
        await view.show(interaction, embed=embed, ephemeral=True)

    @app_commands.command(name="similar", description="Artists similar to one artist")
    @app_commands.describe(artist="The artist's name", count="How many (1-25, default 10)")
    @app_commands.autocomplete(artist=artist_autocomplete)
    @checks.expensive()
    async def similar(
        self, interaction: discord.Interaction, artist: str, count: app_commands.Range[int, 1, 25] = 10
    ) -> None:
        found, results = await self.library.similar(interaction.user.id, artist, count, guild_id=interaction.guild_id)
        lines = [f"**{i}.** {link(a)} ({similarity:.0%} alike)" for i, (a, similarity) in enumerate(results, 1)]
        embed = discord.Embed(
            title=f"Similar to {safe(found.name)}",
            description=with_listen_links(lines, [artist for artist, _ in results]),
            colour=looks.SIMILAR,
        )
        looks.thumbnail(embed, found)
        await reply(interaction, embed=embed)

    @app_commands.command(name="why", description="Why Encore recommends an artist to you")
    @app_commands.describe(artist="The artist's name")
    @app_commands.autocomplete(artist=artist_autocomplete)
    async def why(self, interaction: discord.Interaction, artist: str) -> None:
        explanation = await self.library.explain(interaction.user.id, artist, guild_id=interaction.guild_id)
        sentences = [safe(line, 300) for line in explanation.sentences()]
        sentences.append(f"Listen: {listen_links(explanation.artist)}")
        embed = discord.Embed(
            title=f"Why {safe(explanation.artist.name)}?",
            description="\n".join(sentences),
            url=explanation.artist.url,
            colour=looks.WHY,
        )
        looks.thumbnail(embed, explanation.artist)
        await reply(interaction, embed=embed, ephemeral=True)


async def setup(bot) -> None:
    await bot.add_cog(Discover(bot))
    bot.add_dynamic_items(*ITEMS)
