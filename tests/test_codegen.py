"""Pipelines generated from specs, checked with the real tools: ruff, a DagBag, GX, Spark."""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys

import pytest

from deliverables import Project
from pipelines.codegen import generate_pipelines
from pipelines.scaffold import generate_scaffold
from tests.conftest import ROOT, fixed_clock
from tests.helpers.unmeasured import unmeasured
from tests.test_pipeline_spec import EXAMPLE, STORE_MASTER

RUFF = os.path.join(os.path.dirname(sys.executable), "ruff")


@pytest.fixture(scope="module")
def solution(tmp_path_factory):
    project, _ = Project.init(tmp_path_factory.mktemp("repo") / "retail", clock=fixed_clock)
    generate_scaffold(project)
    (project.root / "pipelines").mkdir()
    (project.root / "pipelines" / "pos_orders.yaml").write_text(EXAMPLE)
    (project.root / "pipelines" / "store_master.yaml").write_text(STORE_MASTER)
    result = generate_pipelines(project)
    yield project, result
    project.close()


def _run(args, cwd, env_extra=None, timeout=600):
    # tests/helpers' Airflow and GX runs and the generated project's tests: no phasegate code
    env = {**unmeasured(), "PYTHONPATH": str(ROOT), **(env_extra or {})}
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def test_every_file_of_each_pipeline_is_generated(solution):
    project, result = solution
    for name, table in (("pos_orders", "sales.orders"), ("store_master", "sales.stores")):
        for path in (
            f"src/ingestion/{name}.py",
            f"src/validation/{name}_quality.py",
            f"sql/ddl/{table}.sql",
            f"great_expectations/expectations/{name}.json",
            f"great_expectations/validation_definitions/{name}.json",
            f"great_expectations/checkpoints/{name}.json",
            f"airflow/dags/ingestion/{name}_dag.py",
            f"tests/unit/test_{name}.py",
            f"tests/fixtures/{name}.json",
            f"agent-prompts/tasks/ingestion/{name}.md",
        ):
            assert (project.root / path).is_file(), path
    assert (project.root / "airflow/dags/orchestration/orchestration.py").is_file()
    assert (project.root / "great_expectations/great_expectations.yml").is_file()
    assert (project.root / "great_expectations/.gitignore").read_text().endswith("uncommitted/\n")
    assert result.count("new") == len(result.files)


def test_the_whole_solution_is_ruff_clean(solution):
    project, _ = solution
    assert _run([RUFF, "check", "--no-cache", "."], project.root).returncode == 0
    fmt = _run([RUFF, "format", "--check", "--no-cache", "."], project.root)
    assert fmt.returncode == 0, fmt.stdout


def test_dags_load_with_no_errors_and_the_orchestration_follows_depends_on(solution, tmp_path):
    project, _ = solution
    result = _run(
        [
            sys.executable,
            "-m",
            "tests.helpers.dag_structure",
            str(project.root / "airflow" / "dags"),
        ],
        ROOT,
        {"AIRFLOW_HOME": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["errors"] == {} and report["warnings"] == {}
    dags = report["dags"]
    assert set(dags) == {"orchestration_store_master", "pos_orders", "store_master"}
    ingest = dags["pos_orders"]["tasks"]
    # write-audit-publish: publish reads the batch from ingest and the verdict from check_quality
    assert ingest["ingest"]["downstream"] == ["check_quality", "publish"]
    assert ingest["check_quality"]["downstream"] == ["publish"]
    assert ingest["ingest"]["operator"] == "_PythonDecoratedOperator"
    assert dags["pos_orders"]["params"] == {"source": "landing/pos/orders/*.csv"}
    orchestration = dags["orchestration_store_master"]["tasks"]
    assert orchestration["trigger_store_master"]["downstream"] == ["trigger_pos_orders"]
    for task in orchestration.values():
        assert task["operator"] == "TriggerDagRunOperator" and task["wait"] is True
        # the triggered run's logical date (its ds, the job's --run-date) is the orchestration's
        assert task["logical_date"] == "{{ logical_date }}" and task["conf"] is None
        assert task["reset_dag_run"] is True  # a rerun of a date reruns it
    assert {t["trigger_dag_id"] for t in orchestration.values()} == {"store_master", "pos_orders"}
    # the group runs on the schedule pos_orders declares; its pipelines only when triggered
    assert dags["orchestration_store_master"]["schedule"] == "0 5 * * *"
    assert dags["pos_orders"]["schedule"] == dags["store_master"]["schedule"] == "None"


def test_the_orchestration_triggers_each_pipeline_for_its_own_logical_date(solution, tmp_path):
    """dag.test() of the orchestration for a past date (a backfill), with a real metadata DB:
    each pipeline's triggered run is for that date, not for "now"."""
    from pipelines.validation.full import migrated_database

    project, _ = solution
    home = tmp_path / "airflow"
    home.mkdir()
    shutil.copyfile(migrated_database(), home / "airflow.db")
    dags = project.root / "airflow" / "dags"
    result = _run(
        [
            sys.executable,
            "-m",
            "tests.helpers.orchestration_run",
            str(dags),
            "orchestration_store_master",
            "2026-11-20T05:00:00+00:00",
        ],
        ROOT,
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "false",
        },
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["state"].endswith("success"), report
    assert report["triggered"] == {
        name: {"logical_date": "2026-11-20T05:00:00+00:00", "conf": {}}
        for name in ("store_master", "pos_orders")
    }


def test_suites_load_in_gx_with_every_expectation(solution):
    project, _ = solution
    suite = project.root / "great_expectations/expectations/pos_orders.json"
    result = _run([sys.executable, "-m", "tests.helpers.gx_suite", str(suite)], ROOT, timeout=300)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["declared"] == report["loaded"] == 8
    assert report["types"][0] == "ExpectColumnValuesToNotBeNull"
    # GX 1.x's own severity: the spec's error is critical
    assert report["severities"] == ["critical"] * 3 + ["warning"] * 2 + ["critical"] * 3
    data = json.loads(suite.read_text())
    # ordered_at is `nullable: false` (renamed ordered_on): checked though no rule names it;
    # order_id's own not_null rule already does
    last = data["expectations"][-1]
    assert {k: v for k, v in last.items() if k != "id"} == {
        "type": "expect_column_values_to_not_be_null",
        "kwargs": {"column": "ordered_on"},
        "meta": {"rule": "not_null_ordered_on", "from": "nullable: false"},
        "severity": "critical",
    }
    # the job's rejected rows, judged by the quality runner against the default limit
    assert data["meta"]["max_rejected"] == [
        {"rule": "max_rejected", "column": None, "max": 0, "max_percent": None, "severity": "error"}
    ]
    freshness = data["expectations"][-2]
    assert freshness["kwargs"]["min_value"] == {"$PARAMETER": "freshness_min_ordered_on"}
    assert data["meta"]["parameters"] == {
        "freshness_min_ordered_on": {"kind": "freshness", "hours": 26.0}
    }
    assert data["expectations"][3]["meta"] == {"rule": "in_set_status"}
    assert data["expectations"][3]["severity"] == "warning"


def test_the_gx_file_context_loads_each_checkpoint_with_what_it_names(solution):
    """GX itself opens great_expectations/ as a file data context and resolves each checkpoint
    to its validation definition, suite and batch definition (by the names and ids the files
    hold), with the action that builds the Data Docs."""
    project, _ = solution
    result = _run(
        [
            sys.executable,
            "-m",
            "tests.helpers.gx_context",
            str(project.root / "great_expectations"),
            "pos_orders",
            "store_master",
        ],
        ROOT,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["context"] == "FileDataContext"
    assert report["checkpoints"]["pos_orders"] == {
        "validation_definition": "pos_orders",
        "suite": "pos_orders",
        "expectations": 8,
        "data_source": "lake",
        "asset": "pos_orders",
        "batch_definition": "batch",
        "actions": ["update_data_docs"],
    }
    assert report["checkpoints"]["store_master"]["expectations"] == 1  # store_id NOT NULL
    assert report["analytics_enabled"] is False and report["progress_bars"] is False
    # opening the context wrote nothing: the generated files stay as generated
    assert report["written"] == []


def test_a_spec_with_every_new_rule_generates_a_suite_gx_loads(tmp_path):
    """mostly, unique over several columns, references and thresholds per environment become
    GX expectations and suite parameters the quality runner fills in."""
    project, _ = Project.init(tmp_path / "flights", clock=fixed_clock)
    (project.root / "pipelines").mkdir()
    (project.root / "pipelines/store_master.yaml").write_text(STORE_MASTER)
    rules = (
        "  - {rule: not_null, column: order_id, mostly: 0.99}\n"
        "  - {rule: unique, columns: [store_id, order_id]}\n"
        "  - {rule: references, column: store_id, to: store_master.store_id, severity: warning}\n"
        "  - {rule: row_count, min: {sample: 1, production: 100000}}\n"
        "  - {rule: between, column: quantity, min: 1, max: 1000, "
        "mostly: {sample: 0.5, production: 0.999}}\n"
        "  - {rule: freshness, column: ordered_on, max_age_hours: {sample: 1000, production: 26}}\n"
    )
    spec = re.sub(r"quality:.*\n(  - .*\n)+", lambda _: "quality:\n" + rules, EXAMPLE)
    assert "rule: in_set" not in spec
    (project.root / "pipelines/pos_orders.yaml").write_text(spec)
    generate_pipelines(project)
    path = project.root / "great_expectations/expectations/pos_orders.json"
    data = json.loads(path.read_text())
    kinds = [(e["type"], e["kwargs"], e["severity"]) for e in data["expectations"]]
    assert kinds == [
        (
            "expect_column_values_to_not_be_null",
            {"column": "order_id", "mostly": 0.99},
            "critical",
        ),
        (
            "expect_compound_columns_to_be_unique",
            {"column_list": ["store_id", "order_id"]},
            "critical",
        ),
        (
            "expect_column_values_to_be_in_set",
            {"column": "store_id", "value_set": {"$PARAMETER": "references_store_id_values"}},
            "warning",
        ),
        (
            "expect_table_row_count_to_be_between",
            {"min_value": {"$PARAMETER": "row_count_min"}},
            "critical",
        ),
        (
            "expect_column_values_to_be_between",
            {
                "column": "quantity",
                "min_value": 1,
                "max_value": 1000,
                "mostly": {"$PARAMETER": "between_quantity_mostly"},
            },
            "critical",
        ),
        (
            "expect_column_max_to_be_between",
            {"column": "ordered_on", "min_value": {"$PARAMETER": "freshness_min_ordered_on"}},
            "critical",
        ),
        ("expect_column_values_to_not_be_null", {"column": "ordered_on"}, "critical"),
    ]
    assert data["meta"]["parameters"] == {
        "references_store_id_values": {
            "kind": "references",
            "pipeline": "store_master",
            "table": "sales.stores",
            "column": "store_id",
        },
        "row_count_min": {"kind": "environment", "values": {"sample": 1, "production": 100000}},
        "between_quantity_mostly": {
            "kind": "environment",
            "values": {"sample": 0.5, "production": 0.999},
        },
        "freshness_min_ordered_on": {
            "kind": "freshness",
            "hours": {"sample": 1000.0, "production": 26.0},
        },
    }
    result = _run([sys.executable, "-m", "tests.helpers.gx_suite", str(path)], ROOT, timeout=300)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["declared"] == report["loaded"] == 7
    assert "ExpectCompoundColumnsToBeUnique" in report["types"]
    # the ids are stable: a second generation writes the same bytes
    assert generate_pipelines(project, dry_run=True).count("unchanged") == len(
        generate_pipelines(project, dry_run=True).files
    )
    project.close()


class _Outcomes:
    """A pytest plugin: the outcome of each test of a nested run."""

    def __init__(self) -> None:
        self.outcomes: dict[str, str] = {}
        self.failures: list[str] = []

    def pytest_runtest_logreport(self, report) -> None:
        if report.when == "call" or report.outcome != "passed":
            self.outcomes[report.nodeid] = report.outcome
        if report.outcome == "failed":
            self.failures.append(f"{report.nodeid} ({report.when}): {report.longreprtext[-3000:]}")


def test_the_generated_job_tests_pass_on_real_spark(solution, spark, tmp_path, monkeypatch):
    """The generated project's own tests, run by pytest in this process on the session's Spark
    (their fixture's getOrCreate() finds it; its stop() is held off until the session's end), the
    DAG-integrity test in a process of its own (it imports Airflow, which configures logging)."""
    from pyspark.sql import SparkSession

    project, _ = solution
    root = project.root
    monkeypatch.setattr(SparkSession, "stop", lambda self: None)
    monkeypatch.syspath_prepend(str(root))  # `from src.ingestion import ...`, as from the root
    monkeypatch.chdir(root)
    names = ("src", "test_pos_orders", "test_store_master")
    loaded = lambda: [m for m in sys.modules if m.split(".")[0] in names]  # noqa: E731
    for name in loaded():
        del sys.modules[name]
    outcomes = _Outcomes()
    try:
        arguments = ["-q", "--rootdir", str(root), "-p", "no:cacheprovider", "-p", "no:xdist"]
        # the outer run's snapshot plugins keep session state (a temporary folder) of their own
        arguments += ["-p", "no:textual-snapshot", "-p", "no:syrupy", "-p", "no:asyncio"]
        arguments += ["--basetemp", str(tmp_path / "nested")]
        arguments += ["tests/unit/test_pos_orders.py", "tests/unit/test_store_master.py"]
        code = pytest.main(arguments, plugins=[outcomes])
    finally:
        for name in loaded():
            del sys.modules[name]
        for path in [p for p in sys.path if p == str(root / "tests" / "unit")]:
            sys.path.remove(path)
    assert code == 0 and not outcomes.failures, "\n".join(outcomes.failures)
    # incl. each job's write-audit-publish (a rerun of a date replaces it, a failed check leaves
    # main untouched, no --run-date is today's and logged) and GX's checkpoint catching a planted
    # bad row
    assert list(outcomes.outcomes.values()) == ["passed"] * 14, outcomes.outcomes
    result = _run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/unit/test_dag_integrity.py",
        ],
        root,
        {"PYTHONPATH": "", "AIRFLOW_HOME": str(tmp_path / "airflow")},
    )
    assert result.returncode == 0, result.stdout[-3000:]
    assert "1 passed" in result.stdout  # 15 in all
    # the checkpoints stored their results and built the Data Docs, under uncommitted/ only
    gx_dir = root / "great_expectations/uncommitted"
    assert list((gx_dir / "validations/pos_orders").rglob("*.json"))
    assert (gx_dir / "data_docs/local_site/index.html").is_file()
    assert list((gx_dir / "data_docs/local_site/validations/pos_orders").rglob("*.html"))


def test_ddl_and_data_flow(solution):
    project, _ = solution
    ddl = (project.root / "sql/ddl/sales.orders.sql").read_text()
    assert "CREATE TABLE IF NOT EXISTS `sales`.`orders` (" in ddl
    assert "`order_id` STRING NOT NULL COMMENT 'Order number from the till'" in ddl
    assert "`amount` DECIMAL(12,2)" in ddl and "`_ingested_at` TIMESTAMP NOT NULL" in ddl
    assert "`_run_date` DATE NOT NULL COMMENT" in ddl  # the run's logical date, partitioned first
    assert "PARTITIONED BY (`_run_date`, days(`ordered_on`), bucket(16, `store_id`));" in ddl
    flow = (project.root / "docs/architecture/data-flow.md").read_text()
    assert "```mermaid\nflowchart LR" in flow
    assert "store_master -. runs before .-> pos_orders" in flow
    assert 'pos_orders --> tbl_pos_orders[("sales.orders")]' in flow
    # what really runs when: the same words as the orchestration DAG and the Pipelines screen
    assert (
        "| pos_orders | landing/pos/orders/\\*.csv (csv) | sales.orders | "
        "`0 5 * * *` by orchestration_store_master | store_master |"
    ) in flow
    assert "| store_master | landing/stores.parquet (parquet) | sales.stores | " in flow


def test_a_rerun_changes_nothing(solution):
    project, _ = solution
    again = generate_pipelines(project, dry_run=True)
    assert again.count("unchanged") == len(again.files)


def test_spec_text_cannot_escape_its_literal(tmp_path):
    project, _ = Project.init(tmp_path / "evil", clock=fixed_clock)
    (project.root / "pipelines").mkdir()
    hostile = 'x """ + __import__("os").system("touch pwned") + """ \\ \' |'
    spec = STORE_MASTER.replace(
        "name: store_master", f"name: store_master\ndescription: {json.dumps(hostile)}"
    )
    spec = spec.replace(
        "{name: store_id, type: string, nullable: false}",
        "{name: store_id, type: string, nullable: false, description: " + json.dumps(hostile) + "}",
    )
    (project.root / "pipelines" / "store_master.yaml").write_text(spec)
    generate_pipelines(project)
    for path in project.root.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):  # the text only ever appears inside string constants
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id != "__import__", path
    job = (project.root / "src/ingestion/store_master.py").read_text()
    assert ast.get_docstring(ast.parse(job)).startswith('store_master: x """ + __import__')
    ddl = (project.root / "sql/ddl/sales.stores.sql").read_text()
    # Spark SQL escapes a quote with a backslash (`\\'`), never the ANSI `''`
    assert 'COMMENT \'x """ + __import__("os").system("touch pwned") + """ \\\\ \\\' |\'' in ddl
    assert not (project.root / "pwned").exists()
    project.close()


def test_a_conflict_blocks_its_checklist_item_until_resolved(tmp_path):
    project, _ = Project.init(tmp_path / "conflicted", clock=fixed_clock)
    (project.root / "pipelines").mkdir()
    spec = project.root / "pipelines" / "store_master.yaml"
    spec.write_text(STORE_MASTER)
    generate_pipelines(project)
    job = project.root / "src/ingestion/store_master.py"
    job.write_text(
        job.read_text().replace('SOURCE_FORMAT = "parquet"', 'SOURCE_FORMAT = "orc"  # ours')
    )
    spec.write_text(STORE_MASTER.replace("format: parquet", "format: json"))
    result = generate_pipelines(project)
    assert {f.path: f.state for f in result.files}["src/ingestion/store_master.py"] == "conflict"
    assert "<<<<<<< your version" in job.read_text()
    state = project.item_state("4.3.1")
    assert state.status == "blocked"
    assert (
        state.reason == "generation conflict: resolve the markers in src/ingestion/store_master.py"
    )
    # the user resolves the conflict; the next run unblocks the item
    text = job.read_text()
    resolved = re.sub(
        r"<<<<<<< your version\n.*?=======\n(.*?)>>>>>>> generated now\n", r"\1", text, flags=re.S
    )
    job.write_text(resolved)
    generate_pipelines(project)
    assert project.item_state("4.3.1").status == "todo"
    project.close()


def _quality_runner(project, name: str):
    """A generated quality runner imported as a module (its top imports only the standard
    library; GX and PyIceberg are imported by the functions that use them)."""
    import importlib.util

    path = project.root / f"src/validation/{name}_quality.py"
    spec = importlib.util.spec_from_file_location(f"generated_{name}_quality", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# a report as run_checkpoint returns it (its `_result` per expectation), with a failure of each
# kind: counted, observed, raised; a warning; a pass
REPORT = {
    "success": False,
    "rows": 9,
    "expectations": 6,
    "environment": "sample",
    "data_docs": None,
    "results": [
        {
            "rule": "not_null_order_id",
            "expectation": "expect_column_values_to_not_be_null",
            "severity": "critical",
            "success": True,
            "kwargs": {"column": "order_id"},
            "unexpected_count": 0,
            "unexpected_percent": 0.0,
        },
        {
            "rule": "between_quantity",
            "expectation": "expect_column_values_to_be_between",
            "severity": "critical",
            "success": False,
            "kwargs": {"column": "quantity", "min_value": 1, "max_value": 1000},
            "unexpected_count": 1,
            "unexpected_percent": 11.11111111111111,
            "unexpected_samples": [5000],
        },
        {
            "rule": "in_set_status",
            "expectation": "expect_column_values_to_be_in_set",
            "severity": "warning",
            "success": False,
            "kwargs": {"column": "status"},
            "unexpected_count": 2,
            "unexpected_percent": 22.22222222222222,
        },
        {
            "rule": "row_count",
            "expectation": "expect_table_row_count_to_be_between",
            "severity": "critical",
            "success": False,
            "kwargs": {"min_value": 10},
            "observed_value": 9,
        },
        {
            "rule": "regex_email",
            "expectation": "expect_column_values_to_match_regex",
            "severity": "critical",
            "success": False,
            "kwargs": {"column": "email"},
            "exception": "column email does not exist",
        },
        {
            "rule": "unique_order_id",
            "expectation": "expect_column_values_to_be_unique",
            "severity": "critical",
            "success": False,
            "kwargs": {"column": "order_id"},
            "unexpected_count": 3,
            "unexpected_percent": None,  # GX's when every value is null
        },
    ],
}


def test_a_failed_quality_check_names_each_failed_expectation_with_its_counts(solution):
    """Issue 16: what Airflow shows as the check_quality task's failure. The full tier checks
    the same message from real GX runs (tests/test_validation_full.py)."""
    project, _ = solution
    quality = _quality_runner(project, "pos_orders")
    failed = ["between_quantity", "row_count", "regex_email", "unique_order_id"]
    error = quality.DataQualityException(failed, REPORT)
    assert str(error) == (
        "4 of 6 expectations of severity error failed on 9 rows (sample thresholds): "
        "between_quantity (expect_column_values_to_be_between): 1 unexpected (11.11%); "
        "row_count (expect_table_row_count_to_be_between): observed 9; "
        "regex_email (expect_column_values_to_match_regex): raised column email does not exist; "
        "unique_order_id (expect_column_values_to_be_unique): 3 unexpected"
    )
    assert "in_set_status" not in str(error)  # a warning stays in the results
    assert (error.failed, error.report) == (failed, REPORT)


def test_the_quality_runner_records_failed_results_and_never_a_password(
    solution, monkeypatch, caplog
):
    """record_results on the real PostgreSQL: every result, the failed ones with their counts;
    a rerun of the run replaces its rows; a database that refuses is a warning without the
    password in any spelling; a schema name `phasegate publish` would refuse records nothing."""
    import logging
    import uuid

    import psycopg

    project, _ = solution
    quality = _quality_runner(project, "pos_orders")
    server = "postgresql://postgres@127.0.0.1:5432/"
    database = f"phasegate_runner_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server + "postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{database}"')
    try:
        monkeypatch.setenv("PHASEGATE_RESULTS_DSN", server + database)
        monkeypatch.setenv("PHASEGATE_RESULTS_SCHEMA", "dash")
        assert quality.record_results(REPORT, "run-1", "2026-11-27") == 6
        assert quality.record_results(REPORT, "run-1", "2026-11-27") == 6  # a rerun
        with psycopg.connect(server + database) as conn:
            recorded = conn.execute(
                "SELECT project, pipeline, run, logical_date::text, expectation, success, "
                "severity, unexpected_count, unexpected_percent FROM dash.quality_results "
                "ORDER BY position"
            ).fetchall()
        assert recorded == [
            (
                "retail",
                "pos_orders",
                "run-1",
                "2026-11-27",
                r["rule"],
                r["success"],
                severity,
                count,
                percent,
            )
            for r, severity, count, percent in [
                (REPORT["results"][0], "error", 0, 0.0),
                (REPORT["results"][1], "error", 1, 11.11111111111111),
                (REPORT["results"][2], "warning", 2, 22.22222222222222),
                (REPORT["results"][3], "error", None, None),
                (REPORT["results"][4], "error", None, None),
                (REPORT["results"][5], "error", 3, None),
            ]
        ]
    finally:
        with psycopg.connect(server + "postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE "{database}" WITH (FORCE)')
    caplog.set_level(logging.WARNING)
    for dsn in (
        "postgresql://nobody_x:Pa55-w0rd@127.0.0.1:5432/postgres",
        "postgresql://nobody_x@127.0.0.1:5432/postgres?password=Pa55%2Dw0rd",
        "host=127.0.0.1 user=nobody_x password='Pa55 w0rd' dbname=postgres",
        'host=127.0.0.1 port=1 password="Pa55-w0rd" dbname=postgres',
        "postgresql://nobody_x:Pa55%zzw0rd@127.0.0.1:5432/postgres",
    ):
        caplog.clear()
        monkeypatch.setenv("PHASEGATE_RESULTS_DSN", dsn)
        assert quality.record_results(REPORT, "run-2") == 0
        (record,) = caplog.records
        assert "results_not_recorded" in record.getMessage(), record.getMessage()
        assert "Pa55" not in record.getMessage() and "w0rd" not in record.getMessage()
    for schema in ("Dash", "pg_catalog", 'x"; DROP TABLE t; --'):
        caplog.clear()
        monkeypatch.setenv("PHASEGATE_RESULTS_SCHEMA", schema)
        assert quality.record_results(REPORT, "run-3") == 0
        assert "is not a schema name phasegate publish uses" in caplog.records[0].getMessage()
