"""`encore evaluate --protocol sessions` (P4), run as a user runs it, on a reduced number of groups."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.cli import evaluate_with_json

pytestmark = pytest.mark.slow


def test_evaluate_sessions_writes_json_and_a_table(lastfm_dir: Path, tmp_path: Path) -> None:
    results, table = evaluate_with_json(
        "--protocol", "sessions", "--groups-per-size", "2", folder=tmp_path, data=lastfm_dir
    )
    assert results["protocol"] == "sessions" and results["groups_per_size"] == 2 and results["rounds"] == 20
    assert set(results["models"]) == {"session", "static-blend", "most-popular"}
    for name, metrics in results["models"].items():
        assert set(metrics) == {"hits@5", "hits@10", "hits@20", "into_it_rate", "groups"}
        assert metrics["groups"] == 8
        assert 0.0 <= metrics["hits@5"] <= metrics["hits@10"] <= metrics["hits@20"] <= 20.0
        assert 0.0 <= metrics["into_it_rate"] <= 1.0
        assert [run["seed"] for run in results["per_seed"][name]] == [0]
    assert set(results["ceiling"]) == {"hits@5", "hits@10", "hits@20", "groups"}
    assert table[0].startswith("P4, listening sessions")
    assert table[1].split() == ["model", "hits@5", "hits@10", "hits@20", "into", "it"]
    rows = {line.split()[0]: line.split()[1:] for line in table[2:]}
    assert set(rows) == {*results["models"], "(ceiling)"}
    session = results["models"]["session"]
    assert rows["session"] == [f"{session[key]:.3f}" for key in ("hits@5", "hits@10", "hits@20", "into_it_rate")]
