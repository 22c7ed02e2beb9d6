"""/help, /whoknows, and /recommend's listen links and "liked by N members here", through the emulator."""

from __future__ import annotations

import re

import pytest

from discord_emulator import Member
from tests.helpers.e2e import Encore
from tests.helpers.e2e_messages import EXPECTED_COMMANDS, assert_every_request_clean, raw_mentions, text_of

pytestmark = pytest.mark.slow


def like(encore: Encore, member: Member, *names: str) -> None:
    for name in names:
        content = encore.command(member, "like", {"artist": name}).final_message()["content"]
        assert content.startswith(("Noted: you like", "You already like")), content


def test_help_lists_every_registered_command_ephemerally(encore: Encore) -> None:
    message = encore.command(encore.member("helped"), "help").final_message()
    assert message["ephemeral"]
    text = text_of(message)
    slash = [c for c in encore.emulator.commands(encore.guild) if c.get("type", 1) == 1]
    registered = {c["name"] for c in slash} or EXPECTED_COMMANDS
    for name in registered:
        assert f"`/{name}" in text, (name, text)
    assert "/lastfm link" in text and "/like" in text
    for group in ("Your taste", "Discover", "Together", "Your data", "Server admin"):
        assert group in text
    assert "coming soon" not in text.casefold()


def test_whoknows_names_public_likers_by_display_name_and_not_private_ones(encore: Encore) -> None:
    fan = encore.call(encore.emulator.add_member, encore.guild, "whofan", global_name="@everyone Fan <@1>")
    shy = encore.call(encore.emulator.add_member, encore.guild, "whoshy", global_name="Shy Person")
    like(encore, fan, "Sigur Rós")
    encore.command(shy, "privacy", {"setting": "private"})
    like(encore, shy, "Sigur Rós")
    message = encore.command(encore.member("asker"), "whoknows", {"artist": "Sigur Rós"}).final_message()
    text = text_of(message)
    assert "Fan" in text and "Shy Person" not in text, text
    assert not raw_mentions(message), text


def test_recommend_shows_listen_links_and_who_here_likes_it(encore: Encore) -> None:
    asker, friend = encore.member("listener"), encore.member("friend")
    like(encore, asker, "Radiohead", "Muse")
    first = encore.command(asker, "recommend", {"count": 3}).final_message()
    top = re.search(r"^\*\*1\.\*\* \[(.+?)\]\(", first["embeds"][0]["description"], re.M)
    assert top is not None, first
    like(encore, friend, top.group(1).replace("\\", ""))
    message = encore.command(asker, "recommend", {"count": 3}).final_message()
    description = message["embeds"][0]["description"]
    assert "[Spotify](https://open.spotify.com/search/" in description, description
    assert "[YouTube Music](https://music.youtube.com/search?q=" in description, description
    assert "liked by 1 member here" in description.splitlines()[0], description


def test_zz_every_request_clean(encore: Encore) -> None:
    assert_every_request_clean(encore.requests())
