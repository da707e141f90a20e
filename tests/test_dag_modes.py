"""The generated ingestion DAG run for real in the spark_submit and spark_connect modes: dag.test()
with a real metadata DB.

spark_submit: the job submitted by SparkSubmitOperator (spark-submit of the pyspark package, a
local master named by the Airflow connection), audit_batch finding the batch it wrote, the check
and the publish; publish records the table's asset event with the run date, and Airflow queues
the pipeline scheduled on that asset (data-aware scheduling).

spark_connect: a Spark Connect server started from the pyspark package (its spark-connect jar) on
a free 127.0.0.1 port; the job runs as its client (`--remote`, the URL of the Airflow connection),
malformed records included, and its rows reach main after write-audit-publish."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from deliverables import Project
from pipelines.codegen import generate_pipelines
from pipelines.lake import open_catalog
from pipelines.scaffold import generate_scaffold
from tests.conftest import ROOT, fixed_clock
from tests.helpers.spark_cluster import connect_server
from tests.helpers.unmeasured import unmeasured
from tests.test_validation_static import PLAIN, by_check

MAX_ONE_REJECTED = "  - {rule: max_rejected, max: 1}\n"  # a quality rule, after PLAIN's
ROWS = "".join(json.dumps({"id": n, "label": f"row {n}"}) + "\n" for n in (1, 2, 3))


def solution(tmp_path: Path, submit: str, pipelines: dict[str, str], rows: str) -> Path:
    """A generated solution whose context.yaml submits as `submit` (its YAML lines), with
    landing/alpha.json holding `rows`."""
    root = tmp_path / "ops"
    project, _ = Project.init(root, clock=fixed_clock)
    generate_scaffold(project)
    context = root / "agent-prompts/context.yaml"
    context.write_text(context.read_text().replace("      mode: in_process\n", submit))
    (root / "pipelines").mkdir()
    for name, text in pipelines.items():
        (root / f"pipelines/{name}.yaml").write_text(text)
    generate_pipelines(project)
    project.close()
    (root / "landing").mkdir()
    (root / "landing/alpha.json").write_text(rows)
    return root


def dag_test(tmp_path: Path, root: Path, connection: dict, **extra: str) -> dict:
    """dag.test() of alpha for 2026-11-20 (tests.helpers.dag_run), the Airflow connection
    spark_local being `connection` (and `extra` in the environment); its report."""
    from pipelines.validation.full import migrated_database

    home = tmp_path / "airflow"
    home.mkdir()
    shutil.copyfile(migrated_database(), home / "airflow.db")
    dags = root / "airflow" / "dags"
    env = {
        **unmeasured(),  # Airflow, spark-submit and the Connect client run the generated code only
        "PYTHONPATH": str(ROOT),
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "false",
        # Airflow queues runs of unpaused DAGs only
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "false",
        "AIRFLOW_CONN_SPARK_LOCAL": json.dumps(connection),
        # spark-submit is the pyspark package's, beside python
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "PHASEGATE_ENV": "sample",
        **extra,
    }
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.helpers.dag_run",
            str(dags),
            "alpha",
            "2026-11-20T00:00:00+00:00",
            str(root / "landing/alpha.json"),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["state"].endswith("success"), (
        report,
        result.stdout[-6000:],
        result.stderr[-6000:],
    )
    assert all(state.endswith("success") for state in report["tasks"].values()), report
    return report


def published(root: Path, ids: list[int]) -> None:
    """main holds `ids` for the run date, and no audit branch is left."""
    table = open_catalog(root).load_table("ops.alpha")
    rows = table.scan().to_arrow()
    assert sorted(rows.column("id").to_pylist()) == ids
    assert set(rows.column("_run_date").to_pylist()) == {date(2026, 11, 20)}
    assert [name for name in table.refs() if name.startswith("audit-")] == []


@pytest.mark.slow
def test_spark_submit_runs_the_job_and_publish_updates_the_asset_downstream_waits_on(tmp_path):
    root = solution(
        tmp_path,
        "      mode: spark_submit\n      conn_id: spark_local\n",
        {
            "alpha": PLAIN.format(name="alpha") + "schedule: '@daily'\n",
            "beta": PLAIN.format(name="beta") + "depends_on: [alpha]\nscheduling: assets\n",
        },
        ROWS,
    )
    # the connection names the master
    report = dag_test(tmp_path, root, {"conn_type": "spark", "host": "local[1]"})
    assert set(report["tasks"]) == {
        "arguments",
        "ingest",
        "audit_batch",
        "check_quality",
        "publish",
    }
    # the table's asset event carries the run date; Airflow queued beta, scheduled on it
    assert report["events"] == [
        {
            "uri": "iceberg://ops/ops/alpha",
            "extra": {"run_date": "2026-11-20", "table": "ops.alpha"},
        }
    ]
    assert report["queued"] == [["beta", "iceberg://ops/ops/alpha"]]
    # the job's rows are main's, and the audit branch is gone
    published(root, [1, 2, 3])


@pytest.fixture(scope="module")
def spark_connect(tmp_path_factory):
    """One Spark Connect server for the module's tests (its start is the expensive part)."""
    with connect_server(tmp_path_factory.mktemp("connect")) as server:
        yield server


@pytest.mark.slow
def test_spark_connect_runs_the_job_as_a_client_of_the_server(tmp_path, spark_connect):
    # a malformed record: the reader's corrupt-record column and from_json run on the server
    rows = ROWS + '{"id": "abc", "label": "bad"}\n'
    root = solution(
        tmp_path,
        "      mode: spark_connect\n      conn_id: spark_local\n",
        # the malformed record is within the limit: the batch is published
        {"alpha": PLAIN.format(name="alpha") + MAX_ONE_REJECTED + "schedule: '@daily'\n"},
        rows,
    )
    server = spark_connect
    connection = {"conn_type": "spark_connect", "host": "127.0.0.1", "port": server.port}
    # the distributed write path: the server's executors write the data files, and the check
    # (auto: on Spark for such a batch) validates a Spark Connect DataFrame with GX
    report = dag_test(tmp_path, root, connection, PHASEGATE_WRITE_PATH="distributed")
    served = server.log.read_text(errors="replace")
    assert set(report["tasks"]) == {"ingest", "check_quality", "publish"}
    assert report["events"][0]["extra"] == {"run_date": "2026-11-20", "table": "ops.alpha"}
    # the server's executors ran the job's Spark tasks, for a client's execution
    assert "SparkConnectExecutionManager: ExecuteHolder" in served, served[-2000:]
    assert "Executor: Finished task" in served, served[-2000:]
    published(root, [1, 2, 3])
    docs = root / "great_expectations/uncommitted/data_docs/local_site/validations/alpha"
    assert [p.name for p in docs.rglob("*.html")] == ["lake_spark-alpha.html"]  # GX on Spark
    rejected = open_catalog(root).load_table("ops.alpha_rejected").scan().to_arrow()
    assert rejected.column("columns").to_pylist() == [["id"]]


# --- the full tier validates the submission context.yaml chooses --------------------------------


def full_tier(root: Path):
    """`phasegate validate --tier full` of the solution at `root` (20 synthesized rows)."""
    from pipelines.validation.engine import validate

    project = Project.open(root)
    try:
        return validate(project, tier="full", rows=20)
    finally:
        project.close()


def assert_validated(outcome, mode: str) -> dict:
    """Every check of alpha passed, the job step's batch is on main; returns the dag.test()
    check's payload."""
    checks = by_check(outcome)
    problems = [
        (c.step, c.check_name, c.outcome, c.detail) for c in outcome.checks if c.outcome != "passed"
    ]
    assert not problems, problems
    run = checks[("alpha", "dag_test", "dag.test()")]
    assert run.payload["submission"]["mode"] == mode
    assert mode in run.detail
    job = checks[("alpha", "job", "job on the sample")].payload
    assert job["rows_written"] == 20 and job["rows_read"] == 20
    assert job["branch"].startswith("audit-")
    assert checks[("alpha", "iceberg", "Iceberg table")].outcome == "passed"
    assert "published to main" in checks[("alpha", "publish", "write-audit-publish")].detail
    return run.payload


@pytest.mark.slow
def test_the_full_tier_runs_the_spark_submit_task_on_a_local_master_it_provides(
    tmp_path, monkeypatch
):
    root = solution(
        tmp_path,
        "      mode: spark_submit\n      conn_id: spark_local\n",
        {"alpha": PLAIN.format(name="alpha")},
        ROWS,
    )
    monkeypatch.delenv("AIRFLOW_CONN_SPARK_LOCAL", raising=False)
    monkeypatch.setenv("PHASEGATE_SPARK_MASTER", "local[1]")
    outcome = full_tier(root)
    payload = assert_validated(outcome, "spark_submit")
    # the real SparkSubmitOperator ran the job, then audit_batch found its batch
    assert set(payload["tasks"]) == {
        "arguments",
        "ingest",
        "audit_batch",
        "check_quality",
        "publish",
    }
    assert payload["submission"]["master"] == "local[1]"
    assert payload["submission"]["provided"] is True
    table = open_catalog(root).load_table("ops.alpha")
    assert table.scan().to_arrow().num_rows == 20


@pytest.mark.slow
def test_the_full_tier_runs_the_job_on_the_spark_connect_server(
    tmp_path, monkeypatch, spark_connect
):
    root = solution(
        tmp_path,
        "      mode: spark_connect\n      conn_id: spark_local\n",
        {"alpha": PLAIN.format(name="alpha")},
        ROWS,
    )
    executions = spark_connect.log.read_text(errors="replace").count("ExecuteHolder")
    connection = {"conn_type": "spark_connect", "host": "127.0.0.1", "port": spark_connect.port}
    monkeypatch.setenv("AIRFLOW_CONN_SPARK_LOCAL", json.dumps(connection))
    outcome = full_tier(root)
    payload = assert_validated(outcome, "spark_connect")
    assert set(payload["tasks"]) == {"ingest", "check_quality", "publish"}
    assert payload["submission"]["remote"].startswith(f"sc://127.0.0.1:{spark_connect.port}")
    # the job's queries ran on the server
    served = spark_connect.log.read_text(errors="replace")
    assert served.count("ExecuteHolder") > executions
