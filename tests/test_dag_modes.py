"""The generated ingestion DAG run for real in the spark_submit mode: dag.test() with a real
metadata DB, the job submitted by SparkSubmitOperator (spark-submit of the pyspark package, a
local master named by the Airflow connection), audit_batch finding the batch it wrote, the check
and the publish; publish records the table's asset event with the run date, and Airflow queues
the pipeline scheduled on that asset (data-aware scheduling)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from deliverables import Project
from pipelines.codegen import generate_pipelines
from pipelines.lake import open_catalog
from pipelines.scaffold import generate_scaffold
from tests.conftest import ROOT, fixed_clock
from tests.helpers.unmeasured import unmeasured
from tests.test_validation_static import PLAIN

ROWS = "".join(json.dumps({"id": n, "label": f"row {n}"}) + "\n" for n in (1, 2, 3))


@pytest.mark.slow
def test_spark_submit_runs_the_job_and_publish_updates_the_asset_downstream_waits_on(tmp_path):
    from pipelines.validation.full import migrated_database

    root = tmp_path / "ops"
    project, _ = Project.init(root, clock=fixed_clock)
    generate_scaffold(project)
    context = root / "agent-prompts/context.yaml"
    context.write_text(
        context.read_text().replace(
            "      mode: in_process\n", "      mode: spark_submit\n      conn_id: spark_local\n"
        )
    )
    (root / "pipelines").mkdir()
    (root / "pipelines/alpha.yaml").write_text(PLAIN.format(name="alpha") + "schedule: '@daily'\n")
    (root / "pipelines/beta.yaml").write_text(
        PLAIN.format(name="beta") + "depends_on: [alpha]\nscheduling: assets\n"
    )
    generate_pipelines(project)
    project.close()
    (root / "landing").mkdir()
    (root / "landing/alpha.json").write_text(ROWS)
    home = tmp_path / "airflow"
    home.mkdir()
    shutil.copyfile(migrated_database(), home / "airflow.db")
    dags = root / "airflow" / "dags"
    env = {
        **unmeasured(),  # Airflow and spark-submit run the generated code only
        "PYTHONPATH": str(ROOT),
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "false",
        # Airflow queues runs of unpaused DAGs only
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "false",
        # the connection names the master; spark-submit is the pyspark package's, beside python
        "AIRFLOW_CONN_SPARK_LOCAL": json.dumps({"conn_type": "spark", "host": "local[1]"}),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "PHASEGATE_ENV": "sample",
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
    assert report["state"].endswith("success"), (report, result.stdout[-6000:])
    assert set(report["tasks"]) == {
        "arguments",
        "ingest",
        "audit_batch",
        "check_quality",
        "publish",
    }
    assert all(state.endswith("success") for state in report["tasks"].values()), report
    # the table's asset event carries the run date; Airflow queued beta, scheduled on it
    assert report["events"] == [
        {
            "uri": "iceberg://ops/ops/alpha",
            "extra": {"run_date": "2026-11-20", "table": "ops.alpha"},
        }
    ]
    assert report["queued"] == [["beta", "iceberg://ops/ops/alpha"]]
    # the job's rows are main's, and the audit branch is gone
    table = open_catalog(root).load_table("ops.alpha")
    rows = table.scan().to_arrow()
    assert sorted(rows.column("id").to_pylist()) == [1, 2, 3]
    assert set(rows.column("_run_date").to_pylist()) == {__import__("datetime").date(2026, 11, 20)}
    assert [name for name in table.refs() if name.startswith("audit-")] == []
