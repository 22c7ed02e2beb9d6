"""bot/components.py: packed texts, the owner rule and errors of dynamic items, views that expire."""

from __future__ import annotations

import asyncio
import re
from types import SimpleNamespace
from typing import Any

import discord
import pytest

from bot.components import ExpiringView, OwnedItem, TextStash, expired_text
from bot.services.library import LibraryError
from bot.utils import NO_MENTIONS


class Answers:
    """What an interaction was answered with (its response, or follow-ups once answered)."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def is_done(self) -> bool:
        return bool(self.sent)

    async def send_message(self, **kwargs: Any) -> None:
        self.sent.append(kwargs)

    async def send(self, **kwargs: Any) -> None:
        self.sent.append(kwargs)


def interaction(user_id: int) -> Any:
    answers = Answers()
    return SimpleNamespace(user=SimpleNamespace(id=user_id), response=answers, followup=answers, answers=answers)


class Probe(OwnedItem[discord.ui.Button], template=r"probe:(?P<owner>\d+)"):
    refusal = "not yours."
    command = "probe"

    def __init__(self, owner: int, error: Exception | None = None) -> None:
        self.owner, self.error = owner, error
        super().__init__(discord.ui.Button(label="probe", custom_id=f"probe:{owner}"))

    @classmethod
    async def from_custom_id(cls, interaction: Any, item: Any, match: re.Match[str], /) -> Probe:
        return cls(int(match["owner"]))

    async def run(self, interaction: Any) -> None:
        if self.error is not None:
            raise self.error


def contents(target: Any) -> list[str]:
    return [m["content"] for m in target.answers.sent]


def test_a_text_that_fits_goes_in_the_custom_id_and_a_long_one_is_stashed() -> None:
    stash = TextStash(size=2)
    assert stash.pack("jazz", room=10) == "=jazz" and stash.unpack("=jazz") == "jazz"
    long = "x" * 50
    packed = stash.pack(long, room=10)
    assert packed.startswith("~") and len(packed) <= 10 and stash.unpack(packed) == long
    assert TextStash().unpack(packed) is None, "another bot's stash does not have it: the menu has expired"
    newer = [stash.pack(f"{n}" * 20, room=10) for n in (1, 2)]
    assert stash.unpack(packed) is None and all(stash.unpack(p) for p in newer), "only the newest `size` are kept"


def test_each_bot_has_a_stash_of_its_own() -> None:
    first, second = discord.Client(intents=discord.Intents.none()), discord.Client(intents=discord.Intents.none())
    assert TextStash.of(first) is TextStash.of(first)
    assert TextStash.of(first) is not TextStash.of(second)


def test_an_owned_item_refuses_others_and_answers_errors_itself() -> None:
    async def scenario() -> None:
        other = interaction(2)
        assert not await Probe(1).interaction_check(other)
        assert contents(other) == ["⚠️ Not yours."] and other.answers.sent[0]["ephemeral"]
        assert await Probe(1).interaction_check(interaction(1))

        refused = interaction(1)
        await Probe(1, LibraryError("that is all")).callback(refused)
        assert contents(refused) == ["⚠️ That is all"]
        broken = interaction(1)
        await Probe(1, RuntimeError("bug")).callback(broken)
        assert contents(broken) == ["⚠️ Something went wrong on Encore's side; it has been logged. Please try again."]
        expired = interaction(1)
        await Probe(1, Probe(1).expired()).callback(expired)
        assert contents(expired) == ["⚠️ This menu has expired, run /probe again."]

    asyncio.run(scenario())


def test_the_expired_text_names_the_command_when_it_is_known() -> None:
    assert expired_text("likes") == "this menu has expired, run /likes again."
    assert expired_text() == "this menu has expired, run the command again."


def test_an_expiring_view_holds_dynamic_items_only() -> None:
    async def scenario() -> None:
        with pytest.raises(TypeError):
            ExpiringView(discord.ui.Button(label="plain"), timeout=1)  # type: ignore[arg-type]

    asyncio.run(scenario())


def test_on_timeout_shows_the_items_disabled() -> None:
    async def scenario() -> None:
        view = ExpiringView(Probe(1), timeout=1)
        edits: list[dict[str, Any]] = []

        async def edit(**kwargs: Any) -> None:
            edits.append(
                {"disabled": [c["disabled"] for row in kwargs["view"].to_components() for c in row["components"]]}
            )

        clicked = SimpleNamespace(client=SimpleNamespace(is_closed=lambda: False))
        view._shown(clicked, 42, edit)  # type: ignore[arg-type]
        await view.on_timeout()
        assert edits == [{"disabled": [True]}]
        assert 42 not in ExpiringView._on_message

    asyncio.run(scenario())


def test_a_view_shown_instead_retires_the_one_before() -> None:
    async def scenario() -> None:
        first, second = ExpiringView(Probe(1), timeout=60), ExpiringView(Probe(1), timeout=60)
        clicked = SimpleNamespace(client=SimpleNamespace(is_closed=lambda: False))

        async def edit(**kwargs: Any) -> None:
            raise AssertionError("a retired view edits nothing")

        first._shown(clicked, 7, edit)  # type: ignore[arg-type]
        second._shown(clicked, 7, edit)  # type: ignore[arg-type]
        assert first.is_finished() and ExpiringView._on_message[7] is second
        second.stop()
        assert 7 not in ExpiringView._on_message

    asyncio.run(scenario())


def test_replies_ping_nobody() -> None:
    async def scenario() -> None:
        target = interaction(2)
        await Probe(1).interaction_check(target)
        assert target.answers.sent[0]["allowed_mentions"] is NO_MENTIONS

    asyncio.run(scenario())
