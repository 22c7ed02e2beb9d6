"""The evaluation report: accuracy (P1, P2), RMSE, popularity bias, fairness and popularity debiasing.

`build_report` measures and returns one JSON-ready dict; `write_report` turns it into report.json,
PNG plots and report.md in a folder. Nothing here reads the clock, so two runs with the same seeds
give the same numbers (fit times are left to `encore evaluate --protocol p1`).
"""

from recommender.evaluation.report.build import build_report
from recommender.evaluation.report.markdown import report_markdown, write_report
from recommender.evaluation.report.settings import (
    ACCURACY_KEYS,
    DEBIASED,
    DEFAULT_PENALTIES,
    LONG_TAIL_FACTOR,
    NDCG_TOLERANCE,
    VALIDATION_NOTE,
    ReportSettings,
    TopTags,
)
from recommender.evaluation.report.target import choose_penalty

__all__ = [
    "ACCURACY_KEYS",
    "DEBIASED",
    "DEFAULT_PENALTIES",
    "LONG_TAIL_FACTOR",
    "NDCG_TOLERANCE",
    "VALIDATION_NOTE",
    "ReportSettings",
    "TopTags",
    "build_report",
    "choose_penalty",
    "report_markdown",
    "write_report",
]
