"""/like, /unlike and /likes: telling Encore what you like."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.errors import NoMatch
from bot.utils import OwnedView, artist_choices, choice_name, liked_text, link, reply, reply_error, safe

PAGE_SIZE = 10
AUTOCOMPLETE_CHOICES = 25


class DidYouMean(OwnedView):
    """Buttons for the nearest artists, and one to add the typed name as a new artist."""

    refusal = "these buttons belong to whoever ran the command."

    def __init__(self, cog: Likes, owner: int, query: str, suggestions) -> None:
        super().__init__(owner, timeout=300)
        self.cog, self.query = cog, query
        for artist in suggestions[:4]:
            self.add_item(self._choice(artist))
        add = discord.ui.Button(
            label=choice_name(f"Add “{query}” as a new artist")[:80], style=discord.ButtonStyle.secondary
        )
        add.callback = self._add_new
        self.add_item(add)

    def _choice(self, artist) -> discord.ui.Button:
        button = discord.ui.Button(label=artist.name[:80], style=discord.ButtonStyle.primary)

        async def like_it(interaction: discord.Interaction) -> None:
            await self.cog.like_by_id(interaction, artist.artist_id, artist.name)

        button.callback = like_it
        return button

    async def _add_new(self, interaction: discord.Interaction) -> None:
        result = await self.cog.library.add_artist_and_like(interaction.user.id, self.query, interaction.guild_id)
        await interaction.response.edit_message(
            content=f"Added {safe(result.artist.name)} as a new artist and noted that you like them. "
            "They count in recommendations after the next refit.",
            view=None,
        )


class LikesPages(OwnedView):
    refusal = "run /likes yourself to turn the pages."

    def __init__(self, owner: int, title: str, lines: list[str]) -> None:
        super().__init__(owner, timeout=300)
        self.title, self.lines, self.page = title, lines, 0
        self._refresh()

    @property
    def pages(self) -> int:
        return max(1, -(-len(self.lines) // PAGE_SIZE))

    def embed(self) -> discord.Embed:
        start = self.page * PAGE_SIZE
        body = "\n".join(self.lines[start : start + PAGE_SIZE])
        embed = discord.Embed(title=self.title, description=body)
        count = len(self.lines)
        embed.set_footer(text=f"Page {self.page + 1} of {self.pages} · {count} artist{'s' if count != 1 else ''}")
        return embed

    def _refresh(self) -> None:
        self.previous.disabled = self.page == 0
        self.next.disabled = self.page >= self.pages - 1

    @discord.ui.button(label="◀ Previous", style=discord.ButtonStyle.secondary)
    async def previous(self, interaction: discord.Interaction, _: discord.ui.Button) -> None:
        self.page = max(0, self.page - 1)
        self._refresh()
        await interaction.response.edit_message(embed=self.embed(), view=self)

    @discord.ui.button(label="Next ▶", style=discord.ButtonStyle.secondary)
    async def next(self, interaction: discord.Interaction, _: discord.ui.Button) -> None:
        self.page = min(self.pages - 1, self.page + 1)
        self._refresh()
        await interaction.response.edit_message(embed=self.embed(), view=self)


class Likes(commands.Cog):
    def __init__(self, bot) -> None:
        self.bot = bot
        self.library = bot.app.library

    async def artist_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return artist_choices(self.library.catalogue, current, AUTOCOMPLETE_CHOICES)

    async def own_likes_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        liked = await self.library.liked_artists(interaction.user.id)
        needle = current.casefold()
        names = [a.name for a in liked if needle in a.name.casefold()][:AUTOCOMPLETE_CHOICES]
        return [app_commands.Choice(name=choice_name(n), value=n[:100]) for n in names]

    @app_commands.command(name="like", description="Tell Encore you like an artist")
    @app_commands.describe(artist="The artist's name")
    @app_commands.autocomplete(artist=artist_autocomplete)
    async def like(self, interaction: discord.Interaction, artist: str) -> None:
        try:
            result = await self.library.like(interaction.user.id, artist, interaction.guild_id)
        except NoMatch as error:
            view = DidYouMean(self, interaction.user.id, error.query, list(error.suggestions))
            await reply(
                interaction,
                f"No artist called “{safe(error.query)}”. Did you mean one of these?",
                ephemeral=True,
                view=view,
            )
            return
        await reply(interaction, liked_text(result.new, link(result.artist)), ephemeral=True)

    async def like_by_id(self, interaction: discord.Interaction, artist_id: int, name: str) -> None:
        result = await self.library.like_artist_id(interaction.user.id, artist_id, guild_id=interaction.guild_id)
        await interaction.response.edit_message(content=liked_text(result.new, safe(name)), view=None)

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
        lines = [f"{i}. {link(a)}" for i, a in enumerate(liked, 1)]
        pages = LikesPages(interaction.user.id, f"Liked by {safe(target.display_name, 60)}", lines)
        await reply(
            interaction,
            embed=pages.embed(),
            view=pages if pages.pages > 1 else None,
            ephemeral=target.id == interaction.user.id,
        )


async def setup(bot) -> None:
    await bot.add_cog(Likes(bot))
