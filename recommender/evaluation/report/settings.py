"""What the report measures (`ReportSettings`) and the thresholds its target is judged by."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from recommender.debias import DEFAULT_POPULARITY_PENALTY
from recommender.evaluation.protocols import P1_MODELS, P2_LIKE_COUNTS

DEFAULT_PENALTIES = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
ACCURACY_KEYS = ("precision@10", "recall@10", "ndcg@10", "map@10")
#: The target of issue 6: long-tail share (slots outside the 20 % of artists with most listeners) at
#: least this times the tutorial's, with NDCG@10 within this share of Encore's best.
LONG_TAIL_FACTOR = 1.5
NDCG_TOLERANCE = 0.05
DEBIASED = "encore-debiased"
#: What `choose_penalty` picked on the validation seeds 3 and 4 (`build_report` with seeds=(3, 4), measured
#: once; the report's own seeds never tuned it). Rewrite it if the penalty or the models change.
VALIDATION_NOTE = (
    "On validation seeds 3 and 4 it picked 0.6, under the long-tail share and under the share outside the "
    "head alike. The default is the smaller, 0.5, which keeps NDCG@10 within 5 % of the best on both "
    "protocols and both sets of seeds."
)
TopTags = Callable[[int], list[str]]


@dataclass(frozen=True)
class ReportSettings:
    seeds: tuple[int, ...] = (0, 1, 2)
    models: tuple[str, ...] = P1_MODELS
    #: The penalty of the "encore-debiased" row (none when 0) and the marked point of the curve.
    penalty: float = DEFAULT_POPULARITY_PENALTY
    penalties: tuple[float, ...] = DEFAULT_PENALTIES
    like_counts: tuple[int, ...] = P2_LIKE_COUNTS
    p2_refit: bool = True
    #: Unobserved pairs drawn per held-out positive for RMSE.
    rmse_negatives: int = 1
    show_progress: bool = True
    extra: dict = field(default_factory=dict)
