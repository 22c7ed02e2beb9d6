"""/blend, /taste, /neighbours, /trending, /genres and /recommend's genre autocomplete, through the emulator.

One bot serves the module; each test uses fresh members (and, where the whole server is read, artists
or tastes no other test uses). The last test checks every REST request against Discord's OpenAPI spec.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from discord_emulator import Member
from tests.helpers.e2e import Encore, like
from tests.helpers.e2e_messages import EXPECTED_COMMANDS, assert_every_request_clean, embed_lines, raw_mentions, text_of

pytestmark = pytest.mark.slow

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
BLEND_LINE = re.compile(r"^\*\*(\d+)\.\*\* \[(.+?)\]\((https://www\.last\.fm/\S+?)\) — suits (.+) most, (.+) least$")
ART_POP = ("Radiohead", "Björk", "Portishead")
METAL = ("Metallica", "Slayer", "Iron Maiden")


def private(encore: Encore, member: Member) -> None:
    assert "now **private**" in encore.command(member, "privacy", {"setting": "private"}).final_message()["content"]


def hostile(encore: Encore, display: str) -> Member:
    """A member whose display name is mention and markdown syntax."""
    name = f"hostile{len(encore.call(lambda: encore.guild.members))}"
    return encore.call(encore.emulator.add_member, encore.guild, name, global_name=display)


def blend_lines(message: dict[str, Any]) -> list[re.Match[str]]:
    return embed_lines(message, BLEND_LINE, "'**n.** [name](url) — suits A most, B least'")


def attachment_bytes(encore: Encore, message_id: str) -> list[tuple[dict[str, Any], bytes]]:
    """The attachments of a stored message with the bytes the emulator accepted for each."""

    def read() -> list[tuple[dict[str, Any], bytes]]:
        stored = encore.emulator.state.messages[int(message_id)]
        return [(a, stored.files[int(a["id"])]) for a in stored.payload.get("attachments") or []]

    return encore.call(read)


# -- registration ----------------------------------------------------------------------------------


def test_the_social_commands_are_registered(encore: Encore) -> None:
    registered = {c["name"]: c for c in encore.emulator.commands(encore.guild)} or {
        c["name"]: c for c in encore.emulator.commands()
    }
    assert EXPECTED_COMMANDS <= set(registered), sorted(registered)
    blend = registered["blend"]
    options = {o["name"]: o for o in blend["options"]}
    assert set(options) == {"member1", "member2", "member3", "member4", "member5", "count", "strategy"}
    assert not any(o.get("required") for o in options.values()), "with no member named, /blend uses the voice channel"
    assert {c["value"] for c in options["strategy"]["choices"]} == {"average", "least-misery"}
    assert "voice channel" in blend["description"] and "you +" in blend["description"]


# -- /trending -------------------------------------------------------------------------------------


def test_trending_counts_members_by_artist_and_shows_risers(encore: Encore) -> None:
    """Early in the module on purpose: later tests like ART_POP often enough to outrank these fans."""
    fans = [encore.member("fan") for _ in range(6)]
    for fan in fans:
        like(encore, fan, "Boards of Canada")
    shy = encore.member("shy")
    private(encore, shy)
    like(encore, shy, "Aphex Twin")  # a private member's like is not counted
    message = encore.command(fans[0], "trending").final_message()
    assert not message["ephemeral"]
    text = text_of(message)
    assert "Trending in this server, last 7 days" in text
    assert re.search(r"^\*\*\d+\.\*\* \[Boards of Canada\]\(https://www\.last\.fm/\S+\) — 6 members$", text, re.M), text
    rising = text.split("**Rising**", 1)[1]
    assert "▲ [Boards of Canada](" in rising and "— 6 (new)" in rising
    assert "Aphex Twin" not in text
    one_day = text_of(encore.command(fans[0], "trending", {"days": 1}).final_message())
    assert "last day" in one_day and "Boards of Canada" in one_day


# -- /blend ----------------------------------------------------------------------------------------


def test_blend_of_named_members_lists_new_artists_and_whom_each_suits(encore: Encore) -> None:
    ana, bo, cy = encore.member("ana"), encore.member("bo"), encore.member("cy")
    like(encore, ana, *ART_POP)
    like(encore, bo, *METAL)
    like(encore, cy, "Muse", "Coldplay")
    message = encore.command(ana, "blend", {"member1": bo, "member2": cy, "count": 5}).final_message()
    assert not message["ephemeral"], "a blend is for the whole group"
    title = message["embeds"][0]["title"]
    for member in (ana, bo, cy):
        assert member.user.username in title, title
    lines = blend_lines(message)
    assert [int(m.group(1)) for m in lines] == [1, 2, 3, 4, 5]
    held = set(ART_POP + METAL + ("Muse", "Coldplay"))
    assert not {m.group(2) for m in lines} & held, "only artists new to everyone"
    names = {ana.user.username, bo.user.username, cy.user.username}
    assert all(m.group(4) in names and m.group(5) in names and m.group(4) != m.group(5) for m in lines)
    assert "least" in message["embeds"][0]["footer"]["text"] or "together" in message["embeds"][0]["footer"]["text"]

    misery = encore.command(ana, "blend", {"member1": bo, "strategy": "least-misery", "count": 3}).final_message()
    assert len(blend_lines(misery)) == 3 and "least misery" in misery["embeds"][0]["footer"]["text"]


def test_blend_names_who_is_private_or_has_no_likes(encore: Encore) -> None:
    ana, shy, new = encore.member("ana"), encore.member("shy"), encore.member("new")
    like(encore, ana, *ART_POP)
    like(encore, shy, *METAL)
    private(encore, shy)
    message = encore.command(ana, "blend", {"member1": shy, "member2": new}).final_message()
    assert message["ephemeral"] and message["content"].startswith("⚠️"), message
    content = message["content"].casefold()
    assert shy.user.username in content and "private" in content
    assert new.user.username in content and "not liked any artist" in content
    assert "Metallica" not in message["content"]


def test_blend_with_nobody_named_and_no_voice_channel_says_what_to_do(encore: Encore) -> None:
    ana = encore.member("ana")
    like(encore, ana, *ART_POP)
    message = encore.command(ana, "blend").final_message()
    assert message["ephemeral"] and "voice channel" in message["content"]
    alone = encore.command(ana, "blend", {"member1": ana}).final_message()
    assert alone["ephemeral"] and "at least two" in alone["content"]


def test_blend_of_a_voice_channel_leaves_out_the_private_member(encore: Encore) -> None:
    lounge = encore.call(encore.emulator.add_voice_channel, encore.guild, "Lounge")
    host, guest, shy, outside = (
        encore.member("host"),
        encore.member("guest"),
        encore.member("shy"),
        encore.member("outside"),
    )
    like(encore, host, *ART_POP)
    like(encore, guest, "Daft Punk", "Justice")
    like(encore, shy, *METAL)
    like(encore, outside, "Muse")
    private(encore, shy)
    for member in (host, guest, shy):
        encore.call(encore.emulator.join_voice, encore.guild, member, lounge)
    guild = encore.bot.get_guild(encore.guild.id)
    encore.until(
        lambda: len(guild.get_channel(lounge.id).voice_states) == 3, what="the bot to see three members in voice"
    )

    message = encore.command(host, "blend", {"count": 4}).final_message()
    assert not message["ephemeral"]
    title = message["embeds"][0]["title"]
    assert host.user.username in title and guest.user.username in title
    assert shy.user.username not in title and outside.user.username not in title
    assert message["content"].startswith("Left out:") and shy.user.username in message["content"]
    assert "private" in message["content"]
    lines = blend_lines(message)
    assert len(lines) == 4 and not {m.group(2) for m in lines} & {"Daft Punk", "Justice", *ART_POP}
    for member in (host, guest, shy):
        encore.call(encore.emulator.leave_voice, encore.guild, member)


# -- /taste ----------------------------------------------------------------------------------------


def test_taste_shows_a_calibrated_percentage_shared_artists_and_a_png(encore: Encore) -> None:
    ana, ben = encore.member("ana"), encore.member("ben")
    like(encore, ana, *ART_POP, "Massive Attack")
    like(encore, ben, "Radiohead", "Portishead", "Sigur Rós")
    record = encore.command(ana, "taste", {"member": ben})
    message = record.final_message()
    assert not message["ephemeral"]
    text = text_of(message)
    percent = re.search(r"Your tastes are more alike than \*\*(\d+)%\*\* of pairs of listeners: ([a-z ]+)\.", text)
    assert percent and int(percent.group(1)) >= 80 and "similar" in percent.group(2), text
    assert "You both like [Radiohead](https://www.last.fm/" in text and "[Portishead](" in text
    assert ben.user.username in message["embeds"][0]["title"]

    # The picture follows in an edit of the same message.
    encore.until(lambda: bool(record.final_message()["attachments"]), what="the taste picture")
    message = record.final_message()
    [(attachment, blob)] = attachment_bytes(encore, message["id"])
    assert attachment["filename"] == "taste.png" and attachment["content_type"] == "image/png"
    assert blob.startswith(PNG_MAGIC) and attachment["size"] == len(blob) > 5_000
    assert message["embeds"][0]["image"]["url"] == "attachment://taste.png"
    assert percent.group(0) in text_of(message), "the text stays as it was"
    uploads = [r for r in encore.requests() if r.files and r.method == "PATCH"]
    assert uploads and all(200 <= r.status < 300 for r in uploads), "the emulator accepted the upload"


def test_taste_far_apart_and_refusals(encore: Encore) -> None:
    ana, metal, shy, new = encore.member("ana"), encore.member("metal"), encore.member("shy"), encore.member("new")
    like(encore, ana, *ART_POP)
    like(encore, metal, *METAL)
    like(encore, shy, *ART_POP)
    private(encore, shy)
    far = text_of(encore.command(ana, "taste", {"member": metal}).final_message())
    assert "You do not share a liked artist yet." in far
    assert int(re.search(r"\*\*(\d+)%\*\*", far).group(1)) < 50, far

    refused = encore.command(ana, "taste", {"member": shy}).final_message()
    assert (
        refused["ephemeral"] and "private" in refused["content"] and shy.user.username in refused["content"].casefold()
    )
    assert not refused["attachments"]
    empty = encore.command(ana, "taste", {"member": new}).final_message()
    assert empty["ephemeral"] and "not liked any artist" in empty["content"]
    itself = encore.command(ana, "taste", {"member": ana}).final_message()
    assert itself["ephemeral"] and "another member" in itself["content"]


# -- /neighbours -----------------------------------------------------------------------------------

TWIN_TASTE = ("Autechre", "Squarepusher", "Venetian Snares")


def test_neighbours_lists_the_nearest_public_members_and_never_a_private_one(encore: Encore) -> None:
    me, twin, hidden = encore.member("me"), encore.member("twin"), encore.member("hidden")
    like(encore, me, *TWIN_TASTE)
    like(encore, twin, *TWIN_TASTE)
    like(encore, hidden, *TWIN_TASTE)
    private(encore, hidden)
    message = encore.command(me, "neighbours", {"count": 10}).final_message()
    assert message["ephemeral"]
    lines = message["embeds"][0]["description"].splitlines()
    assert lines[0].startswith(f"**1.** {twin.user.username} — more alike than 100% of pairs"), lines
    assert "3 artists in common" in lines[0]
    assert hidden.user.username not in text_of(message)
    assert me.user.username not in text_of(message)

    nobody = encore.member("nobody")
    refused = encore.command(nobody, "neighbours").final_message()
    assert refused["ephemeral"] and "/like first" in refused["content"]


# -- /genres and genre autocomplete ----------------------------------------------------------------


def test_genres_of_yourself_and_of_others_with_privacy(encore: Encore) -> None:
    ana, metal, shy = encore.member("ana"), encore.member("metal"), encore.member("shy")
    like(encore, metal, *METAL)
    like(encore, shy, *ART_POP)
    private(encore, shy)
    own = encore.command(metal, "genres").final_message()
    assert own["ephemeral"] and own["embeds"][0]["title"] == "Your top genres"
    first = own["embeds"][0]["description"].splitlines()[0]
    assert re.match(r"^\*\*1\.\*\* [a-z ]*metal — \d+% ▰+$", first), first
    other = encore.command(ana, "genres", {"member": metal}).final_message()
    assert not other["ephemeral"] and metal.user.username in other["embeds"][0]["title"]
    refused = encore.command(ana, "genres", {"member": shy}).final_message()
    assert refused["ephemeral"] and "private" in refused["content"]
    nothing = encore.command(ana, "genres").final_message()
    assert nothing["ephemeral"] and "not liked any artist" in nothing["content"]


def test_recommend_genre_autocompletes_from_the_catalogue_tags(encore: Encore) -> None:
    member = encore.member()
    choices = encore.autocomplete(member, "recommend", "genre", "jaz").choices
    assert choices and choices[0]["value"] == "jazz", choices
    assert all("jaz" in c["value"] for c in choices)
    popular = encore.autocomplete(member, "recommend", "genre", "").choices
    assert len(popular) == 25 and popular[0]["value"] == "rock"


# -- hostile names ---------------------------------------------------------------------------------


def test_hostile_display_names_ping_nobody(encore: Encore) -> None:
    evil = hostile(encore, "@everyone **boss** <@123456789012345678>")
    here = hostile(encore, "@here `code` ||spoiler||")
    like(encore, evil, *ART_POP)
    like(encore, here, "Radiohead", "Sigur Rós")
    messages = [
        encore.command(evil, "blend", {"member1": here, "count": 3}).final_message(),
        encore.command(evil, "neighbours").final_message(),
        encore.command(here, "genres", {"member": evil}).final_message(),
    ]
    record = encore.command(here, "taste", {"member": evil})
    encore.until(lambda: bool(record.final_message()["attachments"]), what="the taste picture")
    messages.append(record.final_message())
    private(encore, here)
    messages.append(encore.command(evil, "blend", {"member1": here}).final_message())
    for message in messages:
        assert not raw_mentions(message), (raw_mentions(message), text_of(message))
        assert "**boss**" not in text_of(message)
    assert "boss" in text_of(messages[0]) and "private" in messages[-1]["content"]


# -- everything the bot sent -----------------------------------------------------------------------


def test_zz_every_request_pinged_nobody_and_matches_the_openapi_spec(encore: Encore) -> None:
    """Last in the module: every REST request the bot made (the picture uploads included)."""
    requests = encore.requests()
    assert any(r.files for r in requests), "the taste pictures were uploaded"
    assert_every_request_clean(requests)
