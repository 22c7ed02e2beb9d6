"""Running the real `encore` console script in a subprocess, as a user runs it, and reading its answer."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from tests.support import encore_command, encore_env

ENCORE = encore_command()


def run_encore(
    *args: str,
    home: Path,
    data: Path | str,
    database_url: str | None = None,
    extra: dict[str, str] | None = None,
    timeout: float = 300,
    stdin: str | None = None,
) -> subprocess.CompletedProcess:
    """``stdin``: what is typed into the command (piped); without it, stdin is empty."""
    env = encore_env(home, data, database_url) | (extra or {})
    return subprocess.run(
        [*ENCORE, *args],
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=timeout,
        input=stdin if stdin is not None else "",
    )


def assert_one_line_error(result: subprocess.CompletedProcess, *fragments: str) -> str:
    """The command failed as a user's mistake should: exit status 2 and one line on stderr, no traceback."""
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    assert result.returncode == 2, (result.returncode, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("encore") and " error: " in lines[0], lines[0]  # "encore[ COMMAND]: error: …"
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert result.stdout == ""
    return lines[0]


def evaluate_with_json(*options: str, folder: Path, data: Path) -> tuple[dict[str, Any], list[str]]:
    """`encore evaluate --seeds 0 OPTIONS --json FILE` in a fresh home in `folder`: the JSON it wrote
    (into a folder it had to make) and the lines of the table it printed."""
    out = folder / "results" / "evaluate.json"
    result = run_encore("evaluate", "--seeds", "0", *options, "--json", str(out), home=folder / "home", data=data)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    results = json.loads(out.read_text(encoding="utf-8"))
    assert results["seeds"] == [0] and len(results["data_fingerprint"]) == 16
    return results, result.stdout.splitlines()
