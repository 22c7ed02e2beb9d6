"""`encore evaluate --protocol groups` (P3), run as a user runs it, on a reduced number of groups."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.cli import assert_one_line_error, evaluate_with_json, run_encore

pytestmark = pytest.mark.slow


def test_evaluate_groups_writes_json_and_a_table(lastfm_dir: Path, tmp_path: Path) -> None:
    results, table = evaluate_with_json(
        "--protocol", "groups", "--groups-per-size", "3", folder=tmp_path, data=lastfm_dir
    )
    assert results["protocol"] == "groups" and results["groups_per_size"] == 3
    for name in ("encore-blend", "most-popular", "merged-lists", "blend-average", "blend-least-misery"):
        metrics = results["models"][name]
        assert metrics["groups"] == 12
        assert 0.0 <= metrics["recall@10"] <= 1.0 and 0.0 <= metrics["ndcg@10"] <= 1.0
        assert set(results["per_size"][name]) == {"2", "3", "4", "5"}
    assert table[0].startswith("P3, groups of friends")
    assert table[1].split()[:3] == ["model", "NDCG@10", "recall@10"]
    rows = {line.split()[0]: line.split()[1:] for line in table[2:]}
    assert set(rows) == set(results["models"])
    # The table prints the JSON's figures: NDCG, recall, then recall per group size.
    blend = results["models"]["encore-blend"]
    assert rows["encore-blend"][:2] == [f"{blend['ndcg@10']:.4f}", f"{blend['recall@10']:.4f}"]
    assert len(rows["encore-blend"]) == 2 + 4


@pytest.mark.parametrize("count", ["0", "-3", "many"])
def test_evaluate_groups_refuses_a_bad_group_count(tmp_path: Path, lastfm_dir: Path, count: str) -> None:
    result = run_encore("evaluate", "--protocol", "groups", "--groups-per-size", count, home=tmp_path, data=lastfm_dir)
    assert_one_line_error(result, "encore evaluate: error:", "--groups-per-size")
