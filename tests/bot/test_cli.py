"""The `encore` console script, run as a user runs it: in a subprocess, on the real Last.fm data."""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.helpers.cli import assert_one_line_error, evaluate_with_json, run_encore

pytestmark = pytest.mark.slow

NUMBERED = re.compile(r"^\s*(\d+)\. (.+?)\s+score (-?\d+\.\d\d)\s+(https://\S+)$")
BECAUSE = re.compile(r"^\s+because you like (.+)$")
SIMILAR = re.compile(r"^\s*(\d+)\. (.+?)\s+similarity (-?\d+\.\d\d)\s+(https://\S+)$")


# -- the data, read independently of the code under test ------------------------------------------


def read_tsv(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    return rows[1:]


@pytest.fixture(scope="module")
def artist_names(lastfm_dir: Path) -> dict[int, str]:
    return {int(row[0]): row[1] for row in read_tsv(lastfm_dir / "artists.dat")}


@pytest.fixture(scope="module")
def plays_by_user(lastfm_dir: Path) -> dict[int, set[int]]:
    users: dict[int, set[int]] = {}
    for user, artist, _ in read_tsv(lastfm_dir / "user_artists.dat"):
        users.setdefault(int(user), set()).add(int(artist))
    return users


@pytest.fixture(scope="module")
def user2_names(plays_by_user, artist_names) -> set[str]:
    return {artist_names[a] for a in plays_by_user[2]}


@pytest.fixture(scope="module")
def fitted(tmp_path_factory, lastfm_dir: Path) -> tuple[Path, subprocess.CompletedProcess]:
    """An ENCORE_HOME with one snapshot, written by `encore fit`."""
    home = tmp_path_factory.mktemp("encore-home")
    return home, run_encore("fit", home=home, data=lastfm_dir)


@pytest.fixture(scope="module")
def home(fitted) -> Path:
    home, result = fitted
    assert result.returncode == 0, result.stderr
    return home


def parse_recommendations(stdout: str) -> tuple[str, list[tuple[str, str | None]]]:
    """(title, [(artist, because text or None)]) from the text output of `encore recommend`."""
    lines = stdout.splitlines()
    title, rest = lines[0], lines[1:]
    results: list[tuple[str, str | None]] = []
    for line in rest:
        numbered, because = NUMBERED.match(line), BECAUSE.match(line)
        if numbered:
            assert int(numbered.group(1)) == len(results) + 1, line
            results.append((numbered.group(2), None))
        elif because:
            assert results and results[-1][1] is None, line
            results[-1] = (results[-1][0], because.group(1))
        else:
            pytest.fail(f"unexpected output line {line!r}")
    return title, results


def made_of(text: str, names: set[str]) -> bool:
    """True if `text` is a list of some of `names` joined by ", " and " and " (names may hold commas)."""
    rest = text
    for name in sorted(names, key=len, reverse=True):
        rest = rest.replace(name, "\0")
    return re.fullmatch(r"\0((, | and )\0)*", rest) is not None


# -- commands that work ---------------------------------------------------------------------------


def test_help_lists_the_commands(tmp_path: Path, lastfm_dir: Path) -> None:
    result = run_encore("--help", home=tmp_path, data=lastfm_dir)
    assert result.returncode == 0
    for command in ("fit", "recommend", "similar", "evaluate"):
        assert re.search(rf"^\s+{command}\s", result.stdout, re.MULTILINE), command
    assert "ENCORE_LASTFM_DIR" in result.stdout and "ENCORE_HOME" in result.stdout


def test_fit_writes_a_snapshot(fitted, plays_by_user) -> None:
    home, result = fitted
    assert result.returncode == 0, result.stderr
    users = len(plays_by_user)
    artists = len(set().union(*plays_by_user.values()))
    pairs = sum(len(a) for a in plays_by_user.values())
    assert (users, artists, pairs) == (1892, 17632, 92834)  # HetRec 2011 Last.fm
    assert result.stdout.startswith(
        f"Fitted {users:,} users (0 members) x {artists:,} artists ({pairs:,} interactions)"
    )
    snapshots = [p for p in (home / "snapshots").iterdir() if not p.name.startswith(".")]
    assert len(snapshots) == 1
    assert (snapshots[0] / "model.npz").is_file() and (snapshots[0] / "meta.json").is_file()
    assert str(snapshots[0]) in result.stdout
    meta = json.loads((snapshots[0] / "meta.json").read_text())
    assert meta["users"] == users and meta["members"] == 0 and len(meta["data_fingerprint"]) == 16


def test_first_run_in_a_fresh_home_fits_once_with_one_note(tmp_path: Path, lastfm_dir: Path) -> None:
    result = run_encore("recommend", "--likes", "Radiohead", "-n", "3", home=tmp_path, data=lastfm_dir)
    assert result.returncode == 0, result.stderr
    notes = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(notes) == 1 and "fitting the model" in notes[0], result.stderr
    assert len(parse_recommendations(result.stdout)[1]) == 3
    assert len([p for p in (tmp_path / "snapshots").iterdir() if not p.name.startswith(".")]) == 1


def test_recommend_for_a_lastfm_user(home: Path, lastfm_dir: Path, user2_names: set[str]) -> None:
    result = run_encore("recommend", "--lastfm-user", "2", "-n", "5", home=home, data=lastfm_dir)
    assert result.returncode == 0, result.stderr
    assert result.stderr == "", "a fitted snapshot is reused silently"
    title, results = parse_recommendations(result.stdout)
    assert title == "Recommendations for Last.fm user 2:"
    assert len(results) == 5
    for artist, because in results:
        assert artist not in user2_names
        assert because is not None, f"{artist} has no 'because you like' line"
        assert made_of(because, user2_names), because


def test_recommend_for_likes(home: Path, lastfm_dir: Path) -> None:
    result = run_encore("recommend", "--likes", "Radiohead, Björk", "-n", "10", home=home, data=lastfm_dir)
    assert result.returncode == 0, result.stderr
    title, results = parse_recommendations(result.stdout)
    assert title == "Recommendations for someone who likes Radiohead, Björk:"
    assert len(results) == 10
    for artist, because in results:
        assert artist not in {"Radiohead", "Björk"}
        assert because is not None and made_of(because, {"Radiohead", "Björk"}), because


@pytest.fixture(scope="module")
def comma_name(artist_names: dict[int, str], plays_by_user) -> str:
    """Crosby, Stills, Nash & Young if the catalogue has listeners for it, else another name with commas."""
    listened = set().union(*plays_by_user.values())
    with_commas = {name for artist, name in artist_names.items() if ", " in name and artist in listened}
    if "Crosby, Stills, Nash & Young" in with_commas:
        return "Crosby, Stills, Nash & Young"
    assert with_commas, "no artist name with a comma in the data"
    return sorted(with_commas)[0]


def test_recommend_keeps_a_name_with_commas_whole(home: Path, lastfm_dir: Path, comma_name: str) -> None:
    result = run_encore("recommend", "--likes", comma_name, "-n", "3", home=home, data=lastfm_dir)
    assert result.returncode == 0, result.stderr
    assert "no match" not in result.stderr
    title, results = parse_recommendations(result.stdout)
    assert title == f"Recommendations for someone who likes {comma_name}:"
    assert len(results) == 3
    for _artist, because in results:
        assert because == comma_name


def test_recommend_json(home: Path, lastfm_dir: Path) -> None:
    result = run_encore("recommend", "--likes", "Radiohead", "-n", "4", "--json", home=home, data=lastfm_dir)
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert len(payload["recommendations"]) == 4
    for item in payload["recommendations"]:
        assert set(item) == {"artist", "url", "score", "because"}
        assert item["because"] == ["Radiohead"]


def test_recommend_batch(home: Path, lastfm_dir: Path, tmp_path: Path) -> None:
    batch = tmp_path / "members.jsonl"
    batch.write_text(
        "\n".join(
            [
                json.dumps({"id": "alice", "likes": ["Radiohead", "Björk"]}, ensure_ascii=False),
                json.dumps({"id": 7, "likes": ["Daft Punk", "qwzxv blorp"]}),
                "",
                json.dumps({"id": "carol", "likes": ["qwzxv blorp"]}),
                '{"id": "dave", "likes": ["Radiohead"',
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    result = run_encore("recommend", "--batch", str(batch), "-n", "10", "--json", home=home, data=lastfm_dir)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 4, "one line out per non-blank line in, in order"

    alice, mixed, unknown, malformed = lines
    assert alice["id"] == "alice" and "error" not in alice and "unknown" not in alice
    assert len(alice["recommendations"]) == 10
    for item in alice["recommendations"]:
        assert set(item) == {"artist", "url", "score", "because"}
        assert item["artist"] not in {"Radiohead", "Björk"}
        assert item["url"].startswith("https://") and isinstance(item["score"], float)
        assert item["because"] and set(item["because"]) <= {"Radiohead", "Björk"}
    scores = [item["score"] for item in alice["recommendations"]]
    assert scores == sorted(scores, reverse=True)

    assert mixed["id"] == 7 and mixed["unknown"] == ["qwzxv blorp"]
    assert len(mixed["recommendations"]) == 10
    assert all(item["because"] == ["Daft Punk"] for item in mixed["recommendations"])

    assert unknown["id"] == "carol" and unknown["unknown"] == ["qwzxv blorp"]
    assert unknown["recommendations"] == [] and unknown["error"]

    assert malformed["line"] == 5 and "not valid JSON" in malformed["error"]
    assert "recommendations" not in malformed


def test_similar(home: Path, lastfm_dir: Path) -> None:
    result = run_encore("similar", "Daft Punk", "-n", "10", home=home, data=lastfm_dir)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "Artists similar to Daft Punk:"
    matches = [SIMILAR.match(line) for line in lines[1:]]
    assert len(matches) == 10 and all(matches), lines
    assert [int(m.group(1)) for m in matches] == list(range(1, 11))
    assert "Daft Punk" not in {m.group(2) for m in matches}
    similarities = [float(m.group(3)) for m in matches]
    assert similarities == sorted(similarities, reverse=True)


def test_evaluate_p1_writes_json(lastfm_dir: Path, tmp_path: Path) -> None:
    results, table = evaluate_with_json(
        "--protocol", "p1", "--models", "encore", "most-popular", folder=tmp_path, data=lastfm_dir
    )
    assert results["protocol"] == "p1" and results["k"] == 10
    assert set(results["models"]) == {"encore", "most-popular"}
    for name in ("encore", "most-popular"):
        metrics = results["models"][name]
        for key in ("ndcg@10", "precision@10", "recall@10", "map@10"):
            assert 0.0 < metrics[key] < 1.0, (name, key)
        assert metrics["users"] > 1800
    # benchmarks/README.md, "P1, known users": Encore is far above popularity.
    assert results["models"]["encore"]["ndcg@10"] > 2 * results["models"]["most-popular"]["ndcg@10"]
    assert table[0].startswith("P1, known users")
    assert any(line.startswith("encore ") for line in table) and any(line.startswith("most-popular") for line in table)


# -- bad input: one line on stderr, non-zero exit, no traceback -----------------------------------


def test_missing_data_dir(tmp_path: Path) -> None:
    result = run_encore("recommend", "--lastfm-user", "2", home=tmp_path, data="/nonexistent")
    assert_one_line_error(result, "encore: error:", "/nonexistent")


def test_truncated_data(tmp_path: Path, lastfm_dir: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(lastfm_dir, data)
    plays = data / "user_artists.dat"
    content = plays.read_bytes()
    middle = content.index(b"\n", len(content) // 2)
    cut = middle + 1 + content[middle + 1 :].index(b"\t") + 2  # a few bytes into the next line
    plays.write_bytes(content[:cut])
    result = run_encore("recommend", "--lastfm-user", "2", home=tmp_path / "home", data=data)
    line = assert_one_line_error(result, "encore: error:", "user_artists.dat")
    assert "truncated" in line


def test_unknown_lastfm_user(home: Path, lastfm_dir: Path) -> None:
    result = run_encore("recommend", "--lastfm-user", "1", home=home, data=lastfm_dir)
    assert_one_line_error(result, "unknown Last.fm user 1")


@pytest.mark.parametrize("likes", ["", " , ,"], ids=["empty", "commas"])
def test_empty_likes(home: Path, lastfm_dir: Path, likes: str) -> None:
    result = run_encore("recommend", "--likes", likes, home=home, data=lastfm_dir)
    assert_one_line_error(result, "--likes is empty")


def test_nonsense_likes(home: Path, lastfm_dir: Path) -> None:
    result = run_encore("recommend", "--likes", "qwzxv blorp", home=home, data=lastfm_dir)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 2, result.stderr
    assert "no match for 'qwzxv blorp'" in lines[0] and "did you mean" in lines[0]
    assert lines[1].startswith("encore: error:")
    assert result.stdout == ""


@pytest.mark.parametrize("n", ["0", "100000", "-3", "ten"])
def test_result_count_out_of_range(home: Path, lastfm_dir: Path, n: str) -> None:
    result = run_encore("recommend", "--lastfm-user", "2", "-n", n, home=home, data=lastfm_dir)
    line = assert_one_line_error(result, "-n")
    assert result.returncode == 2
    assert "between 1 and 100" in line or "whole number" in line


def test_corrupt_snapshot(home: Path, lastfm_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "home"
    shutil.copytree(home, copy)
    newest = sorted(p for p in (copy / "snapshots").iterdir() if not p.name.startswith("."))[-1]
    model = newest / "model.npz"
    data = bytearray(model.read_bytes())
    for offset in range(len(data) // 2, len(data) // 2 + 16):
        data[offset] ^= 0xFF
    model.write_bytes(bytes(data))
    result = run_encore("recommend", "--lastfm-user", "2", home=copy, data=lastfm_dir)
    assert_one_line_error(result, "damaged", "encore fit")


def test_encore_home_is_a_file(tmp_path: Path, lastfm_dir: Path) -> None:
    home = tmp_path / "home.txt"
    home.write_text("not a folder")
    result = run_encore("recommend", "--lastfm-user", "2", home=home, data=lastfm_dir)
    assert_one_line_error(result, "ENCORE_HOME", "is a file")


def test_evaluate_unknown_model(tmp_path: Path, lastfm_dir: Path) -> None:
    result = run_encore("evaluate", "--seeds", "0", "--models", "most-popular", "nope", home=tmp_path, data=lastfm_dir)
    assert_one_line_error(result, "unknown model 'nope'")


def test_usage_mistakes_are_one_line(tmp_path: Path, lastfm_dir: Path) -> None:
    result = run_encore("recommend", "--lastfm-user", "2", "--likes", "Radiohead", home=tmp_path, data=lastfm_dir)
    assert_one_line_error(result, "not allowed with", "--help")
    assert result.returncode == 2
