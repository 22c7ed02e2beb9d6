"""benchmarks/session_latency.py at a tiny size: a real `encore run` through the emulator writes a complete result.

Only the shape is checked (every figure there and positive, every round counted); the speed is the
benchmark's business, never a test's.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.ci_lanes import in_the_postgresql_lane
from tests.helpers.paths import REPO_ROOT

# A benchmark at its smallest still takes a minute or two: CI runs it once, on PostgreSQL.
pytestmark = [pytest.mark.slow, in_the_postgresql_lane]

SESSIONS, ROUNDS, MEMBERS = 2, 5, 3
PERCENTILES = ("p50_ms", "p95_ms", "p99_ms", "max_ms")


def test_a_tiny_run_writes_every_figure(lastfm_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "session-latency.json"
    command = [sys.executable, "benchmarks/session_latency.py", "--data-dir", str(lastfm_dir), "--out", str(out)]
    command += ["--runs", "1", "--sessions", str(SESSIONS), "--rounds", str(ROUNDS), "--members", str(MEMBERS)]
    finished = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
    assert finished.returncode == 0, finished.stderr[-3000:]

    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["benchmark"] == "session-latency"
    assert result["members"] == MEMBERS and result["likes_per_member"] and all(result["likes_per_member"])
    assert result["machine"]["cpus"] >= 1
    (run,) = result["runs"]
    expected_counts = {
        "start_callback": SESSIONS,
        "start_first_pick": SESSIONS,
        "next_pick": SESSIONS * ROUNDS,
        "next_pick_after_last_vote": SESSIONS * (ROUNDS - 1),  # the fifth round of each ends with Next
        "next_pick_after_next": SESSIONS,
        "round_click_callback": SESSIONS * ROUNDS,
    }
    assert {figure: run[figure]["count"] for figure in expected_counts} == expected_counts
    for figure in expected_counts:
        values = [run[figure][key] for key in PERCENTILES]
        assert all(value > 0 for value in values), (figure, run[figure])
        assert values[:3] == sorted(values[:3]) and values[2] <= values[3], (figure, run[figure])
        # One run: its median is the run itself.
        assert result["median"][figure] == {key: run[figure][key] for key in PERCENTILES}
