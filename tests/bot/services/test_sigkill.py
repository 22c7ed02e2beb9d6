"""The issue's crash test, for real: SIGKILL `encore fit` mid-refit; the previous snapshot loads, no like is lost.

`encore fit` runs the same refit the bot runs (the model service, store, snapshot folder) in a subprocess,
which is killed with SIGKILL (a) while the model is being fitted and (b) while the snapshot is being
written. After each kill the previous snapshot must load (by `load_latest` and by the bot's
`ModelService.start`), the store must hold exactly the likes written before, and a fresh `encore fit`
and `encore recommend` must work.

3,000 synthetic members with 20 likes each make the snapshot larger (so the save phase lasts long
enough to be caught by polling every millisecond) and give "no like is lost" some weight.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import insert
from sqlalchemy.engine import make_url

from bot.app import build_app
from db.engine import create_engine
from db.models import likes, users, utcnow
from db.store import Store
from recommender.engine import Engine
from recommender.snapshot import Snapshot, load_latest, snapshot_paths
from tests.helpers.services import RealData, settings_for_tests
from tests.support import encore_command, encore_env

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")]

SYNTHETIC_MEMBERS = 3_000
LIKES_EACH = 20
FIRST_SYNTHETIC_ID = 10**15
NAMED_MEMBERS = {111: ["Radiohead", "Björk"], 222: ["Daft Punk", "Justice", "Air"], 333: ["Muse"]}
SAVE_ATTEMPTS = 10
STEADY_SECONDS = 0.5  # how long the extra fit threads must have been running before the kill


def run_encore(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*encore_command(), *args], env=env, capture_output=True, text=True, encoding="utf-8", timeout=300
    )


def start_encore(*args: str, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([*encore_command(), *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def thread_count(pid: int) -> int | None:
    try:
        return len(os.listdir(f"/proc/{pid}/task"))
    except FileNotFoundError:
        return None


def staging_dirs(snapshot_dir: Path) -> list[Path]:
    return [snapshot_dir / entry.name for entry in os.scandir(snapshot_dir) if entry.name.startswith(".incoming-")]


def newest_good(snapshot_dir: Path, fingerprint: str) -> Snapshot:
    snapshot, skipped = load_latest(snapshot_dir, fingerprint)
    assert snapshot is not None, skipped
    assert skipped == [], skipped  # a half-written snapshot is hidden, never a candidate
    return snapshot


def kill(process: subprocess.Popen) -> None:
    assert process.poll() is None, "encore fit had already ended"
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    process.stdout.close()
    process.stderr.close()
    assert process.returncode == -signal.SIGKILL


def kill_during_fit(process: subprocess.Popen, snapshot_dir: Path, idle_threads: int) -> int:
    """SIGKILL once the fit's extra threads (tqdm's monitor, OpenMP workers) have run for a while.

    Before the fit the process has at most `idle_threads` threads: the main one, asyncio's worker and,
    on SQLite, aiosqlite's connection thread. Returns the thread count at the kill.
    """
    deadline = time.monotonic() + 120
    since: float | None = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(
                f"encore fit ended (status {process.returncode}) before its fit phase was seen: "
                f"{process.stderr.read().decode()[-2000:]}"
            )
        count = thread_count(process.pid) or 0
        now = time.monotonic()
        if count > idle_threads:
            since = now if since is None else since
            if now - since >= STEADY_SECONDS:
                assert staging_dirs(snapshot_dir) == [], "the save had started: not a kill during the fit"
                kill(process)
                return count
        else:
            since = None
        time.sleep(0.002)
    process.kill()
    pytest.fail("encore fit never reached its fit phase within 120 s")


def kill_during_save(process: subprocess.Popen, snapshot_dir: Path) -> bool:
    """SIGKILL as soon as a staging folder appears; False if the process finished first."""
    while process.poll() is None:
        if staging_dirs(snapshot_dir):
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
            break
        time.sleep(0.001)
    process.communicate(timeout=30)
    return process.returncode == -signal.SIGKILL


async def write_likes(url: str, data: RealData) -> list[tuple[int, int, str, None]]:
    """The named members like through Store.like; the synthetic ones are bulk-inserted into the same tables."""
    rng = np.random.default_rng(0)
    popular = np.array([artist.artist_id for artist in list(data.catalogue)[:2_000]])
    async with Store(create_engine(url)) as store:
        now = utcnow()
        ids = range(FIRST_SYNTHETIC_ID, FIRST_SYNTHETIC_ID + SYNTHETIC_MEMBERS)
        rows = [
            {"user_id": user, "artist_id": int(artist), "source": "discord", "created_at": now}
            for user in ids
            for artist in rng.choice(popular, size=LIKES_EACH, replace=False)
        ]
        async with store.engine.begin() as conn:
            await conn.execute(insert(users), [{"id": user, "created_at": now} for user in ids])
            for start in range(0, len(rows), 10_000):
                await conn.execute(insert(likes), rows[start : start + 10_000])
        for user, names in NAMED_MEMBERS.items():
            for name in names:
                found = data.catalogue.lookup(name)
                assert found is not None, name
                assert await store.likes.like(user, found.artist_id, guild_id=1)
        expected = [(row["user_id"], row["artist_id"], "discord", None) for row in rows]
        expected += [
            (u, data.catalogue.lookup(n).artist_id, "discord", None)
            for u, names in NAMED_MEMBERS.items()
            for n in names
        ]
        assert await store.likes.all_likes() == sorted(expected)
        return sorted(expected)


async def store_state(url: str) -> tuple[list, int, int]:
    async with Store(create_engine(url)) as store:
        return await store.likes.all_likes(), await store.revision(), len(await store.snapshots.recent(limit=1_000))


def check_previous_snapshot_serves(snapshot: Snapshot, data: RealData) -> None:
    engine = Engine(snapshot.model, snapshot.interactions, data.catalogue.extended(snapshot.member_artists))
    assert len(engine.recommend_for_user("lastfm:2", 3)) == 3


def test_sigkill_mid_refit_keeps_the_previous_snapshot_and_every_like(
    real_data: RealData, store_url: str, lastfm_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    snapshot_dir = home / "snapshots"
    env = encore_env(home, lastfm_dir, store_url)
    fingerprint = real_data.fingerprint
    idle_threads = 3 if make_url(store_url).get_backend_name() == "sqlite" else 2

    first = run_encore("fit", env=env)
    assert first.returncode == 0, first.stderr
    assert "(0 members)" in first.stdout
    good = newest_good(snapshot_dir, fingerprint)

    expected = asyncio.run(write_likes(store_url, real_data))
    assert len(expected) == SYNTHETIC_MEMBERS * LIKES_EACH + sum(map(len, NAMED_MEMBERS.values()))
    _, revision, recorded = asyncio.run(store_state(store_url))
    assert good.meta["store_revision"] < revision  # the likes are news to the served snapshot

    # (a) SIGKILL while the model is being fitted.
    launched = time.monotonic()
    threads = kill_during_fit(start_encore("fit", env=env), snapshot_dir, idle_threads)
    killed_after = time.monotonic() - launched
    assert threads > idle_threads
    assert [p.name for p in snapshot_paths(snapshot_dir)] == [good.version]
    assert newest_good(snapshot_dir, fingerprint).version == good.version
    check_previous_snapshot_serves(newest_good(snapshot_dir, fingerprint), real_data)
    assert asyncio.run(store_state(store_url)) == (expected, revision, recorded)

    # (b) SIGKILL while the snapshot is being written.
    caught = None
    for attempt in range(1, SAVE_ATTEMPTS + 1):
        before = newest_good(snapshot_dir, fingerprint)
        if not kill_during_save(start_encore("fit", env=env), snapshot_dir):
            continue  # the save was too quick to catch (or the kill came just after the rename): again
        leftovers = staging_dirs(snapshot_dir)
        if leftovers:
            caught = before, leftovers
            break
        print(f"save attempt {attempt} missed the save")
    if caught is None:
        pytest.fail(f"no SIGKILL landed while a snapshot was being written in {SAVE_ATTEMPTS} attempts")
    before, leftovers = caught
    after = newest_good(snapshot_dir, fingerprint)
    assert after.version == before.version
    assert after.path == before.path
    check_previous_snapshot_serves(after, real_data)
    all_likes, revision_now, recorded_now = asyncio.run(store_state(store_url))
    assert all_likes == expected
    assert revision_now == revision
    assert recorded_now == len(snapshot_paths(snapshot_dir))  # a row per snapshot that made it, no more

    # The bot restarting now serves that snapshot without fitting, and members' likes all count.
    def no_fit(*args, **kwargs):
        raise AssertionError("the restart fitted instead of loading the previous snapshot")

    monkeypatch.setattr("recommender.models.als.ALSRecommender.fit", no_fit)

    async def restart() -> None:
        settings = settings_for_tests(snapshot_dir.parent, store_url, snapshot_dir=snapshot_dir)
        app = await build_app(settings, data=real_data)
        try:
            assert app.models.state is not None and app.models.state.snapshot.version == before.version
            for user, names in NAMED_MEMBERS.items():
                assert {a.name for a in await app.library.liked_artists(user)} == set(names)
                assert len(await app.library.recommend(user, 5)) == 5
        finally:
            await app.close()

    asyncio.run(restart())
    monkeypatch.undo()
    # Its writer is dead (and was on this host), so the restart swept it away, however fresh.
    assert not any(leftover.exists() for leftover in leftovers), leftovers

    # A fresh fit works, takes in every like, and `encore recommend` answers from it.
    fresh = run_encore("fit", env=env)
    assert fresh.returncode == 0, fresh.stderr
    members = SYNTHETIC_MEMBERS + len(NAMED_MEMBERS)
    assert f"({members:,} members)" in fresh.stdout
    latest = newest_good(snapshot_dir, fingerprint)
    assert latest.version > before.version
    assert latest.meta["member_likes"] == len(expected)
    assert latest.meta["store_revision"] == revision
    assert latest.interactions.shape[0] == real_data.lastfm.shape[0] + members

    print(
        f"killed {killed_after:.2f} s into `encore fit` at {threads} threads; caught the save on attempt {attempt}; "
        f"the fresh fit said: {fresh.stdout.strip()}"
    )
    recommended = run_encore("recommend", "--lastfm-user", "2", "-n", "3", env=env)
    assert recommended.returncode == 0, recommended.stderr
    numbered = [line for line in recommended.stdout.splitlines() if re.match(r"^\s*\d+\. ", line)]
    assert len(numbered) == 3, recommended.stdout
