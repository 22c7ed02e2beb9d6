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

from bot.emulator.records import (
    CallbackRecord,
    GatewayEvent,
    InteractionRecord,
    RecordedRequest,
    WebhookAction,
)
from bot.emulator.server import ClientRedirect, DiscordEmulator
from bot.emulator.snowflake import SnowflakeGenerator, snowflake_time
from bot.emulator.state import Channel, EmulatorState, Guild, Member, Role, User, VoiceState

if TYPE_CHECKING:
    from bot.emulator.openapi import OpenAPIValidator


def __getattr__(name: str) -> Any:
    # The validator needs jsonschema (a test dependency); the demo can import the emulator without it.
    if name == "OpenAPIValidator":
        from bot.emulator.openapi import OpenAPIValidator

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
    "Member",
    "OpenAPIValidator",
    "RecordedRequest",
    "Role",
    "SnowflakeGenerator",
    "User",
    "VoiceState",
    "WebhookAction",
    "snowflake_time",
]
