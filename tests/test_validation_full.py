"""The full tier with the real engines: local Spark, Iceberg (SQLite and PostgreSQL catalogs), GX,
Airflow `dag.test()`; and every way a run can go wrong becoming a recorded result. The PostgreSQL
catalog, the timeout and the environment's catalog are driven from the shell in
tests/test_cli_validate.py.

A full run is slow (a Spark session, GX, a DAG run per pipeline): the tests share two, each made
once per module by a fixture, and each test asserts its part of them. `passing`: a solution whose
synthesized samples pass every check. `failing`: one run where every way a pipeline can fail
happens once (a crashed subprocess, a job that raises, rejected rows, planted bad rows, the new
rules' failures), beside a pipeline that passes."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from deliverables.validations import evidence, run_report, validations_green
from pipelines.validation.engine import validate
from tests.test_pipeline_spec import EXAMPLE, STORE_MASTER
from tests.test_validation_static import PLAIN, by_check, make_solution


def _catalog(project):
    """The solution's catalog, as its generated jobs load it (.pyiceberg.yaml: SQLite under
    .phasegate/lake/)."""
    from pipelines.lake import open_catalog

    return open_catalog(project.root)


def _rows(table, run_date: str) -> int:
    from pyiceberg.expressions import EqualTo

    return table.scan(row_filter=EqualTo("_run_date", run_date)).to_arrow().num_rows


def _snapshot_runs(table) -> set[str]:
    """The correlation ids of the job runs that committed to the table (its snapshots' summary)."""
    return {
        s.summary.get("phasegate.correlation-id")
        for s in table.snapshots()
        if s.summary is not None
    } - {None}


POSTGRES = "postgresql://postgres@127.0.0.1:5432/"


@contextlib.contextmanager
def _results_database():
    """A throwaway PostgreSQL database as the quality runners' PHASEGATE_RESULTS_DSN (as
    Airflow's scheduled runs would have it) for the run inside; yields the list that gets, after
    it, what they recorded in quality_results (one row per expectation, in the pipeline's
    order)."""
    import psycopg

    database = f"phasegate_results_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(POSTGRES + "postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{database}"')
    results: list[tuple] = []
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("PHASEGATE_RESULTS_DSN", POSTGRES + database)
            yield results
        with psycopg.connect(POSTGRES + database) as conn:
            results += conn.execute(
                "SELECT project, pipeline, run, logical_date::text, expectation, success, "
                "severity, unexpected_count, unexpected_percent "
                "FROM phasegate.quality_results ORDER BY pipeline, position"
            ).fetchall()
    finally:
        with psycopg.connect(POSTGRES + "postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE "{database}" WITH (FORCE)')


@pytest.fixture(scope="module")
def passing(tmp_path_factory):
    """One full run of pos_orders (its rows synthesized from the schema: the spec's sample line
    removed) and store_master, 400 rows each; the quality runners record their results in a
    throwaway PostgreSQL database (PHASEGATE_RESULTS_DSN), as Airflow's scheduled runs would."""
    project = make_solution(
        tmp_path_factory.mktemp("passing") / "retail",
        {"pos_orders": EXAMPLE, "store_master": STORE_MASTER},
    )
    spec = project.root / "pipelines/pos_orders.yaml"
    spec.write_text(spec.read_text().replace("  sample: samples/pos_orders.csv", ""))
    from pipelines.codegen import generate_pipelines

    generate_pipelines(project)
    with _results_database() as results:
        outcome = validate(project, tier="full", rows=400)
    project.results = results  # what the quality runners recorded
    yield project, outcome
    project.close()


def test_the_quality_runner_run_by_dag_test_leaves_its_results_in_the_dashboards_schema(passing):
    """Issue 16: the generated quality runner, run by `dag.test()` with a results DSN, writes
    one row per expectation to the schema `phasegate publish` fills."""
    project, outcome = passing
    # the checkpoint's expectations (max_rejected is the job's own limit, not an expectation)
    quality = [c for c in outcome.checks if c.step == "quality" and "expectation" in c.payload]
    assert len(quality) > 4
    recorded = {(r[1], r[4]): r for r in project.results}
    assert set(recorded) == {(c.pipeline, c.check_name) for c in quality}
    for check in quality:
        row = recorded[(check.pipeline, check.check_name)]
        assert row[0] == "retail" and row[5] == (check.outcome == "passed")
        assert row[6] == check.payload["severity"]
        assert row[3] is not None  # the run's logical date
    assert len({r[2] for r in project.results if r[1] == "pos_orders"}) == 1  # one run


def test_synthesized_samples_pass_end_to_end_on_the_real_engines(passing):
    project, outcome = passing
    problems = [
        (c.pipeline, c.check_name, c.detail) for c in outcome.checks if c.outcome != "passed"
    ]
    assert outcome.status == "passed", problems
    checks = by_check(outcome)
    job = checks[("pos_orders", "job", "job on the sample")].payload
    assert job["rows_read"] == 400 and 0 < job["rows_written"] <= 400  # filter: quantity > 0
    # the job wrote to an audit branch of the table the spec declares (the run's logical date
    # partitioned first), main untouched until the check passed; then publish fast-forwarded
    table = _catalog(project).load_table("sales.orders")
    iceberg = checks[("pos_orders", "iceberg", "Iceberg table")].payload
    snapshot = iceberg["snapshot_id"]
    assert iceberg["branch"] == job["branch"] and job["branch"].startswith("audit-")
    assert iceberg["main_snapshot_id"] != snapshot  # checked while main was not it yet
    assert snapshot in [s.snapshot_id for s in table.snapshots()]
    assert [str(f.transform) for f in table.spec().fields] == ["identity", "day", "bucket[16]"]
    assert ["order_id", "string", True, "Order number from the till"] in iceberg["columns"]
    published = checks[("pos_orders", "publish", "write-audit-publish")].payload
    assert published["published"] is True and published["how"] == "fast-forward"
    assert published["main_snapshot_id"] == snapshot
    # the first run of its date: nothing was there to replace; main holds the batch's rows
    run_date = job["run_date"]
    assert published["rows_of_the_date_before"] == 0
    table = table.refresh()
    assert published["rows_on_main"] == job["rows_written"] == _rows(table, run_date)
    assert _rows(table, run_date) == table.scan().to_arrow().num_rows
    assert set(table.refs()) == {"main"}  # published branches are removed
    # the job ran once (in the DAG's ingest task): one run committed to each table
    assert len(_snapshot_runs(table)) == 1
    assert len(_snapshot_runs(_catalog(project).load_table("sales.stores"))) == 1


def test_one_result_per_expectation_from_the_checkpoint_the_dag_ran(passing):
    project, outcome = passing
    job = by_check(outcome)[("pos_orders", "job", "job on the sample")].payload
    # one result per expectation, with GX's counts
    quality = [c for c in outcome.checks if c.pipeline == "pos_orders" and c.step == "quality"]
    assert [c.check_name for c in quality] == [
        "not_null_order_id",
        "unique_order_id",
        "between_quantity",
        "in_set_status",
        "regex_email",
        "row_count",
        "freshness_ordered_on",
        "not_null_ordered_on",  # nullable: false, though no rule names it
        "max_rejected",  # the rows the job kept out (none: synthesized rows parse)
    ]
    assert quality[0].payload["unexpected_count"] == 0
    assert quality[5].payload["observed_value"] == job["rows_written"]
    assert job["rejected"] == {} and job["rejected_rows"] == 0
    assert quality[-1].payload["rejected"] == 0 and quality[-1].payload["allowed"] == 0
    # the checkpoint of great_expectations/ ran: its result is stored, its Data Docs page built
    expectations = [c for c in quality if c.check_name != "max_rejected"]
    assert {c.payload["environment"] for c in expectations} == {"sample"}
    page = quality[0].payload["data_docs"]
    assert page.startswith(str(project.root / "great_expectations/uncommitted/data_docs/"))
    assert page.endswith(".html") and os.path.isfile(page)
    results = project.root / "great_expectations/uncommitted/validations/pos_orders"
    assert len(list(results.rglob("*.json"))) == 1  # run once, by the DAG's check_quality


def test_the_dag_run_is_the_run_and_the_evidence_follows(passing):
    project, outcome = passing
    checks = by_check(outcome)
    # dag.test() ran the three tasks of each ingestion DAG
    for name in ("store_master", "pos_orders"):
        dag_test = checks[(name, "dag_test", "dag.test()")].payload
        assert dag_test["dag_run"].endswith("success")
        assert set(dag_test["tasks"]) == {"ingest", "check_quality", "publish"}
        assert all(state.endswith("success") for state in dag_test["tasks"].values())
    # each step's result comes from that run: the job step is the ingest task's call
    dag_test = checks[("pos_orders", "dag_test", "dag.test()")]
    job = checks[("pos_orders", "job", "job on the sample")]
    assert 0 < job.duration <= dag_test.payload["durations"]["ingest"] + 0.5
    assert [c.step for c in outcome.checks if c.pipeline == "pos_orders"][-1] == "dag_test"
    assert not [c for c in outcome.checks if c.check_name == "rerun of the date"]
    run = project.tracker.run(outcome.run_id)
    assert run.version_map["pyspark"] and run.version_map["java"] != "missing"
    # evidence for the deliverables, and the phase 5 gate criterion
    assert validations_green(project, "5")[0]
    assert evidence(project, "D5.3") == [
        f"pos_orders: 9/9 expectations met (run {outcome.run_id})",
        # store_id is NOT NULL (checked though no rule names it), and max_rejected
        f"store_master: 2/2 expectations met (run {outcome.run_id})",
    ]
    assert "rows/s" in evidence(project, "D4.5")[0]
    assert "| quality | freshness\\_ordered\\_on | passed |" in run_report(project, outcome.run_id)


def plant_failure(root, name: str) -> None:
    """Makes pipeline `name`'s generated job fail while Spark runs it (an error raised by the
    engine mid-job, as bad data would). The spec's expressions are allow-listed, so the generated
    file is edited, as a user could."""
    job = root / f"src/ingestion/{name}.py"
    text = job.read_text()
    plain = "def apply_transformations(df: DataFrame) -> DataFrame:\n    return df\n"
    assert plain in text
    job.write_text(
        text.replace(
            plain,
            "def apply_transformations(df: DataFrame) -> DataFrame:\n"
            '    return df.withColumn("doomed", F.expr("raise_error(\'planted failure\')"))\n',
        )
    )


def _sample_with_planted_rows(now: datetime) -> str:
    at = (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S")
    good = [f"o{n};s{n};{at};{n}.50;{n};paid;buyer{n}@example.com" for n in range(1, 7)]
    planted = [
        f";s7;{at};3.00;1;paid;b7@example.com",  # null order_id: NOT NULL, rejected
        f"o8;s8;{at};9.00;5000;paid;b8@example.com",  # quantity out of range: between (error)
        f"o9;s9;{at};2.00;2;lost;b9@example.com",  # unknown status: in_set (warning)
        f"o10;s10;{at};2.00;2;void;not-an-email",  # bad e-mail: regex (warning)
        f"o11;s11;{at};2.00;abc;paid;b11@example.com",  # not an int: rejected, not a null
        "o12;s12;2013/01/01 10:00;2.00;2;paid;b12@example.com",  # not a timestamp: rejected
    ]
    header = "order_id;store_id;ordered_at;amount;quantity;status;email"
    return "\n".join([header, *good, *planted]) + "\n"


CARRIERS = """\
name: carriers
source: {path: landing/carriers.csv, format: csv, options: {header: true}, sample: samples/carriers.csv}
schema:
  - {name: carrier, type: string, nullable: false}
  - {name: carrier_name, type: string}
target: {table: ref.carriers}
quality:
  - {rule: unique, column: carrier}
"""
ARRIVALS = """\
name: arrivals
source: {path: landing/arrivals.csv, format: csv, options: {header: true}, sample: samples/arrivals.csv}
schema:
  - {name: flight_date, type: date, nullable: false}
  - {name: flight_no, type: string, nullable: false}
  - {name: carrier, type: string}
  - {name: tail_number, type: string}
  - {name: distance, type: int}
target: {table: ops.arrivals}
quality:
  - {rule: unique, columns: [flight_date, flight_no]}
  - {rule: references, column: carrier, to: carriers.carrier}
  - {rule: not_null, column: tail_number, mostly: 0.8}
  - {rule: between, column: distance, min: 1, max: 5000, mostly: {sample: 0.8, production: 1}}
  - {rule: row_count, min: {sample: 5, production: 100000}}
"""
ARRIVALS_SAMPLE = """\
flight_date,flight_no,carrier,tail_number,distance
2026-11-01,AA1,AA,N1,100
2026-11-01,AA2,AA,N2,200
2026-11-01,DL1,DL,,300
2026-11-01,DL2,DL,N4,9000
2026-11-01,UA1,UA,N5,500
2026-11-01,UA2,ZZ,N6,600
2026-11-01,UA3,UA,N7,700
2026-11-01,AA1,AA,N8,800
"""


@pytest.fixture(scope="module")
def failing(tmp_path_factory):
    """One full run of: crashy (its job ends the subprocess: the others run in a new one), boom
    (its job raises), nulls (a row with a null in a NOT NULL column), pos_orders (planted bad
    rows), arrivals and carriers (the new rules; carriers passes)."""
    specs = {
        "pos_orders": EXAMPLE,
        "store_master": STORE_MASTER,
        "arrivals": ARRIVALS,
        "carriers": CARRIERS,
    }
    for name in ("crashy", "boom", "nulls"):
        specs[name] = PLAIN.format(name=name)
    specs["nulls"] = specs["nulls"].replace(
        "format: json}", "format: json, sample: samples/nulls.json}"
    )
    project = make_solution(tmp_path_factory.mktemp("failing") / "retail", specs)
    root = project.root
    (root / "samples").mkdir()
    (root / "samples/pos_orders.csv").write_text(_sample_with_planted_rows(datetime.now(UTC)))
    (root / "samples/nulls.json").write_text(
        '{"id": 1, "label": "a"}\n{"id": null, "label": "b"}\n'
    )
    (root / "samples/carriers.csv").write_text(
        "carrier,carrier_name\nAA,American\nDL,Delta\nUA,United\n"
    )
    (root / "samples/arrivals.csv").write_text(ARRIVALS_SAMPLE)
    plant_failure(root, "boom")
    crashy = root / "src/ingestion/crashy.py"
    crashy.write_text(
        crashy.read_text().replace(
            "def read_source_data(spark: SparkSession, source: str) -> DataFrame:\n",
            "def read_source_data(spark: SparkSession, source: str) -> DataFrame:\n    os._exit(7)\n",
        )
    )
    # the default per-pipeline timeout (900 s) only stops a hang here; the timeout itself is
    # driven from the shell with a pipeline that never answers (tests/test_cli_validate.py).
    # arrivals references carriers, which runs first though it is named after it
    names = ["crashy", "boom", "nulls", "pos_orders", "arrivals", "carriers"]
    with _results_database() as results:  # failed checks are recorded as passed ones are
        outcome = validate(project, names, tier="full", rows=50)
    project.results = results
    yield project, outcome
    project.close()


def test_a_crash_a_failing_job_and_rejected_rows_are_recorded(failing):
    project, outcome = failing
    assert outcome.status == "failed"
    assert outcome.pipelines == {
        "crashy": "failed",
        "boom": "failed",
        "nulls": "failed",
        "pos_orders": "failed",
        "arrivals": "failed",
        "carriers": "passed",
    }
    checks = by_check(outcome)
    crash = checks[("crashy", "run", "subprocess")]
    assert crash.outcome == "error" and "crashed: exit code 7" in crash.detail
    boom = checks[("boom", "job", "job on the sample")]
    assert boom.outcome == "error" and "planted failure" in boom.detail
    assert boom.payload["partial_write"] is False and boom.payload["snapshots_after"] == 0
    assert not _catalog(project).table_exists("ops.boom")
    # the job is the DAG's ingest task: the run failed there, nothing after it ran
    boom_run = checks[("boom", "dag_test", "dag.test()")]
    assert boom_run.outcome == "failed" and boom_run.payload["tasks"]["ingest"].endswith("failed")
    assert not any(
        c.pipeline == "boom" and c.step in ("quality", "publish") for c in outcome.checks
    )
    # a null in a NOT NULL column: the row is rejected (to ops.nulls_rejected), the run fails
    # on max_rejected and nothing is published: the publish task refused
    nulls = checks[("nulls", "job", "job on the sample")]
    assert nulls.outcome == "passed" and nulls.payload["rejected"] == {"id": 1}
    assert checks[("nulls", "quality", "max_rejected")].detail == (
        "1 of 2 rows rejected in all, at most 0 allowed: id 1"
    )
    publish = checks[("nulls", "publish", "write-audit-publish")]
    assert (
        publish.payload["main_untouched"] is True and publish.payload["publish_task"] == "refused"
    )
    assert (
        checks[("nulls", "dag_test", "dag.test()")].payload["tasks"]["publish"].endswith("failed")
    )
    assert _catalog(project).load_table("ops.nulls").scan().to_arrow().num_rows == 0


def test_planted_bad_rows_fail_exactly_their_expectations_and_failures_are_recorded(failing):
    project, outcome = failing
    root = project.root
    checks = by_check(outcome)
    # the planted rows break exactly these expectations; the others pass
    quality = {
        c.check_name: c
        for c in outcome.checks
        if c.pipeline == "pos_orders" and c.step == "quality"
    }
    assert {name: c.outcome for name, c in quality.items()} == {
        "not_null_order_id": "passed",  # the row with a null order_id was kept out...
        "unique_order_id": "passed",
        "between_quantity": "failed",
        "in_set_status": "warning",
        "regex_email": "warning",
        "row_count": "passed",
        "freshness_ordered_on": "passed",
        "not_null_ordered_on": "passed",
        "max_rejected": "failed",  # ...and counts against max_rejected, as the malformed do
    }
    job = checks[("pos_orders", "job", "job on the sample")].payload
    assert job["rejected"] == {"order_id": 1, "quantity": 1, "ordered_on": 1}  # table names
    assert job["rows_read"] == 12 and job["rejected_rows"] == 3
    assert quality["max_rejected"].detail == (
        "3 of 12 rows rejected in all, at most 0 allowed: order_id 1, ordered_on 1, quantity 1"
    )
    # in the quarantine table: the raw rows and why, once (the job ran once)
    rejected = _catalog(project).load_table("sales.orders_rejected").scan().to_arrow()
    runs: dict[str, list[str]] = {}
    for row in rejected.to_pylist():
        runs.setdefault(row["correlation_id"], []).append(row["reason"])
    assert len(runs) == 1
    for reasons in runs.values():
        assert sorted(reasons) == [
            "order_id: null in a NOT NULL column",
            "ordered_at: '2013/01/01 10:00' is not a valid timestamp",
            "quantity: 'abc' is not a valid int",
        ]
    assert quality["between_quantity"].payload["unexpected_count"] == 1
    assert quality["between_quantity"].payload["unexpected_samples"] == [5000]
    assert quality["in_set_status"].payload["unexpected_samples"] == ["lost"]
    assert quality["row_count"].payload["observed_value"] == 9
    # write-audit-publish held: not published, main untouched, the audit branch kept
    publish = checks[("pos_orders", "publish", "write-audit-publish")]
    assert publish.outcome == "passed", publish.detail
    assert publish.payload["main_untouched"] is True and publish.payload["branch_kept"] is True
    assert publish.payload["publish_task"] == "did not run"
    table = _catalog(project).load_table("sales.orders")
    assert table.scan().to_arrow().num_rows == 0  # main: the empty snapshot the table began with
    assert table.snapshot_by_name(job["branch"]).snapshot_id == job["snapshot_id"]
    # the DAG ran the sample once: ingest succeeded, the quality task failed the run, nothing
    # was published; the failed run's branch is there to inspect, and says why it failed
    dag_test = checks[("pos_orders", "dag_test", "dag.test()")]
    assert dag_test.outcome == "failed"
    assert dag_test.payload["tasks"]["ingest"].endswith("success")
    assert dag_test.payload["tasks"]["check_quality"].endswith("failed")
    assert not dag_test.payload["tasks"]["publish"].endswith("success")
    from pipelines.lake import audit_branches
    from pipelines.spec import load_specs

    branches = audit_branches(root, [s for s in load_specs(root) if s.name == "pos_orders"])
    assert len(branches) == 1 and branches[0].status == "failed"
    assert job["branch"] == branches[0].name
    # why, as the check_quality task failed (its exception, recorded on the table by the DAG):
    # each failed expectation of severity error with its counts; the warnings are not in it
    assert branches[0].failed.startswith("1 of 8 expectations of severity error failed on 9 rows")
    assert branches[0].failed.endswith(
        ": between_quantity (expect_column_values_to_be_between): 1 unexpected (11.11%)"
    )
    report = run_report(project, outcome.run_id)
    assert "| run | subprocess | error |" in report and "samples: 5000" in report


def test_failed_expectations_reach_the_results_table_with_their_counts(failing):
    """Issue 16: a check_quality task that fails still records every result of its run, the
    failed ones with their counts, warnings as warnings."""
    project, outcome = failing
    quality = [c for c in outcome.checks if c.step == "quality" and "expectation" in c.payload]
    recorded = {(r[1], r[4]): r for r in project.results}
    assert set(recorded) == {(c.pipeline, c.check_name) for c in quality}
    for check in quality:
        row = recorded[(check.pipeline, check.check_name)]
        assert row[5] == (check.outcome == "passed"), check
        assert row[6] == check.payload["severity"]
        assert (row[7], row[8]) == (
            check.payload.get("unexpected_count"),
            check.payload.get("unexpected_percent"),
        )
    failed = {(r[1], r[4]): r[6] for r in project.results if not r[5]}
    assert failed == {
        ("pos_orders", "between_quantity"): "error",
        ("pos_orders", "in_set_status"): "warning",
        ("pos_orders", "regex_email"): "warning",
        ("arrivals", "unique_flight_date_flight_no"): "error",
        ("arrivals", "references_carrier"): "error",
    }
    assert recorded[("pos_orders", "between_quantity")][7] == 1
    assert recorded[("arrivals", "unique_flight_date_flight_no")][7:] == (2, 25.0)
    # every pipeline whose quality task ran (crashy and boom never got there)
    assert {r[1] for r in project.results} == {"pos_orders", "arrivals", "carriers", "nulls"}


def test_new_rules_run_as_a_real_gx_checkpoint_with_sample_thresholds(failing):
    """unique over two columns, references (read from the other pipeline's Iceberg table, which
    runs first though its name sorts after), mostly, and thresholds per environment: the full
    tier runs the checkpoint with the sample environment's; the runner's main with production's."""
    project, outcome = failing
    root = project.root
    checks = by_check(outcome)
    assert checks[("carriers", "quality", "unique_carrier")].outcome == "passed"
    quality = {
        c.check_name: c for c in outcome.checks if c.pipeline == "arrivals" and c.step == "quality"
    }
    assert {name: c.outcome for name, c in quality.items()} == {
        "unique_flight_date_flight_no": "failed",  # AA1 twice on 2026-11-01
        "references_carrier": "failed",  # ZZ is no carrier
        "not_null_tail_number": "passed",  # 1 null in 8: 87.5 % >= mostly 80 %
        "between_distance": "passed",  # 9000 is out, 7 of 8 in: mostly 80 % in sample
        "row_count": "passed",  # 8 >= 5, the sample minimum
        "not_null_flight_date": "passed",  # nullable: false, as checks of their own
        "not_null_flight_no": "passed",
        "max_rejected": "passed",
    }
    unique = quality["unique_flight_date_flight_no"].payload
    assert unique["expectation"] == "expect_compound_columns_to_be_unique"
    assert unique["unexpected_count"] == 2
    references = quality["references_carrier"].payload
    assert references["unexpected_count"] == 1 and references["unexpected_samples"] == ["ZZ"]
    assert sorted(references["kwargs"]["value_set"]) == ["AA", "DL", "UA"]  # read from ref.carriers
    assert quality["not_null_tail_number"].payload["unexpected_count"] == 1
    between = quality["between_distance"].payload
    assert between["unexpected_count"] == 1 and between["kwargs"]["mostly"] == 0.8
    assert quality["row_count"].payload["kwargs"]["min_value"] == 5
    # the DAG's check_quality task fails the run (critical expectations failed)
    dag_test = checks[("arrivals", "dag_test", "dag.test()")].payload
    assert dag_test["tasks"]["check_quality"].endswith("failed")
    # the runner's main, as the DAG calls it, on the job's snapshot: production's thresholds,
    # then the sample's (one process runs both)
    snapshot = checks[("arrivals", "job", "job on the sample")].payload["snapshot_id"]
    arguments = ["--snapshot-id", str(snapshot), "--environment"]
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.helpers.quality_main",
            str(root),
            "arrivals",
            *arguments,
            "production",
            "+",
            *arguments,
            "sample",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": os.environ.get("PYTHONPATH", "")},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    production, sample = [json.loads(line) for line in done.stdout.strip().splitlines()[-2:]]
    assert production["failed"] == [
        "unique_flight_date_flight_no",
        "references_carrier",
        "between_distance",
        "row_count",
    ]
    assert production["report"]["success"] is False
    assert production["report"]["environment"] == "production"
    assert production["report"]["rows"] == 8 and production["report"]["expectations"] == 7
    assert production["message"] == (
        "4 of 7 expectations of severity error failed on 8 rows (production thresholds): "
        "unique_flight_date_flight_no (expect_compound_columns_to_be_unique): 2 unexpected (25%); "
        "references_carrier (expect_column_values_to_be_in_set): 1 unexpected (12.5%); "
        "between_distance (expect_column_values_to_be_between): 1 unexpected (12.5%); "
        "row_count (expect_table_row_count_to_be_between): observed 8"
    )
    assert sample["failed"] == ["unique_flight_date_flight_no", "references_carrier"]
    assert sample["report"]["environment"] == "sample"
    assert os.path.isfile(sample["report"]["data_docs"])


def test_cancel_ends_the_subprocess_group_and_records_cancelled(tmp_path):
    project = make_solution(
        tmp_path / "ops", {name: PLAIN.format(name=name) for name in ("alpha", "beta")}
    )
    cancel = threading.Event()
    pids = []

    def listener(event):
        if event["event"] == "subprocess":
            pids.append(event["pid"])
        # the first step starts once the Spark session (its JVM) is up
        if event["event"] == "step" and event["step"] == "sample":
            cancel.set()

    outcome = validate(project, tier="full", rows=20, cancel=cancel, listener=listener)
    assert outcome.status == "cancelled"
    assert {c.outcome for c in outcome.checks if c.step == "run"} == {"cancelled"}
    assert outcome.pipelines == {"alpha": "cancelled", "beta": "cancelled"}
    assert project.tracker.run(outcome.run_id).status == "cancelled"
    with pytest.raises(ProcessLookupError):  # nothing of the group is left, the JVM included
        os.killpg(pids[0], 0)
    project.close()


def test_without_java_every_pipeline_gets_a_clear_error(tmp_path, monkeypatch):
    project = make_solution(tmp_path / "ops", {"alpha": PLAIN.format(name="alpha")})
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "no-jdk"))
    outcome = validate(project, tier="full", rows=10)
    check = by_check(outcome)[("alpha", "sample", "Spark session")]
    assert check.outcome == "error"
    assert (
        check.detail
        == f"JAVA_HOME is {tmp_path / 'no-jdk'}, which has no bin/java: install Java 17 or fix JAVA_HOME"
    )
    assert outcome.status == "failed"
    project.close()
