"""Added artists through the emulator: seen in the server that added them, listed and removed by its
moderators with /encore artists, and spam names refused with a reply that says why."""

from __future__ import annotations

from typing import Any

import pytest

from discord_emulator import InteractionRecord, Member
from tests.helpers.components import button
from tests.helpers.e2e import Encore, answered
from tests.helpers.e2e_messages import text_of

pytestmark = pytest.mark.slow

NEW = "Qwzxv Blorp Ensemble"
SPAM = "Spam Artist 00000 buy cheap pills"


def add_new_artist(encore: Encore, member: Member, name: str) -> InteractionRecord:
    """/like an unknown name, then press "Add … as a new artist"."""
    record = encore.command(member, "like", {"artist": name})
    add = button(record.final_message(), f"Add “{name}” as a new artist")
    return encore.click(record, add["custom_id"], member)


def like_choices(encore: Encore, member: Member, typed: str) -> list[str]:
    return [c["name"] for c in encore.autocomplete(member, "like", "artist", typed).choices]


def remove_choices(encore: Encore, member: Member, typed: str) -> list[str]:
    async def go() -> InteractionRecord:
        record = await encore.emulator.autocomplete(
            encore.guild, encore.channel, member, "encore", "remove", typed, subcommand="artists"
        )
        await record.wait_until(answered, 5)
        return record

    return [c["name"] for c in encore.run(go(), 10).choices]


def crafted(encore: Encore, member: Member, options: dict[str, Any]) -> InteractionRecord:
    """/encore artists sent by hand, as a server that overrode the command's permissions lets anyone."""

    async def go() -> InteractionRecord:
        record = await encore.emulator.invoke(
            encore.guild, encore.channel, member, "encore", options, "artists", crafted=True
        )
        await record.wait_until(answered, 15)
        return record

    return encore.run(go(), 20)


def member_artist_count(encore: Encore) -> int:
    return encore.run(encore.bot.app.store.counts())["member_artists"]


def test_encore_artists_lists_and_removes_this_servers_added_artists(encore: Encore) -> None:
    adder, other = encore.member(), encore.member()
    manager = encore.member("mod", manage_guild=True)
    assert add_new_artist(encore, adder, NEW).final_message()["content"].startswith(f"Added {NEW}")
    assert NEW in like_choices(encore, other, "Qwzxv Blorp"), "members of the server that added it see it"

    listing = encore.command(manager, "encore", subcommand="artists").final_message()
    assert listing["ephemeral"]
    assert NEW in text_of(listing) and f"<@{adder.id}>" in text_of(listing)
    assert remove_choices(encore, manager, "blorp") == [NEW]

    removed = encore.command(manager, "encore", {"remove": NEW}, subcommand="artists").final_message()
    assert removed["ephemeral"] and removed["content"].startswith(f"Removed {NEW}"), removed["content"]
    assert "deleted too" in removed["content"]  # only this server referred to it
    assert NEW not in like_choices(encore, other, "Qwzxv Blorp")
    assert encore.run(encore.bot.app.store.likes.likes_of(adder.id)) == []
    empty = encore.command(manager, "encore", subcommand="artists").final_message()
    assert "No member has added an artist" in empty["content"]


def test_encore_artists_is_refused_without_manage_server(encore: Encore) -> None:
    member = encore.member()
    add_new_artist(encore, member, "Quietly Added Band")
    for options in ({}, {"remove": "Quietly Added Band"}):
        record = crafted(encore, member, options)
        message = record.final_message()
        assert message["ephemeral"] and "Manage Server" in message["content"], message["content"]
    still = encore.command(encore.member("mod", manage_guild=True), "encore", subcommand="artists").final_message()
    assert "Quietly Added Band" in text_of(still)


def test_a_spam_name_is_refused_with_a_clear_reply(encore: Encore) -> None:
    member = encore.member()
    before = member_artist_count(encore)
    clicked = add_new_artist(encore, member, SPAM)
    message = clicked.final_message()
    assert message["ephemeral"] and "reads like an advert" in message["content"], message["content"]
    assert member_artist_count(encore) == before
    assert encore.run(encore.bot.app.store.likes.likes_of(member.id)) == []
