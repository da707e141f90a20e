"""How the full tier runs a pipeline's DAG the way agent-prompts/context.yaml submits it
(pipelines.submission), and what it records about that.

- `in_process`: the ingest task runs the job in the validation's process, on its Spark session.
- `spark_submit`: the ingest task is the real SparkSubmitOperator: `spark-submit` (the pyspark
  package's when none is on the PATH) on the connection `conn_id`. A connection the user
  configured in the environment (AIRFLOW_CONN_<ID>) is used as it is; otherwise the tier
  provides one naming a local master (PHASEGATE_SPARK_MASTER, default local[2]), so the
  validation runs on this machine and never submits to a production cluster by default.
- `spark_connect`: the ingest task runs the job as a client of the server the connection names;
  an unconfigured connection or an unreachable server is refused before the DAG runs.

`prepare` is called once per validation, in the validation's child process (whose environment
it may change: the child is the run's own).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import sys
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from pipelines.errors import SpecError
from pipelines.submission import Submission, submission
from pipelines.validation.protocol import describe

LOCAL_MASTER = "local[2]"
CONNECT_PORT = 15002  # Spark Connect's default port
REACH_TIMEOUT = 5.0  # seconds to open a TCP connection to the Spark Connect server


@dataclass
class Validated:
    """The submission a validation runs with: its mode and connection, what the connection
    pointed at, and why it cannot run (None: it can)."""

    how: Submission
    facts: dict = field(default_factory=dict)
    problem: str | None = None

    @property
    def mode(self) -> str:
        return self.how.mode

    def describe(self) -> str:
        """A sentence for the dag.test() check's detail."""
        if self.mode == "spark_submit":
            target = self.facts.get("master", "the connection's master")
            origin = "provided by the validation" if self.facts.get("provided") else "configured"
            return f"spark_submit: SparkSubmitOperator on {self.how.conn_id} ({target}, {origin})"
        if self.mode == "spark_connect":
            return f"spark_connect: a client of {self.facts.get('remote')} ({self.how.conn_id})"
        return "in_process: the job ran inside the ingest task"


def prepare(root: Path) -> Validated:
    """The solution's submission, made ready to run here (see the module's docstring)."""
    try:
        how = submission(root)
    except SpecError as exc:
        return Validated(Submission(), {"mode": "unknown"}, str(exc))
    validated = Validated(how, {"mode": how.mode, "conn_id": how.conn_id})
    try:
        if how.mode == "spark_submit":
            _spark_submit(validated)
        elif how.mode == "spark_connect":
            _spark_connect(validated)
    except Exception as exc:  # the connection could not be read: a result, not a crash
        validated.problem = f"the {how.mode} connection {how.conn_id}: {describe(exc)}"
    return validated


def conn_variable(conn_id: str) -> str:
    """The environment variable Airflow reads the connection `conn_id` from."""
    return f"AIRFLOW_CONN_{conn_id.upper()}"


def _spark_submit(validated: Validated) -> None:
    variable = conn_variable(validated.how.conn_id)
    provided = variable not in os.environ
    if provided:
        master = os.environ.get("PHASEGATE_SPARK_MASTER", LOCAL_MASTER)
        os.environ[variable] = json.dumps({"conn_type": "spark", "host": master})
    from airflow.providers.apache.spark.hooks.spark_submit import SparkSubmitHook

    connection = SparkSubmitHook(conn_id=validated.how.conn_id)._connection
    validated.facts.update(master=connection["master"], provided=provided)
    # spark-submit runs the job with this Python (its packages: pyspark, pyiceberg, GX)
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    binary = connection.get("spark_binary") or "spark-submit"
    if shutil.which(binary) is None:
        # the pyspark package's spark-submit, installed beside this Python
        bin_dir = str(Path(sys.executable).parent)
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
        if shutil.which(binary) is None:
            validated.problem = f"{binary} is not on the PATH (nor beside {sys.executable})"
    validated.facts["spark_submit"] = shutil.which(binary)


def _spark_connect(validated: Validated) -> None:
    from airflow.providers.apache.spark.hooks.spark_connect import SparkConnectHook

    try:
        remote = SparkConnectHook(validated.how.conn_id).get_connection_url()
    except Exception as exc:
        validated.problem = (
            f"the Spark Connect connection {validated.how.conn_id} is not configured "
            f"({describe(exc)}): set {conn_variable(validated.how.conn_id)}, e.g. "
            '{"conn_type": "spark_connect", "host": "sc://host", "port": 15002}'
        )
        return
    validated.facts["remote"] = remote
    url = urlparse(remote)
    host, port = url.hostname or "", url.port or CONNECT_PORT
    try:
        with socket.create_connection((host, port), timeout=REACH_TIMEOUT):
            pass
    except OSError as exc:
        validated.problem = (
            f"the Spark Connect server {host}:{port} (connection {validated.how.conn_id}) is "
            f"unreachable: {describe(exc)}"
        )
