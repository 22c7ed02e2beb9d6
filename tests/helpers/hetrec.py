"""A tiny HetRec 2011 Last.fm data set, written to a folder by the data-set loading and download tests."""

from __future__ import annotations

from pathlib import Path

# A tiny but complete data set. Artist 3 has no plays, user 99 is only a friend, and two
# tag assignments point at an unknown artist (999) and an unknown tag (777).
ARTISTS = [
    "id\tname\turl\tpictureURL",
    "1\tAlpha\thttp://www.last.fm/music/Alpha\thttp://img/1.jpg",
    "2\tBeyoncé\thttp://www.last.fm/music/Beyonc%C3%A9\t",
    '3\t"Weird Al" Yankovic\thttp://www.last.fm/music/%22Weird+Al%22+Yankovic\thttp://img/3.png',
    "4\tNA\thttp://www.last.fm/music/NA\thttp://img/4.png",
]
TAGS = ["tagID\ttagValue", "1\trock", "2\tcafé", "3\tpop"]
PLAYS = [
    "userID\tartistID\tweight",
    "10\t1\t100",
    "10\t2\t5",
    "11\t1\t7",
    "11\t4\t1",
]
FRIENDS = ["userID\tfriendID", "10\t11", "11\t10", "11\t99"]
TAGGINGS = [
    "userID\tartistID\ttagID\tday\tmonth\tyear",
    "10\t1\t1\t1\t4\t2009",
    "10\t2\t2\t1\t4\t2009",
    "11\t1\t1\t1\t5\t2009",
    "10\t999\t1\t1\t5\t2009",
    "11\t2\t777\t1\t5\t2009",
]

BASE = {
    "artists.dat": ARTISTS,
    "tags.dat": TAGS,
    "user_artists.dat": PLAYS,
    "user_friends.dat": FRIENDS,
    "user_taggedartists.dat": TAGGINGS,
}


def write_hetrec(
    directory: Path,
    overrides: dict[str, list[str] | bytes] | None = None,
    *,
    newline: str = "\n",
    tags_encoding: str = "utf-8",
) -> Path:
    """Write the tiny data set; ``overrides`` swaps in other lines or raw bytes per file."""
    directory.mkdir(parents=True, exist_ok=True)
    files: dict[str, list[str] | bytes] = {**BASE, **(overrides or {})}
    for name, content in files.items():
        if isinstance(content, bytes):
            data = content
        else:
            encoding = tags_encoding if name == "tags.dat" else "utf-8"
            data = (newline.join(content) + newline).encode(encoding)
        (directory / name).write_bytes(data)
    return directory
