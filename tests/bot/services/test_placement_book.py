"""The placement book beside the snapshots: kept across restarts, merged between processes, damage ignored."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from bot.services.models.placements import PLACEMENTS_FILE, Placement, PlacementBook
from recommender.placement import Neighbour

BILLIE = Placement((Neighbour(690, 0.61), Neighbour(1609, 0.55)), ("pop", "electropop"))
GLASS = Placement((Neighbour(4448, 0.86),), ("indie",))


def test_a_book_saved_is_read_back_whole(tmp_path: Path) -> None:
    book = PlacementBook(tmp_path)
    book.record(10_000_001, BILLIE)
    book.save()
    again = PlacementBook(tmp_path)
    again.load()
    assert again.entries == {10_000_001: BILLIE}
    assert not list(tmp_path.glob(".placements-*")), "no staging file left behind"


def test_two_processes_merge_and_a_drop_sticks(tmp_path: Path) -> None:
    one, two = PlacementBook(tmp_path), PlacementBook(tmp_path)
    one.record(10_000_001, BILLIE)
    one.save()
    two.record(10_000_002, GLASS)
    two.save()  # does not overwrite what the first process placed
    assert set(_on_disk(tmp_path)) == {"10000001", "10000002"}
    one.drop([10_000_002, 10_000_999])  # one never read 10_000_002, and still drops it from the file
    one.save()
    one.load()  # a dropped artist does not come back from the file
    assert set(one.entries) == {10_000_001} and set(_on_disk(tmp_path)) == {"10000001"}


DAMAGED = ("{not json", '{"format": 99, "artists": {}}', '{"format": 1, "artists": {"x": {}}}')


@pytest.mark.parametrize("damage", DAMAGED)
def test_a_damaged_book_is_ignored_and_said_so(tmp_path: Path, damage: str, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / PLACEMENTS_FILE).write_text(damage, encoding="utf-8")
    book = PlacementBook(tmp_path)
    with caplog.at_level(logging.WARNING):
        book.load()
    assert book.entries == {} and "placed artists wait for a refit" in caplog.text
    book.record(10_000_001, BILLIE)
    book.save()
    assert set(_on_disk(tmp_path)) == {"10000001"}


def test_without_a_folder_the_book_is_in_memory_only(tmp_path: Path) -> None:
    book = PlacementBook(None)
    book.record(10_000_001, BILLIE)
    book.save()
    book.load()
    assert book.entries == {10_000_001: BILLIE} and list(tmp_path.iterdir()) == []


def _on_disk(folder: Path) -> dict:
    return json.loads((folder / PLACEMENTS_FILE).read_text(encoding="utf-8"))["artists"]
