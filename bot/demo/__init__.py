"""`encore demo`: the real bot against the local Discord emulator, shown in the terminal.

Everything is embedded: the emulator plays Discord on 127.0.0.1, the store is a throwaway SQLite
file, and the bot is the same EncoreBot that `encore run` starts, unmodified. Pictures the bot sends
(a taste card, a session's recap) are kept in ``$ENCORE_HOME/demo`` so they can be opened afterwards.
"""

from __future__ import annotations

import asyncio
import dataclasses
import sys
import tempfile
from pathlib import Path
from typing import TextIO

from bot.app import build_app
from bot.client import EncoreBot, point_at
from bot.demo.driver import DemoDriver
from bot.demo.interactive import Interactive, stdin_lines
from bot.demo.render import parse_command, render
from bot.demo.tour import MEMBERS, NEWCOMER, play_tour
from bot.settings import Settings
from discord_emulator import DiscordEmulator

__all__ = ["MEMBERS", "parse_command", "render", "run_demo"]

DEMO_TOKEN = "encore-demo-token"


async def _demo(settings: Settings, interactive: bool, out: TextIO) -> None:
    pictures = Path(settings.home) / "demo"
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
            guild = emulator.add_guild("Encore demo")
            channel = emulator.add_text_channel(guild, "music")
            members = {name: emulator.add_member(guild, name) for name in (*MEMBERS, NEWCOMER)}
            # "you" runs the server, so /encore status and /encore refit are open to you.
            members["you"] = emulator.add_member(guild, "you", manage_guild=True)
            driver = DemoDriver(emulator, guild, channel, members, out, pictures)
            driver.say("Starting the local Discord emulator and the Encore bot (fitting takes a few seconds)…")
            await _with_bot(driver, demo_settings, interactive)
        finally:
            await emulator.stop()


async def _with_bot(driver: DemoDriver, settings: Settings, interactive: bool) -> None:
    point_at(driver.emulator.api_base, driver.emulator.gateway_url)
    bot = EncoreBot(await build_app(settings))
    runner = asyncio.create_task(bot.start(DEMO_TOKEN))
    try:
        await asyncio.wait_for(bot.wait_until_ready(), timeout=120)
        if interactive:
            await Interactive(driver, stdin_lines(), echo=not sys.stdin.isatty()).run()
        else:
            await play_tour(driver)
    finally:
        await bot.close()
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)


def run_demo(settings: Settings, interactive: bool, out: TextIO = sys.stdout) -> None:
    """Play the tour (or take commands); Ctrl-C ends it at once, cleaning up as it goes."""
    try:
        asyncio.run(_demo(settings, interactive, out))
    except KeyboardInterrupt:
        print("\nDemo stopped.", file=out, flush=True)
