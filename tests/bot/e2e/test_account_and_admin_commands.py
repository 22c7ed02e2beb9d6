"""Command registration, /forget-me and the Manage Server commands (/encore status, refit, settings) of the
real bot, through the emulator.

One bot serves the whole module (see conftest); each test uses fresh members. The last test checks
every REST request the bot made in this module against Discord's OpenAPI description.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from discord_emulator import JSON, Member
from tests.helpers.components import button
from tests.helpers.e2e import Encore, like
from tests.helpers.e2e_messages import EPHEMERAL, EXPECTED_COMMANDS, MANAGE_GUILD, assert_every_request_clean
from tests.helpers.e2e_recommend import recommended

pytestmark = pytest.mark.slow


# -- 1. command sync -------------------------------------------------------------------------------


def registered(encore: Encore) -> dict[str, JSON]:
    """The slash commands (the member context menus are tested in test_context_menus.py)."""
    return {c["name"]: c for c in encore.call(encore.emulator.commands, encore.guild) if c.get("type", 1) == 1}


def test_every_command_is_registered(encore: Encore) -> None:
    commands = registered(encore)
    assert set(commands) == EXPECTED_COMMANDS
    subcommands = {o["name"]: o for o in commands["encore"].get("options") or []}
    assert set(subcommands) == {"status", "refit", "settings", "artists", "digest"}
    # /encore digest is a group of subcommands (set, off, show; see test_digest.py).
    assert all(o["type"] == (2 if name == "digest" else 1) for name, o in subcommands.items())
    options = {name: {o["name"]: o for o in c.get("options") or []} for name, c in commands.items()}
    for name in ("like", "similar", "why", "unlike"):
        assert options[name]["artist"]["autocomplete"] is True, name
        assert options[name]["artist"]["required"] is True, name
    assert options["likes"]["member"]["type"] == 6 and not options["likes"]["member"].get("required")
    assert {c["value"] for c in options["privacy"]["setting"]["choices"]} == {"public", "private"}
    assert (options["recommend"]["count"]["min_value"], options["recommend"]["count"]["max_value"]) == (1, 25)
    puts = [r for r in encore.requests() if r.method == "PUT" and r.route and r.route.endswith("/commands")]
    assert len(puts) == 1 and puts[0].status == 200


def test_encore_refit_is_registered_for_manage_server_only(encore: Encore) -> None:
    command = registered(encore)["encore"]
    raw = command.get("default_member_permissions")
    assert raw is not None and int(raw) & MANAGE_GUILD == MANAGE_GUILD, command


# -- 2. /forget-me ---------------------------------------------------------------------------------


def test_forget_me_cancel_keeps_everything_and_confirm_deletes(encore: Encore) -> None:
    member = encore.member()
    like(encore, member, "Radiohead", "Björk")
    kept = set(encore.liked_ids(member))

    asked = encore.command(member, "forget-me")
    question = asked.final_message()
    assert question["ephemeral"] and "Sure?" in question["content"]
    cancelled = encore.click(asked, button(question, "Cancel")["custom_id"], member)
    assert cancelled.final_message()["content"] == "Nothing was deleted."
    assert cancelled.final_message()["components"] == []
    assert encore.liked_ids(member) == kept and len(kept) == 2

    asked = encore.command(member, "forget-me")
    confirmed = encore.click(asked, button(asked.final_message(), "Delete all my data")["custom_id"], member)
    # Forgetting may take longer than Discord's 3 s: the click defers, then edits the message.
    assert confirmed.callback_type == 6, "the confirmation defers an update of the message"
    encore.until(lambda: confirmed.final_message()["content"].startswith("Done"), 30, "the forget-me answer")
    done = confirmed.final_message()
    assert done["content"].startswith("Done: Encore deleted your 2 likes"), done["content"]
    assert done["components"] == []
    assert encore.liked_ids(member) == set()
    after = encore.command(member, "recommend").final_message()
    assert after["ephemeral"] and "/like" in after["content"]


# -- 3. /encore status, refit and settings ---------------------------------------------------------


def field_values(message: dict[str, Any]) -> dict[str, str]:
    (embed,) = message["embeds"]
    return {f["name"]: f["value"] for f in embed["fields"]}


def test_encore_status_shows_the_model_and_counts(encore: Encore) -> None:
    member = encore.member("admin", manage_guild=True)  # /encore is for Manage Server
    like(encore, member, "Radiohead")
    message = encore.command(member, "encore", subcommand="status").final_message()
    assert message["ephemeral"]
    fields = field_values(message)
    assert fields["Model"] == f"`{encore.app.models.state.snapshot.version}`"
    counts = encore.run(encore.app.store.counts())
    assert fields["Members"] == f"{counts['members']:,}" and fields["Likes"] == f"{counts['likes']:,}"
    assert counts["likes"] >= 1
    assert fields["Matrix"].endswith("artists") and "users" in fields["Matrix"]


def invoke_as_if_shown(encore: Encore, member: Member, name: str, subcommand: str):
    """Run a command even if its default_member_permissions would hide it, as a server override allows."""
    command = next(
        c for c in encore.call(lambda: list(encore.emulator.state.global_commands.values())) if c["name"] == name
    )
    saved = command.get("default_member_permissions")
    encore.call(command.__setitem__, "default_member_permissions", None)
    try:
        return encore.command(member, name, subcommand=subcommand)
    finally:
        encore.call(command.__setitem__, "default_member_permissions", saved)


def test_encore_refit_is_refused_without_manage_server(encore: Encore) -> None:
    member = encore.member()
    before = encore.app.models.state.snapshot.version
    record = invoke_as_if_shown(encore, member, "encore", "refit")
    message = record.final_message()
    assert record.callback_type == 4 and message["ephemeral"]
    assert "Manage Server" in message["content"]
    assert encore.app.models.state.snapshot.version == before


def test_encore_refit_by_a_manager_defers_then_serves_a_new_snapshot(encore: Encore) -> None:
    manager = encore.member("mod", manage_guild=True)
    before = encore.app.models.state.snapshot.version
    record = encore.command(manager, "encore", subcommand="refit", timeout=90)
    assert record.callback_type == 5, "a refit takes seconds: the bot must defer within 3 s"
    assert record.callback.data and record.callback.data.get("flags", 0) & EPHEMERAL
    assert record.callback is not None and not record.rejections, record.rejections  # within the deadline
    message = record.final_message()
    assert message["ephemeral"] and not message["loading"]
    after = encore.app.models.state.snapshot.version
    assert after != before
    assert re.fullmatch(rf"Refitted in \d+\.\d s; now serving `{re.escape(after)}`\.", message["content"]), message[
        "content"
    ]
    assert record.edits or record.followups, "the answer came as an edit or a follow-up"
    status = field_values(encore.command(manager, "encore", subcommand="status").final_message())
    assert status["Model"] == f"`{after}`"


def test_encore_settings_popularity_penalty_changes_recommend_for_this_server(encore: Encore) -> None:
    manager, member = encore.member("mod", manage_guild=True), encore.member()
    like(encore, member, "Radiohead", "Björk", "Portishead")
    listeners = {a.artist_id: a.listeners for a in encore.app.models.catalogue}

    def mean_listeners() -> float:
        shown = recommended(encore.command(member, "recommend", {"count": 10}).final_message())
        return sum(listeners[artist_id] for artist_id, _ in shown) / len(shown)

    def settings(options: dict[str, Any]) -> str:
        message = encore.command(manager, "encore", options, subcommand="settings").final_message()
        assert message["ephemeral"], message
        return message["content"]

    assert "Popularity penalty: **0.5**" in settings({})  # Encore's default
    assert "Saved. Popularity penalty: **0**" in settings({"popularity_penalty": 0.0})
    by_taste = mean_listeners()
    assert "Saved. Popularity penalty: **1.5**" in settings({"popularity_penalty": 1.5})
    lesser_known = mean_listeners()
    assert lesser_known < by_taste / 2, (lesser_known, by_taste)
    assert "Popularity penalty: **0.5**" in settings({"reset": True})
    refused = invoke_as_if_shown(encore, member, "encore", "settings").final_message()
    assert refused["ephemeral"] and "Manage Server" in refused["content"]


# -- 4. everything the bot sent --------------------------------------------------------------------


def test_zz_every_request_pinged_nobody_and_matches_the_openapi_spec(encore: Encore) -> None:
    """Last in the module: every REST request the bot made above, against the spec."""
    requests = encore.requests()
    routes = {r.route for r in requests if r.json is not None}
    assert {
        "/interactions/{interaction_id}/{interaction_token}/callback",
        "/applications/{application_id}/commands",
    } <= routes, routes
    assert_every_request_clean(requests)
