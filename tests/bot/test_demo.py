"""`encore demo` as a new user runs it: the real bot on the emulator, every scripted command answered."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.demo.driver import DemoInputError, _boolean
from tests.helpers.cli import run_encore

pytestmark = pytest.mark.slow

PNG = b"\x89PNG\r\n\x1a\n"


def saved_pictures(out: str) -> list[Path]:
    return [Path(path) for path in re.findall(r"Picture saved to (\S+)", out)]


def test_the_demo_tours_recommendations_the_social_side_and_a_session(tmp_path: Path, lastfm_dir: Path) -> None:
    result = run_encore("demo", home=tmp_path / "home", data=lastfm_dir)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for shown in (
        "ana> /recommend count:5",
        "┃ Recommended for you",
        "Spotify · YouTube Music",
        "┃ Similar to Daft Punk",
        "┃ Why Sigur Rós?",
        "┃ A blend for ana, bo and cy",
        "┃ Your taste and bo's",
        "┃ Who knows Radiohead here",
        "┃ ana likes Radiohead.",
        "dee> /start",
        "┃ Your first recommendations",
        "ana> /session start",
        "┃ Now: ",
        "┃ Changes: dee joined.",
        "┃ 🎧 Listening session recap",
        "┃ Encore status",
    ):
        assert shown in out, f"{shown!r} missing from:\n{out}"
    assert "Traceback" not in result.stderr and "⚠️" not in out and "(no answer" not in out, out
    pictures = saved_pictures(out)
    assert {p.name.split("-")[0].split(".")[0] for p in pictures} == {"taste", "session"}, out
    for picture in pictures:
        assert picture.is_relative_to(tmp_path / "home") and picture.read_bytes().startswith(PNG)


def test_the_interactive_demo_takes_members_by_name_buttons_menus_and_ends_on_eof(
    tmp_path: Path, lastfm_dir: Path
) -> None:
    typed = [
        "bo> /recommend count:3",
        "pick 1 2",
        "as cy",
        "/taste member:ana",
        "you> /encore settings reset:maybe",
        "you> /encore settings reset:yes",
        "nobody> /likes",
        "press 9",
    ]
    result = run_encore("demo", "--interactive", home=tmp_path / "home", data=lastfm_dir, stdin="\n".join(typed))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for line in typed:
        assert out.count(line) == 1, f"{line!r} shown {out.count(line)} times:\n{out}"
    assert "┃ Recommended for you" in out and "[1] 👍 Like one of these…" in out, out
    assert "Noted: you like" in out or "You already like" in out, out
    assert "cy> " in out and "┃ Your taste and ana's" in out, out
    assert "option 'reset' takes true or false, not 'maybe'" in out and "Saved. Popularity penalty" in out, out
    assert "no member 'nobody' here" in out and "give a number from that list" in out, out
    assert "Traceback" not in result.stderr, result.stderr


def test_demo_options_take_the_words_people_type_for_yes_and_no() -> None:
    assert _boolean("reset", "True") is True and _boolean("reset", "no") is False
    with pytest.raises(DemoInputError, match="true or false"):
        _boolean("reset", "maybe")
