"""/whoknows: the members of this server who like an artist, by display name."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot import looks
from bot.utils import DESCRIPTION_LIMIT, artist_autocomplete, join_names, link, member_of, reply, safe

#: Names listed before "and N more": a long list reads as noise.
NAMES_SHOWN = 30


class WhoKnows(commands.Cog):
    def __init__(self, bot) -> None:
        self.bot = bot
        self.library = bot.app.library
        self.social = bot.app.social

    @app_commands.command(name="whoknows", description="The members of this server who like an artist")
    @app_commands.describe(artist="The artist's name")
    @app_commands.autocomplete(artist=artist_autocomplete)
    @app_commands.guild_only()
    async def whoknows(self, interaction: discord.Interaction, artist: str) -> None:
        seen = await self.library.catalogue_for(interaction.user.id, interaction.guild_id)
        found = self.library.resolve(artist, seen)
        member_ids = await self.social.who_knows(interaction.guild_id, found.artist_id)
        names = []
        for user_id in member_ids:
            member = await member_of(interaction.guild, user_id)
            if member is not None and not member.bot:
                names.append(safe(member.display_name, 40))
        if not names:
            text = f"Nobody here has said they like {link(found)} yet (members with private likes are not shown)."
        else:
            shown = names[:NAMES_SHOWN]
            if len(names) > len(shown):
                shown.append(f"{len(names) - len(shown)} more")
            many = len(names) > 1
            text = f"{join_names(shown)} {'like' if many else 'likes'} {link(found)}."
        embed = discord.Embed(
            title=f"Who knows {safe(found.name, 200)} here", description=text[:DESCRIPTION_LIMIT], colour=looks.SOCIAL
        )
        looks.thumbnail(embed, found)
        embed.set_footer(text="Members with private likes are never listed")
        await reply(interaction, embed=embed)


async def setup(bot) -> None:
    await bot.add_cog(WhoKnows(bot))
