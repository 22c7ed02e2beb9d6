"""/forget-me and /privacy: a member's control over their own data."""

from __future__ import annotations

from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.menus import forget
from bot.utils import reply

PRIVACY_TEXT = {
    "public": "Others in your servers may see your likes and compare tastes with you.",
    "private": "Only you see your likes; you are left out of other members' /likes, /taste and /neighbours.",
}


class Account(commands.Cog):
    def __init__(self, bot) -> None:
        self.bot = bot
        self.library = bot.app.library

    @app_commands.command(name="forget-me", description="Delete everything Encore keeps about you")
    async def forget_me(self, interaction: discord.Interaction) -> None:
        await forget.ConfirmForget(interaction.user.id).show(
            interaction,
            "This deletes all your likes, marks and settings in Encore, in every server. Sure?",
            ephemeral=True,
        )

    @app_commands.command(name="privacy", description="Whether others may see your likes and taste")
    @app_commands.describe(setting="public or private (leave out to see your current setting)")
    async def privacy(
        self, interaction: discord.Interaction, setting: Literal["public", "private"] | None = None
    ) -> None:
        if setting is None:
            current = await self.library.privacy_of(interaction.user.id)
            await reply(interaction, f"Your privacy is **{current}**. {PRIVACY_TEXT[current]}", ephemeral=True)
            return
        await self.library.set_privacy(interaction.user.id, setting)
        await reply(interaction, f"Your privacy is now **{setting}**. {PRIVACY_TEXT[setting]}", ephemeral=True)


async def setup(bot) -> None:
    await bot.add_cog(Account(bot))
    bot.add_dynamic_items(*forget.ITEMS)
