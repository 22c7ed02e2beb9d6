"""A real Spark standalone cluster on 127.0.0.1: one master and one worker, from pyspark's own distribution.

`spark_cluster(folder)` starts both daemons (`bin/spark-class org.apache.spark.deploy.master.Master`
and `...worker.Worker`), waits until the worker has registered with the master, yields the running
cluster, and always stops both process groups (the worker's executors with them) and deletes their
work folders. Every port is Spark's own choice (port 0), read back from the master's log, so nothing
collides with another test or service on the machine.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Small enough for CI's 2 cores and for a fit of the 2k data set.
WORKER_CORES = 1
WORKER_MEMORY = "1g"

_MASTER_URL = re.compile(r"Starting Spark master at (spark://\S+)")
_MASTER_WEB_UI = re.compile(r"MasterWebUI.* at http://[^:/\s]+:([0-9]+)")


def spark_home() -> Path:
    """pyspark's installed distribution, which holds bin/spark-class and the jars."""
    import pyspark

    return Path(pyspark.__file__).resolve().parent


@dataclass
class Daemon:
    name: str
    popen: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def alive(self) -> None:
        code = self.popen.poll()
        assert code is None, f"the Spark {self.name} exited with {code}:\n{self.log()[-3000:]}"

    def stop(self) -> None:
        """SIGTERM to the daemon's whole process group (an executor is the worker's child), then SIGKILL."""
        for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
            if self.popen.poll() is not None:
                break
            try:
                os.killpg(self.popen.pid, sig)
            except ProcessLookupError:
                break
            try:
                self.popen.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                continue
        try:
            # Whatever the group still holds (an executor outliving its worker).
            os.killpg(self.popen.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


@dataclass
class SparkCluster:
    #: spark://127.0.0.1:PORT, what ENCORE_SPARK_MASTER names.
    master_url: str
    #: http://127.0.0.1:PORT, the master's web UI; its /json/ describes workers and applications.
    web_ui: str
    master: Daemon
    worker: Daemon
    #: The worker's work folder: a folder per application, one per executor inside it.
    work_dir: Path

    def state(self) -> dict[str, Any]:
        """The master's own account of the cluster: workers, active and completed applications."""
        with urllib.request.urlopen(f"{self.web_ui}/json/", timeout=10) as response:
            return json.load(response)

    def completed_apps(self) -> list[dict[str, Any]]:
        return list(self.state().get("completedapps", []))


def _wait(condition: Callable[[], Any], what: str, daemons: list[Daemon], timeout: float = 120.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        for daemon in daemons:
            daemon.alive()
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            logs = "\n".join(f"--- {d.name} log:\n{d.log()[-2000:]}" for d in daemons)
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}\n{logs}")
        time.sleep(0.25)


def _found(pattern: re.Pattern[str], daemon: Daemon) -> Callable[[], str | None]:
    def search() -> str | None:
        match = pattern.search(daemon.log())
        return match.group(1).rstrip("/.,") if match else None

    return search


def _start(name: str, arguments: list[str], folder: Path, env: dict[str, str]) -> Daemon:
    log_path = folder / f"{name}.log"
    with open(log_path, "wb") as log:
        popen = subprocess.Popen(
            [str(spark_home() / "bin" / "spark-class"), *arguments],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            # Its own process group, so that stopping it reaches the JVMs it starts.
            start_new_session=True,
        )
    return Daemon(name, popen, log_path)


@contextmanager
def spark_cluster(folder: Path) -> Iterator[SparkCluster]:
    """A master and a worker (WORKER_CORES cores, WORKER_MEMORY) on 127.0.0.1, their files in `folder`."""
    work = folder / "work"
    scratch = folder / "local"
    for path in (work, scratch):
        path.mkdir(parents=True, exist_ok=True)
    env = {key: value for key, value in os.environ.items() if not key.startswith(("SPARK_", "PYSPARK_"))}
    env |= {
        "SPARK_HOME": str(spark_home()),
        "SPARK_LOCAL_IP": "127.0.0.1",
        "SPARK_LOCAL_DIRS": str(scratch),
        "SPARK_WORKER_DIR": str(work),
        # Small daemons: they only schedule; the fit runs in the executor.
        "SPARK_DAEMON_MEMORY": "256m",
        # The master's REST submission server would take its fixed port, 6066; nothing here submits through it.
        "SPARK_MASTER_OPTS": "-Dspark.master.rest.enabled=false",
    }
    daemons: list[Daemon] = []
    try:
        master = _start(
            "master",
            ["org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port", "0", "--webui-port", "0"],
            folder,
            env,
        )
        daemons.append(master)
        master_url = _wait(_found(_MASTER_URL, master), "the Spark master to start", daemons)
        # The log names the UI by host name; it is bound to 127.0.0.1 (SPARK_LOCAL_IP) only.
        web_ui_port = _wait(_found(_MASTER_WEB_UI, master), "the Spark master's web UI", daemons)
        web_ui = f"http://127.0.0.1:{web_ui_port}"
        worker = _start(
            "worker",
            [
                "org.apache.spark.deploy.worker.Worker",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--webui-port",
                "0",
                "--cores",
                str(WORKER_CORES),
                "--memory",
                WORKER_MEMORY,
                "--work-dir",
                str(work),
                master_url,
            ],
            folder,
            env,
        )
        daemons.append(worker)
        cluster = SparkCluster(master_url, web_ui, master, worker, work)

        def worker_registered() -> bool:
            try:
                workers = cluster.state().get("workers", [])
            except (urllib.error.URLError, OSError, ValueError):
                return False
            return any(w.get("state") == "ALIVE" for w in workers)

        _wait(worker_registered, "the Spark worker to register with the master", daemons)
        yield cluster
    finally:
        for daemon in reversed(daemons):
            daemon.stop()
        for path in (work, scratch):
            shutil.rmtree(path, ignore_errors=True)


class _SummaryLines:
    """A plugin that prints its lines in pytest's closing summary, captured output or not."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.lines:
            terminalreporter.section("Spark standalone cluster")
            for line in self.lines:
                terminalreporter.write_line(line)


def report_in_summary(config: Any, line: str) -> None:
    """Show `line` at the end of the pytest run (in CI's log), whatever the capture and verbosity."""
    plugin = config.pluginmanager.get_plugin("encore-spark-cluster-summary")
    if plugin is None:
        plugin = _SummaryLines()
        config.pluginmanager.register(plugin, "encore-spark-cluster-summary")
    plugin.lines.append(line)
