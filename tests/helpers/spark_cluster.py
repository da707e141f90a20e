"""A Spark standalone cluster on 127.0.0.1 from the pyspark package alone: a master and workers
started with `$SPARK_HOME/bin/spark-class` (SPARK_HOME = the pyspark package's folder), and
`spark-submit` against it; a Spark Connect server (`connect_server`). Used by tests/test_cluster.py,
tests/test_dag_modes.py and bench/cluster.py."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.helpers.unmeasured import unmeasured

STARTUP = 180  # seconds for the master and the workers to register (a loaded machine)


@dataclass(frozen=True)
class Cluster:
    url: str  # spark://127.0.0.1:<port>
    work: Path  # the workers' folder: app-<id>/<executor id>/ for each executor they ran
    logs: Path


def spark_home() -> Path:
    import pyspark

    return Path(pyspark.__file__).resolve().parent


def environment(**extra: str) -> dict[str, str]:
    """This process's environment with Spark's: the pyspark package as SPARK_HOME, this Python
    for the driver and the executors, everything on 127.0.0.1 (coverage not measuring: the
    cluster and the jobs submitted run no phasegate code)."""
    env = {
        **unmeasured(),
        "SPARK_HOME": str(spark_home()),
        "PYSPARK_PYTHON": sys.executable,
        "PYSPARK_DRIVER_PYTHON": sys.executable,
        "SPARK_LOCAL_IP": "127.0.0.1",
        **extra,
    }
    env.pop("PYSPARK_GATEWAY_PORT", None)  # not a child of this process's Spark
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def standalone_cluster(
    folder: Path, workers: int = 2, cores: int = 1, memory: str = "1g"
) -> Iterator[Cluster]:
    """A master and `workers` workers of `cores` cores each; every process is stopped on exit,
    whatever happened (terminate, then kill after 30 s)."""
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    url = f"spark://127.0.0.1:{port}"
    spark_class = str(spark_home() / "bin" / "spark-class")
    env = environment(
        SPARK_WORKER_DIR=str(folder / "work"),
        SPARK_LOG_DIR=str(folder),
        # no REST submission server on its fixed port 6066: another cluster may be running
        SPARK_MASTER_OPTS="-Dspark.master.rest.enabled=false",
    )
    processes: list[subprocess.Popen] = []

    def start(name: str, *args: str) -> Path:
        log = folder / f"{name}.log"
        with log.open("w") as out:
            command = [spark_class, *args]
            processes.append(
                subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=folder)
            )
        return log

    def wait_for(log: Path, text: str, deadline: float) -> None:
        while time.monotonic() < deadline:
            if text in log.read_text(errors="replace"):
                return
            if any(p.poll() is not None for p in processes):
                raise RuntimeError(f"a cluster process ended before {text!r}: see {log}")
            time.sleep(0.3)
        raise TimeoutError(f"{text!r} not in {log} after {STARTUP} s")

    try:
        deadline = time.monotonic() + STARTUP
        master = start(
            "master",
            "org.apache.spark.deploy.master.Master",
            "--host", "127.0.0.1",
            "--port", str(port),
            "--webui-port", str(free_port()),
        )  # fmt: skip
        wait_for(master, "I have been elected leader", deadline)
        worker = ("org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1")
        sizes = ("--cores", str(cores), "--memory", memory)
        logs = [
            start(f"worker{n}", *worker, *sizes, "--webui-port", str(free_port()), url)
            for n in range(1, workers + 1)
        ]
        for log in logs:
            wait_for(log, "Successfully registered with master", deadline)
        yield Cluster(url=url, work=folder / "work", logs=folder)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def submit_command(cluster: Cluster, script: str, *args: str, cores: int = 2) -> list[str]:
    """`spark-submit --master <cluster> <script> <args>`: executors of 512 MiB, `cores` in all."""
    return [
        str(spark_home() / "bin" / "spark-submit"),
        "--master", cluster.url,
        "--conf", "spark.executor.memory=512m",
        "--conf", f"spark.cores.max={cores}",
        "--conf", "spark.ui.enabled=false",
        "--conf", "spark.driver.host=127.0.0.1",
        "--conf", "spark.sql.shuffle.partitions=2",
        script,
        *args,
    ]  # fmt: skip


@dataclass(frozen=True)
class ConnectServer:
    url: str  # sc://127.0.0.1:<port>
    port: int
    log: Path


@contextlib.contextmanager
def connect_server(folder: Path, master: str = "local[2]") -> Iterator[ConnectServer]:
    """A Spark Connect server on a free 127.0.0.1 port, from the pyspark package alone: its
    `spark-connect` jar, started as `spark-submit --class ...SparkConnectServer` in the
    foreground (what `sbin/start-connect-server.sh --wait` runs), on `master`. Stopped on exit
    (terminate, then kill after 30 s)."""
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = folder / "connect-server.log"
    command = [
        str(spark_home() / "bin" / "spark-submit"),
        "--class", "org.apache.spark.sql.connect.service.SparkConnectServer",
        "--name", "Spark Connect server",
        "--master", master,
        "--conf", f"spark.connect.grpc.binding.port={port}",
        "--conf", "spark.connect.grpc.binding.address=127.0.0.1",
        "--conf", "spark.ui.enabled=false",
        "--conf", "spark.driver.host=127.0.0.1",
        "--conf", "spark.sql.shuffle.partitions=2",
    ]  # fmt: skip
    # SPARK_CONNECT_MODE=0: spark-submit starts the server, not a client of one
    env = environment(SPARK_CONNECT_MODE="0")
    with log.open("w") as out:
        process = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=folder
        )
    try:
        deadline = time.monotonic() + STARTUP
        started = f"Spark Connect server started at: 127.0.0.1:{port}"
        while started not in log.read_text(errors="replace"):
            if process.poll() is not None:
                raise RuntimeError(f"the Spark Connect server ended before it started: see {log}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{started!r} not in {log} after {STARTUP} s")
            time.sleep(0.3)
        yield ConnectServer(url=f"sc://127.0.0.1:{port}", port=port, log=log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
