"""bot/utils.py: inert text, links, choices, owned views, and the one reply for a request Encore cannot do."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import discord

from bot.client import EncoreBotBase
from bot.errors import NoMatch, UserError
from bot.services.library import LibraryError
from bot.utils import CHOICE_LIMIT, OwnedView, artist_choices, choice_name, link, names_listed, safe
from recommender.catalogue import Artist


class FakeResponse:
    def __init__(self, done: bool = False) -> None:
        self.done = done
        self.sent: list[dict[str, Any]] = []

    def is_done(self) -> bool:
        return self.done

    async def send_message(self, **kwargs: Any) -> None:
        self.sent.append(kwargs)
        self.done = True


class FakeFollowup:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    async def send(self, **kwargs: Any) -> None:
        self.sent.append(kwargs)


def interaction(done: bool = False, user_id: int = 1) -> Any:
    return SimpleNamespace(
        response=FakeResponse(done), followup=FakeFollowup(), user=SimpleNamespace(id=user_id), command=None
    )


def an_artist(name: str = "Sigur Rós", url: str = "https://www.last.fm/music/Sigur+R%C3%B3s") -> Artist:
    return Artist(artist_id=1, name=name, url=url, listeners=10)


def test_safe_escapes_markdown_and_mentions() -> None:
    assert safe("**bold**") == "\\*\\*bold\\*\\*"
    assert "@everyone" not in safe("@everyone")
    assert "<@" not in safe("<@123>") and "<#" not in safe("<#9>")
    assert safe("") == "(nothing)"
    assert safe("x" * 200, 10).endswith("…") and len(safe("x" * 200, 10)) == 10


def test_link_escapes_the_name_and_the_url() -> None:
    text = link(an_artist("A_B (live)", "https://www.last.fm/music/A_B (live)"))
    assert text == "[A\\_B (live)](https://www.last.fm/music/A_B%20(live%29)"


def test_choice_name_stays_within_discords_limit() -> None:
    assert choice_name("short") == "short"
    long = choice_name("y" * 150)
    assert len(long) == CHOICE_LIMIT and long.endswith("…")


def test_names_listed_caps_the_list_and_counts_the_rest() -> None:
    artists = [an_artist(name) for name in ("*A*", "B" * 50, "C", "D")]
    assert names_listed(artists[:2], 3, 10) == f"\\*A\\* and {'B' * 9}…"
    assert names_listed(artists, 2, 100) == f"\\*A\\*, {'B' * 50} and 2 more"
    assert names_listed(artists[:3], 3, 100).endswith(" and C")


def test_artist_choices_come_from_the_catalogue() -> None:
    catalogue = SimpleNamespace(search=lambda query, limit: [an_artist("z" * 120)][:limit])
    choices = artist_choices(catalogue, "z" * 300)  # type: ignore[arg-type]
    assert len(choices) == 1 and len(choices[0].name) == CHOICE_LIMIT and len(choices[0].value) == CHOICE_LIMIT


def test_an_owned_view_refuses_others_and_says_a_user_error() -> None:
    async def scenario() -> None:
        view = OwnedView(1, timeout=5)
        view.refusal = "not yours."
        other = interaction(user_id=2)
        assert not await view.interaction_check(other)
        assert other.response.sent[0]["content"] == "⚠️ Not yours." and other.response.sent[0]["ephemeral"]
        assert await view.interaction_check(interaction(user_id=1))
        owner = interaction(user_id=1)
        await view.on_error(owner, LibraryError("that is all"), discord.ui.Button(label="x"))
        assert [m["content"] for m in owner.response.sent] == ["⚠️ That is all"]

    asyncio.run(scenario())


def handle(error: Exception, done: bool = False) -> Any:
    """The command tree's error handler, given `error` as discord.py wraps a command's exception."""
    target = interaction(done)
    wrapped = discord.app_commands.CommandInvokeError(SimpleNamespace(name="x"), error)  # type: ignore[arg-type]
    asyncio.run(EncoreBotBase.on_app_command_error(None, target, wrapped))  # type: ignore[arg-type]
    return target


def test_the_error_handler_turns_a_user_error_into_one_ephemeral_reply() -> None:
    target = handle(UserError("give an artist name"))
    assert target.response.sent == [
        {
            "content": "⚠️ Give an artist name",
            "ephemeral": True,
            "allowed_mentions": target.response.sent[0]["allowed_mentions"],
        }
    ]
    assert target.followup.sent == []


def test_an_answered_interaction_gets_the_user_error_as_a_follow_up() -> None:
    target = handle(UserError("too late"), done=True)
    assert target.response.sent == []
    assert [(m["content"], m["ephemeral"]) for m in target.followup.sent] == [("⚠️ Too late", True)]


def test_no_match_names_the_typed_text_escaped_with_suggestions() -> None:
    target = handle(NoMatch("**Radioheed**", (an_artist("Radiohead"),)))
    assert target.response.sent[0]["content"] == "⚠️ No artist called “\\*\\*Radioheed\\*\\*”. Did you mean Radiohead?"
