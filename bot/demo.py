"""`encore demo`: the real bot against the local Discord emulator, shown in the terminal.

Everything is embedded: the emulator plays Discord on 127.0.0.1, the store is a throwaway SQLite
file, and the bot is the same EncoreBot that `encore run` starts, unmodified.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from bot.app import build_app
from bot.client import EncoreBot, point_at
from bot.settings import Settings
from discord_emulator import DiscordEmulator

DEMO_TOKEN = "encore-demo-token"
MEMBERS = {
    "ana": ["Radiohead", "Björk", "Portishead", "Massive Attack"],
    "bo": ["Daft Punk", "Justice", "Gorillaz"],
    "cy": ["Metallica", "Iron Maiden", "Megadeth"],
}
OPTION = re.compile(r"(\w[\w-]*):(.*?)(?=\s+\w[\w-]*:|$)")
LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
TIMESTAMP = re.compile(r"<t:(\d+)(?::\w)?>")


def render(message: dict[str, Any]) -> str:
    """A message as a person reads it in Discord: links show their text, markdown disappears."""
    parts = []
    if message.get("content"):
        parts.append(_plain(message["content"]))
    for embed in message.get("embeds") or []:
        if embed.get("title"):
            parts.append(f"┃ {_plain(embed['title'])}")
        if embed.get("description"):
            parts.extend(f"┃ {_plain(line)}" for line in embed["description"].splitlines())
        for field in embed.get("fields") or []:
            parts.append(f"┃ {_plain(field['name'])}: {_plain(field['value'])}")
        if (embed.get("footer") or {}).get("text"):
            parts.append(f"┃ ({_plain(embed['footer']['text'])})")
    controls = []
    for row in message.get("components") or []:
        for item in row.get("components") or []:
            controls.append(f"[{item.get('label') or item.get('placeholder') or '…'}]")
    if controls:
        parts.append("  " + " ".join(controls))
    if (message.get("flags") or 0) & 64:
        parts.append("  (only you can see this)")
    return "\n".join(parts)


def _plain(text: str) -> str:
    text = LINK.sub(r"\1", text)
    text = TIMESTAMP.sub(lambda m: datetime.fromtimestamp(int(m.group(1)), UTC).strftime("%Y-%m-%d %H:%M UTC"), text)
    text = text.replace("**", "").replace("`", "")
    return re.sub(r"\\([\\*_~`|>\[\]()#@-])", r"\1", text)


def parse_command(line: str) -> tuple[str, str | None, dict[str, str]]:
    """'/similar artist:Daft Punk count:5' -> ("similar", None, {"artist": "Daft Punk", "count": "5"});
    '/encore status' -> ("encore", "status", {})."""
    body = line.strip().lstrip("/")
    first = OPTION.search(body)
    words = (body[: first.start()] if first else body).split()
    options = {key: value.strip() for key, value in OPTION.findall(body[first.start() :])} if first else {}
    return (words[0] if words else ""), (words[1] if len(words) > 1 else None), options


class Demo:
    def __init__(self, out: TextIO) -> None:
        self.out = out

    async def run(self, settings: Settings, interactive: bool) -> None:
        with tempfile.TemporaryDirectory(prefix="encore-demo-") as home:
            demo_settings = dataclasses.replace(
                settings,
                home=Path(home),
                database_url=f"sqlite+aiosqlite:///{Path(home) / 'demo.sqlite3'}",
                dev_guild=None,
                discord_token=DEMO_TOKEN,
            )
            emulator = DiscordEmulator(token=DEMO_TOKEN)
            await emulator.start()
            try:
                await self._with_emulator(emulator, demo_settings, interactive)
            finally:
                await emulator.stop()

    async def _with_emulator(self, emulator: DiscordEmulator, settings: Settings, interactive: bool) -> None:
        guild = emulator.add_guild("Encore demo")
        channel = emulator.add_text_channel(guild, "music")
        members = {name: emulator.add_member(guild, name) for name in MEMBERS}
        # "you" runs the server, so /encore status and /encore refit are open to you.
        members["you"] = emulator.add_member(guild, "you", manage_guild=True)
        self.say("Starting the local Discord emulator and the Encore bot (fitting the model takes a few seconds)…")
        point_at(emulator.api_base, emulator.gateway_url)
        bot = EncoreBot(await build_app(settings))
        runner = asyncio.create_task(bot.start(DEMO_TOKEN))
        try:
            await asyncio.wait_for(bot.wait_until_ready(), timeout=120)
            self.emulator, self.guild, self.channel = emulator, guild, channel
            if interactive:
                await self.interactive(members["you"])
            else:
                await self.script(members)
        finally:
            await bot.close()
            runner.cancel()
            await asyncio.gather(runner, return_exceptions=True)

    async def script(self, members: dict[str, Any]) -> None:
        for name, artists in MEMBERS.items():
            for artist in artists:
                await self.command(members[name], f"/like artist:{artist}", quiet=True)
            self.say(f"{name} liked {', '.join(artists)}.")
        await self.command(members["ana"], "/recommend count:5")
        await self.command(members["bo"], "/similar artist:Daft Punk count:5")
        await self.command(members["ana"], "/why artist:Sigur Rós")
        await self.command(members["cy"], "/whoknows artist:Radiohead")
        await self.command(members["you"], "/encore status")
        self.say(
            "\nThat was the real bot talking to a local Discord emulator. "
            "Try `encore demo --interactive`, or see the README to run it on Discord."
        )

    async def interactive(self, member: Any) -> None:
        self.say(
            "Type slash commands as the member 'you' (e.g. /like artist:Radiohead, /recommend count:5, "
            "/similar artist:Daft Punk, /why artist:Sigur Rós, /whoknows artist:Radiohead, /help, /likes, "
            "/encore status). An empty line or Ctrl-D ends."
        )
        while True:
            try:
                line = await asyncio.to_thread(input, "you> ")
            except EOFError:
                break
            if not line.strip():
                break
            await self.command(member, line)

    async def command(self, member: Any, line: str, quiet: bool = False) -> None:
        name, subcommand, options = parse_command(line)
        if not quiet:
            self.say(f"\n{member.user.username}> {line.strip()}")
        try:
            record = await self.emulator.invoke(self.guild, self.channel, member, name, options, subcommand=subcommand)
            await record.wait_for_callback(timeout=30)
            await record.wait_until(answered, timeout=60)
        except Exception as error:  # noqa: BLE001 - the demo reports and goes on
            self.say(f"  (no answer: {error})")
            return
        if not quiet:
            self.say(render(record.final_message()))

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)


def answered(record: Any) -> bool:
    """A message is there and is no longer the "thinking…" placeholder of a deferred reply."""
    try:
        return not record.final_message()["loading"]
    except LookupError:
        return False


def run_demo(settings: Settings, interactive: bool, out: TextIO = sys.stdout) -> None:
    asyncio.run(Demo(out).run(settings, interactive))
