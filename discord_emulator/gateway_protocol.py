"""Discord's gateway protocol v10 as the emulator speaks it: opcodes, close codes, intents, sessions, IDENTIFY.

A client error is raised as :class:`GatewayClose`; the gateway answers it by closing the socket with its code,
as Discord does, so every check reads as one ``raise``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

# Opcodes (https://discord.com/developers/docs/topics/opcodes-and-status-codes#gateway).
DISPATCH = 0
HEARTBEAT = 1
IDENTIFY = 2
PRESENCE_UPDATE = 3
VOICE_STATE_UPDATE = 4
RESUME = 6
RECONNECT = 7
REQUEST_GUILD_MEMBERS = 8
INVALID_SESSION = 9
HELLO = 10
HEARTBEAT_ACK = 11

# Close codes.
UNKNOWN_ERROR = 4000
UNKNOWN_OPCODE = 4001
DECODE_ERROR = 4002
NOT_AUTHENTICATED = 4003
AUTHENTICATION_FAILED = 4004
ALREADY_AUTHENTICATED = 4005
INVALID_SEQ = 4007
INVALID_SHARD = 4010
INVALID_API_VERSION = 4012
INVALID_INTENTS = 4013
DISALLOWED_INTENTS = 4014

# Intents.
GUILDS = 1 << 0
GUILD_MEMBERS = 1 << 1
GUILD_PRESENCES = 1 << 8
GUILD_VOICE_STATES = 1 << 7
GUILD_MESSAGES = 1 << 9
DIRECT_MESSAGES = 1 << 12
MESSAGE_CONTENT = 1 << 15
PRIVILEGED_INTENTS = {"members": GUILD_MEMBERS, "presences": GUILD_PRESENCES, "message_content": MESSAGE_CONTENT}
ALL_INTENTS = (1 << 26) - 1

#: Which intent a dispatch needs; events not listed are always sent.
_EVENT_INTENT = {
    "GUILD_CREATE": GUILDS,
    "GUILD_UPDATE": GUILDS,
    "GUILD_DELETE": GUILDS,
    "GUILD_ROLE_CREATE": GUILDS,
    "GUILD_ROLE_UPDATE": GUILDS,
    "GUILD_ROLE_DELETE": GUILDS,
    "CHANNEL_CREATE": GUILDS,
    "CHANNEL_UPDATE": GUILDS,
    "CHANNEL_DELETE": GUILDS,
    "GUILD_MEMBER_ADD": GUILD_MEMBERS,
    "GUILD_MEMBER_UPDATE": GUILD_MEMBERS,
    "GUILD_MEMBER_REMOVE": GUILD_MEMBERS,
    "VOICE_STATE_UPDATE": GUILD_VOICE_STATES,
    "PRESENCE_UPDATE": GUILD_PRESENCES,
    "MESSAGE_CREATE": GUILD_MESSAGES,
    "MESSAGE_UPDATE": GUILD_MESSAGES,
    "MESSAGE_DELETE": GUILD_MESSAGES,
}

#: How many dispatches a session keeps for RESUME.
REPLAY_LIMIT = 10_000


@dataclass
class GatewaySession:
    """An identified session; survives its socket so a client can RESUME it."""

    session_id: str
    intents: int
    shard: tuple[int, int] | None
    seq: int = 0
    buffer: list[tuple[int, str]] = field(default_factory=list)
    connection: GatewayConnection | None = None
    invalidated: bool = False

    def wants(self, event: str, guild_id: int | None) -> bool:
        needed = _EVENT_INTENT.get(event)
        if event.startswith("MESSAGE_") and guild_id is None:
            needed = DIRECT_MESSAGES
        if needed is not None and not self.intents & needed:
            return False
        if guild_id is not None and self.shard is not None:
            shard_id, shard_count = self.shard
            if (guild_id >> 22) % shard_count != shard_id:
                return False
        return True


@dataclass
class GatewayConnection:
    """One WebSocket connection; frames go out in order through ``queue``."""

    number: int
    ws: web.WebSocketResponse
    request: web.Request
    path: str
    query: dict[str, str]
    queue: asyncio.Queue[str | None] = field(default_factory=asyncio.Queue)
    session: GatewaySession | None = None
    writer: asyncio.Task[None] | None = None
    closing: bool = False


class GatewayClose(Exception):
    """A protocol error: the gateway closes the socket with ``code`` and ``reason``."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"{code} {reason}")
        self.code = code
        self.reason = reason


@dataclass(frozen=True)
class Identify:
    """What a valid IDENTIFY asked for."""

    intents: int
    shard: tuple[int, int] | None


def authenticate(data: Any, token_check: Callable[[str], bool]) -> dict[str, Any]:
    """The IDENTIFY or RESUME payload, if it carries the bot's token (else close with 4004)."""
    if not isinstance(data, dict) or not token_check(str(data.get("token", ""))):
        raise GatewayClose(AUTHENTICATION_FAILED, "Authentication failed")
    return data


def validate_identify(data: Any, *, token_check: Callable[[str], bool], privileged_intents: frozenset[str]) -> Identify:
    """Check an IDENTIFY payload as Discord does: token (4004), intents (4013, 4014), shard (4010)."""
    data = authenticate(data, token_check)
    intents = data.get("intents")
    if not isinstance(intents, int) or isinstance(intents, bool) or not 0 <= intents <= ALL_INTENTS:
        raise GatewayClose(INVALID_INTENTS, "Invalid intent(s)")
    if any(intents & bit and name not in privileged_intents for name, bit in PRIVILEGED_INTENTS.items()):
        raise GatewayClose(DISALLOWED_INTENTS, "Disallowed intent(s)")
    return Identify(intents=intents, shard=_shard(data.get("shard")))


def _shard(raw: Any) -> tuple[int, int] | None:
    if raw is None:
        return None
    try:
        shard_id, shard_count = (int(x) for x in raw)
    except (TypeError, ValueError):
        raise GatewayClose(INVALID_SHARD, "Invalid shard") from None
    if shard_count < 1 or not 0 <= shard_id < shard_count:
        raise GatewayClose(INVALID_SHARD, "Invalid shard")
    return shard_id, shard_count
