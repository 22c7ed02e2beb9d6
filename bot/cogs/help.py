"""/help: every command in one line, grouped, read from the command tree so it never goes stale."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot import looks
from bot.utils import DESCRIPTION_LIMIT, reply

#: Which group a top-level command belongs to; a command missing here still shows, under "More".
GROUPS: dict[str, tuple[str, ...]] = {
    "Start here": ("start",),
    "Your taste": ("like", "unlike", "likes", "genres"),
    "Discover": ("recommend", "similar", "why", "whoknows", "trending"),
    "Together": ("blend", "taste", "neighbours", "session"),
    "Your data": ("lastfm", "privacy", "forget-me"),
    "Server admin": ("encore",),
}
START_HERE = (
    "**Start here:** `/start` picks a few music types and artists with you, or `/like` artists you love "
    "(several at once: `Radiohead, Björk`), or `/lastfm link` to import them; then `/recommend`."
)


def help_text(tree: app_commands.CommandTree) -> str:
    """Every chat command of the tree with its own description, grouped as GROUPS says."""
    group_of = {name: group for group, names in GROUPS.items() for name in names}
    sections: dict[str, list[str]] = {group: [] for group in [*GROUPS, "More"]}
    for command in tree.walk_commands():
        if isinstance(command, app_commands.Command):
            root = command.root_parent.name if command.root_parent else command.name
            sections[group_of.get(root, "More")].append(f"`/{command.qualified_name}` — {command.description}")
    menus = [c.name for c in tree.get_commands(type=discord.AppCommandType.user)]
    if menus:
        sections["Together"].append("Right-click a member → Apps: " + ", ".join(f"**{m}**" for m in menus))
    parts = [START_HERE]
    parts += [f"__{group}__\n" + "\n".join(lines) for group, lines in sections.items() if lines]
    text = "\n\n".join(parts)
    return text if len(text) <= DESCRIPTION_LIMIT else text[: DESCRIPTION_LIMIT - 1] + "…"


class Help(commands.Cog):
    def __init__(self, bot) -> None:
        self.bot = bot

    @app_commands.command(name="help", description="Every Encore command in one line each")
    async def help(self, interaction: discord.Interaction) -> None:
        embed = discord.Embed(title="Encore's commands", description=help_text(self.bot.tree), colour=looks.INFO)
        await reply(interaction, embed=embed, ephemeral=True)


async def setup(bot) -> None:
    await bot.add_cog(Help(bot))
