"""Slash commands, autocomplete, components and modals, answered by a real discord.py bot."""

from __future__ import annotations

import discord
import pytest

from discord_emulator.records import (
    APPLICATION_COMMAND_AUTOCOMPLETE_RESULT,
    CHANNEL_MESSAGE_WITH_SOURCE,
    DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE,
    DEFERRED_UPDATE_MESSAGE,
    MODAL,
    UPDATE_MESSAGE,
)
from tests.helpers.emulator import World, eventually, with_running_bot

GUILD_COMMANDS = "/applications/{application_id}/guilds/{guild_id}/commands"


@with_running_bot()
async def test_command_sync_is_recorded_and_registers_the_commands(world: World) -> None:
    bot, emu = world.bot, world.emulator
    assert bot is not None
    puts = emu.requests_to("PUT", GUILD_COMMANDS)
    assert len(puts) == 1 and puts[0].status == 200
    assert puts[0].headers["Authorization"].startswith("Bot ")
    names = {c["name"] for c in puts[0].json}
    registered = emu.commands(world.guild)
    assert {c["name"] for c in registered} == names >= {"echo", "defer", "button", "whois", "playlist"}
    # What the client got back: ids, version, application_id, guild_id on each command.
    assert {c.name for c in bot.synced} == names
    for command in bot.synced:
        assert command.id and command.application_id == emu.application_id
        assert command.guild_id == world.guild.id
    admin = next(c for c in registered if c["name"] == "admin")
    assert int(admin["default_member_permissions"]) == discord.Permissions(manage_guild=True).value
    # Fetching them back goes through GET and returns the same ids.
    fetched = await bot.tree.fetch_commands(guild=discord.Object(world.guild.id))
    assert {c.id for c in fetched} == {c.id for c in bot.synced}


@with_running_bot()
async def test_invoke_gets_a_quick_channel_message(world: World) -> None:
    emu = world.emulator
    record = await emu.invoke(world.guild, world.general, world.alice, "echo", {"text": "hello"})
    callback = await record.wait_for_callback(5)
    assert callback.type == CHANNEL_MESSAGE_WITH_SOURCE
    assert callback.data is not None and callback.data["content"] == "echo: hello"
    # Accepted, so it came within the emulator's interaction deadline.
    assert record.callback is not None and not record.rejections
    message = record.final_message()
    assert message["content"] == "echo: hello" and not message["ephemeral"]
    stored = record.original_message()
    assert stored is not None
    assert stored["type"] == 20 and stored["webhook_id"] == str(emu.application_id)
    assert stored["interaction_metadata"]["user"]["id"] == str(world.alice.id)
    callback_request = next(r for r in emu.requests if r.route and r.route.startswith("/interactions/"))
    assert callback_request.query.get("with_response") in ("1", "true")


@with_running_bot()
async def test_autocomplete_returns_choices(world: World) -> None:
    emu = world.emulator
    record = await emu.autocomplete(world.guild, world.general, world.alice, "echo", "text", "bj")
    callback = await record.wait_for_callback(5)
    assert callback.type == APPLICATION_COMMAND_AUTOCOMPLETE_RESULT
    assert record.choices == [
        {"name": "bj one", "value": "bj-one"},
        {"name": "bj two", "value": "bj-two"},
        {"name": "bj three", "value": "bj-three"},
    ]
    focused = record.payload["data"]["options"][0]
    assert focused == {"name": "text", "type": 3, "value": "bj", "focused": True}


@with_running_bot()
async def test_defer_then_followups_and_edit(world: World) -> None:
    emu = world.emulator
    record = await emu.invoke(world.guild, world.general, world.alice, "defer")
    callback = await record.wait_for_callback(5)
    assert callback.type == DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE
    await record.wait_until(lambda r: len(r.actions) == 3, 5)
    kinds = [(a.kind, a.original) for a in record.actions]
    # Discord's rule: the first follow-up after a "thinking" defer edits that message.
    assert kinds == [("followup", True), ("edit", True), ("followup", False)]
    final = record.final_message()
    assert final["content"] == "done" and not final["loading"]
    extra = record.followups[-1]
    assert extra["content"] == "and one more thing" and extra["flags"] & 64
    assert len(record.messages()) == 2


@with_running_bot()
async def test_button_click_updates_the_message(world: World) -> None:
    emu = world.emulator
    record = await emu.invoke(world.guild, world.general, world.alice, "button")
    await record.wait_for_callback(5)
    assert record.custom_ids() == ["press"]
    click = await emu.click(record, "press", world.mod)
    callback = await click.wait_for_callback(5)
    assert callback.type == UPDATE_MESSAGE
    assert click.payload["data"] == {"custom_id": "press", "component_type": 2, "id": 2}
    assert click.payload["message"]["id"] == record.final_message()["id"]
    # The clicked message itself changed: new content, view removed.
    final = record.final_message()
    assert final["content"] == "pressed by mod" and final["components"] == []
    assert click.final_message()["id"] == final["id"]
    with pytest.raises(ValueError):
        await emu.click(record, "press", world.mod)  # the button is gone now


@with_running_bot()
async def test_select_menu_deferred_update_then_edit(world: World) -> None:
    emu = world.emulator
    record = await emu.invoke(world.guild, world.general, world.alice, "menu")
    await record.wait_for_callback(5)
    with pytest.raises(ValueError):
        await emu.click(record, "genres", world.mod, values=["jazz"])  # not their ephemeral message
    with pytest.raises(ValueError):
        await emu.click(record, "genres", world.alice, values=["disco"])  # not an option
    choice = await emu.click(record, "genres", world.alice, values=["jazz", "folk"])
    callback = await choice.wait_for_callback(5)
    assert callback.type == DEFERRED_UPDATE_MESSAGE
    assert choice.payload["data"]["component_type"] == 3 and choice.payload["data"]["values"] == [
        "jazz",
        "folk",
    ]
    await choice.wait_until(lambda r: bool(r.edits), 5)
    # @original of a component interaction is the message the component is on.
    assert choice.edits[0].message_id == int(record.final_message()["id"])
    final = record.final_message()
    assert final["content"] == "chose jazz, folk" and final["components"] == [] and final["ephemeral"]


@with_running_bot()
async def test_a_crafted_click_sends_what_discords_client_would_not(world: World) -> None:
    emu = world.emulator
    record = await emu.invoke(world.guild, world.general, world.alice, "menu")
    await record.wait_for_callback(5)
    # Someone else's ephemeral message, a value that is not an option, a custom id the message lacks.
    forged = await emu.click(record, "genres", world.mod, values=["disco"], crafted=True)
    assert forged.payload["data"] | {"id": None} == {
        "custom_id": "genres",
        "component_type": 3,
        "values": ["disco"],
        "id": None,
    }
    assert forged.payload["message"]["id"] == record.final_message()["id"]
    await forged.wait_until(lambda r: bool(r.edits), 5)  # the bot answers it as any other (its view then stops)
    unknown = await emu.click(record, "no-such-button", world.alice, crafted=True)
    assert unknown.payload["data"] == {"custom_id": "no-such-button", "component_type": 2}
    as_select = await emu.click(record, "no-such-menu", world.alice, values=["x"], crafted=True)
    assert as_select.payload["data"] == {"custom_id": "no-such-menu", "component_type": 3, "values": ["x"]}


@with_running_bot()
async def test_member_option_is_resolved_to_a_member(world: World) -> None:
    emu = world.emulator
    record = await emu.invoke(world.guild, world.general, world.alice, "whois", {"member": world.listener})
    await record.wait_for_callback(5)
    assert record.final_message()["content"] == "listener (1 roles, Listening Room)"
    seen = world.cog.seen_members[-1]
    assert isinstance(seen, discord.Member) and seen.id == world.listener.id
    resolved = record.payload["data"]["resolved"]
    assert set(resolved) == {"users", "members"}
    assert "user" not in resolved["members"][str(world.listener.id)]


@with_running_bot()
async def test_ephemeral_reply_has_flag_64(world: World) -> None:
    record = await world.emulator.invoke(world.guild, world.general, world.alice, "secret")
    callback = await record.wait_for_callback(5)
    assert callback.data is not None and callback.data["flags"] & 64
    assert record.final_message()["ephemeral"]


@with_running_bot()
async def test_typed_options_choices_and_subcommands(world: World) -> None:
    emu = world.emulator
    record = await emu.invoke(
        world.guild, world.general, world.alice, "add", {"a": 2, "b": 0.5, "scale": 10, "negate": True}
    )
    await record.wait_for_callback(5)
    assert record.final_message()["content"] == "sum=-25.0"
    options = {o["name"]: o for o in record.payload["data"]["options"]}
    assert options["a"]["type"] == 4 and options["b"]["type"] == 10 and options["negate"]["type"] == 5

    record = await emu.invoke(
        world.guild, world.general, world.alice, "playlist", {"track": "Hyperballad"}, subcommand="add"
    )
    await record.wait_for_callback(5)
    final = record.final_message()
    assert final["content"] == "added Hyperballad"
    assert final["embeds"][0]["title"] == "Playlist" and final["embeds"][0]["type"] == "rich"

    # What the Discord client itself refuses never reaches the bot.
    with pytest.raises(ValueError):
        await emu.invoke(world.guild, world.general, world.alice, "add", {"a": 1, "b": 1, "scale": 3})
    with pytest.raises(ValueError):
        await emu.invoke(world.guild, world.general, world.alice, "add", {"a": 1})
    with pytest.raises(ValueError):
        await emu.invoke(world.guild, world.general, world.alice, "playlist", {"track": "x"})


@with_running_bot()
async def test_default_member_permissions_gate_who_can_run_a_command(world: World) -> None:
    emu = world.emulator
    record = await emu.invoke(world.guild, world.general, world.mod, "admin")
    await record.wait_for_callback(5)
    assert record.final_message()["content"] == "manage_guild=True"
    with pytest.raises(PermissionError):
        await emu.invoke(world.guild, world.general, world.alice, "admin")


@with_running_bot()
async def test_modal_round_trip(world: World) -> None:
    emu = world.emulator
    record = await emu.invoke(world.guild, world.general, world.alice, "rate")
    callback = await record.wait_for_callback(5)
    assert callback.type == MODAL and callback.data is not None
    assert callback.data["title"] == "Rate the track"
    submitted = await emu.submit_modal(record, {"score": "9"})
    await submitted.wait_for_callback(5)
    assert world.cog.modal_values == ["9"]
    assert submitted.final_message()["content"] == "rated 9" and submitted.final_message()["ephemeral"]


@with_running_bot()
async def test_file_upload_is_parsed_from_multipart(world: World) -> None:
    emu = world.emulator
    record = await emu.invoke(world.guild, world.general, world.alice, "upload")
    callback = await record.wait_for_callback(5)
    assert callback.files == ["hello.txt"]
    request = next(r for r in emu.requests if r.route and r.route.startswith("/interactions/"))
    assert request.content_type == "multipart/form-data"
    assert request.json["type"] == 4 and request.json["data"]["content"] == "here"
    attachment = record.final_message()["attachments"][0]
    assert attachment["filename"] == "hello.txt" and attachment["size"] == len(b"hello file")
    async with world.bot.http._HTTPClient__session.get(attachment["url"]) as response:  # type: ignore[union-attr]
        assert await response.read() == b"hello file"


@with_running_bot(interaction_deadline=0.2)
async def test_a_late_answer_is_refused_like_discord_does(world: World) -> None:
    record = await world.emulator.invoke(world.guild, world.general, world.alice, "sleepy")
    await record.wait_until(lambda r: bool(r.rejections), 5)
    assert record.callback is None
    await eventually(lambda: world.cog.errors, what="the bot's NotFound")
    error = world.cog.errors[0]
    assert isinstance(error, discord.NotFound) and error.code == 10062


@with_running_bot()
async def test_rate_limited_callback_is_retried_by_the_client(world: World) -> None:
    emu = world.emulator
    emu.fail_next("POST", r"^/interactions/", 429, retry_after=0.1)
    record = await emu.invoke(world.guild, world.general, world.alice, "echo", {"text": "again"})
    await record.wait_for_callback(5)
    statuses = [r.status for r in emu.requests if r.route and r.route.startswith("/interactions/")]
    assert statuses == [429, 200]
    assert record.final_message()["content"] == "echo: again"
