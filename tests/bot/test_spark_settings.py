"""The ENCORE_SPARK_ settings: read into SparkSettings, turned into Spark's configuration, checked at start.

No Spark runs here (tests/bot/e2e/test_spark_cluster.py fits on a real cluster); these need no pyspark.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli.opening import trainer_named
from bot.settings import Settings, SettingsError
from recommender.models.spark_settings import SparkSettings


def spark_of(tmp_path: Path, **environ: str) -> SparkSettings:
    return Settings.from_env({"ENCORE_HOME": str(tmp_path)} | environ).spark


def test_by_default_spark_runs_locally_on_loopback(tmp_path: Path) -> None:
    spark = spark_of(tmp_path)
    assert spark == SparkSettings() and spark.master == "local[2]" and spark.local
    assert spark.conf() == {
        "spark.driver.memory": "4g",
        "spark.driver.host": "127.0.0.1",
        "spark.driver.bindAddress": "127.0.0.1",
    }


def test_a_cluster_gets_every_setting_and_extra_pairs_last(tmp_path: Path) -> None:
    spark = spark_of(
        tmp_path,
        ENCORE_SPARK_MASTER=" spark://10.0.0.5:7077 ",
        ENCORE_SPARK_DRIVER_MEMORY="2g",
        ENCORE_SPARK_EXECUTOR_MEMORY="3g",
        ENCORE_SPARK_EXECUTOR_CORES="2",
        ENCORE_SPARK_DRIVER_HOST="trainer.internal",
        ENCORE_SPARK_CONF=(
            'spark.cores.max=4 "spark.executor.extraJavaOptions=-Xss4m -XX:+UseG1GC" spark.driver.memory=5g'
        ),
    )
    assert spark.master == "spark://10.0.0.5:7077" and not spark.local
    assert spark.extra_conf == (
        ("spark.cores.max", "4"),
        ("spark.executor.extraJavaOptions", "-Xss4m -XX:+UseG1GC"),
        ("spark.driver.memory", "5g"),
    )
    assert spark.conf() == {
        "spark.driver.memory": "5g",  # the extra pair wins
        "spark.executor.memory": "3g",
        "spark.executor.cores": "2",
        "spark.driver.host": "trainer.internal",
        "spark.cores.max": "4",
        "spark.executor.extraJavaOptions": "-Xss4m -XX:+UseG1GC",
    }


def test_a_cluster_without_a_driver_host_leaves_the_address_to_spark(tmp_path: Path) -> None:
    conf = spark_of(tmp_path, ENCORE_SPARK_MASTER="k8s://https://10.0.0.1:6443").conf()
    assert "spark.driver.host" not in conf and "spark.driver.bindAddress" not in conf
    assert "spark.executor.memory" not in conf and "spark.executor.cores" not in conf


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ENCORE_SPARK_MASTER", "10.0.0.5:7077"),
        ("ENCORE_SPARK_MASTER", "sc://connect:15002"),
        ("ENCORE_SPARK_DRIVER_MEMORY", "lots"),
        ("ENCORE_SPARK_EXECUTOR_MEMORY", "1.5g"),
        ("ENCORE_SPARK_EXECUTOR_CORES", "0"),
        ("ENCORE_SPARK_EXECUTOR_CORES", "two"),
        ("ENCORE_SPARK_DRIVER_HOST", "http://trainer"),
        ("ENCORE_SPARK_CONF", "spark.cores.max"),
        ("ENCORE_SPARK_CONF", "cores.max=4"),
        ("ENCORE_SPARK_CONF", "spark.cores.max="),
        ("ENCORE_SPARK_CONF", '"spark.cores.max=4'),
    ],
)
def test_a_bad_spark_value_names_its_variable(tmp_path: Path, name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        spark_of(tmp_path, **{name: value})


def test_the_implicit_engine_ignores_the_spark_settings(tmp_path: Path) -> None:
    settings = Settings.from_env({"ENCORE_HOME": str(tmp_path), "ENCORE_SPARK_MASTER": "spark://nowhere:7077"})
    assert trainer_named("implicit", settings).name == "implicit"


def test_the_spark_engine_fits_where_the_settings_say(tmp_path: Path, spark_als) -> None:
    settings = Settings.from_env(
        {"ENCORE_HOME": str(tmp_path), "ENCORE_SPARK_MASTER": "spark://nowhere:7077", "ENCORE_SPARK_CONF": "spark.x=1"}
    )
    trainer = trainer_named("spark", settings)
    assert isinstance(trainer, spark_als.SparkALSTrainer) and trainer.settings == settings.spark
