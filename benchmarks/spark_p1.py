"""Protocol P1 for Encore's ALS trained two ways: Spark MLlib ("encore-spark") and implicit ("encore-als").

Both models run on the same splits in one process; the Spark session is started (and timed) before
the first fit, so fit times are fits only. The first Spark fit still warms the JVM up, which the median
over seeds leaves out. Needs the `spark` extra (pip install -e '.[spark]') and Java 17+.

    python benchmarks/spark_p1.py [--seeds 0 1 2] [--out benchmarks/results/spark-p1.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pyspark
import scipy.sparse as sp
from implicit.evaluation import train_test_split

from recommender.datasets import load_hetrec, resolve_data_dir
from recommender.evaluation.protocols import evaluate_p1
from recommender.models.als import ALSConfig
from recommender.models.spark_als import (
    SparkALSParameters,
    SparkSettings,
    java_executable,
    spark_session,
)
from recommender.training import lastfm_interactions
from recommender.weighting import Weighting

sys.path.insert(0, str(Path(__file__).parent))
from common import machine

SPARK, IMPLICIT = "encore-spark", "encore-als"


def java_version() -> str:
    """The first line of `java -version`, for the java pyspark starts."""
    java = java_executable()
    assert java is not None
    return subprocess.run([java, "-version"], capture_output=True, text=True, check=True).stderr.splitlines()[0]


def spark_arguments(plays: sp.csr_matrix, seed: int, config: ALSConfig) -> dict:
    """What Spark's ALS was given on one seed's P1 training split (regParam depends on the matrix)."""
    train = sp.csr_matrix(train_test_split(plays, 0.8, random_state=seed)[0])
    weighted = Weighting.fit(train, config.weighting, config.k1, config.b).transform(train)
    return SparkALSParameters().spark_arguments(config, weighted)


def measure(seeds: list[int]) -> dict:
    plays = lastfm_interactions(load_hetrec(resolve_data_dir(None, download=False))).plays
    started = time.perf_counter()
    spark_session()
    session_seconds = time.perf_counter() - started
    results = evaluate_p1(plays, seeds, [SPARK, IMPLICIT], progress=lambda message: print(message, flush=True))
    ndcg = {name: [run["ndcg@10"] for run in results["per_seed"][name]] for name in (SPARK, IMPLICIT)}
    fit_seconds = {name: [run["fit_seconds"] for run in results["per_seed"][name]] for name in (SPARK, IMPLICIT)}
    mean = {name: float(np.mean(values)) for name, values in ndcg.items()}
    config = ALSConfig()
    return {
        "benchmark": "spark-p1",
        "what": "P1 NDCG@10 of Encore's ALS fitted by Spark MLlib against the same configuration fitted by implicit",
        "seeds": seeds,
        "ndcg@10": {name: dict(zip(map(str, seeds), values)) for name, values in ndcg.items()},
        "mean_ndcg@10": mean,
        "spark_over_implicit": mean[SPARK] / mean[IMPLICIT],
        "median_fit_seconds": {name: statistics.median(values) for name, values in fit_seconds.items()},
        "fit_seconds": {name: dict(zip(map(str, seeds), values)) for name, values in fit_seconds.items()},
        "spark_session_start_seconds": session_seconds,
        "all_metrics": results["models"],
        "als_config": asdict(config),
        "spark_parameters": asdict(SparkALSParameters()),
        "spark_arguments": {str(seed): spark_arguments(plays, seed, config) for seed in seeds},
        "spark_settings": asdict(SparkSettings()),
        "pyspark": pyspark.__version__,
        "java": java_version(),
        "machine": machine(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "spark-p1.json")
    args = parser.parse_args()
    result = measure(args.seeds)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    mean, fit = result["mean_ndcg@10"], result["median_fit_seconds"]
    print(
        f"NDCG@10 over seeds {' '.join(map(str, args.seeds))}: "
        f"{SPARK} {mean[SPARK]:.4f}, {IMPLICIT} {mean[IMPLICIT]:.4f} "
        f"(ratio {result['spark_over_implicit']:.3f})"
    )
    print(
        f"median fit: {SPARK} {fit[SPARK]:.1f} s, {IMPLICIT} {fit[IMPLICIT]:.1f} s; Spark session start "
        f"{result['spark_session_start_seconds']:.1f} s; pyspark {result['pyspark']}, {result['java']}"
    )


if __name__ == "__main__":
    main()
