"""The member context menus (right-click a member → Apps → "Taste match", "Blend with me"), end to end.

The real bot registers them by bulk overwrite beside its slash commands; the emulator sends the type-2
interactions Discord sends (``target_id``, ``resolved.users`` and ``resolved.members``). The last test
checks every REST request against Discord's OpenAPI spec.
"""

from __future__ import annotations

import re

import pytest

from tests.helpers.e2e import Encore, like
from tests.helpers.e2e_messages import assert_every_request_clean, raw_mentions, text_of

pytestmark = pytest.mark.slow

TASTE_MATCH, BLEND_WITH_ME = "Taste match", "Blend with me"
BLEND_LINE = re.compile(r"^\*\*(\d+)\.\*\* \[(.+?)\]\((https://www\.last\.fm/\S+?)\) — suits (.+) most, (.+) least$")
ART_POP = ("Radiohead", "Björk", "Portishead")
METAL = ("Metallica", "Slayer", "Iron Maiden")


def test_both_menus_are_registered_as_guild_only_user_commands(encore: Encore) -> None:
    registered = encore.emulator.commands(encore.guild) or encore.emulator.commands()
    menus = {c["name"]: c for c in registered if c["type"] == 2}
    assert set(menus) == {TASTE_MATCH, BLEND_WITH_ME}
    for menu in menus.values():
        assert menu["description"] == "" and "options" not in menu
        assert menu["contexts"] == [0], "offered in servers only"
    # The slash commands they stand for are still there, under their own names.
    assert {"taste", "blend"} <= {c["name"] for c in registered if c["type"] == 1}


def test_taste_match_compares_with_the_member_right_clicked(encore: Encore) -> None:
    ana, ben = encore.member("ana"), encore.member("ben")
    like(encore, ana, *ART_POP, "Massive Attack")
    like(encore, ben, "Radiohead", "Portishead", "Sigur Rós")
    record = encore.user_command(ana, TASTE_MATCH, ben)
    assert record.payload["data"]["target_id"] == str(ben.id)
    message = record.final_message()
    assert not message["ephemeral"]
    text = text_of(message)
    percent = re.search(r"Your tastes are more alike than \*\*(\d+)%\*\* of pairs of listeners", text)
    assert percent and int(percent.group(1)) >= 80, text
    assert "You both like [Radiohead](https://www.last.fm/" in text
    assert ben.user.username in message["embeds"][0]["title"]
    # The same answer as /taste gives.
    slash = text_of(encore.command(ana, "taste", {"member": ben}).final_message())
    assert percent.group(0) in slash
    # The picture follows, as for /taste.
    encore.until(lambda: bool(record.final_message()["attachments"]), what="the taste picture")


def test_taste_match_with_a_private_member_says_so_privately(encore: Encore) -> None:
    ana, shy = encore.member("ana"), encore.member("shy")
    like(encore, ana, *ART_POP)
    like(encore, shy, *METAL)
    encore.command(shy, "privacy", {"setting": "private"})
    message = encore.user_command(ana, TASTE_MATCH, shy).final_message()
    assert message["ephemeral"] and message["content"].startswith("⚠️"), message
    assert shy.user.username in message["content"].casefold() and "private" in message["content"]
    assert "Metallica" not in text_of(message) and not raw_mentions(message)


def test_blend_with_me_blends_the_invoker_and_the_member(encore: Encore) -> None:
    ana, bo = encore.member("ana"), encore.member("bo")
    like(encore, ana, *ART_POP)
    like(encore, bo, *METAL)
    message = encore.user_command(ana, BLEND_WITH_ME, bo).final_message()
    assert not message["ephemeral"], "a blend is for both of them"
    title = message["embeds"][0]["title"]
    assert ana.user.username in title and bo.user.username in title
    lines = message["embeds"][0]["description"].splitlines()
    matches = [BLEND_LINE.match(line) for line in lines]
    assert len(matches) == 10 and all(matches), lines
    assert not {m.group(2) for m in matches} & set(ART_POP + METAL), "only artists new to both"
    assert {m.group(4) for m in matches} | {m.group(5) for m in matches} <= {ana.user.username, bo.user.username}


def test_blend_with_me_refuses_a_private_member_yourself_and_bots(encore: Encore) -> None:
    ana, shy = encore.member("ana"), encore.member("shy")
    like(encore, ana, *ART_POP)
    like(encore, shy, *METAL)
    encore.command(shy, "privacy", {"setting": "private"})
    refused = encore.user_command(ana, BLEND_WITH_ME, shy).final_message()
    content = refused["content"].casefold()
    assert refused["ephemeral"] and "private" in content and shy.user.username in content
    assert "Metallica" not in text_of(refused)
    yourself = encore.user_command(ana, BLEND_WITH_ME, ana).final_message()
    assert yourself["ephemeral"] and "another member" in yourself["content"]
    bot_member = encore.call(lambda: encore.guild.members[encore.emulator.state.bot_user.id])
    bot = encore.user_command(ana, TASTE_MATCH, bot_member).final_message()
    assert bot["ephemeral"] and "bots have no taste" in bot["content"].casefold()


def test_a_member_who_left_and_a_crafted_dm_are_answered(encore: Encore) -> None:
    ana = encore.member("ana")
    like(encore, ana, *ART_POP)
    elsewhere = encore.call(encore.emulator.add_guild, "Elsewhere")
    stranger = encore.call(encore.emulator.add_member, elsewhere, "stranger")
    gone = encore.user_command(ana, TASTE_MATCH, stranger.user).final_message()
    assert gone["ephemeral"] and "not in this server" in gone["content"]
    dm = encore.user_command(ana, BLEND_WITH_ME, ana, crafted=True, in_dm=True).final_message()
    assert dm["ephemeral"] and "server" in dm["content"]


def test_help_lists_the_menus(encore: Encore) -> None:
    text = text_of(encore.command(encore.member(), "help").final_message())
    assert f"**{TASTE_MATCH}**" in text and f"**{BLEND_WITH_ME}**" in text and "Right-click a member" in text


def test_zz_every_request_pinged_nobody_and_matches_the_openapi_spec(encore: Encore) -> None:
    """Last in the module: every REST request the bot made, the command registration included."""
    requests = encore.requests()
    puts = [r for r in requests if r.method == "PUT" and r.path.endswith("/commands")]
    assert puts and any(c.get("type") == 2 for c in puts[-1].json)
    assert_every_request_clean(requests)
