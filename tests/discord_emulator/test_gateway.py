"""The gateway as an unmodified discord.py client sees it: READY, GUILD_CREATE, heartbeats, RESUME, failures."""

from __future__ import annotations

import asyncio
import contextlib

import discord
import pytest

from discord_emulator.gateway_protocol import HEARTBEAT, HEARTBEAT_ACK, IDENTIFY, RESUME
from tests.helpers.emulator import (
    EncoreTestBot,
    World,
    default_intents,
    emulator_only,
    eventually,
    run,
    running_bot,
    with_running_bot,
)


@with_running_bot()
async def test_ready_and_guild_create_populate_the_client_cache(world: World) -> None:
    bot, emu = world.bot, world.emulator
    assert bot is not None and bot.user is not None
    assert bot.user.id == emu.state.bot_user.id and bot.user.bot
    assert bot.application_id == emu.application_id
    guild = bot.get_guild(world.guild.id)
    assert guild is not None and guild.name == "Encore Test Server"
    assert {m.name for m in guild.members} == {"owner", "Encore", "alice", "mod", "listener"}
    assert guild.chunked  # member_count matched the members sent, so no chunk request was needed
    assert guild.owner_id == world.guild.owner_id
    assert guild.me is not None and guild.me.guild_permissions.send_messages
    assert [c.name for c in guild.text_channels] == ["general"]
    assert [c.name for c in guild.voice_channels] == ["Listening Room"]
    listener = guild.get_member(world.listener.id)
    assert listener is not None and listener.voice is not None
    assert listener.voice.channel is not None and listener.voice.channel.name == "Listening Room"
    assert [m.name for m in guild.voice_channels[0].members] == ["listener"]
    mod = guild.get_member(world.mod.id)
    assert mod is not None and mod.guild_permissions.manage_guild
    assert not guild.get_member(world.alice.id).guild_permissions.manage_guild  # type: ignore[union-attr]
    assert guild.default_role.id == guild.id

    # The handshake, in order: HELLO, the client's first heartbeat (ACKed), IDENTIFY, READY, GUILD_CREATE.
    sent = [(e.op, e.t) for e in emu.gateway_events if e.direction == "sent"]
    assert sent[0] == (10, None)
    assert (0, "READY") in sent and (0, "GUILD_CREATE") in sent
    assert sent.index((0, "READY")) < sent.index((0, "GUILD_CREATE"))
    received = [e.op for e in emu.gateway_events if e.direction == "received"]
    assert received[:2] == [HEARTBEAT, IDENTIFY]
    assert HEARTBEAT_ACK in [op for op, _ in sent]
    # Sequence numbers on every dispatch, increasing from 1.
    seqs = [e.s for e in emu.gateway_events if e.direction == "sent" and e.op == 0]
    assert seqs == list(range(1, len(seqs) + 1))
    # The client asked for zlib-stream; the emulator ignores it and sends text frames it reads fine.
    connection = next(iter(emu.gateway.connections.values()))
    assert connection.query.get("v") == "10" and connection.query.get("encoding") == "json"
    assert connection.query.get("compress") == "zlib-stream"


@with_running_bot()
async def test_late_changes_are_dispatched_as_events(world: World) -> None:
    bot, emu = world.bot, world.emulator
    assert bot is not None
    joined = asyncio.get_running_loop().create_future()

    async def on_member_join(member: discord.Member) -> None:
        if not joined.done():
            joined.set_result(member)

    bot.add_listener(on_member_join)
    newcomer = emu.add_member(world.guild, "newcomer")
    member = await asyncio.wait_for(joined, 5)
    assert member.id == newcomer.id
    emu.join_voice(world.guild, newcomer, world.lounge)
    guild = bot.get_guild(world.guild.id)
    assert guild is not None
    await eventually(lambda: (m := guild.get_member(newcomer.id)) is not None and m.voice, what="the voice join")
    assert guild.get_member(newcomer.id).voice.channel.id == world.lounge.id  # type: ignore[union-attr]


@pytest.mark.parametrize("abrupt", [False, True], ids=["close-4000", "tcp-abort"])
def test_dropped_connection_resumes_and_replays_missed_events(abrupt: bool) -> None:
    async def scenario() -> None:
        async with running_bot() as world:
            bot, emu = world.bot, world.emulator
            assert bot is not None
            before = await emu.invoke(world.guild, world.general, world.alice, "echo", {"text": "before"})
            await before.wait_for_callback(5)

            assert await emu.drop_connection(abrupt=abrupt) == 1
            # Dispatched while the socket is down: buffered, then replayed after RESUME.
            during = await emu.invoke(world.guild, world.general, world.alice, "echo", {"text": "during"})
            resume = await emu.wait_for_gateway(lambda e: e.direction == "received" and e.op == RESUME, 10)
            await asyncio.wait_for(bot.resumed.wait(), 10)
            await during.wait_for_callback(5)
            assert during.final_message()["content"] == "echo: during"

            assert emu.resume_count == 1
            assert emu.identify_count == 1, "the client identified again instead of resuming"
            assert resume.d["session_id"] == next(iter(emu.gateway.sessions))
            # The client reconnected to READY's resume_gateway_url, not the default gateway.
            assert next(iter(emu.gateway.connections.values())).path == "/resume"

            after = await emu.invoke(world.guild, world.general, world.alice, "echo", {"text": "after"})
            await after.wait_for_callback(5)
            assert after.final_message()["content"] == "echo: after"

    run(scenario)


@with_running_bot()
async def test_reconnect_opcode_makes_the_client_resume(world: World) -> None:
    bot, emu = world.bot, world.emulator
    assert bot is not None
    emu.request_reconnect()
    await asyncio.wait_for(bot.resumed.wait(), 10)
    assert (emu.identify_count, emu.resume_count) == (1, 1)
    record = await emu.invoke(world.guild, world.general, world.alice, "echo", {"text": "still here"})
    await record.wait_for_callback(5)


def test_wrong_token_fails_login_instead_of_hanging() -> None:
    async def scenario() -> None:
        async with emulator_only() as world:
            with world.emulator.point_client_here():
                bot = EncoreTestBot(world.guild.id, intents=default_intents())
                try:
                    with pytest.raises(discord.LoginFailure):
                        await asyncio.wait_for(bot.start("not-the-token"), 10)
                finally:
                    await bot.close()
            assert world.emulator.requests[0].status == 401
            assert world.emulator.identify_count == 0

    run(scenario)


def test_token_rejected_by_the_gateway_closes_with_4004() -> None:
    async def scenario() -> None:
        async with emulator_only() as world:
            emu = world.emulator
            with emu.point_client_here():
                bot = EncoreTestBot(world.guild.id, intents=default_intents())
                try:
                    await asyncio.wait_for(bot.login(emu.token), 10)
                    emu.token = "rotated-token"  # REST login succeeded; the IDENTIFY now carries a stale token
                    with pytest.raises(discord.ConnectionClosed) as info:
                        await asyncio.wait_for(bot.connect(), 10)
                    assert info.value.code == 4004
                finally:
                    await bot.close()

    run(scenario)


def test_privileged_intent_not_enabled_is_refused() -> None:
    async def scenario() -> None:
        async with emulator_only(privileged_intents=frozenset({"members"})) as world:
            with world.emulator.point_client_here():
                intents = default_intents()
                intents.message_content = True
                bot = EncoreTestBot(world.guild.id, intents=intents)
                try:
                    with pytest.raises(discord.PrivilegedIntentsRequired):
                        await asyncio.wait_for(bot.start(world.emulator.token), 10)
                finally:
                    with contextlib.suppress(Exception):
                        await bot.close()

    run(scenario)


def test_without_members_intent_only_bot_and_voice_members_are_sent() -> None:
    async def scenario() -> None:
        intents = discord.Intents.default()  # no members, no message_content
        async with running_bot(intents=intents) as world:
            assert world.bot is not None
            guild = world.bot.get_guild(world.guild.id)
            assert guild is not None
            assert {m.name for m in guild.members} == {"Encore", "listener"}
            assert guild.member_count == 5  # the real count, though only two members were sent

            # Others' messages arrive without content unless they mention the bot.
            seen: list[discord.Message] = []

            async def on_message(message: discord.Message) -> None:
                seen.append(message)

            world.bot.add_listener(on_message)
            await world.emulator.send_message(world.guild, world.general, world.alice, "hidden words")
            bot_mention = world.emulator.state.bot_user.mention
            await world.emulator.send_message(world.guild, world.general, world.alice, f"{bot_mention} visible")
            await eventually(lambda: len(seen) == 2, what="both messages")
            assert [m.content for m in seen] == ["", f"{bot_mention} visible"]

    run(scenario)
