"""Every cog's slash commands, loaded into a discord.py Bot that never connects: unique names, described."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import COGS


def loaded_tree() -> app_commands.CommandTree:
    async def load() -> app_commands.CommandTree:
        bot = commands.Bot(command_prefix="!", intents=discord.Intents.none(), help_command=None)
        # The cogs only keep references to the services when loaded; nothing is called.
        bot.app = SimpleNamespace(  # type: ignore[attr-defined]
            store=object(),
            models=object(),
            library=object(),
            social=object(),
            sessions=object(),
            lastfm=None,
            settings=None,
        )
        for cog in COGS:
            await bot.load_extension(cog)
        return bot.tree

    return asyncio.run(load())


def walk(commands_: list) -> list:
    found = []
    for command in commands_:
        found.append(command)
        if isinstance(command, app_commands.Group):
            found += walk(command.commands)
    return found


def test_every_cog_loads_and_registers_commands() -> None:
    names = {c.name for c in loaded_tree().get_commands()}
    assert {"like", "recommend", "forget-me", "encore", "lastfm", "blend", "session"} <= names


def test_command_names_are_unique_at_every_level() -> None:
    def check(level: list) -> None:
        names = [c.name for c in level]
        assert len(names) == len(set(names)), names
        for command in level:
            if isinstance(command, app_commands.Group):
                check(command.commands)

    check(loaded_tree().get_commands())


def test_every_command_and_option_has_a_description() -> None:
    # Context menus have a name only: Discord shows no description for them.
    for command in walk(loaded_tree().get_commands(type=discord.AppCommandType.chat_input)):
        assert command.description and command.description != "…", command.qualified_name
        if isinstance(command, app_commands.Command):
            for parameter in command.parameters:
                assert parameter.description and parameter.description != "…", (
                    f"/{command.qualified_name} {parameter.name}"
                )


def test_the_member_context_menus_are_guild_only() -> None:
    menus = loaded_tree().get_commands(type=discord.AppCommandType.user)
    assert {m.name for m in menus} == {"Taste match", "Blend with me"}
    assert all(m.guild_only for m in menus)
