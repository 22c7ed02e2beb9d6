"""Loading the HetRec 2011 Last.fm files (`load_hetrec`): a tiny data set's tables, its fingerprint, each
malformed input named by file and line, and the real data's documented counts."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from recommender.datasets import ENV_VAR, REQUIRED_FILES, DataError, LastFmDataset, load_hetrec
from tests.helpers.hetrec import ARTISTS, FRIENDS, PLAYS, TAGGINGS, TAGS, write_hetrec


def raise_message(directory: Path) -> str:
    with pytest.raises(DataError) as info:
        load_hetrec(directory)
    return str(info.value)


# --- happy paths -----------------------------------------------------------------------


def test_loads_tables_with_encore_columns_and_types(tmp_path: Path) -> None:
    ds = load_hetrec(write_hetrec(tmp_path))
    assert list(ds.artists.columns) == ["artist_id", "name", "url", "picture_url"]
    assert ds.artists["artist_id"].dtype == np.int64
    assert ds.artists["name"].tolist() == ["Alpha", "Beyoncé", '"Weird Al" Yankovic', "NA"]
    # An empty pictureURL is an empty string, never NaN.
    assert ds.artists["picture_url"].tolist()[1] == ""
    assert list(ds.plays.columns) == ["user_id", "artist_id", "plays"]
    assert ds.plays.dtypes.tolist() == [np.int64, np.int64, np.int64]
    assert ds.plays["plays"].tolist() == [100, 5, 7, 1]
    assert ds.tags.set_index("tag_id")["tag"].to_dict() == {1: "rock", 2: "café", 3: "pop"}
    assert list(ds.tag_assignments.columns) == ["user_id", "artist_id", "tag_id"]
    assert ds.friends.values.tolist() == [[10, 11], [11, 10], [11, 99]]
    assert ds.source == tmp_path


def test_tag_assignments_to_unknown_artists_or_tags_are_dropped(tmp_path: Path) -> None:
    ds = load_hetrec(write_hetrec(tmp_path))
    assert ds.tag_assignments.values.tolist() == [[10, 1, 1], [10, 2, 2], [11, 1, 1]]
    assert len(ds.warnings) == 2
    assert "user_taggedartists.dat" in ds.warnings[0]
    assert "1 tag assignments" in ds.warnings[0] and "artists.dat" in ds.warnings[0]
    assert "tags.dat" in ds.warnings[1]


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_crlf_bom_and_latin1_tags_read_like_plain_utf8(tmp_path: Path, newline: str) -> None:
    plain = load_hetrec(write_hetrec(tmp_path / "plain"))
    variant_dir = write_hetrec(tmp_path / "variant", newline=newline, tags_encoding="latin-1")
    artists = (variant_dir / "artists.dat").read_bytes()
    (variant_dir / "artists.dat").write_bytes(b"\xef\xbb\xbf" + artists)
    variant = load_hetrec(variant_dir)
    assert (variant_dir / "tags.dat").read_bytes().count(b"caf\xe9") == 1
    for table in ("artists", "plays", "tags", "tag_assignments", "friends"):
        pd.testing.assert_frame_equal(getattr(variant, table), getattr(plain, table))


def test_subset_of_users_and_artists_without_plays_are_valid(tmp_path: Path) -> None:
    extra_artists = [*ARTISTS, "50\tNobody Listens\thttp://www.last.fm/music/Nobody\t"]
    only_user_11 = [PLAYS[0], "11\t1\t7"]
    directory = write_hetrec(tmp_path, {"artists.dat": extra_artists, "user_artists.dat": only_user_11})
    ds = load_hetrec(directory)
    assert ds.plays["user_id"].unique().tolist() == [11]
    assert 50 in set(ds.artists["artist_id"])
    # Friends naming users who have no plays are kept.
    assert len(ds.friends) == 3


def test_fractional_weights_are_kept_as_float(tmp_path: Path) -> None:
    plays = [PLAYS[0], "10\t1\t2.5", "11\t1\t7"]
    ds = load_hetrec(write_hetrec(tmp_path, {"user_artists.dat": plays}))
    assert ds.plays["plays"].dtype == np.float64
    assert ds.plays["plays"].tolist() == [2.5, 7.0]


def test_blank_lines_are_ignored(tmp_path: Path) -> None:
    plays = [PLAYS[0], PLAYS[1], "", PLAYS[2], ""]
    ds = load_hetrec(write_hetrec(tmp_path, {"user_artists.dat": plays}))
    assert len(ds.plays) == 2


# --- fingerprint ----------------------------------------------------------------------


def _with_plays(ds: LastFmDataset, plays: pd.DataFrame) -> LastFmDataset:
    return LastFmDataset(ds.artists, plays, ds.tags, ds.tag_assignments, ds.friends, ds.source, ds.warnings)


def test_fingerprint_ignores_row_order_but_not_values(tmp_path: Path) -> None:
    ds = load_hetrec(write_hetrec(tmp_path))
    fp = ds.fingerprint
    assert len(fp) == 16 and int(fp, 16) >= 0
    assert ds.fingerprint == fp
    shuffled = ds.plays.sample(frac=1.0, random_state=3).reset_index(drop=True)
    assert not shuffled.equals(ds.plays)
    assert _with_plays(ds, shuffled).fingerprint == fp
    changed = ds.plays.copy()
    changed.loc[0, "plays"] += 1
    assert _with_plays(ds, changed).fingerprint != fp
    swapped = ds.plays.copy()
    swapped[["user_id", "artist_id"]] = swapped[["artist_id", "user_id"]].to_numpy()
    assert _with_plays(ds, swapped).fingerprint != fp


# --- errors: each names the file and, where there is one, the line ----------------------


def test_missing_file_names_file_directory_and_remedy(tmp_path: Path) -> None:
    directory = write_hetrec(tmp_path)
    (directory / "user_friends.dat").unlink()
    message = raise_message(directory)
    assert "user_friends.dat" in message
    assert str(directory) in message
    assert ENV_VAR in message and "download" in message


def test_bad_header(tmp_path: Path) -> None:
    plays = ["userID\tartistID\tplays", *PLAYS[1:]]
    message = raise_message(write_hetrec(tmp_path, {"user_artists.dat": plays}))
    assert message.startswith("user_artists.dat line 1: expected header")
    assert "userID\\tartistID\\tweight" in message


def test_empty_file_is_a_bad_header(tmp_path: Path) -> None:
    message = raise_message(write_hetrec(tmp_path, {"tags.dat": b""}))
    assert message.startswith("tags.dat line 1:")


def test_truncated_last_line_is_reported_with_its_line(tmp_path: Path) -> None:
    text = ("\r\n".join(PLAYS) + "\r\n").encode()
    cut = text[: text.rindex(b"\t")]  # cut mid-line: "11\t4" with no weight and no newline
    message = raise_message(write_hetrec(tmp_path, {"user_artists.dat": cut}))
    assert message.startswith("user_artists.dat line 5: expected 3 tab-separated fields, got 2")
    assert "truncated" in message


def test_truncated_text_file_missing_its_last_field(tmp_path: Path) -> None:
    text = ("\n".join(ARTISTS)).encode()
    cut = text[: text.rindex(b"\t")]  # last line keeps id, name and url but loses pictureURL
    message = raise_message(write_hetrec(tmp_path, {"artists.dat": cut}))
    assert message.startswith("artists.dat line 5: expected 4 tab-separated fields, got 3")


def test_line_with_too_many_fields(tmp_path: Path) -> None:
    friends = [*FRIENDS[:2], "11\t10\t3", FRIENDS[3]]
    message = raise_message(write_hetrec(tmp_path, {"user_friends.dat": friends}))
    assert message == "user_friends.dat line 3: expected 2 tab-separated fields, got 3"


def test_extra_field_on_the_first_line_is_not_silently_dropped(tmp_path: Path) -> None:
    # pandas truncates a long first line instead of failing; a short later line would
    # otherwise balance the tab count and hide both.
    artists = [ARTISTS[0], ARTISTS[1] + "\textra", *ARTISTS[2:4], ARTISTS[4].rsplit("\t", 1)[0]]
    message = raise_message(write_hetrec(tmp_path, {"artists.dat": artists}))
    assert message == "artists.dat line 2: expected 4 tab-separated fields, got 5"


def test_short_line_in_the_middle_of_a_tag_file(tmp_path: Path) -> None:
    tags = [TAGS[0], TAGS[1], "2", TAGS[3]]
    message = raise_message(write_hetrec(tmp_path, {"tags.dat": tags}))
    assert message == "tags.dat line 3: expected 2 tab-separated fields, got 1"


def test_non_integer_id(tmp_path: Path) -> None:
    plays = [PLAYS[0], PLAYS[1], "1O\t2\t5", *PLAYS[3:]]
    message = raise_message(write_hetrec(tmp_path, {"user_artists.dat": plays}))
    assert message == "user_artists.dat line 3: userID '1O' is not an integer"


@pytest.mark.parametrize("value", ["1_0", "99999999999999999999", "\u0661\u0662", "2.5"])
def test_integers_python_accepts_but_the_parser_does_not(tmp_path: Path, value: str) -> None:
    friends = [*FRIENDS[:3], f"{value}\t10"]
    message = raise_message(write_hetrec(tmp_path, {"user_friends.dat": friends}))
    assert message == f"user_friends.dat line 4: userID {value!r} is not an integer"


def test_non_integer_tagging_year(tmp_path: Path) -> None:
    taggings = [*TAGGINGS[:3], "11\t1\t1\t1\t5\t20o9"]
    message = raise_message(write_hetrec(tmp_path, {"user_taggedartists.dat": taggings}))
    assert message == "user_taggedartists.dat line 4: year '20o9' is not an integer"


def test_non_numeric_weight(tmp_path: Path) -> None:
    plays = [*PLAYS[:3], "11\t1\tlots"]
    message = raise_message(write_hetrec(tmp_path, {"user_artists.dat": plays}))
    assert message == "user_artists.dat line 4: weight 'lots' is not a finite number"


@pytest.mark.parametrize("weight", ["0", "-3"])
def test_non_positive_plays(tmp_path: Path, weight: str) -> None:
    plays = [PLAYS[0], PLAYS[1], f"10\t2\t{weight}", PLAYS[3]]
    message = raise_message(write_hetrec(tmp_path, {"user_artists.dat": plays}))
    assert message.startswith("user_artists.dat line 3: weight must be > 0")


def test_nan_weight(tmp_path: Path) -> None:
    plays = [PLAYS[0], PLAYS[1], "10\t2\tnan"]
    message = raise_message(write_hetrec(tmp_path, {"user_artists.dat": plays}))
    assert message.startswith("user_artists.dat line 3:")


def test_error_line_numbers_count_blank_lines(tmp_path: Path) -> None:
    plays = [PLAYS[0], "", PLAYS[1], "", "10\t2\t0"]
    message = raise_message(write_hetrec(tmp_path, {"user_artists.dat": plays}))
    assert message.startswith("user_artists.dat line 5:")


def test_plays_of_an_unknown_artist(tmp_path: Path) -> None:
    plays = [*PLAYS, "11\t42\t3"]
    message = raise_message(write_hetrec(tmp_path, {"user_artists.dat": plays}))
    assert message == "user_artists.dat line 6: artistID 42 is not in artists.dat"


def test_duplicate_user_artist_pair(tmp_path: Path) -> None:
    plays = [*PLAYS, "10\t2\t9"]
    message = raise_message(write_hetrec(tmp_path, {"user_artists.dat": plays}))
    assert message == (
        "user_artists.dat line 6: duplicate (user, artist) pair (userID 10, artistID 2), first seen on line 3"
    )


def test_duplicate_artist_id(tmp_path: Path) -> None:
    artists = [*ARTISTS, "2\tBeyonce again\thttp://x\t"]
    message = raise_message(write_hetrec(tmp_path, {"artists.dat": artists}))
    assert message == "artists.dat line 6: duplicate id (id 2), first seen on line 3"


# --- the real data ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def real(lastfm_dir: Path) -> LastFmDataset:
    return load_hetrec(lastfm_dir)


def test_real_data_loads_with_the_documented_counts(real: LastFmDataset) -> None:
    ds = real
    assert len(ds.artists) == 17_632
    assert ds.artists["artist_id"].min() == 1 and ds.artists["artist_id"].max() == 18_745
    assert ds.plays["user_id"].nunique() == 1_892
    assert len(ds.plays) == 92_834
    assert (ds.plays["plays"] > 0).all()
    assert len(ds.tags) == 11_946
    assert len(ds.friends) == 25_434
    assert (ds.artists["picture_url"] == "").sum() > 0
    assert not ds.artists["picture_url"].isna().any()


def test_real_data_drops_tag_assignments_of_390_unknown_artists(real: LastFmDataset) -> None:
    ds = real
    assert len(ds.warnings) == 1
    assert "(390 distinct ids)" in ds.warnings[0]
    assert ds.tag_assignments["artist_id"].isin(ds.artists["artist_id"]).all()
    assert len(ds.tag_assignments) == 186_479 - 1_538


def test_real_tags_are_decoded_as_latin1(real: LastFmDataset) -> None:
    ds = real
    tags = ds.tags["tag"]
    assert {"tropicália", "düsseldorf", "español"} <= set(tags)
    # Mis-decoding Latin-1 as UTF-8 with replacement, or UTF-8 as Latin-1, leaves these.
    assert not tags.str.contains("\ufffd|Ã", regex=True).any()


def test_truncated_copy_of_the_real_data(lastfm_dir: Path, tmp_path: Path) -> None:
    for name in REQUIRED_FILES:
        (tmp_path / name).write_bytes((lastfm_dir / name).read_bytes())
    raw = (lastfm_dir / "user_artists.dat").read_bytes()
    # As if the copy stopped mid-way through the last line's weight column.
    (tmp_path / "user_artists.dat").write_bytes(raw[: raw.rindex(b"\t")])
    message = raise_message(tmp_path)
    assert message.startswith("user_artists.dat line 92835: expected 3 tab-separated fields, got 2")
    assert message.endswith("(the file looks truncated)")


def test_a_cut_that_leaves_a_parseable_last_line_is_still_truncation(tmp_path: Path, lastfm_dir: Path) -> None:
    copy = tmp_path / "cut"
    shutil.copytree(lastfm_dir, copy)
    text = (copy / "user_artists.dat").read_bytes()
    # "2\t51\t13883\r\n..." cut after "2\t51\t138": three valid fields, no line break.
    cut = text[: text.index(b"13883") + 3]
    (copy / "user_artists.dat").write_bytes(cut)
    with pytest.raises(DataError, match=r"user_artists\.dat line 2: .*truncated"):
        load_hetrec(copy)


def test_real_data_fingerprint_is_stable(real: LastFmDataset) -> None:
    ds = real
    # Snapshots record this digest; changing the algorithm orphans them.
    assert ds.fingerprint == "88ffb123b2c86bbf"
