"""/session through the emulator: three members in voice, the panel, votes, joins and leaves, a restart, the recap."""

from __future__ import annotations

import asyncio
import urllib.request
from typing import Any

import pytest

from bot.menus.session import refresh_panel
from discord_emulator import Member
from tests.helpers.components import button, components
from tests.helpers.e2e import Encore
from tests.helpers.e2e_messages import EXPECTED_COMMANDS, assert_every_request_clean, raw_mentions, text_of
from tests.helpers.restart import restart_bot

pytestmark = pytest.mark.slow

ART_POP = ("Radiohead", "Björk", "Portishead", "Massive Attack")
ELECTRO = ("Daft Punk", "Justice", "Air")
METAL = ("Metallica", "Slayer", "Iron Maiden")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def like(encore: Encore, member: Member, *names: str) -> None:
    for name in names:
        content = encore.command(member, "like", {"artist": name}).final_message()["content"]
        assert content.startswith(("Noted: you like", "You already like")), content


def read(encore: Encore, message_id: int) -> dict[str, Any]:
    """The message as stored; only on the bot's loop (inside `encore.until`)."""
    return dict(encore.emulator.state.messages[message_id].payload)


def panel(encore: Encore, message_id: int) -> dict[str, Any]:
    return encore.call(read, encore, message_id)


def panel_id(encore: Encore, voice_id: int) -> int:
    session = encore.run(encore.app.sessions.open_in_channel(voice_id))
    assert session is not None and session.panel_message_id is not None
    return session.panel_message_id


def attachments_of(encore: Encore, message_id: int) -> list[tuple[dict[str, Any], bytes]]:
    """The message's attachments with the bytes the emulator accepted for each."""

    def get() -> list[tuple[dict[str, Any], bytes]]:
        stored = encore.emulator.state.messages[message_id]
        return [(dict(a), stored.files[int(a["id"])]) for a in stored.payload["attachments"]]

    return encore.call(get)


async def redraw_twice(encore: Encore, session_id: int) -> None:
    """Two redraws asked for at once, as two clicks arriving together would."""
    await asyncio.gather(refresh_panel(encore.bot, session_id), refresh_panel(encore.bot, session_id))


def now_playing(message: dict[str, Any]) -> str:
    line = next(line for line in text_of(message).splitlines() if line.startswith("**Now:**"))
    return line.split("[", 1)[1].split("]", 1)[0]


def vote(encore: Encore, message_id: int, member: Member, label: str) -> None:
    message = panel(encore, message_id)
    record = encore.click(message, button(message, label)["custom_id"], member)
    assert not record.followups, record.followups


def in_voice(encore: Encore, count: int, voice_id: int) -> None:
    guild = encore.bot.get_guild(encore.guild.id)
    encore.until(lambda: len(guild.get_channel(voice_id).voice_states) == count, what=f"{count} members in voice")


def test_session_is_registered(encore: Encore) -> None:
    registered = {c["name"]: c for c in encore.emulator.commands(encore.guild)} or {
        c["name"]: c for c in encore.emulator.commands()
    }
    assert EXPECTED_COMMANDS <= set(registered)
    assert {o["name"] for o in registered["session"]["options"]} == {"start", "end", "history"}


def test_a_listening_session_from_start_to_recap(encore: Encore) -> None:
    lounge = encore.call(encore.emulator.add_voice_channel, encore.guild, "Session Lounge")
    alice, bob, carol, dave, outsider = (encore.member(n) for n in ("alice", "bob", "carol", "dave", "outsider"))
    like(encore, alice, *ART_POP)
    like(encore, bob, *ELECTRO)
    like(encore, carol, *METAL)
    like(encore, dave, "Muse", "Coldplay")
    for member in (alice, bob, carol):
        encore.call(encore.emulator.join_voice, encore.guild, member, lounge)
    in_voice(encore, 3, lounge.id)

    started = encore.command(alice, "session", subcommand="start").final_message()
    assert "Listening session started" in started["content"]
    message_id = panel_id(encore, lounge.id)
    session_id = encore.run(encore.app.sessions.open_in_channel(lounge.id)).id
    message = panel(encore, message_id)
    assert not message["attachments"] and "image" not in message["embeds"][0]
    text = text_of(message)
    assert "**Now:** [" in text and "new to all of you" in text and "https://open.spotify.com/search/" in text
    assert "https://music.youtube.com/search?q=" in text and "https://www.last.fm/" in text
    assert all(m.user.username in text for m in (alice, bob, carol)) and not raw_mentions(message)
    assert {c["label"] for c in components(message)} == {"Into it", "Not for me", "Next", "End"}
    first = now_playing(message)

    again = encore.command(bob, "session", subcommand="start").final_message()
    assert again["ephemeral"] and "already running" in again["content"] and str(message_id) in again["content"]

    # Someone outside the voice channel is refused, only to them.
    refused = encore.click(message, button(message, "Into it")["custom_id"], outsider)
    encore.until(lambda: bool(refused.followups), what="the refusal")
    assert refused.followups[-1]["flags"] & 64 and "voice channel" in refused.followups[-1]["content"]

    vote(encore, message_id, alice, "Into it")
    vote(encore, message_id, bob, "Not for me")
    vote(encore, message_id, carol, "Into it")
    encore.until(lambda: now_playing(read(encore, message_id)) != first, what="the next pick")
    second = now_playing(panel(encore, message_id))
    assert second != first
    artist = encore.app.models.catalogue.lookup(first)
    assert artist.artist_id in encore.liked_ids(alice) and artist.artist_id not in encore.liked_ids(bob)

    encore.call(encore.emulator.join_voice, encore.guild, dave, lounge)
    encore.until(lambda: "joined" in text_of(read(encore, message_id)), what="the panel to say Dave joined")
    assert f"{dave.user.username} joined" in text_of(panel(encore, message_id))
    encore.call(encore.emulator.leave_voice, encore.guild, carol)
    encore.until(lambda: "left" in text_of(read(encore, message_id)), what="the panel to say Carol left")
    group = next(line for line in text_of(panel(encore, message_id)).splitlines() if line.startswith("**In the group"))
    assert dave.user.username in group and carol.user.username not in group

    restart_bot(encore)
    in_voice(encore, 3, lounge.id)
    vote(encore, message_id, alice, "Next")
    encore.until(lambda: now_playing(read(encore, message_id)) != second, what="a pick after the restart")
    third = now_playing(panel(encore, message_id))
    vote(encore, message_id, dave, "Into it")
    encore.until(lambda: "into it: " in text_of(read(encore, message_id)), what="Dave's vote on the panel")

    vote(encore, message_id, bob, "End")
    encore.until(lambda: "recap" in text_of(read(encore, message_id)), what="the recap")
    recap = panel(encore, message_id)
    text = text_of(recap)
    assert not components(recap) and first in text and second in text and third in text
    assert "Favourites" in text and alice.user.username in text

    # The recap carries a picture of the votes, uploaded with it and served back as a PNG.
    picture = f"session-{session_id}.png"
    [(attachment, blob)] = attachments_of(encore, message_id)
    assert attachment["filename"] == picture and attachment["content_type"] == "image/png"
    assert blob.startswith(PNG_MAGIC) and attachment["size"] == len(blob) > 5_000
    width, height = int.from_bytes(blob[16:20], "big"), int.from_bytes(blob[20:24], "big")
    assert 500 <= width <= 1200 and 250 <= height <= 1400, (width, height)
    with urllib.request.urlopen(attachment["url"], timeout=20) as served:
        assert served.read() == blob and served.headers["Content-Type"] == "image/png"
    assert recap["embeds"][0]["image"]["url"] == f"attachment://{picture}"

    # Redraws, at once, after another and after a restart, upload nothing more and keep pointing at it.
    encore.run(redraw_twice(encore, session_id))
    restart_bot(encore)
    encore.run(refresh_panel(encore.bot, session_id))
    panel_path = f"/channels/{recap['channel_id']}/messages/{message_id}"
    edits = [r for r in encore.requests() if r.method == "PATCH" and r.path.endswith(panel_path)]
    uploads = [r for r in edits if r.files]
    assert len(uploads) == 1 and len(edits) >= len(uploads) + 2, (len(uploads), len(edits))
    assert all(
        r.json["embeds"][0]["image"]["url"] == f"attachment://{picture}" for r in edits[edits.index(uploads[0]) :]
    )
    assert attachments_of(encore, message_id) == [(attachment, blob)]
    again = panel(encore, message_id)
    assert again["embeds"] == recap["embeds"] and not components(again)

    history = encore.command(alice, "session", subcommand="history").final_message()
    assert "Past listening sessions" in text_of(history) and str(message_id) in text_of(history)
    for member in (alice, bob, dave):
        encore.call(encore.emulator.leave_voice, encore.guild, member)


def test_every_request_was_clean(encore: Encore) -> None:
    assert_every_request_clean(encore.requests())
