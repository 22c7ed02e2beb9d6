"""`encore run` as a real subprocess against the emulator: it serves, answers, and stops cleanly on SIGTERM.

The emulator runs on an event loop in a background thread of the test process; the bot is the installed
`encore` console script, configured only through its environment, as an operator would run it.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest

from discord_emulator import Channel, DiscordEmulator, Guild, Member
from tests.helpers.e2e import LoopThread, answered, emulator_in_a_thread
from tests.support import encore_command, encore_env, throwaway_database

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM is a POSIX signal"),
]

T = TypeVar("T")
ENCORE = encore_command()


@dataclass
class Emulated:
    loop: LoopThread
    emulator: DiscordEmulator
    guild: Guild
    channel: Channel
    member: Member

    def call(self, fn: Callable[..., T], *args: Any) -> T:
        async def wrapper() -> T:
            return fn(*args)

        return self.loop.run(wrapper(), 10)

    def command_names(self) -> set[str]:
        return self.call(lambda: {c["name"] for c in self.emulator.commands(self.guild)})


@pytest.fixture(scope="module")
def emulated() -> Iterator[Emulated]:
    with emulator_in_a_thread("encore-run-emulator") as (loop, emulator):

        async def populate() -> Emulated:
            guild = emulator.add_guild("Encore Run")
            channel = emulator.add_text_channel(guild, "music")
            member = emulator.add_member(guild, "operator")
            return Emulated(loop, emulator, guild, channel, member)

        yield loop.run(populate(), 10)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """ENCORE_HOME and the database, shared by the module's runs (the first fits, the others load)."""
    home = tmp_path_factory.mktemp("encore-run") / "home"
    home.mkdir()
    with throwaway_database(home / "encore.sqlite3") as url:
        assert url is not None
        yield home, url


def bot_env(store: tuple[Path, str], lastfm_dir: Path, emulated: Emulated, token: str | None) -> dict[str, str]:
    home, url = store
    env = encore_env(home, lastfm_dir, url)
    env.pop("DISCORD_TOKEN", None)
    env |= {
        "ENCORE_DISCORD_API_BASE": emulated.emulator.api_base,
        "ENCORE_DISCORD_GATEWAY": emulated.emulator.gateway_url,
    }
    if token is not None:
        env["DISCORD_TOKEN"] = token
    return env


def run_encore(env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*ENCORE, "run"],
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def test_encore_run_serves_then_stops_cleanly_on_sigterm(
    emulated: Emulated, store: tuple[Path, str], lastfm_dir: Path, tmp_path: Path
) -> None:
    emulator = emulated.emulator
    env = bot_env(store, lastfm_dir, emulated, emulator.token)
    stdout_path, stderr_path = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    with open(stdout_path, "wb") as out, open(stderr_path, "wb") as err:
        process = subprocess.Popen([*ENCORE, "run"], env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not (
            emulated.call(lambda: emulator.identify_count >= 1 and emulator.gateway.connected)
            and "privacy" in emulated.command_names()
        ):
            assert process.poll() is None, f"encore run exited with {process.returncode}:\n{stderr_path.read_text()}"
            assert time.monotonic() < deadline, f"encore run did not connect within 120 s:\n{stderr_path.read_text()}"
            time.sleep(0.1)
        assert emulated.command_names() >= {"like", "recommend", "privacy", "encore"}

        async def privacy():
            record = await emulator.invoke(emulated.guild, emulated.channel, emulated.member, "privacy", {})
            await record.wait_until(answered, 15)
            return record

        record = emulated.loop.run(privacy(), 20)
        assert not record.rejections, record.rejections
        message = record.final_message()
        assert message["ephemeral"] and message["content"].startswith("Your privacy is **public**"), message

        process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            pytest.fail(f"encore run was still running 20 s after SIGTERM:\n{stderr_path.read_text()}")
        stderr = stderr_path.read_text(encoding="utf-8")
        assert code == 0, stderr
        assert "Traceback" not in stderr and " ERROR " not in stderr, stderr
        assert stdout_path.read_text(encoding="utf-8") == ""
        assert emulated.call(lambda: not emulator.gateway.connected and not emulator.gateway.connections), (
            "the emulator still holds the bot's gateway connection"
        )
        assert emulator.identify_count == 1 and emulator.resume_count == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("encore: error:")]


def test_encore_run_with_a_wrong_token_exits_2_with_one_error_line(
    emulated: Emulated, store: tuple[Path, str], lastfm_dir: Path
) -> None:
    before = len(emulated.call(lambda: list(emulated.emulator.requests)))
    result = run_encore(bot_env(store, lastfm_dir, emulated, "not-the-emulators-token"))
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stdout == ""
    errors = error_lines(result.stderr)
    assert len(errors) == 1 and "DISCORD_TOKEN" in errors[0], result.stderr
    assert result.stderr.strip().splitlines()[-1] == errors[0], "the error is the last word"
    refused = [r for r in emulated.call(lambda: list(emulated.emulator.requests))[before:] if r.status == 401]
    assert refused and refused[0].path.endswith("/users/@me"), "the token was tried against the emulator"


def test_encore_run_with_a_wrong_token_prints_nothing_but_the_error(
    emulated: Emulated, store: tuple[Path, str], lastfm_dir: Path
) -> None:
    result = run_encore(bot_env(store, lastfm_dir, emulated, "not-the-emulators-token"))
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr


def test_encore_run_without_a_token_exits_2_naming_discord_token(
    emulated: Emulated, store: tuple[Path, str], lastfm_dir: Path
) -> None:
    started = time.monotonic()
    result = run_encore(bot_env(store, lastfm_dir, emulated, None), timeout=60)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("encore: error:") and "DISCORD_TOKEN" in lines[0], lines[0]
    assert time.monotonic() - started < 30, "a missing token is reported before any data is loaded"
