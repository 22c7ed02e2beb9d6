"""Run the emulator on its own: ``python -m discord_emulator --port 8765 [--seed]``.

Prints the URLs and token to point a discord.py client at, then serves until interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal

from discord_emulator.server import DiscordEmulator


def _seed(emulator: DiscordEmulator) -> None:
    """A small world to poke at: one guild, two channels, a moderator and a listener in voice."""
    guild = emulator.add_guild("Encore Test Server")
    emulator.add_text_channel(guild, "general")
    voice = emulator.add_voice_channel(guild, "Listening Room")
    emulator.add_member(guild, "mod", manage_guild=True)
    listener = emulator.add_member(guild, "listener")
    emulator.join_voice(guild, listener, voice)


async def _main(args: argparse.Namespace) -> None:
    emulator = DiscordEmulator(
        token=args.token,
        heartbeat_interval_ms=args.heartbeat_ms,
        interaction_deadline=None if args.no_deadline else 3.0,
    )
    if args.seed:
        _seed(emulator)
    await emulator.start(args.host, args.port)
    print(f"base_url     {emulator.base_url}")
    print(f"api_base     {emulator.api_base}      (discord.http.Route.BASE)")
    print(f"gateway_url  {emulator.gateway_url}   (DiscordWebSocket.DEFAULT_GATEWAY)")
    print(f"token        {emulator.token}")
    print(f"application  {emulator.application_id}")
    for guild in emulator.state.guilds.values():
        print(f"guild        {guild.id} {guild.name!r}")
    print("Ctrl-C to stop.", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    except asyncio.CancelledError:
        pass  # asyncio.run's own Ctrl-C handling cancels us instead of setting ``stop``: same meaning
    finally:
        await emulator.stop()
        print(f"stopped after {len(emulator.requests)} REST requests, {len(emulator.gateway_events)} gateway frames")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m discord_emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    parser.add_argument("--token", default=None, help="bot token to accept (default: a random one, printed)")
    parser.add_argument("--heartbeat-ms", type=int, default=41_250)
    parser.add_argument("--seed", action="store_true", help="create a demo guild, channels and members")
    parser.add_argument(
        "--no-deadline", action="store_true", help="accept interaction callbacks after Discord's 3 s (for debuggers)"
    )
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_main(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
