"""`encore run --shards` and `encore train`: the arguments of the scaled-out roles."""

from __future__ import annotations

import pytest

from bot.cli import build_parser, main, shard_ids
from bot.settings import Settings


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
def test_role_usage_mistakes_are_one_line_and_exit_2(argv: list[str], says: str, capsys: pytest.CaptureFixture[str]) -> None:
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
    settings = Settings.from_env({"ENCORE_HOME": str(tmp_path / "home"), "ENCORE_SNAPSHOT_DIR": str(shared),
                                  "ENCORE_SNAPSHOT_POLL_SECONDS": "0.5"})
    assert settings.snapshot_dir == shared and settings.snapshot_poll_seconds == 0.5
