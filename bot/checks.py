"""Checks every slash command runs in code, whatever Discord's client was told or a request claims.

Discord hides guild-only commands in DMs, hides Manage Server commands from other members and keeps
options within their declared ranges and choices, but only in its own client: a server can override
the permissions, and a crafted request can send any value. So each command re-checks, from the same
declarations (`guild_only`, `default_permissions`, `Range`, `Literal`, `choices`), before it runs.
"""

from __future__ import annotations

import math
from typing import Any

import discord
from discord import app_commands

from bot.utils import safe

#: Expensive commands: how many calls one member may make per this many seconds.
EXPENSIVE_CALLS, EXPENSIVE_PER_SECONDS = 5, 30.0
REFIT_CALLS, REFIT_PER_SECONDS = 1, 300.0


class InvalidOption(app_commands.CheckFailure):
    """An option's value is outside what the command declares; the message says what it accepts."""


def expensive() -> Any:
    """A per-member cooldown for the commands that solve or score (/recommend, /similar, /blend, /taste)."""
    return app_commands.checks.cooldown(EXPENSIVE_CALLS, EXPENSIVE_PER_SECONDS)


def refit_cooldown() -> Any:
    """A per-member cooldown for /encore refit: each one fits the whole model (refits also queue)."""
    return app_commands.checks.cooldown(REFIT_CALLS, REFIT_PER_SECONDS)


def install(tree: app_commands.CommandTree) -> None:
    """Add `check_in_code` to every slash command in the tree (call after the cogs are loaded)."""
    for command in tree.walk_commands():
        if isinstance(command, app_commands.Command):
            command.add_check(check_in_code)


async def check_in_code(interaction: discord.Interaction) -> bool:
    command = interaction.command
    if not isinstance(command, app_commands.Command):
        return True
    root = command.root_parent or command
    if (command.guild_only or root.guild_only) and interaction.guild_id is None:
        raise app_commands.NoPrivateMessage("that command works in a server, not in direct messages.")
    needed = command.default_permissions or root.default_permissions
    if needed is not None and not interaction.permissions >= needed:
        missing = [name for name, value in needed if value and not getattr(interaction.permissions, name)]
        raise app_commands.MissingPermissions(missing)
    for parameter in command.parameters:
        problem = option_problem(parameter, getattr(interaction.namespace, parameter.name, None))
        if problem is not None:
            raise InvalidOption(problem)
    return True


def option_problem(parameter: app_commands.Parameter, value: object) -> str | None:
    """Why `value` is not acceptable for `parameter`, or None if it is."""
    if value is None:
        return None if not parameter.required else f"`{parameter.display_name}` is required."
    name = f"`{parameter.display_name}`"
    if parameter.choices:
        allowed = [choice.value for choice in parameter.choices]
        if value not in allowed:
            listed = ", ".join(str(choice) for choice in allowed)
            return f"“{safe(str(value), 50)}” is not a valid {name}: choose {listed}."
        return None
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return _number_problem(name, value, parameter.min_value, parameter.max_value)
    return None


def _number_problem(name: str, value: float, lowest: float | None, highest: float | None) -> str | None:
    bounds = f"from {lowest:g} to {highest:g}" if lowest is not None and highest is not None else "a number"
    if not math.isfinite(value):
        return f"{name} must be {bounds}."
    if (lowest is not None and value < lowest) or (highest is not None and value > highest):
        return f"{name} must be {bounds}; got {value:g}."
    return None
