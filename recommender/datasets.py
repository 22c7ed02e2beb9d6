"""Load and validate the HetRec 2011 Last.fm 2k data set."""

from __future__ import annotations

import codecs
import hashlib
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import platformdirs

from recommender import download as downloads
from recommender.tsv import RaggedTable, read_exact_tsv

__all__ = [
    "DATASET_DIRNAME",
    "ENV_VAR",
    "REQUIRED_FILES",
    "DataError",
    "LastFmDataset",
    "load_hetrec",
    "resolve_data_dir",
]

ENV_VAR = "ENCORE_LASTFM_DIR"
DATASET_DIRNAME = "hetrec2011-lastfm-2k"


class DataError(Exception):
    """The data set is missing or malformed; the message names the file and, if known, the line."""


@dataclass(frozen=True)
class _FileSpec:
    filename: str
    header: tuple[str, ...]
    columns: tuple[str, ...]
    integers: frozenset[str]
    # Columns that must be numbers but may hold fractions (listening weights).
    numbers: frozenset[str] = frozenset()


_ARTISTS = _FileSpec(
    "artists.dat",
    ("id", "name", "url", "pictureURL"),
    ("artist_id", "name", "url", "picture_url"),
    frozenset({"artist_id"}),
)
_TAGS = _FileSpec("tags.dat", ("tagID", "tagValue"), ("tag_id", "tag"), frozenset({"tag_id"}))
_PLAYS = _FileSpec(
    "user_artists.dat",
    ("userID", "artistID", "weight"),
    ("user_id", "artist_id", "plays"),
    frozenset({"user_id", "artist_id"}),
    frozenset({"plays"}),
)
_FRIENDS = _FileSpec(
    "user_friends.dat",
    ("userID", "friendID"),
    ("user_id", "friend_id"),
    frozenset({"user_id", "friend_id"}),
)
_TAGGINGS = _FileSpec(
    "user_taggedartists.dat",
    ("userID", "artistID", "tagID", "day", "month", "year"),
    ("user_id", "artist_id", "tag_id", "day", "month", "year"),
    frozenset({"user_id", "artist_id", "tag_id", "day", "month", "year"}),
)

REQUIRED_FILES: tuple[str, ...] = tuple(spec.filename for spec in (_ARTISTS, _TAGS, _PLAYS, _FRIENDS, _TAGGINGS))


@dataclass(frozen=True, eq=False)
class LastFmDataset:
    """The five HetRec tables under Encore's column names; ``warnings`` notes rows dropped."""

    artists: pd.DataFrame
    plays: pd.DataFrame
    tags: pd.DataFrame
    tag_assignments: pd.DataFrame
    friends: pd.DataFrame
    source: Path
    warnings: tuple[str, ...] = ()

    @property
    def fingerprint(self) -> str:
        """Short hex digest of (user, artist, plays), independent of row order."""
        users = self.plays["user_id"].to_numpy(dtype="<i8")
        artists = self.plays["artist_id"].to_numpy(dtype="<i8")
        plays = self.plays["plays"].to_numpy()
        plays = plays.astype("<i8") if plays.dtype.kind in "iu" else plays.astype("<f8")
        order = np.lexsort((artists, users))
        digest = hashlib.sha256(plays.dtype.str.encode())
        for column in (users, artists, plays):
            digest.update(np.ascontiguousarray(column[order]).tobytes())
        return digest.hexdigest()[:16]


class _Table:
    """A parsed file plus its text, kept so errors can point at the offending line."""

    def __init__(self, spec: _FileSpec, text: str, frame: pd.DataFrame) -> None:
        self.spec = spec
        self.text = text
        self.frame = frame

    def line_of(self, row: int) -> int:
        """1-based file line of data row ``row`` (blank lines are skipped by the parser)."""
        for index, (line_no, _) in enumerate(_data_lines(self.text)):
            if index == row:
                return line_no
        raise IndexError(row)

    def error(self, row: int, message: str) -> DataError:
        return DataError(f"{self.spec.filename} line {self.line_of(row)}: {message}")


def _data_lines(text: str) -> Iterator[tuple[int, str]]:
    for line_no, line in enumerate(text.split("\n"), start=1):
        if line_no > 1 and line:
            yield line_no, line


def _decode(path: Path) -> str:
    raw = path.read_bytes()
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8) :]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        # tags.dat ships as Latin-1; every byte string is valid Latin-1, so this cannot fail.
        text = raw.decode("latin-1")
    return text.replace("\r\n", "\n")


def _check_header(spec: _FileSpec, text: str) -> None:
    first = text.split("\n", 1)[0]
    found = tuple(field.strip() for field in first.split("\t"))
    if found != spec.header:
        expected = "\\t".join(spec.header)
        got = "\\t".join(found) if first else "an empty line"
        raise DataError(f"{spec.filename} line 1: expected header '{expected}', got '{got}'")


# Stricter than int()/float(), which also take "1_000", non-ASCII digits or "inf":
# the scan must flag whatever made pandas' C parser fail.
_INTEGER = re.compile(r"\s*[+-]?[0-9]+\s*")
_FINITE_NUMBER = re.compile(r"\s*[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?\s*")


def _is_int64(value: str) -> bool:
    return bool(_INTEGER.fullmatch(value)) and -(2**63) <= int(value) < 2**63


def _locate_bad_line(spec: _FileSpec, text: str, cause: Exception | None) -> DataError:
    """Scan line by line for what made the fast parse fail; only runs on bad files."""
    width = len(spec.columns)
    ends_cleanly = text.endswith("\n")
    last_line_no = text.count("\n") + 1
    for line_no, line in _data_lines(text):
        fields = line.split("\t")
        problem: str | None = None
        if len(fields) != width:
            problem = f"expected {width} tab-separated fields, got {len(fields)}"
        else:
            # Messages use the file's own column names: that is what the reader will open.
            for column, label, value in zip(spec.columns, spec.header, fields, strict=True):
                if column in spec.integers and not _is_int64(value):
                    problem = f"{label} {value!r} is not an integer"
                    break
                if column in spec.numbers and not _FINITE_NUMBER.fullmatch(value):
                    problem = f"{label} {value!r} is not a finite number"
                    break
        if problem is not None:
            if line_no == last_line_no and not ends_cleanly:
                problem += " (the file looks truncated)"
            return DataError(f"{spec.filename} line {line_no}: {problem}")
    detail = f" ({cause})" if cause else ""
    return DataError(f"{spec.filename}: could not parse the file{detail}")


def _read(directory: Path, spec: _FileSpec) -> _Table:
    text = _decode(directory / spec.filename)
    _check_header(spec, text)
    dtypes = {
        column: "int64" if column in spec.integers else "float64" if column in spec.numbers else str
        for column in spec.columns
    }
    try:
        frame = read_exact_tsv(text, spec.columns, dtypes, has_header=True)
    except RaggedTable:
        raise _locate_bad_line(spec, text, None) from None
    except (ValueError, OverflowError, pd.errors.ParserError) as exc:
        raise _locate_bad_line(spec, text, exc) from exc
    for column in spec.numbers:
        if not np.isfinite(frame[column].to_numpy()).all():
            raise _locate_bad_line(spec, text, None)
    if text and not text.endswith(("\n", "\r")):
        # Every official file ends with a line break; a cut that happens to leave a parseable last
        # line ("18" cut to "1") is only visible here.
        last_line = text.count("\n") + 1
        raise DataError(f"{spec.filename} line {last_line}: the last line has no line break (the file looks truncated)")
    return _Table(spec, text, frame)


def _first_true(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


def _label(spec: _FileSpec, column: str) -> str:
    return spec.header[spec.columns.index(column)]


def _require_unique(table: _Table, columns: list[str], what: str) -> None:
    frame = table.frame
    duplicated = frame.duplicated(columns).to_numpy()
    if duplicated.any():
        row = _first_true(duplicated)
        same = np.logical_and.reduce([(frame[c] == frame[c].iat[row]).to_numpy() for c in columns])
        key = ", ".join(f"{_label(table.spec, c)} {frame[c].iat[row]}" for c in columns)
        first = table.line_of(_first_true(same))
        raise table.error(row, f"duplicate {what} ({key}), first seen on line {first}")


def _as_int_if_whole(values: pd.Series) -> pd.Series:
    array = values.to_numpy()
    if np.array_equal(array, np.floor(array)) and np.abs(array).max(initial=0) < 2**62:
        return values.astype("int64")
    return values


def load_hetrec(directory: Path) -> LastFmDataset:
    """Read and check the five HetRec 2011 Last.fm files in ``directory``.

    Raises DataError naming the file (and line) for a missing file, a bad header, a line
    with the wrong number of fields, a non-integer id, non-positive plays, duplicate
    (user, artist) pairs or plays of artists absent from artists.dat. Tag assignments that
    point at unknown artists or tags (the official files have some) are dropped and
    reported in ``warnings``.
    """
    directory = Path(directory)
    for filename in REQUIRED_FILES:
        if not (directory / filename).is_file():
            raise DataError(
                f"{filename} not found in {directory}; set {ENV_VAR} to the folder holding the "
                "HetRec 2011 Last.fm files, or leave it unset to let Encore download them"
            )

    artists_t = _read(directory, _ARTISTS)
    tags_t = _read(directory, _TAGS)
    plays_t = _read(directory, _PLAYS)
    friends_t = _read(directory, _FRIENDS)
    taggings_t = _read(directory, _TAGGINGS)

    _require_unique(artists_t, ["artist_id"], "id")
    _require_unique(tags_t, ["tag_id"], "tagID")

    plays = plays_t.frame
    not_positive = (plays["plays"] <= 0).to_numpy()
    if not_positive.any():
        row = _first_true(not_positive)
        raise plays_t.error(row, f"weight must be > 0, got {plays['plays'].iat[row]:g}")
    unknown = ~plays["artist_id"].isin(artists_t.frame["artist_id"]).to_numpy()
    if unknown.any():
        row = _first_true(unknown)
        artist = plays["artist_id"].iat[row]
        raise plays_t.error(row, f"artistID {artist} is not in {_ARTISTS.filename}")
    _require_unique(plays_t, ["user_id", "artist_id"], "(user, artist) pair")
    plays = plays.assign(plays=_as_int_if_whole(plays["plays"]))

    notes: list[str] = []
    taggings = taggings_t.frame[["user_id", "artist_id", "tag_id"]]
    for column, table, other in (
        ("artist_id", artists_t, "artists.dat"),
        ("tag_id", tags_t, "tags.dat"),
    ):
        known = taggings[column].isin(table.frame[column])
        if not known.all():
            dropped = taggings.loc[~known, column]
            notes.append(
                f"{_TAGGINGS.filename}: dropped {len(dropped)} tag assignments whose "
                f"{_label(_TAGGINGS, column)} is not in {other} ({dropped.nunique()} distinct ids)"
            )
            taggings = taggings[known]

    return LastFmDataset(
        artists=artists_t.frame,
        plays=plays,
        tags=tags_t.frame.assign(tag=tags_t.frame["tag"].str.strip()),
        tag_assignments=taggings.reset_index(drop=True),
        friends=friends_t.frame,
        source=directory,
        warnings=tuple(notes),
    )


def _has_files(directory: Path) -> bool:
    return all((directory / filename).is_file() for filename in REQUIRED_FILES)


def resolve_data_dir(
    explicit: Path | None = None,
    *,
    download: bool = True,
    cache_dir: Path | None = None,
    url: str | None = None,
) -> Path:
    """Find the data set folder: ``explicit``, then $ENCORE_LASTFM_DIR, then the user cache.

    When none holds the files and ``download`` is true, the official zip (``url``, default
    ``recommender.download.HETREC_ZIP_URL``) is fetched into the cache. A folder named
    explicitly or by the environment is never replaced by a download: if it lacks the
    files that is a DataError naming it.
    """
    if explicit is not None:
        explicit = Path(explicit)
        if not _has_files(explicit):
            raise DataError(f"{explicit} does not hold the HetRec 2011 Last.fm files ({_PLAYS.filename} etc.)")
        return explicit

    configured = os.environ.get(ENV_VAR, "").strip()
    if configured:
        folder = Path(configured).expanduser()
        if not (folder / _PLAYS.filename).is_file():
            raise DataError(
                f"{ENV_VAR} points to {folder}, which has no {_PLAYS.filename}; "
                "point it at the unzipped hetrec2011-lastfm-2k folder or unset it"
            )
        return folder

    base = Path(cache_dir) if cache_dir is not None else Path(platformdirs.user_cache_dir("encore"))
    target = base / DATASET_DIRNAME
    if _has_files(target):
        return target
    source = url or _hetrec_url()
    if not download:
        raise DataError(
            f"the Last.fm data set is not in {target}; set {ENV_VAR} to its folder "
            f"or allow Encore to download it from {source}"
        )
    try:
        downloads.download_and_extract(source, target, marker=_PLAYS.filename, description="Last.fm data set")
    except downloads.DownloadError as exc:
        raise DataError(
            f"could not download the Last.fm data set from GroupLens ({exc}); download it by "
            f"hand from {source}, unzip it and set {ENV_VAR} to the folder"
        ) from exc
    if not _has_files(target):
        missing = [f for f in REQUIRED_FILES if not (target / f).is_file()]
        raise DataError(f"the archive from {source} lacks {', '.join(missing)}")
    return target


def _hetrec_url() -> str:
    # Read at call time so tests and mirrors can repoint the module constant.
    return downloads.HETREC_ZIP_URL
