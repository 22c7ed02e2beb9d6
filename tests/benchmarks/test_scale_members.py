"""benchmarks/scale_members.py --quick: synthetic members written to a real store, every step measured
in its own process, and the growth fitted over the two sizes.

The store is a SQLite file, or the PostgreSQL database of ENCORE_TEST_DATABASE_URL (loaded with COPY).
Only the shape is checked (every figure there and positive, the likes as generated); the speed is the
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

STEPS = ("load", "load_before_fix", "refit_implicit", "serve")


def test_a_quick_run_measures_every_step_and_fits_the_growth(
    lastfm_dir: Path, empty_database_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "scale-members.json"
    command = [sys.executable, "benchmarks/scale_members.py", "--quick", "--no-spark", "--data-dir", str(lastfm_dir)]
    command += ["--database-url", empty_database_url, "--out", str(out)]
    finished = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=1800)
    assert finished.returncode == 0, finished.stderr[-3000:]

    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["benchmark"] == "scale-members" and "partial" not in result
    assert [size["members"] for size in result["sizes"]] == [10_000, 20_000]
    written = 0
    for size in result["sizes"]:
        # Each size adds members to the last: the store holds every like written so far.
        written += size["written"]["rows"]["likes"]
        assert written == size["likes"] == size["load_before_fix"]["likes"]
        # Every member has at least one like, and a member's likes are distinct, at most the cap.
        assert size["members"] <= size["likes"] <= 2_000 * size["members"]
        assert size["load"]["matrix"]["nnz"] > size["likes"]  # the Last.fm plays come first
        for step in STEPS:
            assert size[step]["peak_mb"] > 0 and size[step]["tree_peak_mb"] > 0, (step, size[step])
        assert size["refit_implicit"]["snapshot_mb"] > 0 and size["refit_implicit"]["timings"]["fit"] > 0
        for command_name in ("recommend", "blend"):
            figures = size["serve"][command_name]
            assert 0 < figures["p50_ms"] <= figures["p99_ms"], (command_name, figures)
        assert size["serve"]["resident_mb_serving"] > 0
    smaller, larger = result["sizes"]
    assert larger["likes"] > smaller["likes"]

    projection = result["projection"]
    assert projection["members"] == 10_000_000
    assert projection["likes"] == int(larger["likes"] / larger["members"] * 10_000_000)
    for figure in ("load_seconds", "refit_implicit_seconds", "snapshot_mb", "bot_resident_mb", "recommend_p99_ms"):
        assert projection[figure]["sizes"] == 2 and projection[figure]["projected"] > 0, figure
    assert "refit_spark_seconds" not in projection
