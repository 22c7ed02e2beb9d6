"""Presences as an unmodified discord.py client sees them: a Spotify activity through PRESENCE_UPDATE, and
nothing at all for a client without the GUILD_PRESENCES intent."""

from __future__ import annotations

import discord
import pytest

from discord_emulator import gateway_events
from discord_emulator.gateway_protocol import GUILD_PRESENCES, GUILDS, GatewaySession
from discord_emulator.presences import presence_update, spotify_activity
from discord_emulator.state import EmulatorState
from tests.helpers.emulator import default_intents, eventually, run, running_bot


def presence_intents() -> discord.Intents:
    intents = default_intents()
    intents.presences = True
    return intents


def test_a_spotify_presence_reaches_a_client_with_the_intent() -> None:
    async def scenario() -> None:
        async with running_bot(intents=presence_intents()) as world:
            assert world.bot is not None
            updates: list[tuple[discord.Member, discord.Member]] = []

            async def on_presence_update(before: discord.Member, after: discord.Member) -> None:
                updates.append((before, after))

            world.bot.add_listener(on_presence_update)
            world.emulator.listen(world.guild, world.alice, ["Daft Punk", "Pharrell Williams"], "Get Lucky")
            await eventually(lambda: updates, what="the presence update")
            before, after = updates[0]
            assert before.activities == () and after.id == world.alice.id
            spotify = after.activity
            assert isinstance(spotify, discord.Spotify)
            assert spotify.artists == ["Daft Punk", "Pharrell Williams"] and spotify.title == "Get Lucky"
            assert spotify.party_id == f"spotify:{world.alice.id}" and after.status is discord.Status.online

            world.emulator.set_presence(world.guild, world.alice, status="offline")
            await eventually(lambda: len(updates) == 2, what="going offline")
            assert updates[1][1].activities == () and updates[1][1].status is discord.Status.offline

    run(scenario)


def test_a_client_without_the_intent_gets_no_presence() -> None:
    async def scenario() -> None:
        async with running_bot() as world:  # members, but not presences
            assert world.bot is not None
            world.emulator.listen(world.guild, world.listener, "Air", "La femme d'argent")
            await world.emulator.send_message(world.guild, world.general, world.alice, "after the presence")
            # The message went out after the presence would have: once it is logged, so would the presence be.
            await eventually(
                lambda: any(e.t == "MESSAGE_CREATE" for e in world.emulator.gateway_events), what="the message"
            )
            assert not [e for e in world.emulator.gateway_events if e.t == "PRESENCE_UPDATE"]
            member = world.bot.get_guild(world.guild.id).get_member(world.listener.id)
            assert member is not None and member.activities == ()

    run(scenario)


def test_guild_create_carries_presences_only_for_the_intent() -> None:
    state = EmulatorState()
    guild = state.add_guild("Presences")
    member = state.add_member(guild, "ana")
    state.listen(guild, member, "Björk", "Jóga", album="Homogenic")
    with_intent = gateway_events.guild_create(state, guild, GatewaySession("a", GUILDS | GUILD_PRESENCES, None))
    without = gateway_events.guild_create(state, guild, GatewaySession("b", GUILDS, None))
    assert without["presences"] == []
    (presence,) = with_intent["presences"]
    assert presence["user"] == {"id": str(member.id)} and presence["guild_id"] == str(guild.id)
    (activity,) = presence["activities"]
    described = (activity["type"], activity["name"], activity["state"], activity["details"])
    assert described == (2, "Spotify", "Björk", "Jóga")
    assert activity["assets"]["large_text"] == "Homogenic" and activity["flags"] == 48


def test_bad_presences_are_refused() -> None:
    with pytest.raises(ValueError, match="artist"):
        spotify_activity(1, [], "Untitled")
    with pytest.raises(ValueError, match="status"):
        presence_update(1, 2, "away", [])
