"""The evaluation report on a reduced real-data setting: files, keys, determinism."""

from __future__ import annotations

import json

import pytest

from recommender.evaluation.report import ReportSettings, build_report, choose_penalty, write_report

REDUCED = ReportSettings(
    seeds=(0,),
    models=("encore-als", "most-popular", "tutorial"),
    penalty=0.6,
    penalties=(0.0, 0.6),
    like_counts=(5,),
    p2_refit=False,
    show_progress=False,
)


def test_choose_penalty_takes_the_most_long_tail_within_the_tolerance() -> None:
    curve = [
        {"penalty": 0.0, "ndcg@10": 0.30, "p2_ndcg@10": 0.50, "long_tail_share": 0.005, "outside_head_share": 0.5},
        {"penalty": 0.3, "ndcg@10": 0.30, "p2_ndcg@10": 0.49, "long_tail_share": 0.008, "outside_head_share": 0.7},
        {"penalty": 0.5, "ndcg@10": 0.29, "p2_ndcg@10": 0.48, "long_tail_share": 0.010, "outside_head_share": 0.6},
        {
            "penalty": 0.7,
            "ndcg@10": 0.29,
            "p2_ndcg@10": 0.47,
            "long_tail_share": 0.030,
            "outside_head_share": 0.8,
        },  # P2 below 95 %
        {
            "penalty": 0.9,
            "ndcg@10": 0.20,
            "p2_ndcg@10": 0.49,
            "long_tail_share": 0.300,
            "outside_head_share": 0.9,
        },  # P1 below 95 %
    ]
    assert choose_penalty(curve) == 0.5
    assert choose_penalty(curve, key="outside_head_share") == 0.3


@pytest.fixture(scope="module")
def reduced_reports(lastfm_dataset, lastfm_catalogue):
    from recommender.engine import LIKE_PLAYS
    from recommender.training import lastfm_interactions

    interactions = lastfm_interactions(lastfm_dataset)
    tags = lambda artist: lastfm_catalogue.top_tags(artist, 10)  # noqa: E731
    return [build_report(interactions, tags, LIKE_PLAYS, REDUCED) for _ in range(2)]


@pytest.mark.slow
def test_same_seeds_give_the_same_numbers(reduced_reports) -> None:
    first, second = reduced_reports
    assert json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)


@pytest.mark.slow
def test_report_holds_every_section(reduced_reports) -> None:
    report = reduced_reports[0]
    assert set(report["p1"]) == {"encore-als", "most-popular", "tutorial", "encore-debiased"}
    encore = report["p1"]["encore-als"]
    for key in (
        "precision@10",
        "recall@10",
        "ndcg@10",
        "map@10",
        "coverage",
        "gini",
        "arp",
        "long_tail_share",
        "outside_head_share",
        "top_fifth_artists",
        "rmse",
    ):
        assert key in encore["mean"], key
    assert "rmse" not in report["p1"]["most-popular"]["mean"]
    for grouping in ("activity", "mainstreaminess"):
        fairness = encore["fairness"][grouping]
        assert set(fairness) == {"ndcg@10", "recall@10", "demographic_parity_gap", "equal_opportunity_gap"}
        assert set(fairness["ndcg@10"]) == {"low", "mid", "high"}
    assert {"japanese", "korean", "brazilian", "latin", "african", "french", "german"} <= set(encore["regions"])
    assert [point["penalty"] for point in report["trade_off"]] == [0.0, 0.6]
    assert set(report["p2"]["models"]) == {"encore-instant", "most-popular", "encore-debiased-instant"}
    assert report["target"]["penalty"] == 0.6
    # The penalty moves exposure off the head and out of the top fifth of artists, as it should.
    debiased = report["p1"]["encore-debiased"]["mean"]
    assert debiased["long_tail_share"] > encore["mean"]["long_tail_share"]
    assert debiased["outside_head_share"] > encore["mean"]["outside_head_share"]
    target = report["target"]
    assert target["long_tail_share"] == debiased["long_tail_share"]
    assert target["tutorial_long_tail_share"] == report["p1"]["tutorial"]["mean"]["long_tail_share"]
    assert target["outside_head_share"] == debiased["outside_head_share"]
    assert encore["mean"]["ndcg@10"] > 0.2


@pytest.mark.slow
def test_write_report_renders_markdown_json_and_small_pngs(reduced_reports, tmp_path) -> None:
    paths = write_report(reduced_reports[0], tmp_path)
    names = {path.name for path in paths}
    assert {"report.md", "report.json", "trade_off.png", "p1_accuracy.png", "user_fairness.png"} <= names
    for path in paths:
        assert path.stat().st_size > 0
        if path.suffix == ".png":
            assert path.read_bytes().startswith(b"\x89PNG") and path.stat().st_size < 150_000
    assert json.loads((tmp_path / "report.json").read_text()) == json.loads(json.dumps(reduced_reports[0]))
    markdown = (tmp_path / "report.md").read_text()
    for heading in (
        "## Accuracy",
        "## RMSE",
        "## Beyond accuracy",
        "## Popularity debiasing",
        "## Fairness between users",
        "## Exposure of artists by region",
    ):
        assert heading in markdown
    assert "](trade_off.png)" in markdown
    assert "| long-tail share | outside head |" in markdown and "**Target** (issue 6)" in markdown


@pytest.mark.slow
def test_every_figure_has_a_legend_okabe_ito_colours_and_phone_sized_text(
    reduced_reports, tmp_path, monkeypatch
) -> None:
    from matplotlib.text import Text

    from recommender import palette
    from recommender.evaluation import plots

    drawn = []
    # The figures as saved, kept open to be read instead of being closed.
    monkeypatch.setattr(plots.plt, "close", drawn.append)
    paths = plots.draw_all(reduced_reports[0], tmp_path)
    assert len(drawn) == len(paths) == 5
    allowed = {c.lower() for c in (*palette.OKABE_ITO, palette.GREY, palette.SLATE)}
    for path, figure in zip(paths, drawn):
        legends = list(figure.legends) + [a.get_legend() for a in figure.axes if a.get_legend() is not None]
        assert legends, f"{path.name} has no legend"
        texts = [t for t in figure.findobj(Text) if t.get_visible() and t.get_text().strip()]
        small = [(t.get_text(), t.get_fontsize()) for t in texts if t.get_fontsize() < palette.MIN_FONT_POINTS]
        assert not small, f"{path.name}: {small}"
        bars = {patch.get_facecolor() for axes in figure.axes for patch in axes.patches}
        colours = {"#" + "".join(f"{round(c * 255):02x}" for c in rgba[:3]) for rgba in bars if rgba[3] > 0}
        assert colours <= allowed | {"#ffffff"}, f"{path.name}: {colours - allowed}"
