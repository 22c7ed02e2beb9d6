"""/recommend, /similar and /why: finding new artists, and saying why."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.utils import (
    CHOICE_LIMIT,
    DESCRIPTION_LIMIT,
    OwnedView,
    artist_choices,
    choice_name,
    join_names,
    liked_text,
    link,
    reply,
    reply_error,
    safe,
)
from recommender.engine import MAX_RESULTS, Recommendation

SELECT_OPTIONS = 25


def describe(recommendations: list[Recommendation], start: int = 1) -> str:
    lines = []
    for rank, item in enumerate(recommendations, start):
        because = join_names([safe(a.name, 40) for a in item.because[:2]])
        reason = f" — because you like {because}" if because else ""
        lines.append(f"**{rank}.** {link(item.artist)}{reason}")
    text = "\n".join(lines)
    return text if len(text) <= DESCRIPTION_LIMIT else text[: DESCRIPTION_LIMIT - 1] + "…"


class RecommendationView(OwnedView):
    """Like or dismiss any of the shown artists, or see the next ones."""

    refusal = "these controls belong to whoever asked; run /recommend yourself."

    def __init__(self, cog: Discover, owner: int, shown: list[Recommendation], count: int, genre: str | None) -> None:
        super().__init__(owner, timeout=600)
        self.cog, self.shown, self.count, self.genre = cog, list(shown), count, genre
        self._fill()

    def _options(self) -> list[discord.SelectOption]:
        return [
            discord.SelectOption(label=r.artist.name[:100], value=str(r.artist.artist_id))
            for r in self.shown[-SELECT_OPTIONS:]
        ]

    def _fill(self) -> None:
        self.like_select.options = self._options()
        self.dismiss_select.options = self._options()
        self.more.disabled = len(self.shown) >= MAX_RESULTS

    @discord.ui.select(placeholder="👍 Like one of these…", min_values=1, max_values=1)
    async def like_select(self, interaction: discord.Interaction, select: discord.ui.Select) -> None:
        result = await self.cog.library.like_artist_id(
            interaction.user.id, int(select.values[0]), guild_id=interaction.guild_id
        )
        await interaction.response.send_message(
            f"{liked_text(result.new, link(result.artist))} Your next /recommend takes it into account.",
            ephemeral=True,
            allowed_mentions=discord.AllowedMentions.none(),
        )

    @discord.ui.select(placeholder="🚫 Not interested in…", min_values=1, max_values=1)
    async def dismiss_select(self, interaction: discord.Interaction, select: discord.ui.Select) -> None:
        artist = self.cog.library.catalogue.get(int(select.values[0]))
        await self.cog.library.not_interested(interaction.user.id, artist.artist_id)
        await interaction.response.send_message(
            f"Got it: Encore will not recommend {link(artist)} to you again.",
            ephemeral=True,
            allowed_mentions=discord.AllowedMentions.none(),
        )

    @discord.ui.button(label="Show more", style=discord.ButtonStyle.primary)
    async def more(self, interaction: discord.Interaction, _: discord.ui.Button) -> None:
        extra = await self.cog.library.recommend(
            self.owner,
            self.count,
            genre=self.genre,
            exclude=[r.artist.artist_id for r in self.shown],
            guild_id=interaction.guild_id,
        )
        if not extra:
            await reply_error(interaction, "that is all Encore has for you right now.")
            return
        start = len(self.shown) + 1
        self.shown.extend(extra)
        self._fill()
        embed = discord.Embed(title="More recommendations", description=describe(extra, start))
        await interaction.response.send_message(embed=embed, view=self, ephemeral=True)


class Discover(commands.Cog):
    def __init__(self, bot) -> None:
        self.bot = bot
        self.library = bot.app.library

    async def artist_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return artist_choices(self.library.catalogue, current)

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
    async def recommend(
        self, interaction: discord.Interaction, count: app_commands.Range[int, 1, 25] = 10, genre: str | None = None
    ) -> None:
        genre = genre.strip() if genre else None
        found = await self.library.recommend(interaction.user.id, count, genre=genre, guild_id=interaction.guild_id)
        title = "Recommended for you" + (f" in {safe(genre, 40)}" if genre else "")
        embed = discord.Embed(title=title, description=describe(found))
        embed.set_footer(text="Use /why <artist> for the full reasoning")
        view = RecommendationView(self, interaction.user.id, found, count, genre)
        await reply(interaction, embed=embed, view=view, ephemeral=True)

    @app_commands.command(name="similar", description="Artists similar to one artist")
    @app_commands.describe(artist="The artist's name", count="How many (1-25, default 10)")
    @app_commands.autocomplete(artist=artist_autocomplete)
    async def similar(
        self, interaction: discord.Interaction, artist: str, count: app_commands.Range[int, 1, 25] = 10
    ) -> None:
        found, results = self.library.similar(artist, count)
        lines = [f"**{i}.** {link(a)} ({similarity:.0%} alike)" for i, (a, similarity) in enumerate(results, 1)]
        embed = discord.Embed(title=f"Similar to {safe(found.name)}", description="\n".join(lines))
        await reply(interaction, embed=embed)

    @app_commands.command(name="why", description="Why Encore recommends an artist to you")
    @app_commands.describe(artist="The artist's name")
    @app_commands.autocomplete(artist=artist_autocomplete)
    async def why(self, interaction: discord.Interaction, artist: str) -> None:
        explanation = await self.library.explain(interaction.user.id, artist, guild_id=interaction.guild_id)
        sentences = [safe(line, 300) for line in explanation.sentences()]
        embed = discord.Embed(
            title=f"Why {safe(explanation.artist.name)}?", description="\n".join(sentences), url=explanation.artist.url
        )
        await reply(interaction, embed=embed, ephemeral=True)


async def setup(bot) -> None:
    await bot.add_cog(Discover(bot))
