"""Discord permission bits and the guild/channel permission computation Discord documents."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

CREATE_INSTANT_INVITE = 1 << 0
KICK_MEMBERS = 1 << 1
BAN_MEMBERS = 1 << 2
ADMINISTRATOR = 1 << 3
MANAGE_CHANNELS = 1 << 4
MANAGE_GUILD = 1 << 5
ADD_REACTIONS = 1 << 6
VIEW_AUDIT_LOG = 1 << 7
STREAM = 1 << 9
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
MANAGE_MESSAGES = 1 << 13
EMBED_LINKS = 1 << 14
ATTACH_FILES = 1 << 15
READ_MESSAGE_HISTORY = 1 << 16
MENTION_EVERYONE = 1 << 17
USE_EXTERNAL_EMOJIS = 1 << 18
CONNECT = 1 << 20
SPEAK = 1 << 21
USE_VAD = 1 << 25
CHANGE_NICKNAME = 1 << 26
MANAGE_ROLES = 1 << 28
USE_APPLICATION_COMMANDS = 1 << 31
REQUEST_TO_SPEAK = 1 << 32
CREATE_PUBLIC_THREADS = 1 << 35
SEND_MESSAGES_IN_THREADS = 1 << 38
USE_EMBEDDED_ACTIVITIES = 1 << 39
SEND_VOICE_MESSAGES = 1 << 46
SEND_POLLS = 1 << 49
USE_EXTERNAL_APPS = 1 << 50

#: What Discord reports for an administrator or the owner: every bit it defines, 0..50.
ALL = (1 << 51) - 1

#: Roughly what a new guild's @everyone role gets.
DEFAULT_EVERYONE = (
    CREATE_INSTANT_INVITE
    | ADD_REACTIONS
    | STREAM
    | VIEW_CHANNEL
    | SEND_MESSAGES
    | EMBED_LINKS
    | ATTACH_FILES
    | READ_MESSAGE_HISTORY
    | MENTION_EVERYONE
    | USE_EXTERNAL_EMOJIS
    | CONNECT
    | SPEAK
    | USE_VAD
    | CHANGE_NICKNAME
    | USE_APPLICATION_COMMANDS
    | REQUEST_TO_SPEAK
    | CREATE_PUBLIC_THREADS
    | SEND_MESSAGES_IN_THREADS
    | USE_EMBEDDED_ACTIVITIES
    | SEND_VOICE_MESSAGES
    | SEND_POLLS
    | USE_EXTERNAL_APPS
)

#: What a typical bot invite link grants the bot's managed role.
DEFAULT_BOT = (
    VIEW_CHANNEL
    | SEND_MESSAGES
    | SEND_MESSAGES_IN_THREADS
    | EMBED_LINKS
    | ATTACH_FILES
    | READ_MESSAGE_HISTORY
    | ADD_REACTIONS
    | USE_EXTERNAL_EMOJIS
    | USE_APPLICATION_COMMANDS
    | CONNECT
    | SPEAK
)


def base_permissions(*, is_owner: bool, everyone: int, role_permissions: Iterable[int]) -> int:
    """Guild-level permissions: owner gets everything, else @everyone OR the member's roles."""
    if is_owner:
        return ALL
    value = everyone
    for perms in role_permissions:
        value |= perms
    return ALL if value & ADMINISTRATOR else value


def channel_permissions(
    base: int,
    *,
    guild_id: int,
    member_id: int,
    member_role_ids: Iterable[int],
    overwrites: Iterable[Mapping[str, object]],
) -> int:
    """Apply a channel's overwrites in Discord's order: @everyone, then roles together, then the member."""
    if base & ADMINISTRATOR or base == ALL:
        return ALL
    by_id = {int(str(o["id"])): o for o in overwrites}
    value = base
    everyone = by_id.get(guild_id)
    if everyone is not None:
        value = (value & ~int(str(everyone.get("deny", 0)))) | int(str(everyone.get("allow", 0)))
    allow = deny = 0
    for role_id in member_role_ids:
        overwrite = by_id.get(role_id)
        if overwrite is not None and overwrite.get("type", 0) == 0:
            allow |= int(str(overwrite.get("allow", 0)))
            deny |= int(str(overwrite.get("deny", 0)))
    value = (value & ~deny) | allow
    mine = by_id.get(member_id)
    if mine is not None and mine.get("type", 1) == 1:
        value = (value & ~int(str(mine.get("deny", 0)))) | int(str(mine.get("allow", 0)))
    return value
