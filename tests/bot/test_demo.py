"""`encore demo` as a new user runs it: the real bot on the emulator, every scripted command answered."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.cli import run_encore

pytestmark = pytest.mark.slow


def test_the_demo_shows_recommendations_similar_why_whoknows_and_status(tmp_path: Path, lastfm_dir: Path) -> None:
    result = run_encore("demo", home=tmp_path / "home", data=lastfm_dir)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for shown in (
        "ana> /recommend count:5",
        "┃ Recommended for you",
        "Spotify · YouTube Music",
        "┃ Similar to Daft Punk",
        "┃ Why Sigur Rós?",
        "┃ Who knows Radiohead here",
        "┃ ana likes Radiohead.",
        "┃ Encore status",
    ):
        assert shown in out, f"{shown!r} missing from:\n{out}"
    assert "Traceback" not in result.stderr and "⚠️" not in out, out
