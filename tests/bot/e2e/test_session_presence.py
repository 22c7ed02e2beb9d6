"""Listening activity through the emulator: with ENCORE_PRESENCE=1 the bot asks for presences, and a session's
artist that an opted-in member plays on Spotify is their Into it; without it no presence reaches the bot."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import discord
import pytest

from discord_emulator import Member
from discord_emulator.gateway_protocol import GUILD_PRESENCES, IDENTIFY
from tests.helpers.e2e import Encore, like
from tests.helpers.e2e_messages import assert_every_request_clean, raw_mentions, text_of
from tests.helpers.restart import restart_bot

pytestmark = pytest.mark.slow

ART_POP = ("Radiohead", "Björk", "Portishead", "Massive Attack")
ELECTRO = ("Daft Punk", "Justice", "Air")


@pytest.fixture(scope="module")
def encore_env() -> dict[str, str]:
    return {"ENCORE_PRESENCE": "1"}


def privacy(encore: Encore, member: Member, **options: str) -> str:
    message = encore.command(member, "privacy", options).final_message()
    assert message["ephemeral"] and not raw_mentions(message), message
    return message["content"]


def read(encore: Encore, message_id: int) -> dict[str, Any]:
    """The message as stored; only on the bot's loop (inside `encore.until`)."""
    return dict(encore.emulator.state.messages[message_id].payload)


def now_playing(message: dict[str, Any]) -> str:
    line = next(line for line in text_of(message).splitlines() if line.startswith("**Now:**"))
    return line.split("[", 1)[1].split("]", 1)[0]


def identified_intents(encore: Encore) -> int:
    """The intents of the bot's latest IDENTIFY."""
    frames = [e for e in encore.call(lambda: list(encore.emulator.gateway_events)) if e.direction == "received"]
    return next(e.d["intents"] for e in reversed(frames) if e.op == IDENTIFY)


def spotify_of(encore: Encore, member: Member) -> discord.Spotify | None:
    """What the bot's cache holds of the member's Spotify activity (only on the bot's loop)."""
    cached = encore.bot.get_guild(encore.guild.id).get_member(member.id)
    found = [a for a in (cached.activities if cached else ()) if isinstance(a, discord.Spotify)]
    return found[0] if found else None


def listen(encore: Encore, member: Member, artists: list[str], track: str) -> None:
    """The member plays `track` on Spotify; returns once the bot has handled the presence update."""
    encore.call(encore.emulator.listen, encore.guild, member, artists, track)
    encore.until(
        lambda: (spotify := spotify_of(encore, member)) is not None and spotify.title == track,
        what=f"{member.user.username}'s Spotify activity in the bot's cache",
    )

    def handled() -> bool:
        return not any(t.get_name() == "discord.py: on_presence_update" and not t.done() for t in asyncio.all_tasks())

    encore.until(handled, what="the bot's presence handlers to finish")


def votes(encore: Encore, session_id: int) -> dict[tuple[int, int], bool]:
    return {(v.pick_id, v.user_id): v.into_it for v in encore.run(encore.app.store.sessions.votes(session_id))}


def test_the_bot_asks_for_presences(encore: Encore) -> None:
    assert identified_intents(encore) & GUILD_PRESENCES
    assert encore.bot.intents.presences and not encore.bot.intents.members


def test_privacy_listening_is_off_until_chosen_and_says_what_is_read(encore: Encore) -> None:
    member = encore.member("shy")
    shown = privacy(encore, member)
    assert shown.startswith("Your privacy is **public**") and "Listening activity is **off**" in shown
    assert "Spotify" in shown and "ENCORE_PRESENCE" not in shown
    turned_on = privacy(encore, member, listening="on")
    assert turned_on.startswith("Listening activity is now **on**") and "only the artist" in turned_on
    assert "kept beyond that vote" in turned_on
    assert encore.run(encore.app.library.listening_opt_in(member.id)) is True
    both = privacy(encore, member, setting="private", listening="off")
    assert "Your privacy is now **private**" in both and "Listening activity is now **off**" in both
    assert encore.run(encore.app.library.listening_opt_in(member.id)) is False
    assert encore.run(encore.app.library.privacy_of(member.id)) == "private"
    # Private members are left out of sessions: turning listening on says it has no effect then.
    assert "no effect" in privacy(encore, member, listening="on")


def test_an_opted_in_member_playing_the_pick_is_into_it(encore: Encore) -> None:
    lounge = encore.call(encore.emulator.add_voice_channel, encore.guild, "Spotify Lounge")
    alice, bob = encore.member("alice"), encore.member("bob")
    like(encore, alice, *ART_POP)
    like(encore, bob, *ELECTRO)
    assert "now **on**" in privacy(encore, alice, listening="on")
    for member in (alice, bob):
        encore.call(encore.emulator.join_voice, encore.guild, member, lounge)
    guild = encore.bot.get_guild(encore.guild.id)
    encore.until(lambda: len(guild.get_channel(lounge.id).voice_states) == 2, what="both members in voice")

    started = encore.command(alice, "session", subcommand="start").final_message()
    assert "Listening session started" in started["content"]
    session = encore.run(encore.app.sessions.open_in_channel(lounge.id))
    assert session is not None and session.panel_message_id is not None
    panel_id = session.panel_message_id
    first = now_playing(encore.call(read, encore, panel_id))
    pick = encore.run(encore.app.store.sessions.picks(session.id))[-1]

    # Bob has not opted in: his playing it is not read as a vote.
    listen(encore, bob, [first], "A Song")
    assert votes(encore, session.id) == {}
    # Another artist: nothing either.
    listen(encore, alice, ["Nobody In The Catalogue At All"], "Elsewhere")
    assert votes(encore, session.id) == {}

    # Alice plays the pick (with a featured artist, as Spotify lists them): her Into it, shown on the panel.
    listen(encore, alice, ["Some Guest", first], "The Pick")
    assert votes(encore, session.id) == {(pick.id, alice.id): True}
    assert pick.artist_id in encore.liked_ids(alice)
    encore.until(
        lambda: f"(into it: {alice.user.username})" in text_of(read(encore, panel_id)), what="Alice's vote on the panel"
    )

    # Bob opts in; his next song by that artist is his Into it, and with everyone voted the session moves on.
    assert "now **on**" in privacy(encore, bob, listening="on")
    listen(encore, bob, [first], "Another Song")
    assert votes(encore, session.id) == {(pick.id, alice.id): True, (pick.id, bob.id): True}
    encore.until(lambda: now_playing(read(encore, panel_id)) != first, what="the next pick")

    encore.command(alice, "session", subcommand="end")
    for member in (alice, bob):
        encore.call(encore.emulator.leave_voice, encore.guild, member)


def test_without_the_setting_no_presence_is_asked_for_or_kept(encore: Encore) -> None:
    lounge = encore.call(encore.emulator.add_voice_channel, encore.guild, "Quiet Lounge")
    carol = encore.member("carol")
    like(encore, carol, *ART_POP)
    assert "now **on**" in privacy(encore, carol, listening="on")
    encore.call(encore.emulator.join_voice, encore.guild, carol, lounge)
    # She was already playing something when the bot (re)connected.
    encore.call(encore.emulator.listen, encore.guild, carol, ["Radiohead"], "Before")

    restart_bot(encore, settings=dataclasses.replace(encore.app.settings, presence=False))
    assert not identified_intents(encore) & GUILD_PRESENCES and not encore.bot.intents.presences
    guild = encore.bot.get_guild(encore.guild.id)
    encore.until(lambda: guild.get_member(carol.id) is not None, what="Carol in the bot's cache (voice)")

    encore.command(carol, "session", subcommand="start")
    session = encore.run(encore.app.sessions.open_in_channel(lounge.id))
    assert session is not None
    first = now_playing(encore.call(read, encore, session.panel_message_id))
    # The emulator decides at once whom a dispatch goes to, and logs what it sent: nothing, here.
    encore.call(encore.emulator.listen, encore.guild, carol, [first], "Unheard")

    frames = encore.call(lambda: list(encore.emulator.gateway_events))
    latest = [e for e in frames if e.t == "READY"][-1].session_id
    sent = [e for e in frames if e.session_id == latest and e.direction == "sent"]
    assert not [e for e in sent if e.t == "PRESENCE_UPDATE"], "Discord sends presences only with the intent"
    assert all(not e.d["presences"] for e in sent if e.t == "GUILD_CREATE")
    assert encore.call(lambda: guild.get_member(carol.id).activities) == ()
    assert votes(encore, session.id) == {}
    assert "cannot work on this bot" in privacy(encore, carol)

    encore.command(carol, "session", subcommand="end")
    encore.call(encore.emulator.leave_voice, encore.guild, carol)


def test_every_request_was_clean(encore: Encore) -> None:
    assert_every_request_clean(encore.requests())
