"""`encore demo --interactive`: type slash commands as any demo member, press buttons and pick menu options."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import AsyncIterator
from typing import Any, TextIO

from bot.demo.driver import DemoDriver, DemoInputError
from bot.demo.tour import MEMBERS, seed_likes

HELP = """\
Type slash commands as the member shown in the prompt, e.g. /recommend count:5, /similar artist:Daft Punk,
/blend member1:bo member2:cy, /taste member:bo, /whoknows artist:Radiohead, /start, /help.
  as NAME            speak as another member (ana, bo, cy, dee or you); `NAME> /command` does it for one line
  press N            press button N of the last message shown (as the member it was shown to)
  pick N A B …       in select menu N of the last message, pick options A, B, …
  join / leave       step into or out of the voice channel Lounge (for /session start and /blend)
  help               this text;   quit, an empty line, Ctrl-D or Ctrl-C ends the demo"""


class Interactive:
    def __init__(self, demo: DemoDriver, lines: AsyncIterator[str], *, echo: bool) -> None:
        self.demo = demo
        self.lines = lines
        #: Piped input is not shown by a terminal, so the demo shows each line once itself.
        self.echo = echo
        self.speaker = "you"
        self.lounge: Any = None

    async def run(self) -> None:
        self.demo.numbered = True
        await seed_likes(self.demo, show=False)
        self.demo.say(", ".join(f"{name} likes {', '.join(artists)}" for name, artists in MEMBERS.items()) + ".")
        self.demo.say(HELP)
        while True:
            self.demo.out.write(f"{self.speaker}> ")
            self.demo.out.flush()
            line = await anext(self.lines, None)
            if line is None:
                self.demo.say("")
                return
            if self.echo:
                self.demo.say(line)
            if not line.strip() or line.strip() in {"quit", "exit"}:
                return
            try:
                await self.handle(line.strip())
            except DemoInputError as error:
                self.demo.say(f"  {error}")

    async def handle(self, line: str) -> None:
        name, _, rest = line.partition(">")
        named = bool(rest) and " " not in name.strip() and not name.startswith("/")
        speaker = self.demo.member(name) if named else self.demo.member(self.speaker)
        line = rest.strip() if named else line
        word, _, args = line.partition(" ")
        if word in {"press", "pick"} and not named and self.demo.last_member is not None:
            # Buttons belong to whoever was shown the message (an ephemeral reply is theirs alone).
            speaker = self.demo.last_member
        if line.startswith("/"):
            await self.demo.command(speaker, line)
        elif word == "as":
            self.demo.member(args)
            self.speaker = args.strip().lstrip("@").lower()
        elif word in {"press", "pick"}:
            numbers = _numbers(args)
            if not numbers:
                raise DemoInputError(f"say which control, e.g. `{word} 1`")
            await self.demo.press(speaker, numbers[0], numbers[1:] if word == "pick" else None)
        elif word in {"join", "leave"}:
            self._voice(word, speaker)
        elif word == "help":
            self.demo.say(HELP)
        else:
            raise DemoInputError("commands start with / (try /help), or type `help` for what else works")

    def _voice(self, word: str, member: Any) -> None:
        emulator, guild = self.demo.emulator, self.demo.guild
        if word == "leave":
            emulator.leave_voice(guild, member)
            self.demo.say(f"  {member.user.username} left Lounge.")
            return
        if self.lounge is None:
            self.lounge = emulator.add_voice_channel(guild, "Lounge")
        emulator.join_voice(guild, member, self.lounge)
        self.demo.say(f"  {member.user.username} is in Lounge.")


def _numbers(text: str) -> list[int]:
    try:
        return [int(part) for part in text.replace(",", " ").split()]
    except ValueError:
        raise DemoInputError(f"{text!r}: give numbers, e.g. `pick 1 2 5`") from None


async def stdin_lines(stream: TextIO = sys.stdin) -> AsyncIterator[str]:
    """Lines typed or piped in, read without a thread, so Ctrl-C and EOF end the demo at once."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    fd = stream.fileno()
    try:
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), stream)
    except (ValueError, OSError):
        # A regular file (`< commands.txt`) cannot be watched like a pipe; reading it never blocks.
        for line in stream:
            yield line.rstrip("\n")
        return
    try:
        while raw := await reader.readline():
            yield raw.decode(errors="replace").rstrip("\n")
    finally:
        # The pipe made stdin non-blocking, which the shell would inherit; at EOF it is closed already.
        with contextlib.suppress(OSError):
            os.set_blocking(fd, True)
