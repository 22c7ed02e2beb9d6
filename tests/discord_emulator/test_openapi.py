"""What the client sends matches Discord's own OpenAPI description; the validator itself works."""

from __future__ import annotations

from pathlib import Path

import pytest

from discord_emulator import OpenAPIValidator
from tests.helpers.emulator import run, running_bot
from tests.support import openapi_spec_path as spec_path

CALLBACK = "/api/v10/interactions/1234567890123456789/aW50ZXJhY3Rpb246abc/callback"


@pytest.fixture(scope="module")
def validator() -> OpenAPIValidator:
    return OpenAPIValidator(spec_path())


def test_known_good_bodies_pass(validator: OpenAPIValidator) -> None:
    assert validator.validate("POST", CALLBACK, {"type": 4, "data": {"content": "hi", "flags": 64}}) == []
    assert validator.validate("POST", CALLBACK, {"type": 5}) == []
    assert validator.validate("POST", CALLBACK, {"type": 8, "data": {"choices": [{"name": "a", "value": "a"}]}}) == []
    commands = [
        {
            "name": "echo",
            "description": "Repeat",
            "type": 1,
            "options": [{"name": "text", "description": "What", "type": 3, "required": True, "autocomplete": True}],
        }
    ]
    assert validator.validate("PUT", "/api/v10/applications/1/guilds/2/commands", commands) == []
    assert validator.validate("GET", "/api/v10/users/@me") == []


def test_a_wrong_type_is_a_problem(validator: OpenAPIValidator) -> None:
    problems = validator.validate("POST", CALLBACK, {"type": "four", "data": {"content": "hi"}})
    assert problems, "a string interaction callback type must not validate"
    assert all("/interactions/{interaction_id}/{interaction_token}/callback" in p for p in problems)
    assert any("four" in p for p in problems)
    too_long = validator.validate("POST", CALLBACK, {"type": 4, "data": {"content": "x" * 2001}})
    assert too_long and "content" in " ".join(too_long)


def test_unknown_paths_and_methods_are_problems(validator: OpenAPIValidator) -> None:
    assert validator.validate("POST", "/api/v10/no/such/route", {"a": 1})[0].endswith(
        "no path in the OpenAPI spec matches"
    )
    assert "has no PUT operation" in validator.validate("PUT", "/api/v10/users/@me", {})[0]


def test_literal_segments_win_over_parameters(validator: OpenAPIValidator) -> None:
    assert validator.match_path("/api/v10/webhooks/1/tok/messages/@original") == (
        "/webhooks/{webhook_id}/{webhook_token}/messages/@original"
    )
    assert validator.match_path("/api/v10/webhooks/1/tok/messages/99") == (
        "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}"
    )
    assert validator.match_path("/api/v10/users/@me") == "/users/@me"
    # Compiled validators are cached per (template, method, media type).
    validator.validate("POST", CALLBACK, {"type": 5})
    cached = dict(validator._validators)
    validator.validate("POST", CALLBACK, {"type": 5})
    assert validator._validators == cached


def test_missing_spec_is_reported(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        OpenAPIValidator(tmp_path / "missing.json")


def test_every_request_the_bot_sent_matches_the_spec(validator: OpenAPIValidator) -> None:
    """Drive every command path, then validate each recorded request that carried a JSON body."""

    async def scenario() -> list:
        async with running_bot() as world:
            emu, g, ch = world.emulator, world.guild, world.general
            records = [
                await emu.invoke(g, ch, world.alice, "echo", {"text": "hi"}),
                await emu.autocomplete(g, ch, world.alice, "echo", "text", "h"),
                await emu.invoke(g, ch, world.alice, "defer"),
                await emu.invoke(g, ch, world.alice, "whois", {"member": world.listener}),
                await emu.invoke(g, ch, world.alice, "secret"),
                await emu.invoke(g, ch, world.mod, "admin"),
                await emu.invoke(g, ch, world.alice, "add", {"a": 1, "b": 2.5}),
                await emu.invoke(g, ch, world.alice, "playlist", {"track": "Jóga"}, subcommand="add"),
                await emu.invoke(g, ch, world.alice, "upload"),
            ]
            button = await emu.invoke(g, ch, world.alice, "button")
            await button.wait_for_callback(5)
            records.append(await emu.click(button, "press", world.alice))
            menu = await emu.invoke(g, ch, world.alice, "menu")
            await menu.wait_for_callback(5)
            choice = await emu.click(menu, "genres", world.alice, values=["techno"])
            records.append(choice)
            rate = await emu.invoke(g, ch, world.alice, "rate")
            await rate.wait_for_callback(5)
            records.append(await emu.submit_modal(rate, {"score": "7"}))
            for record in records:
                await record.wait_for_callback(5)
            defer = records[2]
            await defer.wait_until(lambda r: len(r.actions) == 3, 5)
            await choice.wait_until(lambda r: bool(r.edits), 5)
            return list(emu.requests)

    requests = run(scenario)
    with_body = [r for r in requests if r.json is not None]
    routes = {r.route for r in with_body}
    assert {
        "/applications/{application_id}/guilds/{guild_id}/commands",
        "/interactions/{interaction_id}/{interaction_token}/callback",
        "/webhooks/{webhook_id}/{webhook_token}",
        "/webhooks/{webhook_id}/{webhook_token}/messages/@original",
    } <= routes
    # Every request, with or without a body: the route itself must exist in the spec too.
    problems = validator.validate_all(requests, only_with_body=False)
    assert not problems, "requests that do not match Discord's OpenAPI spec:\n" + "\n".join(problems)
    # And nothing the bot asked for fell through to the 404 catch-all.
    assert [f"{r.method} {r.path}" for r in requests if r.route is None] == []


def test_integer_snowflakes_follow_the_api_not_the_letter_of_the_spec() -> None:
    """Discord's upload docs (and discord.py) send attachment ids as integer indices; Discord accepts them."""
    body = {"type": 4, "data": {"content": "f", "attachments": [{"id": 0, "filename": "a.txt"}]}}
    assert OpenAPIValidator(spec_path()).validate("POST", CALLBACK, body) == []
    strict = OpenAPIValidator(spec_path(), accept_integer_snowflakes=False).validate("POST", CALLBACK, body)
    assert strict and "$.data.attachments[0].id" in strict[0]
