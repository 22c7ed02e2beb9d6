"""/start: a new member's first few minutes, picking music types and then artists, in two menus."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.menus import onboarding as menus


class Start(commands.Cog):
    def __init__(self, bot) -> None:
        self.bot = bot

    @app_commands.command(name="start", description="New here? Pick music types and artists, get recommendations")
    async def start(self, interaction: discord.Interaction) -> None:
        view = menus.TypesView(interaction.user.id, self.bot.app.onboarding.types())
        await view.show(interaction, menus.types_text(), ephemeral=True)


async def setup(bot) -> None:
    await bot.add_cog(Start(bot))
    bot.add_dynamic_items(*menus.ITEMS)
