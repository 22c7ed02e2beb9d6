"""Reader for the Last.fm 360K play-count file (usersha1-artmbid-artname-plays.tsv)."""

from __future__ import annotations

import io
import itertools
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from recommender.tsv import read_exact_tsv

__all__ = ["COLUMNS", "read_lastfm_360k"]

COLUMNS = ("user", "artist_mbid", "artist_name", "plays")

# Lines per pandas call: large enough to amortise the call, small enough that a
# 17M-line file is never held as text all at once.
_CHUNK_LINES = 500_000


def _parse_chunk(lines: list[str]) -> tuple[pd.DataFrame, int]:
    """Parse one block of lines; returns the valid rows and how many lines were skipped."""
    text = "".join(lines)
    try:
        # Numeric plays parse in C; a non-number fails the block into the slow path.
        frame = read_exact_tsv(
            text, COLUMNS, {"user": str, "artist_mbid": str, "artist_name": str, "plays": "float64"}, has_header=False
        )
        malformed = 0
    except (ValueError, pd.errors.ParserError):
        # Rare: a line with the wrong number of fields or non-numeric plays.
        # Split this block by hand and let the checks below sort the lines out.
        rows = [line.rstrip("\r\n").split("\t") for line in lines if line.strip("\r\n")]
        good = [row for row in rows if len(row) == 4]
        malformed = len(rows) - len(good)
        frame = pd.DataFrame(good, columns=list(COLUMNS), dtype=str)

    # No .str.strip(): it would double the cost per line, and the crawl's fields carry no
    # padding. An empty name or user is what "missing" looks like in this file.
    plays = pd.to_numeric(frame["plays"], errors="coerce").to_numpy(dtype="float64")
    names = frame["artist_name"]
    with np.errstate(invalid="ignore"):
        keep = (
            np.isfinite(plays)
            & (plays > 0)
            & (plays == np.floor(plays))
            & (names != "").to_numpy()
            & (frame["user"] != "").to_numpy()
        )
    result = pd.DataFrame(
        {
            "user": frame["user"][keep],
            "artist_mbid": frame["artist_mbid"][keep],
            "artist_name": names[keep],
            "plays": plays[keep].astype("int64"),
        }
    )
    return result, malformed + int((~keep).sum())


def _blocks(handle: io.TextIOBase, limit_rows: int | None) -> Iterator[list[str]]:
    remaining = limit_rows
    while remaining is None or remaining > 0:
        size = _CHUNK_LINES if remaining is None else min(_CHUNK_LINES, remaining)
        lines = list(itertools.islice(handle, size))
        if not lines:
            return
        if remaining is not None:
            remaining -= len(lines)
        yield lines


def read_lastfm_360k(path: Path | str, *, limit_rows: int | None = None) -> pd.DataFrame:
    """Read a Last.fm 360K play-count TSV (no header: user-sha1, artist-mbid, artist-name, plays).

    ``limit_rows`` caps the number of input lines read. Lines with a missing artist name or
    user, non-numeric or non-positive plays, or the wrong number of fields are skipped;
    their count is in ``df.attrs["skipped"]``. ``artist_mbid`` is "" when the file has none.
    """
    if limit_rows is not None and limit_rows < 0:
        raise ValueError("limit_rows must be >= 0")
    frames: list[pd.DataFrame] = []
    skipped = 0
    # errors="replace": one bad byte in a 17M-line crawl should cost a name, not the load.
    with open(path, encoding="utf-8-sig", errors="replace", newline=None) as handle:
        for lines in _blocks(handle, limit_rows):
            frame, bad = _parse_chunk(lines)
            frames.append(frame)
            skipped += bad
    if frames:
        result = pd.concat(frames, ignore_index=True)
    else:
        result = pd.DataFrame(
            {
                "user": pd.Series(dtype=str),
                "artist_mbid": pd.Series(dtype=str),
                "artist_name": pd.Series(dtype=str),
                "plays": pd.Series(dtype="int64"),
            }
        )
    result.attrs["skipped"] = skipped
    return result
