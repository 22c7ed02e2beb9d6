"""`encore train --engine spark` on a real Spark standalone cluster, and a bot serving what it published.

A Spark master and one worker run on 127.0.0.1 from pyspark's own distribution (tests/helpers/
spark_cluster.py). The bot is the installed `encore run --follow-trainer`, the trainer `encore train
--once --engine spark` with ENCORE_SPARK_MASTER naming the cluster, both configured only through their
environment, sharing the database (PostgreSQL when ENCORE_TEST_DATABASE_URL is set, CI's second pass,
else one SQLite file) and the snapshot folder, as on separate machines.

The story is the scaled-out one: a member likes metal and an artist Last.fm does not know; another,
whose only like is that artist, gets nothing. The trainer fits on the cluster, reading both members'
likes from the database; the master reports the application finished, having run an executor on the
worker; the bot swaps the published snapshot in, and the second member is recommended metal "because
you like" the new artist.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
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
from tests.helpers.spark_cluster import WORKER_CORES, WORKER_MEMORY, SparkCluster, report_in_summary, spark_cluster
from tests.support import encore_command

pytestmark = [
    pytest.mark.slow,
    pytest.mark.spark,
    pytest.mark.skipif(sys.platform == "win32", reason="Spark's daemons and SIGTERM need POSIX"),
    # The cluster takes minutes to fit on; CI runs it once, on PostgreSQL.
    in_the_postgresql_lane,
]

T = TypeVar("T")
ENCORE = encore_command()


@dataclass
class Discord:
    loop: LoopThread
    emulator: DiscordEmulator
    guild: Guild
    channel: Channel

    def call(self, fn: Callable[..., T], *args: Any) -> T:
        async def wrapper() -> T:
            return fn(*args)

        return self.loop.run(wrapper(), 10)

    def member(self, name: str, manage_guild: bool = False) -> Member:
        return self.call(lambda: self.emulator.add_member(self.guild, name, manage_guild=manage_guild))

    def _answered(self, start: Callable[[], Any]) -> InteractionRecord:
        async def go() -> InteractionRecord:
            record = await start()
            await record.wait_until(answered, 20)
            return record

        record = self.loop.run(go(), 25)
        assert not record.rejections, record.rejections
        return record

    def command(
        self, member: Member, name: str, options: dict[str, Any] | None = None, subcommand: str | None = None
    ) -> dict[str, Any]:
        return self._answered(
            lambda: self.emulator.invoke(self.guild, self.channel, member, name, options or {}, subcommand)
        ).final_message()

    def like_new_artist(self, member: Member) -> dict[str, Any]:
        record = self._answered(
            lambda: self.emulator.invoke(self.guild, self.channel, member, "like", {"artist": NEW_ARTIST})
        )
        assert record.final_message()["content"].startswith("No artist called"), record.final_message()
        custom_id = button(record.final_message(), ADD_LABEL)["custom_id"]
        return self._answered(lambda: self.emulator.click(record, custom_id, member)).final_message()


@pytest.fixture
def discord() -> Iterator[Discord]:
    with emulator_in_a_thread("encore-spark-emulator") as (loop, emulator):

        async def populate() -> Discord:
            guild = emulator.add_guild("Encore on Spark")
            return Discord(loop, emulator, guild, emulator.add_text_channel(guild, "music"))

        yield loop.run(populate(), 10)


@dataclass
class Deployment:
    """The bot's and the trainer's machines: each its own home; the database and snapshot folder shared."""

    root: Path
    lastfm_dir: Path
    database_url: str
    bot: subprocess.Popen | None = None

    @property
    def snapshot_dir(self) -> Path:
        return snapshot_dir(self.root)

    @property
    def bot_stderr(self) -> Path:
        return self.root / "bot.stderr.txt"

    def env(self, role: str) -> dict[str, str]:
        return machine_env(self.root, role, self.lastfm_dir, self.database_url)

    def bot_alive(self) -> None:
        assert self.bot is not None
        stderr = self.bot_stderr.read_text(encoding="utf-8", errors="replace")
        assert self.bot.poll() is None, f"encore run exited with {self.bot.returncode}:\n{stderr[-3000:]}"

    def published(self) -> list[tuple[str, str]]:
        return published_snapshots(self.database_url)


@pytest.fixture
def deployment(discord: Discord, empty_database_url: str, lastfm_dir: Path, tmp_path: Path) -> Iterator[Deployment]:
    """The bot, `encore run --follow-trainer`, started (not yet waited for), so it loads while Spark starts."""
    deployed = Deployment(tmp_path, lastfm_dir, empty_database_url)
    with open(deployed.bot_stderr, "wb") as err:
        deployed.bot = subprocess.Popen(
            [*ENCORE, "run", "--follow-trainer"],
            env=deployed.env("bot")
            | {
                "ENCORE_SNAPSHOT_POLL_SECONDS": "0.5",
                "DISCORD_TOKEN": discord.emulator.token,
                "ENCORE_DISCORD_API_BASE": discord.emulator.api_base,
                "ENCORE_DISCORD_GATEWAY": discord.emulator.gateway_url,
            },
            stdout=subprocess.DEVNULL,
            stderr=err,
            stdin=subprocess.DEVNULL,
        )
    try:
        yield deployed
    finally:
        if deployed.bot.poll() is None:
            deployed.bot.kill()
            deployed.bot.wait(10)


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[SparkCluster]:
    with spark_cluster(tmp_path / "spark") as running:
        yield running


def wait_for(condition: Callable[[], Any], what: str, alive: Callable[[], None], timeout: float = 120.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        alive()
        assert time.monotonic() < deadline, f"timed out after {timeout:g} s waiting for {what}"
        time.sleep(0.25)
    return result


def fit_seconds(stdout: str) -> str:
    """The fit's own time, from the line `encore fit` prints ("... (read 0.1, build 0.2, fit 41.3, ...")."""
    found = re.search(r"\bfit (\d+(?:\.\d+)?)", stdout)
    return f"{found.group(1)} s" if found else "not printed"


def test_encore_trains_on_a_spark_standalone_cluster_and_the_bot_serves_it(
    spark_als: Any,
    discord: Discord,
    deployment: Deployment,
    cluster: SparkCluster,
    pytestconfig: pytest.Config,
) -> None:
    def registered() -> bool:
        commands = discord.call(lambda: discord.emulator.commands(discord.guild))
        return "recommend" in {c["name"] for c in commands}

    wait_for(registered, "the bot to register its commands", deployment.bot_alive, timeout=180)

    alice, bob = discord.member("alice"), discord.member("bob")
    for name in TASTE:
        assert discord.command(alice, "like", {"artist": name})["content"].startswith("Noted: you like")
    assert discord.like_new_artist(alice)["content"].startswith(f"Added {NEW_ARTIST} as a new artist")
    # Added in this server, the artist is there for bob to like; only no model knows it yet.
    assert discord.command(bob, "like", {"artist": NEW_ARTIST})["content"].startswith("Noted: you like")
    before = discord.command(bob, "recommend")
    assert "known to the model yet" in text_of(before), text_of(before)

    # The trainer: a Spark driver on "another machine", its executor on the cluster's worker.
    started = time.monotonic()
    trained = subprocess.run(
        [*ENCORE, "train", "--once", "--engine", "spark"],
        env=deployment.env("trainer")
        | {
            "ENCORE_SPARK_MASTER": cluster.master_url,
            "ENCORE_SPARK_DRIVER_HOST": "127.0.0.1",
            "ENCORE_SPARK_DRIVER_MEMORY": "1g",
            "ENCORE_SPARK_EXECUTOR_MEMORY": WORKER_MEMORY,
            "ENCORE_SPARK_EXECUTOR_CORES": str(WORKER_CORES),
            "ENCORE_SPARK_CONF": f"spark.cores.max={WORKER_CORES}",
        },
        capture_output=True,
        text=True,
        encoding="utf-8",
        stdin=subprocess.DEVNULL,
        timeout=900,
    )
    train_seconds = time.monotonic() - started
    assert trained.returncode == 0, trained.stderr[-5000:]
    assert "Traceback" not in trained.stderr, trained.stderr[-5000:]
    records = deployment.published()
    # Newest first: the cluster's fit (the bot, with nothing published when it started, fitted its own).
    assert records[0][1] == "spark" and [trainer for _, trainer in records].count("spark") == 1, records
    version = records[0][0]
    meta = json.loads((deployment.snapshot_dir / version / "meta.json").read_text(encoding="utf-8"))
    assert meta["members"] == 2 and meta["member_likes"] == len(TASTE) + 2, meta

    # The master's own record: the application ran (an executor on the worker) and finished.
    def finished_apps() -> list[dict[str, Any]]:
        return [app for app in cluster.completed_apps() if app.get("state") == "FINISHED"]

    apps = wait_for(finished_apps, "the master to list the finished application", cluster.master.alive, 60)
    assert [app["name"] for app in apps] == ["encore-als"], apps
    app_id = apps[0]["id"]
    assert (cluster.work_dir / app_id / "0").is_dir(), "the worker ran no executor for the application"
    assert not cluster.state().get("activeapps"), cluster.state()["activeapps"]
    report_in_summary(
        pytestconfig,
        f"encore train --once --engine spark on {cluster.master_url}: application {app_id} "
        f"({apps[0]['name']}) {apps[0]['state']}, snapshot {version}; encore train took {train_seconds:.0f} s, "
        f"its fit {fit_seconds(trained.stdout)}",
    )

    seen: list[Any] = []

    def bob_gets_metal() -> bool:
        # The answer that showed the swap is the one checked: /recommend has a cooldown, so asking
        # once more after polling could be refused on a slow machine.
        seen.append(discord.command(bob, "recommend"))
        return bool(set(recommended_names(seen[-1])) & METAL)

    wait_for(bob_gets_metal, "the bot to serve the published snapshot", deployment.bot_alive, timeout=60)
    after = seen[-1]
    names = recommended_names(after)
    assert len(set(names[:5]) & METAL) >= 3, names
    assert f"because you like {NEW_ARTIST}" in text_of(after), text_of(after)
    admin = discord.member("admin", manage_guild=True)
    assert version in text_of(discord.command(admin, "encore", subcommand="status"))

    bot = deployment.bot
    assert bot is not None
    bot.send_signal(signal.SIGTERM)
    assert bot.wait(timeout=60) == 0, deployment.bot_stderr.read_text(encoding="utf-8")
    stderr = deployment.bot_stderr.read_text(encoding="utf-8")
    assert "Traceback" not in stderr and " ERROR " not in stderr, stderr[-3000:]
    assert "serving the published snapshot" in stderr
