"""Write-audit-publish in the generated job, on real Iceberg tables (SQLite and PostgreSQL
catalogs): the table from the spec, audit branches, publish (fast-forward, rebase, conflicts,
concurrent publishers), idempotent reruns of a logical date, the catalog configured the way
PyIceberg users configure it, and `phasegate branches`.

The job's write path takes Arrow batches (`write_batch`), so no Spark session is needed here; the
Spark side runs in the generated project's own tests (tests/test_codegen.py) and the full tier."""

from __future__ import annotations

import importlib
import io
import json
import sys
import threading
import uuid
from contextlib import redirect_stderr, redirect_stdout
from datetime import UTC, date, datetime, timedelta

import psycopg
import pyarrow as pa
import pytest

from pipelines.errors import LakeError
from pipelines.lake import (
    audit_branches,
    catalog_name,
    catalog_properties,
    drop_branches,
    env_prefix,
)
from pipelines.spec import load_specs
from tests.test_pipeline_spec import STORE_MASTER
from tests.test_validation_static import make_solution

POSTGRES = "postgresql://postgres@127.0.0.1:5432/"
DAY = date(2026, 1, 1)


@pytest.fixture(scope="module")
def solution(tmp_path_factory):
    project = make_solution(
        tmp_path_factory.mktemp("lake") / "Retail Lake", {"store_master": STORE_MASTER}
    )
    root = project.root
    project.close()
    sys.path.insert(0, str(root))
    for loaded in [m for m in sys.modules if m == "src" or m.startswith("src.")]:
        del sys.modules[loaded]
    job = importlib.import_module("src.ingestion.store_master")
    yield root, job
    sys.path.remove(str(root))
    for loaded in [m for m in sys.modules if m == "src" or m.startswith("src.")]:
        del sys.modules[loaded]


@pytest.fixture
def lake(solution, tmp_path, monkeypatch):
    """A fresh SQLite catalog for the test, set as PyIceberg users set one: the environment."""
    _, job = solution
    prefix = env_prefix(job.CATALOG)
    monkeypatch.setenv(prefix + "URI", f"sqlite:///{tmp_path / 'catalog.db'}")
    monkeypatch.setenv(prefix + "WAREHOUSE", (tmp_path / "warehouse").as_uri())
    return job


def batch(job, rows: int, day: date, cid: str, *, null_at: int | None = None) -> pa.Table:
    return pa.table(
        {
            "store_id": [None if n == null_at else f"s{n}" for n in range(rows)],
            "_ingested_at": [datetime.now(UTC)] * rows,
            "_source_file": ["landing/stores.parquet"] * rows,
            "_correlation_id": [cid] * rows,
            "_run_date": [day] * rows,
        }
    )


def write(job, rows: int, day: date, cid: str | None = None) -> dict:
    cid = cid or str(uuid.uuid4())
    return job.write_batch(batch(job, rows, day, cid), day, cid)


def counts(job) -> dict[str, int]:
    table = job.catalog().load_table(job.TARGET_TABLE)
    data = table.scan().to_arrow()
    found: dict[str, int] = {}
    for value in data.column("_run_date").to_pylist():
        found[value.isoformat()] = found.get(value.isoformat(), 0) + 1
    return found


# --- the catalog -------------------------------------------------------------------------------


def test_the_catalog_is_the_solutions_and_configured_as_pyiceberg_users_do(solution, monkeypatch):
    root, job = solution
    assert job.CATALOG == catalog_name(root) == "retail-lake"  # the solution's slug
    assert 'catalog_name: "retail-lake"' in (root / "agent-prompts/context.yaml").read_text()
    assert "  retail-lake:\n    type: sql\n" in (root / ".pyiceberg.yaml").read_text()
    home = root.parent / "home"
    home.mkdir(exist_ok=True)
    monkeypatch.setenv("HOME", str(home))  # no ~/.pyiceberg.yaml of the machine's
    monkeypatch.delenv("PYICEBERG_HOME", raising=False)
    for variable in [v for v in list(__import__("os").environ) if v.startswith("PYICEBERG_")]:
        monkeypatch.delenv(variable)
    lake_dir = root / ".phasegate" / "lake"
    cases = [
        # (environment, PYICEBERG_HOME's file, expected uri, expected warehouse)
        ({}, None, f"sqlite:///{lake_dir / 'catalog.db'}", (lake_dir / "warehouse").as_uri()),
        (
            {"PYICEBERG_CATALOG__RETAIL_LAKE__URI": "postgresql+psycopg://u@h/db"},
            None,
            "postgresql+psycopg://u@h/db",
            (lake_dir / "warehouse").as_uri(),
        ),
        (
            {},
            "catalog:\n  retail-lake:\n    uri: sqlite:////tmp/x.db\n    warehouse: s3://b/w\n",
            "sqlite:////tmp/x.db",
            "s3://b/w",
        ),
        (  # the variable wins over the file
            {"PYICEBERG_CATALOG__RETAIL_LAKE__WAREHOUSE": "file:///w"},
            "catalog:\n  retail-lake:\n    warehouse: s3://b/w\n",
            f"sqlite:///{lake_dir / 'catalog.db'}",
            "file:///w",
        ),
        (  # another catalog's settings are not this one's
            {"PYICEBERG_CATALOG__OTHER__URI": "sqlite:////tmp/other.db"},
            None,
            f"sqlite:///{lake_dir / 'catalog.db'}",
            (lake_dir / "warehouse").as_uri(),
        ),
    ]
    for n, (env, home_file, uri, warehouse) in enumerate(cases):
        with monkeypatch.context() as scoped:
            for key, value in env.items():
                scoped.setenv(key, value)
            if home_file is not None:
                folder = root.parent / f"pyiceberg-home-{n}"
                folder.mkdir(exist_ok=True)
                (folder / ".pyiceberg.yaml").write_text(home_file)
                scoped.setenv("PYICEBERG_HOME", str(folder))
            ours = catalog_properties(root)
            assert ours == job.catalog_properties(), n  # phasegate reads what the job reads
            assert (ours["uri"], ours["warehouse"], ours["type"]) == (uri, warehouse, "sql"), n


@pytest.mark.parametrize(
    "context, expected",
    [
        ('project: "Retail Events"\n', "retail-events"),
        ("project: x\ntech_stack:\n  storage:\n    catalog_name: lakehouse\n", "lakehouse"),
        ('project: "2026 Sales"\n', "lake-2026-sales"),
        ("project: [unclosed\n", "not valid YAML"),
        (
            "tech_stack:\n  storage:\n    catalog_name: Bad_Name\n",
            "tech_stack.storage.catalog_name: 'Bad_Name' is not a catalog name",
        ),
    ],
)
def test_the_catalog_name_comes_from_context_yaml(tmp_path, context, expected):
    (tmp_path / "agent-prompts").mkdir()
    (tmp_path / "agent-prompts/context.yaml").write_text(context)
    if expected.islower() and " " not in expected:
        assert catalog_name(tmp_path) == expected
    else:
        with pytest.raises(LakeError, match=r"context\.yaml: ") as caught:
            catalog_name(tmp_path)
        assert expected in str(caught.value)


# --- the table and write-audit-publish ---------------------------------------------------------


def test_the_table_is_created_from_the_spec_and_nulls_in_not_null_columns_are_refused(lake):
    job = lake
    with pytest.raises(job.ConstraintViolation) as caught:
        job.write_batch(batch(job, 5, DAY, "c", null_at=2), DAY, "c")
    assert str(caught.value) == "sales.stores: NOT NULL column(s) hold nulls: store_id (1 row)"
    assert not job.catalog().table_exists(job.TARGET_TABLE)  # refused before the catalog
    written = write(job, 3, DAY)
    table = job.catalog().load_table(job.TARGET_TABLE)
    assert [(f.name, str(f.field_type), f.required) for f in table.schema().fields] == [
        ("store_id", "string", True),
        ("_ingested_at", "timestamptz", True),
        ("_source_file", "string", True),
        ("_correlation_id", "string", True),
        ("_run_date", "date", True),
    ]
    assert table.schema().find_field("_ingested_at").doc == "added by the job"
    assert [(f.name, str(f.transform)) for f in table.spec().fields] == [
        ("_run_date_identity", "identity")
    ]
    # main: the empty snapshot the table began with; the rows are on the audit branch only
    assert table.scan().to_arrow().num_rows == 0
    assert table.current_snapshot().snapshot_id == written["base_snapshot_id"]
    assert written["branch"] == f"audit-2026-01-01-{written['correlation_id']}"
    audit = table.scan(snapshot_id=written["snapshot_id"]).to_arrow()
    assert audit.num_rows == 3


def test_a_rerun_of_a_date_replaces_it_in_one_commit_and_other_dates_stay(lake):
    job = lake
    for n in range(3):
        job.publish(write(job, 10 + n, DAY + timedelta(days=n)), {"success": True})
    first = write(job, 4, DAY + timedelta(days=1))
    job.publish(first, {"success": True})
    again = write(job, 4, DAY + timedelta(days=1))
    table = job.catalog().load_table(job.TARGET_TABLE)
    # on the branch cut from main, one commit: the date's old file dropped whole (no rewrite:
    # _run_date is the first partition field), the new one added
    audit = table.snapshot_by_id(again["snapshot_id"])
    dropped = table.snapshot_by_id(audit.parent_snapshot_id)
    assert dropped.parent_snapshot_id == first["snapshot_id"]
    assert dropped.summary.operation.value == "delete"
    assert (
        dropped.summary["deleted-data-files"] == "1" and dropped.summary["added-data-files"] is None
    )
    assert audit.summary.operation.value == "append" and audit.summary["added-data-files"] == "1"
    job.publish(again, {"success": True})
    assert counts(job) == {"2026-01-01": 10, "2026-01-02": 4, "2026-01-03": 12}


def test_two_runs_publish_both_dates_and_a_stale_publisher_is_refused_then_retried(lake):
    job = lake
    a, b = write(job, 3, DAY), write(job, 5, DAY + timedelta(days=1))
    assert a["base_snapshot_id"] == b["base_snapshot_id"]  # both cut from the same main
    table = job.catalog().load_table(job.TARGET_TABLE)  # what a's publisher loaded
    assert job.publish(b, {"success": True})["how"] == "fast-forward"
    # a's publisher commits on what it loaded: the catalog refuses it, nothing is lost
    from pyiceberg.exceptions import CommitFailedException

    with pytest.raises(CommitFailedException):
        job._publish_once(table, a)
    assert counts(job) == {"2026-01-02": 5}
    published = job.publish(a, {"success": True})  # on fresh metadata: a's files onto b's main
    assert published["how"] == "rebased"
    assert counts(job) == {"2026-01-01": 3, "2026-01-02": 5}
    assert set(job.catalog().load_table(job.TARGET_TABLE).refs()) == {"main"}


def test_concurrent_publishers_on_a_postgresql_catalog_lose_nothing(lake, monkeypatch, tmp_path):
    job = lake
    database = f"phasegate_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES + "postgres", autocommit=True, connect_timeout=10) as admin:
        admin.execute(f'CREATE DATABASE "{database}"')
    try:
        prefix = env_prefix(job.CATALOG)
        monkeypatch.setenv(
            prefix + "URI", f"postgresql+psycopg://postgres@127.0.0.1:5432/{database}"
        )
        job.ensure_table()
        # four runs and a rerun of one of their dates write at once: each cuts its own branch
        jobs = [(2 + n, DAY + timedelta(days=n)) for n in range(4)] + [(7, DAY)]
        written: dict[int, dict] = {}
        writers_start = threading.Barrier(len(jobs))

        def write_one(n: int, rows: int, day: date) -> None:
            writers_start.wait()
            written[n] = write(job, rows, day)

        writers = [threading.Thread(target=write_one, args=(n, *one)) for n, one in enumerate(jobs)]
        for thread in writers:
            thread.start()
        for thread in writers:
            thread.join(timeout=300)
        assert sorted(written) == [0, 1, 2, 3, 4]
        runs, rerun = [written[n] for n in range(4)], written[4]
        assert counts(job) == {}  # nothing on main before a publish
        start = threading.Barrier(len(runs) + 1)
        results, errors = [], []

        def publish(one: dict) -> None:
            start.wait()
            try:
                results.append(job.publish(one, {"success": True}))
            except Exception as exc:  # recorded, asserted below
                errors.append(exc)

        threads = [threading.Thread(target=publish, args=(one,)) for one in [*runs[1:], rerun]]
        threads.append(threading.Thread(target=publish, args=(runs[0],)))
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)
        assert errors == []
        found = counts(job)
        assert {k: v for k, v in found.items() if k != "2026-01-01"} == {
            "2026-01-02": 3,
            "2026-01-03": 4,
            "2026-01-04": 5,
        }
        assert found["2026-01-01"] in (2, 7)  # one of the two runs of the date, never both
        assert {r["how"] for r in results} <= {"fast-forward", "rebased"}
        assert set(job.catalog().load_table(job.TARGET_TABLE).refs()) == {"main"}
    finally:
        with psycopg.connect(POSTGRES + "postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def test_a_failed_check_leaves_main_untouched_and_the_branch_listed_until_dropped(lake, solution):
    root, job = solution
    good = write(job, 3, DAY)
    job.publish(good, {"success": True})
    bad = write(job, 9, DAY)
    pending = write(job, 2, DAY + timedelta(days=1))
    with pytest.raises(job.NotPublished) as caught:
        job.publish(bad, {"success": False, "failed": ["not_null_store_id"]})
    assert str(caught.value) == (
        f"sales.stores: not published, not_null_store_id; main is unchanged and the rows stay "
        f"on audit branch {bad['branch']}"
    )
    table = job.catalog().load_table(job.TARGET_TABLE)
    assert table.current_snapshot().snapshot_id == good["snapshot_id"]
    assert counts(job) == {"2026-01-01": 3}
    specs = load_specs(root)
    listed = {b.name: b for b in audit_branches(root, specs)}
    assert set(listed) == {bad["branch"], pending["branch"]}
    assert listed[bad["branch"]].failed == "not_null_store_id"
    assert listed[bad["branch"]].rows == 9 and listed[bad["branch"]].status == "failed"
    assert listed[pending["branch"]].status == "unpublished"
    with pytest.raises(LakeError, match="no audit branch audit-nope; the audit branches: "):
        drop_branches(root, specs, ["audit-nope"])
    assert [b.name for b in drop_branches(root, specs, failed=True)] == [bad["branch"]]
    table = table.refresh()
    assert not any(k.startswith("phasegate.audit-failed.") for k in table.metadata.properties)
    future = datetime.now(UTC) + timedelta(days=3)
    assert drop_branches(root, specs, older_than=4, now=future) == []
    assert [b.name for b in drop_branches(root, specs, older_than=2, now=future)] == [
        pending["branch"]
    ]
    assert audit_branches(root, specs) == []
    assert table.refresh().current_snapshot().snapshot_id == good["snapshot_id"]


# --- `phasegate branches` ----------------------------------------------------------------------


def phasegate(*args: str) -> tuple[int, str, str]:
    from cli.main import main

    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            code = main(list(args))
        except SystemExit as usage:  # argparse's own usage errors
            code = usage.code
    return code, out.getvalue(), err.getvalue()


def test_the_branches_command_lists_and_drops(lake, solution):
    root, job = solution
    code, out, _ = phasegate("-C", str(root), "branches")
    assert (code, out) == (0, "no audit branches: every run was published (or none ran yet)\n")
    bad = write(job, 4, DAY)
    job.reject(bad, "between_quantity")
    code, out, _ = phasegate("-C", str(root), "branches", "-p", "store_master")
    assert code == 0 and out.startswith(f"{bad['branch']}  store_master  sales.stores  run date")
    assert "4 rows" in out and out.rstrip().endswith("failed: between_quantity")
    code, out, _ = phasegate("-C", str(root), "branches", "--json")
    from tests.test_json_documents import valid

    document = valid("branches", json.loads(out))  # docs/schemas/branches.schema.json
    assert document["catalog"] == "retail-lake"
    assert [b["branch"] for b in document["branches"]] == [bad["branch"]]
    assert document["branches"][0]["status"] == "failed" and document["branches"][0]["rows"] == 4
    code, _, err = phasegate("-C", str(root), "branches", "-p", "nope")
    assert (code, err) == (1, "phasegate: unknown pipeline(s) nope; the specs are: store_master\n")
    code, _, err = phasegate("-C", str(root), "branches", "drop", "audit-x")
    assert code == 1 and err.startswith("phasegate: no audit branch audit-x; the audit branches: ")
    code, _, err = phasegate("-C", str(root), "branches", "drop")
    assert (code, err) == (
        1,
        "phasegate: name the branches to drop, or use --failed / --older-than DAYS\n",
    )
    code, _, err = phasegate("-C", str(root), "branches", "drop", "--older-than", "-1")
    assert code == 2 and "must be a number of days from 0 to 36500" in err
    code, out, _ = phasegate("-C", str(root), "branches", "drop", bad["branch"])
    assert (code, out) == (0, f"dropped {bad['branch']} (store_master, sales.stores)\n")
    assert audit_branches(root, load_specs(root)) == []


def test_an_unreachable_catalog_is_one_line_without_its_password(solution, monkeypatch):
    root, job = solution
    uri = "postgresql+psycopg://postgres:s3cret@127.0.0.1:1/lake?connect_timeout=5"
    monkeypatch.setenv(env_prefix(job.CATALOG) + "URI", uri)
    code, out, err = phasegate("-C", str(root), "branches")
    assert code == 1 and out == ""
    assert err.startswith("phasegate: catalog retail-lake: cannot open it: OperationalError: ")
    assert "s3cret" not in err and len(err.strip().splitlines()) == 1
