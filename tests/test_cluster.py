"""A generated job on a real Spark standalone cluster: a master and two one-core workers on
127.0.0.1, started from the pyspark package alone (`spark-class ...deploy.master.Master` and
`...deploy.worker.Worker`), the job submitted with `spark-submit --master spark://...`. The
executors write the data files (the distributed write path), the driver commits them to the
audit branch; publish makes main the audit snapshot. (The quality check on Spark is
tests/test_cluster_write.py's, on the local session: a second application here would double
the test's time.) One cluster for the module; it is stopped whatever the outcome."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.helpers.spark_cluster import Cluster, environment, standalone_cluster, submit_command
from tests.test_cluster_write import TRIPS, trip_rows
from tests.test_validation_static import make_solution


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A master and two workers of one core each, stopped on teardown."""
    with standalone_cluster(tmp_path_factory.mktemp("cluster")) as running:
        yield running


def submit(cluster: Cluster, root: Path, script: str, *args: str, env: dict) -> str:
    """`spark-submit --master <cluster> <script> <args>` in the solution; its log."""
    done = subprocess.run(
        submit_command(cluster, script, *args),
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-6000:]
    return done.stdout + done.stderr


def _logged(log: str, message: str) -> dict:
    for line in log.splitlines():
        if line.startswith("{") and f'"message": "{message}"' in line:
            return json.loads(line)
    raise AssertionError(f"no {message!r} line in the log:\n{log[-3000:]}")


def test_a_generated_job_runs_on_a_standalone_cluster_with_spark_submit(cluster, tmp_path):
    project = make_solution(tmp_path / "lake", {"trips": TRIPS})
    root = project.root
    project.close()
    source = tmp_path / "trips.json"
    source.write_text("".join(json.dumps(row) + "\n" for row in trip_rows(60)))
    sys.path.insert(0, str(root))
    try:
        from src.ingestion import trips as job

        prefix = "PYICEBERG_CATALOG__" + job.CATALOG.upper().replace("-", "_") + "__"
        settings = {
            prefix + "TYPE": "sql",
            prefix + "URI": f"sqlite:///{tmp_path / 'catalog.db'}",
            prefix + "WAREHOUSE": (tmp_path / "warehouse").as_uri(),
        }
        env = environment(**settings, PYTHONPATH=str(root))
        log = submit(
            cluster,
            root,
            "src/ingestion/trips.py",
            "--source", str(source),
            "--run-date", "2026-01-02",
            "--write-path", "distributed",
            env=env,
        )  # fmt: skip
        started = _logged(log, "write path: distributed (--write-path distributed)")
        assert started["write_path"] == "distributed"
        batch = _logged(log, "job finished")["batch"]
        assert batch["rows"] == 60 and batch["write_path"] == "distributed"
        # its executors ran on the workers (each has an app-<id>/<executor> folder)
        assert len(list(cluster.work.glob("app-*/*"))) == 2
        for variable, value in settings.items():
            os.environ[variable] = value
        try:
            lake = job.catalog()
            table = lake.load_table(job.TARGET_TABLE)
            audit = table.snapshot_by_name(batch["branch"])
            assert audit.snapshot_id == batch["snapshot_id"] != table.current_snapshot().snapshot_id
            assert table.scan().to_arrow().num_rows == 0  # main: the empty first snapshot
            files = list(table.scan(snapshot_id=audit.snapshot_id).plan_files())
            job.publish(batch, {"success": True})
            table = lake.load_table(job.TARGET_TABLE)
        finally:
            for variable in settings:
                os.environ.pop(variable, None)
        assert table.current_snapshot().snapshot_id == audit.snapshot_id  # a fast-forward
        assert set(table.refs()) == {"main"}
        rows = table.scan().to_arrow()
        assert sorted(rows.column("id").to_pylist()) == sorted(f"t{k}" for k in range(60))
        assert set(rows.column("_run_date").to_pylist()) == {date(2026, 1, 2)}
        # one value of each partition field per file, written by the executors
        from pyiceberg.transforms import BucketTransform
        from pyiceberg.types import StringType

        bucket, epoch = BucketTransform(4).transform(StringType()), date(1970, 1, 1)
        seen = set()
        for task in files:
            written = pq.read_table(task.file.file_path.removeprefix("file://")).to_pylist()
            values = {
                ((r["_run_date"] - epoch).days, (r["at"].date() - epoch).days, bucket(r["city"]))
                for r in written
            }
            assert values == {tuple(task.file.partition)}
            seen |= values
        assert len(seen) >= 4  # two days, several buckets and the null city's
    finally:
        sys.path.remove(str(root))
        for name in [m for m in sys.modules if m == "src" or m.startswith("src.")]:
            del sys.modules[name]
