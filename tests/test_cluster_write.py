"""The generated job's distributed write path on the shared local Spark session: the executors
write Parquet data files into the Iceberg table's location (one partition value per file, Iceberg
types), the driver commits them to the audit branch with write-audit-publish semantics (a real
SQLite catalog, real PyIceberg); the quality runner validates such a batch on Spark with the
same suite and the same report as on pandas (real GX). The spark-submit run on a standalone
cluster is tests/test_cluster.py."""

from __future__ import annotations

import importlib
import json
import logging
import os
import sys
from datetime import UTC, date, datetime

import pyarrow.parquet as pq
import pytest

from tests.test_validation_static import make_solution

# a bucket partition's values are computed by PyIceberg on the executors: their Python is this one
# (read when the shared session starts, after collection)
os.environ.setdefault("PYSPARK_PYTHON", sys.executable)

TRIPS = """\
name: trips
source: {path: landing/trips.json, format: json}
schema:
  - {name: id, type: string, nullable: false}
  - {name: city, type: string}
  - {name: at, type: timestamp, nullable: false}
  - {name: fare, type: "decimal(10,2)"}
  - {name: n, type: int}
target:
  table: raw.trips
  partition_by:
    - {column: at, transform: day}
    - {column: city, transform: bucket, buckets: 4}
quality:
  - {rule: unique, column: id}
  - {rule: between, column: n, min: 0, max: 100}
  - {rule: in_set, column: city, values: [oslo, rome, lima], severity: warning}
  - {rule: row_count, min: 1}
  - {rule: freshness, column: at, max_age_hours: 72, severity: warning}
"""
CITIES = ("oslo", "rome", "lima")
# steps whose optimized plan writes a column nullable that the DataFrame's schema says is not
# (dropDuplicates becomes an aggregation of first()): each must still write required columns as
# required, which Iceberg asks of a data file it adds
STEPS = {
    "dedupe": "[{dedupe: {keys: [id]}}]",
    "dedupe_two_keys": "[{dedupe: {keys: [id, city]}}]",
    "filter_dedupe": "[{filter: {expr: 'n >= 0'}}, {dedupe: {keys: [id]}}]",
    "derive_dedupe": "[{derive: {column: fare_n, expr: 'fare * n', type: double}}, {dedupe: {keys: [id]}}]",
    "cast_rename": "[{cast: {column: n, to: long}}, {rename: {column: city, to: town}}]",
    "none": "[]",
}


def variant(name: str, steps: str) -> str:
    """TRIPS with other transformation steps, into its own table (bucketed by `town` after the
    rename)."""
    spec = TRIPS.replace("name: trips", f"name: trips_{name}", 1)
    spec = spec.replace("table: raw.trips", f"table: raw.trips_{name}")
    if "rename" in steps:
        spec = spec.replace("{column: city, transform: bucket", "{column: town, transform: bucket")
        spec = spec.replace("column: city, values", "column: town, values")
    return spec.replace("quality:", f"transformations: {steps}\nquality:")


def trip_rows(count: int, day: int = 2, bad_n: int | None = None) -> list[dict]:
    return [
        {
            "id": f"t{k}",
            "city": CITIES[k % 3] if k % 7 else None,  # a null city: bucket null
            "at": f"2026-01-{day + k % 2:02d}T{k % 24:02d}:30:00Z",  # two days
            "fare": f"{k}.25",
            "n": bad_n if k == 0 and bad_n is not None else k % 50,
        }
        for k in range(count)
    ]


@pytest.fixture(scope="module")
def solution(tmp_path_factory):
    specs = {"trips": TRIPS, **{f"trips_{n}": variant(n, steps) for n, steps in STEPS.items()}}
    project = make_solution(tmp_path_factory.mktemp("distributed") / "lake", specs)
    sys.path.insert(0, str(project.root))
    yield project
    sys.path.remove(str(project.root))
    for name in [m for m in sys.modules if m == "src" or m.startswith("src.")]:
        del sys.modules[name]
    project.close()


@pytest.fixture
def job(solution, tmp_path, monkeypatch):
    """The generated job, its catalog a throwaway SQLite one (PyIceberg's environment settings)."""
    module = importlib.import_module("src.ingestion.trips")
    prefix = "PYICEBERG_CATALOG__" + module.CATALOG.upper().replace("-", "_") + "__"
    monkeypatch.setenv(prefix + "TYPE", "sql")
    monkeypatch.setenv(prefix + "URI", f"sqlite:///{tmp_path / 'catalog.db'}")
    monkeypatch.setenv(prefix + "WAREHOUSE", (tmp_path / "warehouse").as_uri())
    return module


def _source(tmp_path, rows: list[dict], name: str = "trips.json") -> str:
    path = tmp_path / name
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return str(path)


def _write(job, spark, source: str, cid: str, day: date, write_path: str = "distributed") -> dict:
    df, rejected, parsed = job.read_batch(spark, source, cid, day)
    try:
        assert rejected is None or rejected.count() == 0
        return job.write_to_iceberg(df, day, cid, write_path)
    finally:
        parsed.unpersist()


def test_executors_write_one_partition_value_per_file_and_the_driver_commits_them_on_the_audit_branch(
    job, spark, tmp_path
):
    day = date(2026, 1, 2)
    source = _source(tmp_path, trip_rows(40))
    batch = _write(job, spark, source, "cid-d1", day)
    assert batch["write_path"] == "distributed" and batch["rows"] == 40
    lake = job.catalog()
    table = lake.load_table(job.TARGET_TABLE)
    assert table.scan().to_arrow().num_rows == 0  # main untouched until published
    audit = table.snapshot_by_name(batch["branch"])
    assert audit.snapshot_id == batch["snapshot_id"]
    assert audit.summary["phasegate.write-path"] == "distributed"
    assert audit.summary["added-records"] == "40"
    # the files: in the table's location, one value of each partition field per file
    from pyiceberg.transforms import BucketTransform
    from pyiceberg.types import StringType

    bucket = BucketTransform(4).transform(StringType())
    tasks = list(table.scan(snapshot_id=audit.snapshot_id).plan_files())
    assert len(tasks) == batch["files"] > 2
    epoch = date(1970, 1, 1)
    for task in tasks:
        path = task.file.file_path
        assert path.startswith(table.location() + "/data/" + batch["branch"] + "/")
        rows = pq.read_table(path.removeprefix("file://")).to_pylist()
        run_day, at_day, city_bucket = task.file.partition
        assert {(r["_run_date"] - epoch).days for r in rows} == {run_day}
        assert {(r["at"].date() - epoch).days for r in rows} == {at_day}
        assert {bucket(r["city"]) for r in rows} == {city_bucket}
        # Iceberg's types: timestamptz as INT64 microseconds, UTC-adjusted; NOT NULL required
        schema = pq.read_schema(path.removeprefix("file://"))
        assert str(schema.field("at").type) == "timestamp[us, tz=UTC]"
        assert not schema.field("id").nullable and schema.field("city").nullable
    # published: main reads the rows back as the Arrow path would have written them
    job.publish(batch, {"success": True})
    table = lake.load_table(job.TARGET_TABLE)
    rows = table.scan().to_arrow()
    assert rows.num_rows == 40 and set(table.refs()) == {"main"}
    assert sorted(rows.column("id").to_pylist()) == sorted(f"t{k}" for k in range(40))
    assert str(rows.schema.field("fare").type) == "decimal128(10, 2)"
    # a rerun of the date replaces it, through either path
    again = _write(job, spark, _source(tmp_path, trip_rows(10), "again.json"), "cid-d2", day)
    job.publish(again, {"success": True})
    table = lake.load_table(job.TARGET_TABLE)
    assert sorted(table.scan().to_arrow().column("id").to_pylist()) == sorted(
        f"t{k}" for k in range(10)
    )
    arrow = _write(job, spark, source, "cid-d3", day, write_path="arrow")
    job.publish(arrow, {"success": True})
    assert lake.load_table(job.TARGET_TABLE).scan().to_arrow().num_rows == 40
    other = _write(
        job, spark, _source(tmp_path, trip_rows(5), "d.json"), "cid-d4", date(2026, 1, 5)
    )
    job.publish(other, {"success": True})
    table = lake.load_table(job.TARGET_TABLE)
    assert table.scan().to_arrow().num_rows == 45  # another date: added beside


@pytest.mark.parametrize("steps", sorted(STEPS))
def test_every_transformation_writes_required_columns_required_and_commits(
    job, spark, tmp_path, steps
):
    variant_job = importlib.import_module(f"src.ingestion.trips_{steps}")
    day = date(2026, 1, 2)
    rows = trip_rows(20)
    rows.append(dict(rows[0]))  # a duplicate: the dedupes drop it
    source = _source(tmp_path, rows)
    batch = _write(variant_job, spark, source, f"cid-{steps}", day)
    expected = 21 if steps in ("cast_rename", "none") else 20
    assert batch["write_path"] == "distributed" and batch["rows"] == expected
    table = variant_job.catalog().load_table(variant_job.TARGET_TABLE)
    required = {f.name for f in table.schema().fields if f.required}
    assert {"id", "at", "_source_file", "_correlation_id", "_run_date"} <= required
    for task in table.scan(snapshot_id=batch["snapshot_id"]).plan_files():
        written = pq.read_schema(task.file.file_path.removeprefix("file://"))
        assert {f.name for f in written if not f.nullable} == required, task.file.file_path
    variant_job.publish(batch, {"success": True})
    published = variant_job.catalog().load_table(variant_job.TARGET_TABLE).scan().to_arrow()
    assert published.num_rows == expected
    assert set(published.column("_source_file").to_pylist()) == {f"file://{source}"}


def test_a_file_that_does_not_match_the_table_is_named_with_its_columns(job, tmp_path):
    import pyarrow as pa

    table = job.ensure_table()
    schema = pa.schema([pa.field("id", pa.string(), nullable=True), pa.field("at", pa.int32())])
    path = tmp_path / "stray.parquet"
    pq.write_table(pa.table({"id": ["a"], "at": [1]}, schema=schema), path)
    with pytest.raises(job.SchemaMismatch) as caught:
        job.data_file(table, path.as_uri())
    message = str(caught.value)
    assert message.startswith(f"{job.TARGET_TABLE}: a data file the executors wrote")
    for phrase in (
        "id optional in the file, required in the table",
        "at int32 in the file, timestamp[us, tz=UTC] in the table",
        "_source_file missing",
        "city missing",
    ):
        assert phrase in message
    assert str(path) in message and "\n" not in message


def test_a_failed_check_leaves_main_as_it_was_and_keeps_the_distributed_audit_branch(
    job, spark, tmp_path
):
    day = date(2026, 1, 3)
    batch = _write(job, spark, _source(tmp_path, trip_rows(6)), "cid-f1", day)
    with pytest.raises(job.NotPublished, match=batch["branch"]):
        job.publish(batch, {"success": False, "failed": "unique_id"})
    table = job.catalog().load_table(job.TARGET_TABLE)
    assert table.current_snapshot().snapshot_id == batch["base_snapshot_id"]
    assert table.snapshot_by_name(batch["branch"]).snapshot_id == batch["snapshot_id"]


def test_a_null_in_a_not_null_column_fails_the_distributed_write_instead_of_a_placeholder(
    job, spark, tmp_path
):
    from pyspark.sql import functions as F

    df, _, parsed = job.read_batch(
        spark, _source(tmp_path, trip_rows(3)), "cid-n", date(2026, 1, 4)
    )
    try:
        bad = df.withColumn("id", F.when(F.col("n") == 1, F.lit(None)).otherwise(F.col("id")))
        with pytest.raises(Exception, match="NOT NULL column id holds a null"):
            job.write_to_iceberg(bad, date(2026, 1, 4), "cid-n", "distributed")
    finally:
        parsed.unpersist()


def test_main_chooses_the_write_path_by_rows_read_and_says_which_in_its_log(
    job, spark, tmp_path, caplog
):
    source = _source(tmp_path, trip_rows(8))
    caplog.set_level(logging.INFO)
    small = job.main(["--source", source, "--run-date", "2026-01-06"])
    assert small["write_path"] == "arrow"
    assert "write path: arrow (auto: 8 rows read < 1000000 (--distributed-rows))" in caplog.text
    given = ["--correlation-id", "manual__2026-01-06T00:00:00+00:00"]  # an Airflow run id
    large = job.main(
        ["--source", source, "--run-date", "2026-01-06", "--distributed-rows", "8", *given]
    )
    assert large["write_path"] == "distributed" and large["rows"] == 8
    assert large["branch"] == "audit-2026-01-06-manual__2026-01-06T00:00:00+00:00"
    audit = job.catalog().load_table(job.TARGET_TABLE).snapshot_by_id(large["snapshot_id"])
    assert audit.summary["phasegate.rows-read"] == "8"
    assert audit.summary["phasegate.correlation-id"] == large["correlation_id"] == given[1]
    assert "write path: distributed (auto: 8 rows read >= 8 (--distributed-rows))" in caplog.text
    forced = job.main(["--source", source, "--run-date", "2026-01-06", "--write-path", "arrow"])
    assert forced["write_path"] == "arrow"
    assert "write path: arrow (--write-path arrow)" in caplog.text
    with pytest.raises(SystemExit):  # argparse names the choices
        job.main(["--source", source, "--write-path", "fast"])


def test_the_quality_check_on_spark_gives_the_pandas_report_for_the_same_batch(
    job, spark, tmp_path
):
    quality = importlib.import_module("src.validation.trips_quality")
    day = date(2026, 1, 2)
    batch = _write(job, spark, _source(tmp_path, trip_rows(30, bad_n=500)), "cid-q1", day)
    table = job.catalog().load_table(job.TARGET_TABLE)
    assert quality.use_spark("auto", table, batch["snapshot_id"])  # written distributed
    now = datetime(2026, 1, 4, tzinfo=UTC)
    on_spark = quality.read_batch_spark(spark, table, batch["snapshot_id"], "cid-q1")
    on_pandas = quality.read_batch(table, batch["snapshot_id"], "cid-q1")
    reports = []
    for df in (on_spark, on_pandas):
        with pytest.raises(quality.DataQualityException) as caught:  # n = 500: between fails
            quality.run_checkpoint(df, env="sample", now=now)
        assert caught.value.failed == ["between_n"]
        reports.append(caught.value.report)
    spark_report, pandas_report = reports
    assert spark_report["rows"] == pandas_report["rows"] == 30
    for report in reports:
        report.pop("data_docs")
        for result in report["results"]:  # GX words a float count its own way per engine
            result.pop("unexpected_percent", None)
    assert spark_report == pandas_report
    warned = {r["rule"]: r for r in spark_report["results"]}["in_set_city"]
    assert warned["success"] is True  # nulls are not checked by in_set


def test_the_quality_runner_validates_a_large_batch_on_spark_and_stores_its_result(
    job, spark, tmp_path, monkeypatch, caplog
):
    quality = importlib.import_module("src.validation.trips_quality")
    monkeypatch.setenv("PHASEGATE_ENV", "sample")
    caplog.set_level(logging.INFO)
    batch = job.main(
        [
            "--source",
            _source(tmp_path, trip_rows(12)),
            "--run-date",
            "2026-01-02",
            "--write-path",
            "distributed",
        ]
    )
    args = ["--snapshot-id", str(batch["snapshot_id"]), "--correlation-id", batch["correlation_id"]]
    report = quality.main(args)  # auto: the batch was written distributed, so on Spark
    assert report["success"] and report["rows"] == 12
    assert report["data_docs"] and report["data_docs"].endswith(".html")
    from pathlib import Path

    assert Path(report["data_docs"]).is_file()
    assert '"engine": "spark"' in caplog.text
    on_pandas = quality.main([*args, "--engine", "pandas"])
    assert '"engine": "pandas"' in caplog.text
    for result in (*report["results"], *on_pandas["results"]):
        result["kwargs"].pop("min_value", None)  # freshness: "now" when each ran
    assert on_pandas["results"] == report["results"]
