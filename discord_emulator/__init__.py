"""A local Discord emulator (gateway + REST, API v10) for end-to-end tests and the terminal demo.

An unmodified discord.py client logs in to it after ``emulator.point_client_here()``::

    emulator = DiscordEmulator()
    await emulator.start()
    guild = emulator.add_guild("Listening Club")
    with emulator.point_client_here():
        await bot.login(emulator.token)
        ...
        record = await emulator.invoke(guild, channel, member, "recommend", {"artist": "Björk"})
        await record.wait_for_callback()
"""

from typing import TYPE_CHECKING, Any

from discord_emulator.guild import Guild
from discord_emulator.messages import StoredMessage
from discord_emulator.models import JSON, Channel, Member, Role, User, VoiceState
from discord_emulator.records import (
    CallbackRecord,
    GatewayEvent,
    InteractionRecord,
    RecordedRequest,
    WebhookAction,
)
from discord_emulator.server import ClientRedirect, DiscordEmulator
from discord_emulator.snowflake import SnowflakeGenerator, snowflake_time
from discord_emulator.state import EmulatorState

if TYPE_CHECKING:
    from discord_emulator.openapi import OpenAPIValidator


def __getattr__(name: str) -> Any:
    # The validator needs jsonschema (a test dependency); the demo can import the emulator without it.
    if name == "OpenAPIValidator":
        from discord_emulator.openapi import OpenAPIValidator

        return OpenAPIValidator
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "CallbackRecord",
    "Channel",
    "ClientRedirect",
    "DiscordEmulator",
    "EmulatorState",
    "GatewayEvent",
    "Guild",
    "InteractionRecord",
    "JSON",
    "Member",
    "OpenAPIValidator",
    "RecordedRequest",
    "Role",
    "SnowflakeGenerator",
    "StoredMessage",
    "User",
    "VoiceState",
    "WebhookAction",
    "snowflake_time",
]
