"""The named model configurations that `encore evaluate` compares."""

from __future__ import annotations

from collections.abc import Callable

from recommender.models import ALSConfig, ALSRecommender, BPRRecommender, ItemKNNRecommender, MostPopular, Recommender
from recommender.models.als import LOG_CONFIG, TUTORIAL_CONFIG
from recommender.models.listener_blend import ListenerBlend


def _spark_als() -> Recommender:
    """Encore's ALS trained by Spark MLlib; only with the `spark` extra (pyspark and Java) installed."""
    try:
        from recommender.models.spark_als import SparkFittedALS
    except ImportError as error:
        raise ValueError(f"encore-spark needs the spark extra: pip install 'encore[spark]' ({error})") from None
    return SparkFittedALS(ALSConfig())


#: What serves Discord members, who arrive with a few likes: ALS alone (P2 and P3 measure it).
MEMBER_MODEL = "encore-als"

MODEL_FACTORIES: dict[str, Callable[[], Recommender]] = {
    "encore": ListenerBlend,
    "encore-als": lambda: ALSRecommender(ALSConfig()),
    "most-popular": MostPopular,
    "tutorial": lambda: ALSRecommender(TUTORIAL_CONFIG),
    "item-knn": ItemKNNRecommender,
    "bpr": BPRRecommender,
    "als-log": lambda: ALSRecommender(LOG_CONFIG),
    # Not in P1's default models: it needs the optional Spark extra.
    "encore-spark": _spark_als,
}

MODEL_DESCRIPTIONS = {
    "encore": "Encore for known listeners: ALS (8 iterations) + 0.25 play-share ridge + 0.1 NTK ridge, z-scores blended",
    "encore-als": "Encore's ALS alone, as served to members: 64 factors, reg 40, alpha 1, 15 iterations, BM25 (k1 0.5, b 0)",
    "most-popular": "the artists with most listeners",
    "tutorial": "the tutorial: ALS, 50 factors, reg 0.01, 10 iterations, raw play counts",
    "item-knn": "item-kNN, cosine, K=100, binary",
    "bpr": "BPR, 64 factors, 100 iterations, binary",
    "als-log": "ALS on log(1+plays), implicit's defaults (100 factors, reg 0.01, 15 iterations)",
    "encore-spark": "encore-als's configuration trained by Spark MLlib's ALS (recommender/models/spark_als.py)",
}


def make_model(name: str) -> Recommender:
    try:
        return MODEL_FACTORIES[name]()
    except KeyError:
        raise ValueError(f"unknown model {name!r}; choose from {', '.join(MODEL_FACTORIES)}") from None
