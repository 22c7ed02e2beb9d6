"""`encore run --shards` and `encore train`: the arguments of the scaled-out roles."""

from __future__ import annotations

import asyncio
import subprocess

import pytest

from bot.app import build_app
from bot.cli import build_parser, main, shard_ids
from bot.settings import Settings
from tests.support import encore_command, encore_env


@pytest.mark.parametrize(
    ("text", "ids"),
    [("0", [0]), ("0-3", [0, 1, 2, 3]), ("0,2,5", [0, 2, 5]), ("4-5,0-1", [0, 1, 4, 5]), ("1, 1-2", [1, 2])],
)
def test_shard_ids_take_ranges_and_lists(text: str, ids: list[int]) -> None:
    assert shard_ids(text) == ids


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["run", "--shards", "a"], "expected shard ids like 0-3"),
        (["run", "--shards", "3-1", "--shard-count", "4"], "runs backwards"),
        (["run", "--shards", "-1", "--shard-count", "4"], "expected shard ids"),
        (["run", "--shards", "0-3"], "--shards and --shard-count go together"),
        (["run", "--shard-count", "8"], "--shards and --shard-count go together"),
        (["run", "--shards", "0-8", "--shard-count", "8"], "shard ids run from 0 to 7"),
        (["run", "--shards", "0", "--shard-count", "0"], "must be at least 1"),
        (["train", "--engine", "hadoop"], "invalid choice"),
    ],
)
def test_role_usage_mistakes_are_one_line_and_exit_2(
    argv: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines[-1].startswith("encore") and says in lines[-1], err
    assert "Traceback" not in err


def test_the_roles_parse_to_what_the_actions_use() -> None:
    args = build_parser().parse_args(["run", "--shards", "0-3", "--shard-count", "8"])
    assert (args.shards, args.shard_count, args.follow_trainer) == ([0, 1, 2, 3], 8, False)
    args = build_parser().parse_args(["run"])
    assert (args.shards, args.shard_count, args.follow_trainer) == (None, None, False)
    args = build_parser().parse_args(["train"])
    assert (args.engine, args.once) == ("implicit", False)
    args = build_parser().parse_args(["fit", "--engine", "spark"])
    assert args.engine == "spark"


def test_snapshot_settings_come_from_the_environment(tmp_path) -> None:
    settings = Settings.from_env({"ENCORE_HOME": str(tmp_path / "home")})
    assert settings.snapshot_dir == tmp_path / "home" / "snapshots" and settings.snapshot_poll_seconds == 10.0
    shared = tmp_path / "shared"
    settings = Settings.from_env(
        {
            "ENCORE_HOME": str(tmp_path / "home"),
            "ENCORE_SNAPSHOT_DIR": str(shared),
            "ENCORE_SNAPSHOT_POLL_SECONDS": "0.5",
        }
    )
    assert settings.snapshot_dir == shared and settings.snapshot_poll_seconds == 0.5


@pytest.mark.slow
@pytest.mark.spark
def test_a_spark_trained_snapshot_is_published_and_served_by_a_follower(spark_als, lastfm_dir, tmp_path) -> None:
    """`encore train --engine spark --once` as an operator runs it; then a bot's follower serves it as is."""
    home = tmp_path / "trainer-home"
    result = subprocess.run(
        [*encore_command(), "train", "--engine", "spark", "--once"],
        env=encore_env(home, lastfm_dir),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Fitted 1,892 users (0 members) x 17,632 artists"), result.stdout

    # The bot's own snapshot folder is empty: what it serves can only come from the trainer's record.
    settings = Settings.from_env(
        {
            "ENCORE_HOME": str(home),
            "ENCORE_LASTFM_DIR": str(lastfm_dir),
            "ENCORE_SNAPSHOT_DIR": str(tmp_path / "bot-snapshots"),
        }
    )

    async def follow() -> None:
        app = await build_app(settings, follow_trainer=True)
        try:
            follower = app.models
            state = follower.state
            assert state is not None and state.snapshot.meta["trainer"] == "spark"
            assert state.snapshot.path is not None and state.snapshot.path.parent == home / "snapshots"
            assert follower.last_timings is None, "served, not refitted"
            liked = [follower.catalogue.lookup(name).artist_id for name in ("Metallica", "Slayer")]
            recommendations = follower.engine.recommend_for_likes(liked, 10)
            names = {r.artist.name for r in recommendations}
            assert len(recommendations) == 10 and names & {
                "Megadeth",
                "Iron Maiden",
                "Motörhead",
                "Pantera",
                "Anthrax",
            }, names
            assert all(r.because for r in recommendations), "every recommendation says why"
        finally:
            await app.close()

    asyncio.run(follow())
