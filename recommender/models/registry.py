"""Every model Encore knows, by name: what evaluation compares and what training fits for serving.

One entry per model says how to build it unfitted and, for the models that can serve members, which
trainer fits it with a given ALS configuration. `encore evaluate` builds models from here, `encore
train --engine` picks its trainer from here, and the Spark extra is loaded (or said to be missing) in
one place.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType

from recommender.models.als import LOG_CONFIG, TUTORIAL_CONFIG, ALSConfig, ALSRecommender
from recommender.models.base import Recommender
from recommender.models.baselines import BPRRecommender, ItemKNNRecommender, MostPopular
from recommender.models.listener_blend import ListenerBlend
from recommender.models.spark_settings import SparkSettings
from recommender.models.trainer import ImplicitTrainer, Trainer


class ModelUnavailableError(ValueError):
    """The asked-for model or training engine is unknown or cannot run here; the message says what to do."""


#: Kept under the name the CLI has always caught.
TrainingEngineError = ModelUnavailableError


def _spark_module(what: str) -> ModuleType:
    """recommender.models.spark_als, which needs the optional `spark` extra (pyspark and Java)."""
    try:
        import recommender.models.spark_als as spark_als
    except ImportError as error:
        raise ModelUnavailableError(
            f"{what} needs the spark extra: pip install 'encore[spark]' ({error}); "
            "Spark also needs a Java 17 runtime, e.g. apt-get install openjdk-17-jre-headless"
        ) from None
    return spark_als


def _spark_model() -> Recommender:
    return _spark_module("encore-spark").SparkFittedALS(ALSConfig())


def _spark_trainer(config: ALSConfig, spark: SparkSettings) -> Trainer:
    return _spark_module("the spark engine").SparkALSTrainer(config, settings=spark)


def _implicit_trainer(config: ALSConfig, spark: SparkSettings) -> Trainer:
    return ImplicitTrainer(config)


@dataclass(frozen=True)
class ModelSpec:
    name: str
    description: str
    #: A fresh, unfitted model.
    build: Callable[[], Recommender]
    #: For the models that serve members: the trainer that fits this model with a given configuration
    #: (and, for Spark's, in the given Spark session).
    trainer: Callable[[ALSConfig, SparkSettings], Trainer] | None = None


_SPECS = (
    ModelSpec(
        "encore",
        "Encore for known listeners: ALS (8 iterations) + 0.25 play-share ridge + 0.1 NTK ridge, z-scores blended",
        ListenerBlend,
    ),
    ModelSpec(
        "encore-als",
        "Encore's ALS alone, as served to members: 64 factors, reg 40, alpha 1, 15 iterations, BM25 (k1 0.5, b 0)",
        lambda: ALSRecommender(ALSConfig()),
        _implicit_trainer,
    ),
    ModelSpec("most-popular", "the artists with most listeners", MostPopular),
    ModelSpec(
        "tutorial",
        "the tutorial: ALS, 50 factors, reg 0.01, 10 iterations, raw play counts",
        lambda: ALSRecommender(TUTORIAL_CONFIG),
    ),
    ModelSpec("item-knn", "item-kNN, cosine, K=100, binary", ItemKNNRecommender),
    ModelSpec("bpr", "BPR, 64 factors, 100 iterations, binary", BPRRecommender),
    ModelSpec(
        "als-log",
        "ALS on log(1+plays), implicit's defaults (100 factors, reg 0.01, 15 iterations)",
        lambda: ALSRecommender(LOG_CONFIG),
    ),
    # Not in P1's default models: it needs the optional Spark extra.
    ModelSpec(
        "encore-spark",
        "encore-als's configuration trained by Spark MLlib's ALS (recommender/models/spark_als.py)",
        _spark_model,
        _spark_trainer,
    ),
)

MODELS: dict[str, ModelSpec] = {spec.name: spec for spec in _SPECS}
MODEL_DESCRIPTIONS: dict[str, str] = {spec.name: spec.description for spec in _SPECS}

#: What serves Discord members, who arrive with a few likes: ALS alone (P2 and P3 measure it).
MEMBER_MODEL = "encore-als"

#: `encore train --engine` choices, each the registry model whose trainer it runs.
TRAINING_ENGINES: dict[str, str] = {"implicit": "encore-als", "spark": "encore-spark"}


def make_model(name: str) -> Recommender:
    try:
        spec = MODELS[name]
    except KeyError:
        raise ModelUnavailableError(f"unknown model {name!r}; choose from {', '.join(MODELS)}") from None
    return spec.build()


def make_trainer(
    engine: str = "implicit", config: ALSConfig = ALSConfig(), spark: SparkSettings = SparkSettings()
) -> Trainer:
    """The trainer of a `TRAINING_ENGINES` engine; `spark` says where the spark engine fits."""
    try:
        spec = MODELS[TRAINING_ENGINES[engine]]
    except KeyError:
        raise ModelUnavailableError(
            f"unknown training engine {engine!r}; choose one of {', '.join(TRAINING_ENGINES)}"
        ) from None
    assert spec.trainer is not None
    return spec.trainer(config, spark)
