"""Hostile and odd input through the emulator, and a gateway connection lost mid-session.

Every bad name sent to /like, /similar and /why gets a clear ephemeral answer (or, when it really is
an artist, a normal one); nothing pings, nothing crashes, and the next command still works. The last
test checks every REST request of the module: no message could ping, all match the OpenAPI spec.
"""

from __future__ import annotations

import pytest

from discord_emulator import Member
from tests.helpers.e2e import Encore
from tests.helpers.e2e_messages import assert_every_request_clean, mention_problems, raw_mentions, text_of

pytestmark = pytest.mark.slow

#: Phrases of the bot's clear answers to a name it cannot use.
GIVE_A_NAME = "Give an artist name"
TOO_LONG = "at most 200 characters"
NO_ARTIST = "o artist called"  # "No artist called …" (/like) and "⚠️ No artist called …" (/similar, /why)

#: (id, what is typed, the answers that are right for it). "match" = a real artist, answered normally.
BAD_INPUTS = [
    ("empty", "", {GIVE_A_NAME}),
    ("space", " ", {GIVE_A_NAME}),
    ("1000-characters", ("Radiohead Björk " * 70)[:1000], {TOO_LONG}),
    ("zero-width-only", "\u200b\u200b", {GIVE_A_NAME}),
    ("rtl-override", "\u202eabc", {"match", NO_ARTIST}),
    ("arabic", "فيروز", {"match", NO_ARTIST}),
    ("at-everyone", "@everyone", {NO_ARTIST}),
    ("user-mention", "<@123456789012345678>", {NO_ARTIST}),
    ("role-mention", "<@&123>", {NO_ARTIST}),
    ("markdown", "**bold** _x_ `code`", {NO_ARTIST}),
    ("unknown-artist", "Qwzxv Blorp", {NO_ARTIST}),
]


def cases() -> list:
    out = []
    for command in ("like", "similar", "why"):
        for case_id, text, expected in BAD_INPUTS:
            marks = []
            out.append(pytest.param(command, text, expected, id=f"{command}-{case_id}", marks=marks))
    return out


def member_with_a_like(encore: Encore) -> Member:
    member = encore.member()
    record = encore.command(member, "like", {"artist": "Radiohead"})
    assert record.final_message()["content"].startswith("Noted: you like")
    return member


def assert_next_command_works(encore: Encore, member: Member) -> None:
    message = encore.command(member, "privacy").final_message()
    assert message["ephemeral"] and message["content"].startswith("Your privacy is **public**"), message


@pytest.mark.parametrize(("command", "text", "expected"), cases())
def test_bad_artist_names_get_a_clear_ephemeral_answer(
    encore: Encore, command: str, text: str, expected: set[str]
) -> None:
    member = member_with_a_like(encore)
    requests_before = len(encore.requests())
    record = encore.command(member, command, {"artist": text})
    assert record.callback is not None and not record.rejections, record.rejections  # within the deadline
    assert record.callback_type == 4
    message = record.final_message()
    shown = text_of(message)
    assert shown, "an answer with no text"

    errors = [phrase for phrase in expected - {"match"} if phrase in shown]
    if errors:
        assert message["ephemeral"], f"an error must only be shown to its member: {shown!r}"
        assert not message["embeds"]
    else:
        assert "match" in expected, f"expected one of {sorted(expected)}, got {shown!r}"
        normal = {
            "like": lambda: message["content"].startswith("Noted: you like"),
            "similar": lambda: message["embeds"] and message["embeds"][0]["title"].startswith("Similar to"),
            "why": lambda: message["embeds"] and message["embeds"][0]["title"].startswith("Why "),
        }[command]
        assert normal(), f"neither a clear error nor a normal answer: {message!r}"

    # A /similar list carries listen links for each artist found, so only its title can echo the name.
    echo = message["embeds"][0]["title"] if command == "similar" and not errors else shown
    assert len(echo) < 1000, "the answer must not echo a 1,000-character name in full"
    if "**bold**" in text and errors:
        assert "**bold**" not in shown and "\\*\\*bold\\*\\*" in shown, "typed markdown is echoed escaped"
    assert "\u202e" not in shown and "\u200b\u200b" not in shown, "invisible controls are not echoed"
    assert not mention_problems(encore.requests()[requests_before:])
    assert_next_command_works(encore, member)
    assert not raw_mentions(message), f"unescaped mention syntax in {shown!r}"


@pytest.mark.parametrize(("text",), [pytest.param(text, id=case_id) for case_id, text, _ in BAD_INPUTS])
def test_autocomplete_copes_with_bad_input(encore: Encore, text: str) -> None:
    member = encore.member()
    for command in ("like", "similar", "unlike"):
        record = encore.autocomplete(member, command, "artist", text)
        assert record.callback_type == 8, command
        assert record.callback is not None and not record.rejections, record.rejections  # within the deadline
        assert len(record.choices) <= 25
        for choice in record.choices:
            assert 1 <= len(choice["name"]) <= 100 and 1 <= len(choice["value"]) <= 100, choice
    assert_next_command_works(encore, member)


def test_unlike_and_likes_with_odd_input(encore: Encore) -> None:
    member = member_with_a_like(encore)
    for text, phrase in (("", GIVE_A_NAME), ("@everyone", NO_ARTIST), ("x" * 1000, TOO_LONG)):
        message = encore.command(member, "unlike", {"artist": text}).final_message()
        assert message["ephemeral"] and phrase in message["content"], message["content"]
        assert not raw_mentions(message)
    assert encore.liked_ids(member) == {encore.artist_id("Radiohead")}
    assert_next_command_works(encore, member)


def test_recommend_with_an_odd_genre_echoes_it_escaped(encore: Encore) -> None:
    member = member_with_a_like(encore)
    message = encore.command(member, "recommend", {"genre": "@everyone **x**"}).final_message()
    assert message["ephemeral"] and "tagged" in message["content"]
    assert not mention_problems(encore.requests())
    assert_next_command_works(encore, member)
    assert not raw_mentions(message), message["content"]
    assert "**x**" not in message["content"], message["content"]


# -- the gateway -----------------------------------------------------------------------------------


@pytest.mark.parametrize("abrupt", [False, True], ids=["close-4000", "tcp-abort"])
def test_a_dropped_gateway_connection_is_resumed(encore: Encore, abrupt: bool) -> None:
    member = member_with_a_like(encore)
    gateway = encore.emulator.gateway
    identifies, resumes = encore.emulator.identify_count, encore.emulator.resume_count
    sessions = encore.call(lambda: [s.session_id for s in gateway.live_sessions])
    assert len(sessions) == 1

    dropped = encore.run(encore.emulator.drop_connection(abrupt=abrupt))
    assert dropped == 1
    encore.until(lambda: encore.emulator.resume_count > resumes and gateway.connected, 20, "the bot to RESUME")

    assert encore.emulator.identify_count == identifies, "a resumable drop must not start a new session"
    assert encore.emulator.resume_count == resumes + 1
    assert encore.call(lambda: [s.session_id for s in gateway.live_sessions]) == sessions
    paths = encore.call(lambda: [c.path for c in gateway.connections.values()])
    assert paths == ["/resume"], "the client reconnects to READY's resume_gateway_url"
    assert not encore.bot.is_closed()

    message = encore.command(member, "recommend", {"count": 3}).final_message()
    assert message["ephemeral"] and message["embeds"][0]["title"] == "Recommended for you"
    assert len(message["embeds"][0]["description"].splitlines()) == 3


def test_a_command_sent_while_disconnected_is_answered_after_the_resume(encore: Encore) -> None:
    member = member_with_a_like(encore)
    resumes = encore.emulator.resume_count

    async def drop_then_invoke():
        await encore.emulator.drop_connection()
        # The session lives on without a socket: the interaction is buffered and replayed on RESUME.
        return await encore.emulator.invoke(encore.guild, encore.channel, member, "privacy", {})

    record = encore.run(drop_then_invoke())
    encore.until(lambda: record.callback is not None or bool(record.rejections), 10, "an answer")
    assert not record.rejections, record.rejections
    assert encore.emulator.resume_count == resumes + 1
    assert "Your privacy is **public**" in record.final_message()["content"]


# -- everything the bot sent -----------------------------------------------------------------------


def test_zz_every_request_pinged_nobody_and_matches_the_openapi_spec(encore: Encore) -> None:
    """Last in the module: every REST request the bot made (above, and these few), against the spec."""
    member = member_with_a_like(encore)
    for command in ("like", "similar", "why"):
        encore.command(member, command, {"artist": "@everyone <@123456789012345678>"})

    requests = encore.requests()
    assert "/interactions/{interaction_id}/{interaction_token}/callback" in {r.route for r in requests}
    assert_every_request_clean(requests)
