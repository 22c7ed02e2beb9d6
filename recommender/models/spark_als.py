"""Spark MLlib's ALS as a second trainer for Encore's ALS model (the optional `spark` extra).

`SparkALSTrainer(config).fit(plays)` fits `pyspark.ml.recommendation.ALS` on the same BM25-weighted
matrix `ALSRecommender.fit` gives `implicit`, and returns a plain `ALSRecommender` holding Spark's
factors. Everything downstream (exact per-user solves, explanations, snapshots, the engine) cannot tell
which trainer fitted it.

Importing this module needs pyspark and a Java runtime; without either it raises ImportError, so that
callers (recommender.models.registry, for the "encore-spark" model and the "spark" trainer) treat
"Spark cannot run here" as one case and say what to install.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
from pyspark.ml.recommendation import ALS
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.types import FloatType, IntegerType, StructField, StructType

from recommender.models.als import ALSConfig, ALSRecommender, Factors
from recommender.models.spark_settings import SparkSettings


def java_executable() -> str | None:
    """Where pyspark will look for java: $JAVA_HOME/bin/java, else java on PATH."""
    java_home = os.environ.get("JAVA_HOME")
    if java_home:
        candidate = Path(java_home) / "bin" / "java"
        return str(candidate) if candidate.is_file() else None
    return shutil.which("java")


if java_executable() is None:
    _looked_in = (
        f"JAVA_HOME={os.environ['JAVA_HOME']} has no bin/java" if os.environ.get("JAVA_HOME") else "no java on PATH"
    )
    raise ImportError(
        f"Spark needs a Java runtime (17 or newer) and found none ({_looked_in}); "
        "install one, e.g. apt-get install openjdk-17-jre-headless"
    )


@dataclass(frozen=True)
class SparkALSParameters:
    """How Encore's ALS configuration is expressed to Spark's ALS.

    The libraries minimise differently weighted objectives. For an observed (user, artist) entry with
    BM25 weight r, implicit uses confidence c = alpha * r and one ridge, `regularization`, for every
    user and artist. Spark uses c = 1 + alpha * r, and its ridge is regParam times the number of
    entries of the user or artist being solved (ALS-WR, for implicit feedback too).

    The direct mapping gives the median user implicit's ridge (regParam = regularization / median
    entries per user, computed on the matrix being fitted) and keeps alpha. It scored only 0.79 of
    implicit's P1 NDCG@10, because ALS-WR also gives each artist a ridge proportional to its
    listeners: popular artists, which P1 rewards, are shrunk hardest. Scaling the ridge down to 0.15
    and alpha down to 0.25 of that mapping recovered 0.986 of implicit's NDCG@10 on validation splits
    nested inside P1's training sets (so P1's test pairs played no part in the choice; a broad
    plateau: ridge 0.1-0.2 with alpha 0.25-0.5 all came within 0.002), and 0.994 on P1 itself
    (benchmarks/results/spark-p1.json). On a P1 training split, with 40 entries per user, that is
    regParam 0.15 and alpha 0.25.

    Encore's exact per-user solves keep using `regularization` and `alpha`, now on Spark's artist
    factors: P1 users ranked that way scored about 1 % below Spark's own user factors (0.2607 against
    0.2634 on seed 0), so members served without refit are served as well as the listeners fitted.

    rank, maxIter and seed are Encore's factors, iterations and random_state. Spark solves each
    least-squares step exactly (Cholesky) where implicit takes 3 conjugate-gradient steps.
    """

    #: regParam as a multiple of regularization / (median entries per user).
    reg_scale: float = 0.15
    #: Spark's alpha as a multiple of Encore's.
    alpha_scale: float = 0.25

    def spark_arguments(self, config: ALSConfig, weighted: sp.csr_matrix) -> dict[str, float | int]:
        entries_per_user = np.diff(weighted.indptr)
        typical_entries = float(np.median(entries_per_user[entries_per_user > 0])) if weighted.nnz else 1.0
        return {
            "rank": config.factors,
            "maxIter": config.iterations,
            "regParam": self.reg_scale * config.regularization / typical_entries,
            "alpha": self.alpha_scale * config.alpha,
            "seed": config.random_state,
        }


class SparkALSTrainer:
    """Fits Encore's ALS with Spark MLlib. Meets recommender.training's Trainer protocol."""

    name = "spark"
    #: Spark's ALS always starts from its own random factors.
    warm_starts = False

    def __init__(
        self,
        config: ALSConfig = ALSConfig(),
        parameters: SparkALSParameters = SparkALSParameters(),
        settings: SparkSettings = SparkSettings(),
    ) -> None:
        self.config = config
        self.parameters = parameters
        self.settings = settings

    def fit(
        self, plays: sp.csr_matrix, initial: Factors | None = None, iterations: int | None = None
    ) -> ALSRecommender:
        return SparkFittedALS(self.config, self).fit(plays, initial=initial, iterations=iterations).as_plain_als()

    def factors(self, weighted: sp.csr_matrix, *, initial: Factors | None, iterations: int | None) -> Factors:
        """(user factors, artist factors) that Spark's ALS fits on the BM25-weighted matrix."""
        if initial is not None:
            raise ValueError("Spark's ALS cannot start from given factors; fit without `initial`")
        config = self.config
        arguments = self.parameters.spark_arguments(config, weighted)
        if iterations:
            arguments["maxIter"] = iterations
        session = spark_session(self.settings)
        # Spark reads the ratings file lazily, so the factors are collected before it is deleted.
        with tempfile.TemporaryDirectory(prefix="ratings-", dir=_scratch) as directory:
            estimator = ALS(
                userCol="user",
                itemCol="item",
                ratingCol="rating",
                implicitPrefs=True,
                nonnegative=False,
                numUserBlocks=self.settings.blocks,
                numItemBlocks=self.settings.blocks,
                **arguments,
            )
            ratings = (
                _ratings_file_frame(session, weighted, Path(directory))
                if self.settings.local
                else _ratings_shipped_frame(session, weighted)
            )
            fitted = estimator.fit(ratings)
            return (
                _factor_matrix(fitted.userFactors, weighted.shape[0], config.factors),
                _factor_matrix(fitted.itemFactors, weighted.shape[1], config.factors),
            )


class SparkFittedALS(ALSRecommender):
    """An `ALSRecommender` whose `fit` trains with Spark: the "encore-spark" model of protocol P1.

    Saved, it is an ordinary "als" snapshot and loads back as an `ALSRecommender`."""

    def __init__(self, config: ALSConfig = ALSConfig(), trainer: SparkALSTrainer | None = None) -> None:
        super().__init__(config)
        self.trainer = trainer if trainer is not None else SparkALSTrainer(config)

    def _train(
        self, weighted: sp.csr_matrix, *, show_progress: bool, initial: Factors | None, iterations: int | None
    ) -> Factors:
        return self.trainer.factors(weighted, initial=initial, iterations=iterations)

    def as_plain_als(self) -> ALSRecommender:
        """The same fitted model as an `ALSRecommender`, which is what a trainer hands out."""
        plain = ALSRecommender(self.config)
        plain.weighting = self.weighting
        plain._set_factors(self.user_factors, self.item_factors)
        return plain


# -- the shared Spark session ---------------------------------------------------------------------

# Quiet: Spark's JVM prints errors only. Spark installs its own defaults unless log4j already has a
# configuration when Spark starts, hence a file given to the JVM on its command line. The root level
# stays at WARN, with errors-only filtered at the console: a root level other than WARN makes Spark
# announce, as in any interactive shell, the level it resets it to.
_LOG4J2_PROPERTIES = """\
rootLogger.level = warn
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.filter.threshold.type = ThresholdFilter
appender.console.filter.threshold.level = error
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{yy/MM/dd HH:mm:ss} %p %c{1}: %m%n
"""

_lock = threading.Lock()
_session: SparkSession | None = None
_scratch: Path | None = None


def spark_session(settings: SparkSettings = SparkSettings()) -> SparkSession:
    """The process's one Spark session, started on first use (a JVM start: 15-25 s here) and reused by
    every later fit; `stop_spark` (also run at exit) ends it, which is when a cluster's master sees the
    application finish. Settings only apply to the first call after a stop."""
    global _session, _scratch
    with _lock:
        if _session is not None:
            return _session
        _scratch = Path(tempfile.mkdtemp(prefix="encore-spark-"))
        log_config = _scratch / "log4j2.properties"
        log_config.write_text(_LOG4J2_PROPERTIES, encoding="utf-8")
        if settings.local:
            # Read by the JVM pyspark starts. Only in local mode: a cluster's executors must reach
            # the driver from other machines.
            os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        builder = (
            SparkSession.builder.master(settings.master)
            .appName("encore-als")
            .config("spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile={log_config.as_uri()}")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.shuffle.partitions", str(settings.blocks))
            .config("spark.default.parallelism", str(settings.blocks))
        )
        if settings.local:
            # Executors elsewhere have their own scratch folders (the cluster manager's); this one
            # exists on this machine only.
            builder = builder.config("spark.local.dir", str(_scratch / "local"))
        for key, value in settings.conf().items():
            builder = builder.config(key, value)
        with warnings.catch_warnings():
            # pyspark warns that it does not fully support pandas 3; Encore gives it no pandas objects.
            warnings.filterwarnings("ignore", category=FutureWarning, module="pyspark")
            _session = builder.getOrCreate()
        # Without a checkpoint directory Spark's ALS keeps every iteration's lineage. With a cluster,
        # executors write checkpoints that the driver reads back, so a folder of this machine would not
        # do: there it is spark.checkpoint.dir on shared storage (HDFS, S3...), if the operator gives one.
        if settings.local:
            _session.sparkContext.setCheckpointDir(str(_scratch / "checkpoints"))
        return _session


def stop_spark() -> None:
    """Stop the shared session (if any) and delete its scratch files; the next fit starts a new one."""
    global _session, _scratch
    with _lock:
        if _session is not None:
            _session.stop()
            _session = None
        if _scratch is not None:
            shutil.rmtree(_scratch, ignore_errors=True)
            _scratch = None


atexit.register(stop_spark)


# -- moving data between the matrix and Spark ------------------------------------------------------

_RATINGS_SCHEMA = StructType(
    [
        StructField("user", IntegerType(), nullable=False),
        StructField("item", IntegerType(), nullable=False),
        StructField("rating", FloatType(), nullable=False),
    ]
)


def _ratings_file_frame(session: SparkSession, weighted: sp.csr_matrix, directory: Path) -> DataFrame:
    """(row, column, weight) of every stored entry, as Spark's ALS wants them: ids are the matrix's
    own row and column numbers, so factors map back without a lookup.

    In local mode the entries go through a CSV file in `directory` that the JVM reads itself, rather
    than through Python: that stays fast at Last.fm-360K's 17 million entries."""
    coo = weighted.tocoo()
    path = directory / "ratings.csv"
    # %.9g writes every float32 exactly, so Spark trains on the very weights implicit would.
    frame = pd.DataFrame({"user": coo.row, "item": coo.col, "rating": coo.data})
    frame.to_csv(path, index=False, header=False, float_format="%.9g")
    return session.read.csv(str(path), schema=_RATINGS_SCHEMA)


def _ratings_shipped_frame(session: SparkSession, weighted: sp.csr_matrix) -> DataFrame:
    """The same entries for a cluster, whose executors cannot read this machine's files: the driver
    sends them with the tasks. The values go over as Python floats, which hold every float32 exactly."""
    coo = weighted.tocoo()
    rows = list(zip(coo.row.tolist(), coo.col.tolist(), coo.data.tolist(), strict=True))
    return session.createDataFrame(rows, schema=_RATINGS_SCHEMA)


def _factor_matrix(factors: DataFrame, n_rows: int, rank: int) -> np.ndarray:
    """Spark's (id, features) rows as a matrix in the id order. Rows Spark never saw (no entry with a
    positive weight) stay zero, which is what implicit's solve gives them too."""
    matrix = np.zeros((n_rows, rank), dtype=np.float32)
    rows = factors.collect()
    if rows:
        ids = np.fromiter((row.id for row in rows), dtype=np.int64, count=len(rows))
        matrix[ids] = np.asarray([row.features for row in rows], dtype=np.float32)
    return matrix
