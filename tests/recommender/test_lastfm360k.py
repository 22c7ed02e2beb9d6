from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from recommender import lastfm360k
from recommender.lastfm360k import read_lastfm_360k

U1 = "00000c289a1829a808ac09c00daf10bc3c4e223b"
U2 = "00001411dc427966b17297bf4d69e7e193135d89"
MBID = "3bd73256-3905-4f3a-97e2-8b341527f805"

GOOD = [
    f"{U1}\t{MBID}\tbetty blowtorch\t2137",
    f"{U1}\t\tdie Ärzte\t1099",
    f'{U1}\t\t"weird al" yankovic\t12',
    f"{U2}\t\tNA\t3",
    f"{U2}\t{MBID}\tsigur rós\t560",
]
#: The artist names of GOOD, as read: quotes and "NA" kept as they are.
GOOD_NAMES = ["betty blowtorch", "die Ärzte", '"weird al" yankovic', "NA", "sigur rós"]
BAD = [
    f"{U2}\t{MBID}\t\t44",  # missing artist name
    f"{U2}\t\tzero plays\t0",
    f"{U2}\t\tnegative\t-5",
    f"{U2}\t\twords\tmany",
    f"{U2}\t\tshort line",  # three fields
    f"{U2}\t\ttoo\tmany\tfields",  # five fields
]


def write(path: Path, lines: list[str], newline: str = "\n") -> Path:
    path.write_text(newline.join(lines) + newline, encoding="utf-8")
    return path


def test_reads_columns_and_types(tmp_path: Path) -> None:
    df = read_lastfm_360k(write(tmp_path / "plays.tsv", GOOD))
    assert list(df.columns) == ["user", "artist_mbid", "artist_name", "plays"]
    assert df["plays"].dtype == np.int64
    assert df["artist_name"].tolist() == GOOD_NAMES
    assert df["artist_mbid"].tolist() == [MBID, "", "", "", MBID]
    assert df["plays"].tolist() == [2137, 1099, 12, 3, 560]
    assert df["user"].tolist() == [U1, U1, U1, U2, U2]
    assert df.attrs["skipped"] == 0


def test_bad_lines_are_skipped_and_counted(tmp_path: Path) -> None:
    lines = [GOOD[0], *BAD, *GOOD[1:], ""]
    df = read_lastfm_360k(write(tmp_path / "plays.tsv", lines, newline="\r\n"))
    assert df["artist_name"].tolist() == GOOD_NAMES
    assert df.attrs["skipped"] == len(BAD)


def test_long_first_line_is_skipped_not_truncated(tmp_path: Path) -> None:
    # pandas would keep the first four fields of a long first line; it must be skipped.
    lines = [f"{U1}\t\tfirst\t5\textra", GOOD[0], f"{U1}\t\tshort"]
    df = read_lastfm_360k(write(tmp_path / "plays.tsv", lines))
    assert df["artist_name"].tolist() == ["betty blowtorch"]
    assert df.attrs["skipped"] == 2


@pytest.mark.parametrize("chunk_lines", [1, 2, 3, 1000])
def test_chunking_does_not_change_the_result(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk_lines: int) -> None:
    path = write(tmp_path / "plays.tsv", [*GOOD, *BAD, *GOOD])
    monkeypatch.setattr(lastfm360k, "_CHUNK_LINES", chunk_lines)
    df = read_lastfm_360k(path)
    assert len(df) == 2 * len(GOOD)
    assert df["plays"].sum() == 2 * (2137 + 1099 + 12 + 3 + 560)
    assert df.index.tolist() == list(range(len(df)))
    assert df.attrs["skipped"] == len(BAD)


def test_limit_rows_caps_input_lines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lastfm360k, "_CHUNK_LINES", 2)
    path = write(tmp_path / "plays.tsv", [*GOOD[:2], BAD[0], *GOOD[2:]])
    df = read_lastfm_360k(path, limit_rows=4)
    assert df["artist_name"].tolist() == ["betty blowtorch", "die Ärzte", '"weird al" yankovic']
    assert df.attrs["skipped"] == 1
    assert len(read_lastfm_360k(path, limit_rows=0)) == 0
    with pytest.raises(ValueError):
        read_lastfm_360k(path, limit_rows=-1)


def test_empty_file_gives_an_empty_typed_frame(tmp_path: Path) -> None:
    path = tmp_path / "empty.tsv"
    path.write_bytes(b"")
    df = read_lastfm_360k(path)
    assert len(df) == 0
    assert list(df.columns) == ["user", "artist_mbid", "artist_name", "plays"]
    assert df["plays"].dtype == np.int64
    assert df.attrs["skipped"] == 0


def test_bom_and_invalid_bytes_do_not_stop_the_read(tmp_path: Path) -> None:
    path = tmp_path / "plays.tsv"
    path.write_bytes(b"\xef\xbb\xbf" + f"{U1}\t\tabba\t5\n".encode() + f"{U1}\t\tbj\xf6rk\t7\n".encode("latin-1"))
    df = read_lastfm_360k(path)
    assert df["user"].tolist() == [U1, U1]
    assert df["artist_name"].iloc[0] == "abba"
    assert df["artist_name"].iloc[1].startswith("bj") and df["plays"].tolist() == [5, 7]


def test_matches_a_plain_python_reading(tmp_path: Path) -> None:
    # Cross-check the chunked pandas path against a straightforward line split.
    rng = np.random.default_rng(7)
    lines = []
    for i in range(2_000):
        plays = int(rng.integers(-2, 500))
        name = "" if i % 97 == 0 else f'artist {i % 131} "q"'
        lines.append(f"user{i % 50}\t{'' if i % 3 else MBID}\t{name}\t{plays}")
    path = write(tmp_path / "plays.tsv", lines)
    expected = [(u, m, n, int(p)) for u, m, n, p in (line.split("\t") for line in lines) if n and int(p) > 0]
    df = read_lastfm_360k(path)
    got = list(df.itertuples(index=False, name=None))
    assert got == expected
    assert df.attrs["skipped"] == len(lines) - len(expected)
    assert isinstance(df, pd.DataFrame)
