"""The recap's picture: a real PNG of a sensible size for no, one or many artists, whatever their names."""

from __future__ import annotations

import io
import threading
import warnings
from datetime import UTC, datetime

import pytest
from matplotlib import image

from bot.render import session_recap
from bot.render.session_recap import MAX_ROWS, render_session_recap
from bot.services.sessions.recap import build_recap
from db.sessions import PickRow, SessionRow, VoteRow
from recommender.catalogue import Artist

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
WHEN = datetime(2026, 12, 3, 15, 0, tzinfo=UTC)
NAMES = (
    "Radiohead",
    "Björk",
    "Sigur Rós",
    "Мумий Тролль",
    "$\\frac{1}{0}$ \\",  # mathtext, and an unbalanced "\" that would make matplotlib raise
    "坂本龍一",  # no CJK font is installed here: drawn as boxes, without a warning
    "🎧 DJ Shadow",
    "Godspeed You! Black Emperor and a name far too long to fit " + "x" * 300,
)


def recap(votes: list[tuple[int, int]], names: tuple[str, ...] = NAMES, members: int = 3):
    """A recap built the way the service builds it: `votes` is (into it, not for me) for each pick in turn."""
    session = SessionRow(7, 1, 2, 3, 4, "average", 10, WHEN, WHEN, WHEN, "ended")
    catalogue = {i: Artist(i, names[i % len(names)], f"https://www.last.fm/music/{i}", 100) for i in range(len(votes))}
    picks = [PickRow(i, i, i, (), (), WHEN) for i in range(len(votes))]
    rows = []
    for pick, (into, against) in enumerate(votes):
        # Each member votes once on a pick: members 1, 2, ... in turn.
        for user, into_it in enumerate([True] * into + [False] * against, start=1):
            rows.append(VoteRow(pick, pick, user, into_it, WHEN))
    members = max([members, *(a + b for a, b in votes)])
    return build_recap(session, picks, rows, members=list(range(1, members + 1)), privacies={}, artist=catalogue)


def decoded(png: bytes):
    assert png.startswith(PNG_MAGIC)
    pixels = image.imread(io.BytesIO(png), format="png")
    height, width = pixels.shape[:2]
    assert (width, height) == (int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big"))
    return pixels


def colours(pixels) -> set[tuple[int, int, int]]:
    flat = (pixels[..., :3] * 255).round().astype(int).reshape(-1, 3)
    return {tuple(int(c) for c in row) for row in flat}


def test_a_few_artists_with_both_votes_and_a_favourite() -> None:
    found = recap([(2, 1), (0, 3), (3, 0)])
    assert [a.name for a in found.favourites] == [NAMES[2]]
    pixels = decoded(render_session_recap(found, channel="music-lounge"))
    height, width = pixels.shape[:2]
    assert 600 <= width <= 1000 and 300 <= height <= 800, (width, height)
    drawn = colours(pixels)
    # Both bar colours and the favourite's band are there: each kind of vote is drawn.
    assert {(0x00, 0x72, 0xB2), (0xE6, 0x9F, 0x00), (0xF3, 0xF0, 0xFF)} <= drawn


def test_no_artist_proposed_still_renders_without_bars() -> None:
    found = recap([])
    pixels = decoded(render_session_recap(found, channel="lounge"))
    assert pixels.shape[0] < decoded(render_session_recap(recap([(1, 0)]))).shape[0] + 50
    assert (0x00, 0x72, 0xB2) not in colours(pixels) and (0xE6, 0x9F, 0x00) not in colours(pixels)


def test_one_artist_without_any_vote() -> None:
    found = recap([(0, 0)])
    assert not found.favourites
    pixels = decoded(render_session_recap(found))
    assert (0xF3, 0xF0, 0xFF) not in colours(pixels), "no favourite band without a vote"


def test_many_artists_are_capped_and_the_picture_stays_phone_sized() -> None:
    few = decoded(render_session_recap(recap([(1, 1)] * 8)))
    capped = decoded(render_session_recap(recap([(1, 1)] * MAX_ROWS)))
    many = decoded(render_session_recap(recap([(1, 1)] * 300)))
    assert few.shape[0] < capped.shape[0]
    # Past the cap the picture grows only by the line saying how many more there were.
    assert capped.shape[0] <= many.shape[0] <= capped.shape[0] + 60
    assert many.shape[1] <= 1000 and many.shape[0] <= 1400, many.shape


def test_hostile_and_unicode_names_render_as_plain_text_without_warnings() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a missing glyph would warn, mathtext would raise
        png = render_session_recap(recap([(1, 0)] * len(NAMES)), channel="$x$ \\ " + "🎧" * 80 + "@everyone")
    height, width = decoded(png).shape[:2]
    assert width <= 1000, "long names are clipped, not widening the picture"


def test_names_are_cleaned_clipped_and_only_drawn_with_glyphs_the_fonts_have() -> None:
    families, covered = session_recap._fonts()
    assert families and ord("ö") in covered
    assert session_recap._text("Björk", 28) == "Björk"
    assert session_recap._text("a\u200bb  c", 28) == "ab c"
    clipped = session_recap._text("x" * 100, 28)
    assert len(clipped) == 28 and clipped.endswith("…")
    missing = next(chr(c) for c in range(0x4E00, 0x9FFF) if c not in covered) if ord("坂") not in covered else None
    if missing is not None:
        assert session_recap._text(f"{missing}DJ", 28) == f"{session_recap.MISSING_GLYPH}DJ"


@pytest.mark.parametrize("members", [1, 12])
def test_the_subtitle_counts_members_and_artists(members: int) -> None:
    found = recap([(1, 0)] * 2, members=members)
    subtitle = session_recap._subtitle(found)
    assert subtitle.startswith("3 Dec 2026")
    assert f"{members} member{'s' if members > 1 else ''} ·" in subtitle and "2 artists proposed" in subtitle


def test_recaps_render_concurrently_in_threads() -> None:
    found = recap([(2, 1), (1, 1)])
    results: list[bytes] = []
    threads = [threading.Thread(target=lambda: results.append(render_session_recap(found))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 4 and all(r.startswith(PNG_MAGIC) for r in results)
