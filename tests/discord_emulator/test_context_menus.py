"""User context-menu commands (type 2): registered by bulk overwrite, run as Discord runs them."""

from __future__ import annotations

from typing import Any

import aiohttp
import discord
import pytest

from discord_emulator import DiscordEmulator
from discord_emulator.records import CHANNEL_MESSAGE_WITH_SOURCE
from tests.helpers.emulator import World, emulator_only, run, with_running_bot

GUILD_COMMANDS = "/applications/{application_id}/guilds/{guild_id}/commands"


@with_running_bot()
async def test_a_user_command_is_registered_beside_a_slash_command(world: World) -> None:
    emu = world.emulator
    (put,) = emu.requests_to("PUT", GUILD_COMMANDS)
    sent = next(c for c in put.json if c["name"] == "Describe")
    # discord.py sends no description and no options for a context menu: Discord wants neither.
    assert sent["type"] == 2 and "options" not in sent and not sent.get("description")
    registered = {(c["name"], c["type"]) for c in emu.commands(world.guild)}
    assert {("Describe", 2), ("whois", 1)} <= registered
    user_command = next(c for c in emu.commands(world.guild) if c["type"] == 2)
    assert user_command["description"] == "" and "options" not in user_command
    assert any(c.name == "Describe" and c.type is discord.AppCommandType.user for c in world.bot.synced)


@with_running_bot()
async def test_right_clicking_a_member_sends_target_id_and_resolved_user_and_member(world: World) -> None:
    emu = world.emulator
    record = await emu.invoke_user_command(world.guild, world.general, world.alice, "Describe", world.mod)
    data = record.payload["data"]
    assert data["type"] == 2 and data["name"] == "Describe" and "options" not in data
    assert data["target_id"] == str(world.mod.id) and data["guild_id"] == str(world.guild.id)
    assert data["resolved"]["users"][str(world.mod.id)]["username"] == "mod"
    resolved_member = data["resolved"]["members"][str(world.mod.id)]
    # As Discord sends resolved members: without their user (it is in resolved.users), with permissions.
    assert "user" not in resolved_member and resolved_member["roles"] and "permissions" in resolved_member
    callback = await record.wait_for_callback(5)
    assert callback.type == CHANNEL_MESSAGE_WITH_SOURCE
    # The bot got a full Member (the manager role included) for the target.
    seen = world.cog.seen_members[-1]
    assert isinstance(seen, discord.Member) and seen.id == world.mod.id and len(seen.roles) == 2
    message = record.original_message()
    assert message is not None and message["content"] == "mod (2 roles)"
    # A context-menu reply is a CONTEXT_MENU_COMMAND message naming its target.
    assert message["type"] == 23
    metadata = message["interaction_metadata"]
    assert metadata["target_user"]["id"] == str(world.mod.id) and metadata["user"]["id"] == str(world.alice.id)


@with_running_bot()
async def test_a_target_outside_the_server_is_a_user_only(world: World) -> None:
    emu = world.emulator
    other_guild = emu.add_guild("Elsewhere")
    stranger = emu.add_member(other_guild, "stranger")
    record = await emu.invoke_user_command(world.guild, world.general, world.alice, "Describe", stranger.user)
    data = record.payload["data"]
    assert set(data["resolved"]) == {"users"} and data["target_id"] == str(stranger.id)
    await record.wait_for_callback(5)
    seen = world.cog.seen_members[-1]
    assert isinstance(seen, discord.User) and not isinstance(seen, discord.Member)
    assert record.final_message()["content"] == "stranger (no roles)"


@with_running_bot()
async def test_only_registered_user_commands_can_be_run(world: World) -> None:
    emu = world.emulator
    # /whois is a slash command: there is no user command of that name to pick.
    with pytest.raises(KeyError):
        await emu.invoke_user_command(world.guild, world.general, world.alice, "whois", world.mod)


def _auth(emu: DiscordEmulator) -> dict[str, str]:
    return {"Authorization": f"Bot {emu.token}"}


async def _put(http: aiohttp.ClientSession, emu: DiscordEmulator, guild_id: int, body: Any) -> tuple[int, Any]:
    url = f"{emu.api_base}/applications/{emu.application_id}/guilds/{guild_id}/commands"
    async with http.put(url, json=body, headers=_auth(emu)) as response:
        return response.status, await response.json()


def test_bulk_overwrite_checks_context_menu_commands_as_discord_does() -> None:
    async def scenario() -> None:
        async with emulator_only() as world, aiohttp.ClientSession() as http:
            emu, guild = world.emulator, world.guild
            # Mixed case and spaces are fine for a user command, not for a slash command.
            status, body = await _put(
                http, emu, guild.id, [{"name": "Taste match", "type": 2}, {"name": "taste", "description": "x"}]
            )
            assert status == 200 and {(c["name"], c["type"]) for c in body} == {("Taste match", 2), ("taste", 1)}
            status, body = await _put(http, emu, guild.id, [{"name": "Taste match", "description": "x"}])
            assert status == 400 and body["errors"]["0"]["name"]["_errors"][0]["code"] == (
                "APPLICATION_COMMAND_INVALID_NAME"
            )
            # A user command takes neither a description nor options.
            bad = {"name": "Blend", "type": 2, "description": "blend", "options": [{"name": "x", "type": 3}]}
            status, body = await _put(http, emu, guild.id, [bad])
            assert status == 400 and set(body["errors"]["0"]) == {"description", "options"}
            # The same name may be a slash command and a user command, but not two user commands.
            status, body = await _put(http, emu, guild.id, [{"name": "Blend", "type": 2}] * 2)
            assert status == 400 and body["errors"]["1"]["name"]["_errors"][0]["code"] == (
                "APPLICATION_COMMANDS_DUPLICATE_NAME"
            )
            too_many = [{"name": f"Menu {i}", "type": 2} for i in range(16)]
            status, body = await _put(http, emu, guild.id, too_many)
            assert status == 400 and body["code"] == 50035
            # The failed overwrites changed nothing.
            assert {(c["name"], c["type"]) for c in emu.commands(guild)} == {("Taste match", 2), ("taste", 1)}

    run(scenario)
