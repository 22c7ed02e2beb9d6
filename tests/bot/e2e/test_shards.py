"""A sharded bot: two `encore run --shards` processes, one `encore train` and one database, as deployed.

Each process is the installed `encore` console script, configured only through its environment; the
emulator runs in this test's process and routes each server's events to the shard Discord would
((server id >> 22) % shard count). The database is PostgreSQL when ENCORE_TEST_DATABASE_URL is set
(CI's second pass), else one SQLite file all three processes share.

The story: members like artists on shard 0, including an artist Last.fm does not know. On shard 1,
another member whose only like is that artist gets nothing: no model knows it yet. The trainer then
refits once and publishes; shard 1's process picks the snapshot up without restarting, and the same
/recommend now answers with the taste the shard-0 likes gave that artist, "because you like" it.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest

from discord_emulator import Channel, DiscordEmulator, Guild, InteractionRecord, Member
from tests.helpers.ci_lanes import in_the_postgresql_lane
from tests.helpers.components import button
from tests.helpers.deployment import (
    ADD_LABEL,
    METAL,
    NEW_ARTIST,
    TASTE,
    machine_env,
    published_snapshots,
    recommended_names,
    snapshot_dir,
)
from tests.helpers.e2e import LoopThread, answered, emulator_in_a_thread
from tests.helpers.e2e_messages import text_of
from tests.support import encore_command, throwaway_database

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM is a POSIX signal"),
    # Four processes on one database, as deployed: CI runs it once, on PostgreSQL.
    in_the_postgresql_lane,
]

T = TypeVar("T")
ENCORE = encore_command()
SHARD_COUNT = 2


def shard_of(guild: Guild) -> int:
    return (guild.id >> 22) % SHARD_COUNT


@dataclass
class World:
    loop: LoopThread
    emulator: DiscordEmulator
    #: guilds[i], channels[i]: a server on shard i and its text channel.
    guilds: list[Guild]
    channels: list[Channel]

    def call(self, fn: Callable[..., T], *args: Any) -> T:
        async def wrapper() -> T:
            return fn(*args)

        return self.loop.run(wrapper(), 10)

    def member(self, shard: int, name: str, manage_guild: bool = False) -> Member:
        return self.call(lambda: self.emulator.add_member(self.guilds[shard], name, manage_guild=manage_guild))

    def command(
        self,
        shard: int,
        member: Member,
        name: str,
        options: dict[str, Any] | None = None,
        subcommand: str | None = None,
    ) -> InteractionRecord:
        async def go() -> InteractionRecord:
            record = await self.emulator.invoke(
                self.guilds[shard], self.channels[shard], member, name, options or {}, subcommand
            )
            await record.wait_until(answered, 20)
            return record

        record = self.loop.run(go(), 25)
        assert not record.rejections, record.rejections
        return record

    def click(self, record: InteractionRecord, custom_id: str, member: Member) -> InteractionRecord:
        async def go() -> InteractionRecord:
            clicked = await self.emulator.click(record, custom_id, member)
            await clicked.wait_until(answered, 20)
            return clicked

        clicked = self.loop.run(go(), 25)
        assert not clicked.rejections, clicked.rejections
        return clicked

    def sessions(self) -> list[tuple[int, int] | None]:
        return self.call(
            lambda: sorted(
                (
                    s.shard
                    for s in self.emulator.gateway.sessions.values()
                    if s.connection is not None and not s.invalidated
                ),
                key=str,
            )
        )


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    with emulator_in_a_thread("encore-shards-emulator") as (loop, emulator):

        async def populate() -> World:
            by_shard: dict[int, Guild] = {}
            # Snowflakes carry the time, so servers made a moment apart land on either shard.
            while len(by_shard) < SHARD_COUNT:
                guild = emulator.add_guild(f"Encore shard test {len(by_shard)}")
                by_shard.setdefault(shard_of(guild), guild)
                await asyncio.sleep(0.003)
            guilds = [by_shard[i] for i in range(SHARD_COUNT)]
            channels = [emulator.add_text_channel(g, "music") for g in guilds]
            return World(loop, emulator, guilds, channels)

        yield loop.run(populate(), 10)


@dataclass
class Process:
    name: str
    popen: subprocess.Popen
    stderr_path: Path

    def stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    def alive(self) -> None:
        assert self.popen.poll() is None, f"{self.name} exited with {self.popen.returncode}:\n{self.stderr()[-3000:]}"

    def stop(self) -> int:
        self.popen.send_signal(signal.SIGTERM)
        try:
            return self.popen.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait(10)
            pytest.fail(f"{self.name} was still running 60 s after SIGTERM:\n{self.stderr()[-3000:]}")


@dataclass
class Deployment:
    root: Path
    lastfm_dir: Path
    database_url: str
    world: World
    processes: list[Process] = field(default_factory=list)

    def env(self, role: str) -> dict[str, str]:
        """A machine's environment (`machine_env`), logging in to the emulator, polling for snapshots often."""
        return machine_env(self.root, role, self.lastfm_dir, self.database_url) | {
            "ENCORE_SNAPSHOT_POLL_SECONDS": "0.5",
            # Long enough that the trainer refits exactly once in this test: when it starts and finds
            # members' data changed since the snapshot it serves.
            "ENCORE_REFIT_MINUTES": "60",
            "DISCORD_TOKEN": self.world.emulator.token,
            "ENCORE_DISCORD_API_BASE": self.world.emulator.api_base,
            "ENCORE_DISCORD_GATEWAY": self.world.emulator.gateway_url,
        }

    def start(self, role: str, *args: str) -> Process:
        stderr_path = self.root / f"{role}.stderr.txt"
        with open(stderr_path, "wb") as err:
            popen = subprocess.Popen(
                [*ENCORE, *args], env=self.env(role), stdout=subprocess.DEVNULL, stderr=err, stdin=subprocess.DEVNULL
            )
        process = Process(role, popen, stderr_path)
        self.processes.append(process)
        return process

    def published(self) -> list[tuple[str, str]]:
        return published_snapshots(self.database_url)

    def wait(self, condition: Callable[[], bool], what: str, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            for process in self.processes:
                process.alive()
            assert time.monotonic() < deadline, f"timed out after {timeout:g} s waiting for {what}"
            time.sleep(0.2)


@pytest.fixture
def deployment(world: World, lastfm_dir: Path, tmp_path: Path) -> Iterator[Deployment]:
    with throwaway_database(tmp_path / "encore.sqlite3") as url:
        assert url is not None
        deployed = Deployment(tmp_path, lastfm_dir, url, world)
        try:
            yield deployed
        finally:
            for process in deployed.processes:
                if process.popen.poll() is None:
                    process.popen.kill()
                    process.popen.wait(10)


def test_a_like_on_one_shard_shows_in_a_recommendation_on_the_other_after_one_refit(deployment: Deployment) -> None:
    world = deployment.world
    # The first snapshot, published the way an operator seeds a deployment.
    seeded = subprocess.run(
        [*ENCORE, "train", "--once"],
        env=deployment.env("trainer"),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=300,
    )
    assert seeded.returncode == 0, seeded.stderr
    first = deployment.published()
    assert len(first) == 1 and first[0][1] == "implicit", first

    bots = [
        deployment.start(f"shard-{i}", "run", "--shards", str(i), "--shard-count", str(SHARD_COUNT))
        for i in range(SHARD_COUNT)
    ]
    deployment.wait(lambda: world.sessions() == [(0, SHARD_COUNT), (1, SHARD_COUNT)], "both shards to identify")
    deployment.wait(
        lambda: "recommend" in {c["name"] for c in world.call(world.emulator.commands)}, "the commands to be registered"
    )
    # Commands belong to the application: only the process with shard 0 registers them.
    puts = world.call(lambda: world.emulator.requests_to("PUT", "/applications/{application_id}/commands"))
    assert len(puts) == 1, [r.path for r in puts]

    alice, bob = world.member(0, "alice"), world.member(1, "bob")
    for name in TASTE:
        assert (
            world.command(0, alice, "like", {"artist": name}).final_message()["content"].startswith("Noted: you like")
        )
    record = world.command(0, alice, "like", {"artist": NEW_ARTIST})
    assert record.final_message()["content"].startswith("No artist called")
    added = world.click(record, button(record.final_message(), ADD_LABEL)["custom_id"], alice).final_message()
    assert added["content"].startswith(f"Added {NEW_ARTIST} as a new artist"), added["content"]

    # Shard 1's process has never heard of the artist either; bob adds it too, which finds alice's.
    record = world.command(1, bob, "like", {"artist": NEW_ARTIST})
    assert record.final_message()["content"].startswith("No artist called"), "shard 1 cannot know it before a refit"
    added = world.click(record, button(record.final_message(), ADD_LABEL)["custom_id"], bob).final_message()
    assert NEW_ARTIST in added["content"], added["content"]
    before = world.command(1, bob, "recommend").final_message()
    assert before["ephemeral"] and "known to the model yet" in text_of(before), text_of(before)
    assert recommended_names(before) == []

    trainer = deployment.start("trainer", "train")
    deployment.wait(lambda: len(deployment.published()) == 2, "the trainer to refit and publish", timeout=180)
    refit_version = deployment.published()[0][0]
    meta = json.loads((snapshot_dir(deployment.root) / refit_version / "meta.json").read_text(encoding="utf-8"))
    assert meta["members"] == 2 and meta["member_likes"] == len(TASTE) + 2, meta

    seen: list[dict] = []

    def bob_gets_metal() -> bool:
        # The answer that showed the swap is the one checked: /recommend has a cooldown, so asking
        # once more after polling could be refused on a slow machine.
        seen.append(world.command(1, bob, "recommend").final_message())
        return bool(set(recommended_names(seen[-1])) & METAL)

    deployment.wait(bob_gets_metal, "shard 1 to serve the published snapshot", timeout=60)
    after = seen[-1]
    names = recommended_names(after)
    assert len(set(names[:5]) & METAL) >= 3, names
    assert f"because you like {NEW_ARTIST}" in text_of(after), text_of(after)
    assert "@" not in json.dumps(after.get("allowed_mentions", {}).get("parse", []))

    # Both shards come to serve the trainer's snapshot (each polls on its own clock), and neither refits.
    for shard in range(SHARD_COUNT):
        admin = world.member(shard, f"admin{shard}", manage_guild=True)

        def serves_the_refit(shard: int = shard, admin=admin) -> bool:
            status = world.command(shard, admin, "encore", subcommand="status").final_message()
            return refit_version in text_of(status)

        deployment.wait(serves_the_refit, f"shard {shard} to serve {refit_version}", timeout=60)
    assert len(deployment.published()) == 2, "only the trainer refits"

    codes = {process.name: process.stop() for process in [trainer, *bots]}
    assert codes == {"trainer": 0, "shard-0": 0, "shard-1": 0}, codes
    for process in (trainer, *bots):
        stderr = process.stderr()
        assert "Traceback" not in stderr and " ERROR " not in stderr, f"{process.name}:\n{stderr[-3000:]}"
    assert "serving the published snapshot" in bots[1].stderr()
