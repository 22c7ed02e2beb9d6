"""/forget-me and /privacy: a member's control over their own data."""

from __future__ import annotations

from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.utils import OwnedView, reply

PRIVACY_TEXT = {
    "public": "Others in your servers may see your likes and compare tastes with you.",
    "private": "Only you see your likes; you are left out of other members' /likes, /taste and /neighbours.",
}


class ConfirmForget(OwnedView):
    refusal = "only the member who asked can confirm this."

    def __init__(self, cog: Account, owner: int) -> None:
        super().__init__(owner, timeout=120)
        self.cog = cog

    @discord.ui.button(label="Delete all my data", style=discord.ButtonStyle.danger)
    async def confirm(self, interaction: discord.Interaction, _: discord.ui.Button) -> None:
        removed = await self.cog.bot.app.library.forget(interaction.user.id)
        self.stop()
        await interaction.response.edit_message(
            content=f"Done: Encore deleted your {removed.get('likes', 0)} likes, "
            f"{removed.get('not_interested', 0)} “not interested” marks and everything else it kept about you. "
            "The model forgets you at its next refit.",
            view=None,
        )

    @discord.ui.button(label="Cancel", style=discord.ButtonStyle.secondary)
    async def cancel(self, interaction: discord.Interaction, _: discord.ui.Button) -> None:
        self.stop()
        await interaction.response.edit_message(content="Nothing was deleted.", view=None)


class Account(commands.Cog):
    def __init__(self, bot) -> None:
        self.bot = bot
        self.library = bot.app.library

    @app_commands.command(name="forget-me", description="Delete everything Encore keeps about you")
    async def forget_me(self, interaction: discord.Interaction) -> None:
        await reply(
            interaction,
            "This deletes all your likes, marks and settings in Encore, in every server. Sure?",
            ephemeral=True,
            view=ConfirmForget(self, interaction.user.id),
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
