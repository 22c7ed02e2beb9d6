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
LISTENING_TEXT = (
    "While it is on and you are in a listening session, Encore reads only the artist of the song Discord "
    "shows you playing on Spotify: if it is one the session proposed, that counts as your *Into it*. Nothing "
    "else of your activity is read, and nothing of it is kept beyond that vote."
)
#: ENCORE_PRESENCE is off: the bot gets no presences at all, whatever members choose.
NO_PRESENCE = "It cannot work on this bot, though: its owner has not switched on Discord presences (ENCORE_PRESENCE)."
PRIVATE_LISTENING = "While your privacy is private you are left out of listening sessions, so it has no effect."


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
    @app_commands.describe(
        setting="public or private (leave both out to see your current settings)",
        listening="on: a session's artist you play on Spotify counts as your Into it (off unless you choose it)",
    )
    async def privacy(
        self,
        interaction: discord.Interaction,
        setting: Literal["public", "private"] | None = None,
        listening: Literal["on", "off"] | None = None,
    ) -> None:
        user_id = interaction.user.id
        lines = []
        if setting is not None:
            await self.library.set_privacy(user_id, setting)
            lines.append(f"Your privacy is now **{setting}**. {PRIVACY_TEXT[setting]}")
        if listening is not None:
            await self.library.set_listening_opt_in(user_id, listening == "on")
            lines.append(f"Listening activity is now **{listening}**. {LISTENING_TEXT}")
        privacy = setting or await self.library.privacy_of(user_id)
        state = listening or ("on" if await self.library.listening_opt_in(user_id) else "off")
        if not lines:
            lines.append(f"Your privacy is **{privacy}**. {PRIVACY_TEXT[privacy]}")
            lines.append(f"Listening activity is **{state}** (change it with /privacy listening). {LISTENING_TEXT}")
        if state == "on" and privacy == "private":
            lines.append(PRIVATE_LISTENING)
        if (listening is not None or setting is None) and not self.bot.app.settings.presence:
            lines.append(NO_PRESENCE)
        await reply(interaction, "\n".join(lines), ephemeral=True)


async def setup(bot) -> None:
    await bot.add_cog(Account(bot))
    bot.add_dynamic_items(*forget.ITEMS)
