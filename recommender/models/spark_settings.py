"""Where and how Spark runs Encore's ALS fits: the settings of `recommender.models.spark_als`.

Kept apart from that module, which needs pyspark and Java to import, so that the bot's settings can
hold them (and check them at start) on a machine without Spark.
"""

from __future__ import annotations

from dataclasses import dataclass

#: How a Spark master URL may start: local mode, a standalone cluster, Kubernetes or YARN. Spark
#: Connect (sc://) is not among them: Encore drives a classic session, whose JVM is in this process.
MASTER_PREFIXES = ("local", "spark://", "k8s://", "yarn")


@dataclass(frozen=True)
class SparkSettings:
    """The Spark session a fit runs in. In local mode (the default) its JVM heap is the only memory
    Spark uses; with a cluster master the executors do the fitting and this process is the driver."""

    master: str = "local[2]"
    driver_memory: str = "4g"
    #: Spark's ALS splits users and artists into this many blocks each (1, 2 and 4 fitted the 2k data
    #: equally fast); also the session's shuffle partitions.
    blocks: int = 2
    #: spark.executor.memory and spark.executor.cores; None leaves the cluster manager's default.
    executor_memory: str | None = None
    executor_cores: int | None = None
    #: The address executors reach this process at (spark.driver.host); None: 127.0.0.1 in local
    #: mode, Spark's own choice (this machine's host name) with a cluster master.
    driver_host: str | None = None
    #: Any other Spark configuration, as (key, value) pairs, applied last, so they win over the above.
    extra_conf: tuple[tuple[str, str], ...] = ()

    @property
    def local(self) -> bool:
        """Whether Spark runs inside this process's JVM (master local, local[N], local[*]...)."""
        return self.master.startswith("local")

    def conf(self) -> dict[str, str]:
        """The Spark configuration these settings ask for, beyond what every session gets."""
        conf = {"spark.driver.memory": self.driver_memory}
        if self.executor_memory is not None:
            conf["spark.executor.memory"] = self.executor_memory
        if self.executor_cores is not None:
            conf["spark.executor.cores"] = str(self.executor_cores)
        if self.driver_host is not None:
            conf["spark.driver.host"] = self.driver_host
        elif self.local:
            # A local session only talks to itself (this also stops Spark warning that the host name
            # resolves to 127.0.0.1).
            conf["spark.driver.host"] = "127.0.0.1"
            conf["spark.driver.bindAddress"] = "127.0.0.1"
        conf.update(self.extra_conf)
        return conf
