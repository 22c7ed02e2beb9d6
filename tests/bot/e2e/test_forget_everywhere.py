"""Issue 14: after /forget-me, no byte of the member is left in anything `encore run` wrote.

The real bot process (`encore run`) against the emulator and a fake Last.fm, on a fresh home with a
SQLite store and its log (stderr) in a file. A member likes artists, adds one Encore did not know,
links a Last.fm account whose chart holds another unknown artist; an admin refits, so the member is in
a snapshot on disk. The search first finds them (else it would prove nothing); after /forget-me it
must find nothing in the database, its ``-wal`` and ``-shm``, any snapshot file or the log, while the
bot still runs and again once SIGTERM stopped it.
"""

from __future__ import annotations

import contextlib
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest

from discord_emulator import Channel, DiscordEmulator, Guild, InteractionRecord, Member
from fake_lastfm import FakeLastFm
from recommender.text import normalize_name
from tests.helpers.components import button
from tests.helpers.e2e import LoopThread, answered, emulator_in_a_thread
from tests.helpers.traces import files_under, find, id_forms, text_forms
from tests.support import encore_command, encore_env

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM is a POSIX signal"),
]

T = TypeVar("T")
ENCORE = encore_command()

API_KEY = "forget-everywhere-key"
#: All three are unknown to the data set and to every other member, so any trace of them is this member's.
LASTFM_USER = "qz-forgetme-lfm-7c41"
ADDED = "Vorquelline Strathmoor Xylophonics"
IMPORTED = "Quarnelbrook Ystravane"
LIKED = ("Radiohead", "Portishead", "Massive Attack")
CHART = [("Björk", 300), ("Sigur Rós", 200), (IMPORTED, 40)]
#: Hang guards only: the first start loads the data set and fits a model, slow on a small machine.
START_TIMEOUT = 600.0
REFIT_TIMEOUT = 600.0
ANSWER_TIMEOUT = 120.0


@dataclass
class World:
    loop: LoopThread
    emulator: DiscordEmulator
    guild: Guild
    channel: Channel
    member: Member
    admin: Member

    def call(self, fn: Callable[..., T], *args: Any) -> T:
        async def wrapper() -> T:
            return fn(*args)

        return self.loop.run(wrapper(), 30)

    def until(self, record: InteractionRecord, predicate: Callable[[InteractionRecord], bool], timeout: float) -> None:
        self.loop.run(record.wait_until(predicate, timeout), timeout + 10)

    def command(
        self,
        member: Member,
        name: str,
        options: dict[str, Any] | None = None,
        *,
        subcommand: str | None = None,
        timeout: float = ANSWER_TIMEOUT,
    ) -> dict[str, Any]:
        """Run a slash command; the message the bot answered with once it is no longer "thinking"."""

        async def go() -> InteractionRecord:
            record = await self.emulator.invoke(self.guild, self.channel, member, name, options or {}, subcommand)
            await record.wait_until(answered, timeout)
            return record

        record = self.loop.run(go(), timeout + 10)
        assert not record.rejections, f"the emulator refused the answer to /{name}: {record.rejections}"
        return record.final_message()

    def click(self, message: dict[str, Any], label: str, member: Member) -> InteractionRecord:
        custom_id = button(message, label)["custom_id"]

        async def go() -> InteractionRecord:
            record = await self.emulator.click(message, custom_id, member)
            await record.wait_until(answered, ANSWER_TIMEOUT)
            return record

        record = self.loop.run(go(), ANSWER_TIMEOUT + 10)
        assert not record.rejections, f"the emulator refused the answer to {label!r}: {record.rejections}"
        return record


@pytest.fixture
def world() -> Iterator[World]:
    with emulator_in_a_thread("forget-everywhere-emulator") as (loop, emulator):

        async def populate() -> World:
            guild = emulator.add_guild("Forget Everywhere")
            channel = emulator.add_text_channel(guild, "music")
            member = emulator.add_member(guild, "leaver")
            admin = emulator.add_member(guild, "admin", manage_guild=True)
            return World(loop, emulator, guild, channel, member, admin)

        yield loop.run(populate(), 10)


@pytest.fixture
def fake_lastfm(world: World) -> Iterator[FakeLastFm]:
    fake = FakeLastFm(users={LASTFM_USER: CHART}, api_key=API_KEY)
    world.loop.run(fake.start())
    try:
        yield fake
    finally:
        world.loop.run(fake.stop())


@dataclass
class Bot:
    process: subprocess.Popen
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=90)
        except subprocess.TimeoutExpired:
            pytest.fail(f"encore run was still running 90 s after SIGTERM:\n{self.log_text()}")


@pytest.fixture
def bot(world: World, fake_lastfm: FakeLastFm, lastfm_dir: Path, tmp_path: Path) -> Iterator[Bot]:
    """`encore run` on a fresh home (SQLite store, snapshots) in `tmp_path`, its log in tmp_path/encore.log."""
    home = tmp_path / "home"
    home.mkdir()
    env = encore_env(home, lastfm_dir) | {
        "DISCORD_TOKEN": world.emulator.token,
        "ENCORE_DISCORD_API_BASE": world.emulator.api_base,
        "ENCORE_DISCORD_GATEWAY": world.emulator.gateway_url,
        "LASTFM_API_KEY": API_KEY,
        "ENCORE_LASTFM_API_BASE": fake_lastfm.base_url,
        # No refit of the bot's own accord during the test: the admin's /encore refit is the one.
        "ENCORE_REFIT_MINUTES": "100000",
    }
    log = tmp_path / "encore.log"
    with open(tmp_path / "stdout.txt", "wb") as out, open(log, "wb") as err:
        process = subprocess.Popen([*ENCORE, "run"], env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
    running = Bot(process, log)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not world.call(
            lambda: (
                world.emulator.gateway.connected
                and "forget-me" in {c["name"] for c in world.emulator.commands(world.guild)}
            )
        ):
            assert process.poll() is None, f"encore run exited with {process.returncode}:\n{running.log_text()}"
            assert time.monotonic() < deadline, (
                f"encore run did not connect in {START_TIMEOUT} s:\n{running.log_text()}"
            )
            time.sleep(0.2)
        yield running
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(30)
        print(f"encore run's log:\n{running.log_text()}")  # pytest shows it when the test failed


def traces_of(user_id: int) -> dict[str, bytes]:
    return (
        id_forms("the member's id", user_id)
        | text_forms("the added artist", ADDED)
        | text_forms("the added artist's key", normalize_name(ADDED))
        | text_forms("the imported artist", IMPORTED)
        | text_forms("the imported artist's key", normalize_name(IMPORTED))
        | text_forms("the Last.fm username", LASTFM_USER)
    )


def store_files(home: Path) -> list[Path]:
    """The SQLite file and its write-ahead log and shared-memory index, those that exist."""
    return [p for p in (home / f"encore.sqlite3{suffix}" for suffix in ("", "-wal", "-shm")) if p.is_file()]


def checkpoint(database: Path, timeout: float = 60.0) -> None:
    """Copy the write-ahead log into the main file from another connection, as SQLite's automatic
    checkpoint does on a busy bot: then the member's rows are in the main file too, where only
    secure_delete can wipe them (not the log's truncation)."""
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.closing(sqlite3.connect(database, timeout=timeout)) as connection:
            busy, _, _ = connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        if not busy:
            return
        assert time.monotonic() < deadline, f"could not checkpoint {database} within {timeout} s"
        time.sleep(0.1)


def test_forget_me_leaves_no_trace_in_the_store_the_snapshots_or_the_log(
    world: World, bot: Bot, tmp_path: Path
) -> None:
    member, home = world.member, tmp_path / "home"
    snapshots = home / "snapshots"
    assert len(str(member.id)) >= 18, "a snowflake: long enough that no other number matches it by chance"

    for name in LIKED:
        liked = world.command(member, "like", {"artist": name})
        assert liked["content"].startswith("Noted: you like"), liked
    asked = world.command(member, "like", {"artist": ADDED})
    assert "Did you mean" in asked["content"], asked
    added = world.click(asked, f"Add “{ADDED}” as a new artist", member).final_message()
    assert added["content"].startswith(f"Added {ADDED} as a new artist"), added
    linked = world.command(member, "lastfm", {"username": LASTFM_USER}, subcommand="link")
    assert "3 top artists imported" in linked["content"], linked

    refitted = world.command(world.admin, "encore", subcommand="refit", timeout=REFIT_TIMEOUT)
    assert refitted["content"].startswith("Refitted in "), refitted

    # The positive control: the same search finds the member where Encore keeps them, so a clean
    # result below means they are gone, not that the search looks in the wrong place or form.
    needles = traces_of(member.id)
    checkpoint(home / "encore.sqlite3")
    in_store = find([home / "encore.sqlite3"], needles)
    in_snapshots = find(files_under(snapshots), needles)
    for what in ("the member's id", "the added artist ", "the imported artist ", "the Last.fm username"):
        assert any(line.startswith(what) for line in in_store), f"{what} not found in the database file: {in_store}"
    for what in ("the member's id", "the added artist ", "the imported artist "):
        assert any(line.startswith(what) for line in in_snapshots), f"{what} not found in a snapshot: {in_snapshots}"
    assert any("(utf-32-le)" in line for line in in_snapshots), "numpy keeps the member's key as UTF-32"

    question = world.command(member, "forget-me")
    confirmed = world.click(question, "Delete all my data", member)
    assert confirmed.callback_type == 6, "forgetting may outlast Discord's 3 s: the click defers first"
    world.until(confirmed, lambda r: r.final_message()["content"].startswith("Done"), ANSWER_TIMEOUT)
    assert "deleted your 7 likes" in confirmed.final_message()["content"], confirmed.final_message()

    # While the bot still runs: its open connections, its WAL and what it logged so far.
    searched = [*store_files(home), *files_under(snapshots), bot.log]
    assert home / "encore.sqlite3" in searched and any(p.name == "model.npz" for p in searched), searched
    left = find(searched, needles)
    assert not left, "the member outlived /forget-me in the running bot's files:\n" + "\n".join(left)

    code = bot.stop()
    log = bot.log_text()
    assert code == 0, log
    assert "Traceback" not in log and " ERROR " not in log, log
    # Once stopped: whatever the shutdown wrote too, and every other file the bot wrote anywhere.
    everything = files_under(tmp_path)
    assert bot.log in everything and any(p.suffix == ".npz" for p in everything), everything
    left = find(everything, needles)
    assert not left, "the member outlived /forget-me in the stopped bot's files:\n" + "\n".join(left)
