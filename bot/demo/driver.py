"""The demo's hands: type commands, press buttons and pick menu options as a named member, save pictures."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TextIO

from bot.demo.render import answered, controls_of, parse_command, render
from discord_emulator import DiscordEmulator
from discord_emulator.command_schema import BOOLEAN, CHANNEL, USER, walk_subcommand

TRUE_WORDS = {"true", "yes", "on", "1"}
FALSE_WORDS = {"false", "no", "off", "0"}
#: How long a click may keep changing its message before the demo shows it.
SETTLE_SECONDS = 0.4


class DemoInputError(ValueError):
    """Something typed in the demo that cannot be sent as Discord would; the message says what to type."""


class DemoDriver:
    def __init__(
        self,
        emulator: DiscordEmulator,
        guild: Any,
        channel: Any,
        members: Mapping[str, Any],
        out: TextIO,
        pictures: Path,
    ) -> None:
        self.emulator, self.guild, self.channel = emulator, guild, channel
        self.members = dict(members)
        self.out = out
        self.pictures = pictures
        #: The message the last command or click showed (what `press` and `pick` act on), and who saw it.
        self.last: dict[str, Any] | None = None
        self.last_member: Any = None

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def member(self, name: str) -> Any:
        found = self.members.get(name.strip().lstrip("@").lower())
        if found is None:
            raise DemoInputError(f"no member {name!r} here; the members are {', '.join(sorted(self.members))}")
        return found

    async def command(
        self, member: Any, line: str, *, show: bool = True, picture: bool = False
    ) -> dict[str, Any] | None:
        """Run one slash command typed as ``member``; show the reply as Discord would. None: no answer.

        ``picture``: the reply gains an image a moment after its text (as /taste's does): wait for it too.
        """
        name, subcommand, options = parse_command(line)
        try:
            typed = self.typed_options(name, subcommand, options)
            record = await self.emulator.invoke(self.guild, self.channel, member, name, typed, subcommand=subcommand)
            await record.wait_for_callback(timeout=30)
            await record.wait_until(answered, timeout=60)
        except Exception as error:  # noqa: BLE001 - the demo reports and goes on
            self.say(f"  (no answer: {error})")
            return None
        self.last_member = member
        if picture:
            await self.wait_for(lambda: bool(record.final_message().get("attachments")), timeout=20)
        return self._shown(record.final_message(), show)

    async def press(self, member: Any, number: int, values: list[int] | None = None) -> dict[str, Any] | None:
        """Press control ``number`` of the last message shown (or, for a select menu, pick options ``values``)."""
        message = self.last
        items = controls_of(message or {})
        if not 1 <= number <= len(items):
            raise DemoInputError(f"the last message has {len(items)} control(s); give a number from that list")
        item = items[number - 1]
        chosen = None
        if item.get("options") is not None:
            options = item["options"]
            if not values or any(not 1 <= v <= len(options) for v in values):
                raise DemoInputError(f"pick option numbers from 1 to {len(options)}, e.g. `pick {number} 1 3`")
            chosen = [options[v - 1]["value"] for v in values]
        try:
            record = await self.emulator.click(message, item["custom_id"], member, values=chosen)
        except ValueError as error:  # what Discord's client would not let this member do
            raise DemoInputError(str(error)) from None
        await record.wait_for_callback(timeout=30)
        await self._settle(record)
        shown = record.final_message() if record.original_message() else self.message(int(message["id"]))
        self._shown(shown, True)
        # A click may also answer with new messages (the first recommendations after /start's picks).
        for followup in record.followups:
            if followup.get("id") != shown.get("id"):
                self._shown(dict(followup), True)
        return self.last

    async def choose(
        self, member: Any, message: dict[str, Any], menu: str, labels: list[str], count: int
    ) -> dict[str, Any] | None:
        """In the select menu whose placeholder starts with ``menu``, tick ``count`` options: those labelled
        ``labels`` that it offers, then the first others."""
        self.last = message
        items = controls_of(message)
        number = next(n for n, item in enumerate(items, start=1) if (item.get("placeholder") or "").startswith(menu))
        options = items[number - 1].get("options") or []
        wanted = [i for i, option in enumerate(options, start=1) if option.get("label") in labels]
        others = [i for i in range(1, len(options) + 1) if i not in wanted]
        picked = sorted((wanted + others)[:count])
        self.say("  picks " + ", ".join(options[i - 1]["label"] for i in picked))
        self.last_member = member
        return await self.press(member, number, picked)

    async def press_label(self, member: Any, message: dict[str, Any], label: str) -> None:
        """Press the button called ``label`` on ``message`` (the scripted tour's clicks)."""
        item = next(i for i in controls_of(message) if i.get("label") == label)
        record = await self.emulator.click(message, item["custom_id"], member)
        await record.wait_for_callback(timeout=30)

    def message(self, message_id: int) -> dict[str, Any]:
        return dict(self.emulator.state.messages[message_id].payload)

    async def wait_for(self, holds: Callable[[], bool], *, timeout: float = 30) -> bool:
        deadline = asyncio.get_running_loop().time() + timeout
        while not holds():
            if asyncio.get_running_loop().time() > deadline:
                return False
            await asyncio.sleep(0.05)
        return True

    def save_pictures(self, message: Mapping[str, Any]) -> list[Path]:
        """Write the message's images to the pictures folder; say where each one is."""
        saved = []
        for attachment in message.get("attachments") or []:
            data = self._attachment_bytes(int(attachment["id"]))
            if data is None:
                continue
            self.pictures.mkdir(parents=True, exist_ok=True)
            path = self.pictures / attachment["filename"]
            path.write_bytes(data)
            saved.append(path)
            self.say(f"  Picture saved to {path}")
        return saved

    def typed_options(self, name: str, subcommand: str | None, options: Mapping[str, str]) -> dict[str, Any]:
        """Options as Discord's client sends them: members and channels by name, yes/no as booleans."""
        try:
            schema, _ = walk_subcommand(self.emulator.state.find_command(self.guild.id, name), subcommand)
        except (KeyError, ValueError) as error:
            raise DemoInputError(str(error)) from None
        kinds = {option["name"]: option["type"] for option in schema}
        typed: dict[str, Any] = {}
        for key, value in options.items():
            kind = kinds.get(key)
            if kind == BOOLEAN:
                typed[key] = _boolean(key, value)
            elif kind == USER and not value.isdigit():
                typed[key] = self.member(value)
            elif kind == CHANNEL and not value.isdigit():
                typed[key] = self._channel(value)
            else:
                typed[key] = value
        return typed

    def _channel(self, name: str) -> Any:
        wanted = name.strip().lstrip("#").lower()
        for channel in self.guild.channels.values():
            if channel.name.lower() == wanted:
                return channel
        raise DemoInputError(f"no channel #{wanted} here")

    def _attachment_bytes(self, attachment_id: int) -> bytes | None:
        state = self.emulator.state
        if attachment_id in state.uploads:
            return state.uploads[attachment_id]
        return next((m.files[attachment_id] for m in state.messages.values() if attachment_id in m.files), None)

    async def _settle(self, record: Any) -> None:
        """Wait until the click has stopped changing things (a deferred update edits a little later)."""
        seen = -1
        for _ in range(int(10 / SETTLE_SECONDS)):
            if len(record.actions) == seen:
                return
            seen = len(record.actions)
            await asyncio.sleep(SETTLE_SECONDS)

    def _shown(self, message: dict[str, Any], show: bool) -> dict[str, Any]:
        self.last = message
        if show:
            self.say(render(message, numbered=self.numbered))
        return message

    #: Interactive runs number the controls so they can be pressed; the tour shows them as labels.
    numbered = False


def _boolean(name: str, value: str) -> bool:
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise DemoInputError(f"option {name!r} takes true or false, not {value!r}")
