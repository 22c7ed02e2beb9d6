"""A registered command's schema, as Discord's client applies it before sending an interaction.

Who may see the command, which sub-command a name reaches, which options it has and requires, and
how typed options nest under their sub-commands.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from discord_emulator import permissions as perms
from discord_emulator.guild import Guild
from discord_emulator.models import JSON, Channel, Member

# Option types.
SUB_COMMAND, SUB_COMMAND_GROUP = 1, 2
STRING, INTEGER, BOOLEAN, USER, CHANNEL, ROLE, MENTIONABLE, NUMBER, ATTACHMENT = 3, 4, 5, 6, 7, 8, 9, 10, 11


def check_can_use(command: JSON, guild: Guild, channel: Channel, member: Member) -> None:
    """Discord hides a command whose ``default_member_permissions`` the member lacks: it can't be run."""
    raw = command.get("default_member_permissions")
    if raw is None:
        return
    needed = int(raw)
    have = guild.permissions_in(member, channel)
    allowed = have & perms.ADMINISTRATOR or have == perms.ALL if needed == 0 else have & needed == needed
    if not allowed:
        raise PermissionError(
            f"{member.user.username!r} lacks permissions {needed} required by /{command['name']} "
            "(Discord would not offer them the command)"
        )


def walk_subcommand(command: JSON, subcommand: str | None) -> tuple[list[JSON], list[tuple[str, int]]]:
    """The option schema to fill, and the (name, type) chain of sub-command groups/sub-commands."""
    options: list[JSON] = command.get("options") or []
    has_subcommands = any(o["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP) for o in options)
    if subcommand is None:
        if has_subcommands:
            names = sorted(o["name"] for o in options)
            raise ValueError(f"/{command['name']} needs a subcommand (one of {names})")
        return options, []
    path: list[tuple[str, int]] = []
    for part in subcommand.split():
        match = next((o for o in options if o["name"] == part and o["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP)), None)
        if match is None:
            raise ValueError(f"/{command['name']} has no subcommand {subcommand!r}")
        path.append((part, match["type"]))
        options = match.get("options") or []
    if path[-1][1] != SUB_COMMAND:
        raise ValueError(f"{subcommand!r} is a group: name one of its subcommands too")
    return options, path


def check_names_and_required(command_name: str, schema: list[JSON], given: Mapping[str, Any]) -> None:
    names = {o["name"] for o in schema}
    unknown = set(given) - names
    if unknown:
        raise ValueError(f"/{command_name} has no option(s) {sorted(unknown)} (options: {sorted(names)})")
    missing = [o["name"] for o in schema if o.get("required") and o["name"] not in given]
    if missing:
        raise ValueError(f"/{command_name} requires option(s) {missing}")


def nest(path: list[tuple[str, int]], options: list[JSON]) -> list[JSON]:
    """Wrap leaf options in their sub-command (group) options, innermost first."""
    for name, kind in reversed(path):
        options = [{"name": name, "type": kind, "options": options}]
    return options
