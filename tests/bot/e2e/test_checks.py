"""Checks in code: what Discord's client would stop, sent anyway, gets one clear ephemeral answer.

Each request here is one the emulator sends as a hand-made request would (`crafted`: no permission
hiding, no range or choice checks; `in_dm`: from a direct message). Nothing is stored, and the bot
goes on answering.
"""

from __future__ import annotations

import math

import pytest

from tests.helpers.e2e import Encore
from tests.helpers.e2e_messages import text_of

pytestmark = pytest.mark.slow


def ephemeral_text(record) -> str:
    message = record.final_message()
    assert message["ephemeral"], message
    return text_of(message)


def test_encore_status_needs_manage_server_even_when_a_server_shows_it_to_everyone(encore: Encore) -> None:
    member = encore.member()
    refused = ephemeral_text(encore.command(member, "encore", subcommand="status", crafted=True))
    assert "Manage Server" in refused and "Encore status" not in refused
    admin = encore.member("admin", manage_guild=True)
    assert "Encore status" in ephemeral_text(encore.command(admin, "encore", subcommand="status"))


@pytest.mark.parametrize("command", ["trending", "neighbours", "blend", "encore"])
def test_server_commands_in_a_dm_say_so(encore: Encore, command: str) -> None:
    member = encore.member("admin", manage_guild=True)
    subcommand = "status" if command == "encore" else None
    record = encore.command(member, command, subcommand=subcommand, in_dm=True)
    assert "works in a server, not in direct messages" in ephemeral_text(record)


@pytest.mark.parametrize("penalty", [-1.0, 3.0, 1e308, math.nan])
def test_a_popularity_penalty_out_of_range_is_refused_and_not_stored(encore: Encore, penalty: float) -> None:
    admin = encore.member("admin", manage_guild=True)
    options = {"popularity_penalty": penalty}
    refused = ephemeral_text(encore.command(admin, "encore", options, subcommand="settings", crafted=True))
    assert "`popularity_penalty` must be from 0 to 2" in refused, refused
    current = ephemeral_text(encore.command(admin, "encore", subcommand="settings"))
    assert "Popularity penalty: **0.5**" in current, current


def test_a_privacy_value_that_is_not_a_choice_is_refused(encore: Encore) -> None:
    member = encore.member()
    refused = ephemeral_text(encore.command(member, "privacy", {"setting": "secret"}, crafted=True))
    assert "“secret” is not a valid `setting`: choose public, private." == refused.removeprefix("⚠️ "), refused
    assert "Your privacy is **public**" in ephemeral_text(encore.command(member, "privacy"))


def test_a_count_out_of_range_is_refused(encore: Encore) -> None:
    member = encore.member()
    encore.command(member, "like", {"artist": "Radiohead"})
    refused = ephemeral_text(encore.command(member, "recommend", {"count": 1000}, crafted=True))
    assert "`count` must be from 1 to 25; got 1000" in refused, refused


def test_expensive_commands_cool_down_per_member_and_say_when_to_retry(encore: Encore) -> None:
    member, other = encore.member(), encore.member()
    for who in (member, other):
        encore.command(who, "like", {"artist": "Radiohead"})
    answers = [text_of(encore.command(member, "recommend").final_message()) for _ in range(6)]
    assert all("cooling down" not in answer for answer in answers[:5]), answers
    last = encore.command(member, "recommend").final_message()
    assert last["ephemeral"] and "cooling down; try again <t:" in last["content"], last
    # Another member is not held back by the first one's calls.
    assert "cooling down" not in text_of(encore.command(other, "recommend").final_message())
