"""`phasegate validate` from the shell, the CI contract: the full tier on the real engines with its
options (`--tier full`, `--rows`, `--timeout`, `--catalog-uri`, PyIceberg's
PYICEBERG_CATALOG__<NAME>__URI for the solution's catalog), exit 1 on a
failing run, and what a run leaves behind (its log, the cached Airflow metadata DB, the stored
results read back by `runs`, `status --json`, `export`).

The full-tier runs share one project so each engine starts as few times as it can (three runs, the
first of them ended within seconds by its timeout). PostgreSQL on 127.0.0.1:5432 is required:
`.ci/run` starts it; when it is down these tests fail with the connection error, they never skip."""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from pathlib import Path

import psycopg
import pytest

from tests.conftest import ROOT
from tests.test_pipeline_spec import STORE_MASTER
from tests.test_validation_full import plant_failure
from tests.test_validation_static import PLAIN, make_solution

PHASEGATE = Path(os.environ.get("VIRTUAL_ENV") or ROOT / ".venv") / "bin" / "phasegate"
POSTGRES = "postgresql://postgres@127.0.0.1:5432/"
HANG_LIMIT = 1800  # seconds: only catches a hang; how fast a run is belongs to bench/validate.py


def phasegate(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(PHASEGATE), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        stdin=subprocess.DEVNULL,
        timeout=HANG_LIMIT,
    )


@pytest.fixture
def databases():
    """Two throwaway PostgreSQL databases (an unreachable server fails the test, loudly)."""
    names = [f"phasegate_test_{uuid.uuid4().hex[:12]}" for _ in range(2)]
    with psycopg.connect(POSTGRES + "postgres", autocommit=True, connect_timeout=10) as admin:
        for name in names:
            admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield names
    finally:
        with psycopg.connect(POSTGRES + "postgres", autocommit=True) as admin:
            for name in names:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def iceberg_tables(database: str) -> list[tuple[str, str, str, str]]:
    with psycopg.connect(POSTGRES + database) as conn:
        try:
            rows = conn.execute(
                "SELECT catalog_name, table_namespace, table_name, metadata_location "
                "FROM iceberg_tables"
            ).fetchall()
        except psycopg.errors.UndefinedTable:
            return []
    return sorted(rows)


def test_the_full_tier_from_the_shell(tmp_path, databases):
    from_env, from_flag = databases
    specs = {"store_master": STORE_MASTER, "sleepy": PLAIN.format(name="sleepy")}
    specs["boom"] = PLAIN.format(name="boom")
    project = make_solution(tmp_path / "retail", specs)
    root = project.root
    project.close()
    plant_failure(root, "boom")
    sleepy = root / "src/ingestion/sleepy.py"
    sleepy.write_text(
        sleepy.read_text().replace(
            "def apply_transformations(df: DataFrame) -> DataFrame:\n",
            "def apply_transformations(df: DataFrame) -> DataFrame:\n"
            "    import time\n\n    time.sleep(3600)\n",
        )
    )
    cache = Path(os.environ["XDG_CACHE_HOME"]) / "phasegate"

    # 1. --timeout: the pipeline that never answers is ended and recorded; exit 1
    timed = phasegate("validate", "sleepy", "--tier", "full", "--timeout", "3", cwd=root)
    assert timed.returncode == 1, timed.stderr
    assert "timeout    sleepy" in timed.stdout
    assert "no result within 3 s: the subprocess was ended" in timed.stderr
    first = int(timed.stdout.split("run ")[1].split(":")[0])

    # 2. the solution's catalog ("retail", from context.yaml) set the way PyIceberg reads it from
    # the environment: the table lands in that PostgreSQL database, in the catalog's own name
    uri = f"postgresql+psycopg://postgres@127.0.0.1:5432/{from_env}"
    env = {"PYICEBERG_CATALOG__RETAIL__URI": uri}
    passed = phasegate(
        "validate", "store_master", "--tier", "full", "--rows", "60", "--json", cwd=root, env=env
    )
    assert passed.returncode == 0, passed.stdout + passed.stderr
    document = json.loads(passed.stdout)
    assert document["status"] == "passed" and document["tier"] == "full"
    assert document["pipelines"] == ["store_master"]
    iceberg = next(c for c in document["checks"] if c["step"] == "iceberg")
    [(catalog, namespace, table, location)] = iceberg_tables(from_env)
    assert (catalog, namespace, table) == ("retail", "sales", "stores")
    assert location.startswith(iceberg["data"]["location"])
    second = document["id"]
    migrated = sorted(cache.glob("airflow-*.db"))
    assert len(migrated) == 1  # the Airflow metadata DB, migrated once for this version
    stamp = migrated[0].stat().st_mtime_ns

    # 3. --catalog-uri wins over the environment; one failing pipeline makes the run exit 1
    flag = f"postgresql+psycopg://postgres@127.0.0.1:5432/{from_flag}"
    failed = phasegate(
        "validate",
        "store_master",
        "boom",
        "--tier",
        "full",
        "--rows",
        "60",
        "--catalog-uri",
        flag,
        cwd=root,
        env=env,
    )
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "passed     store_master" in failed.stdout and "failed     boom" in failed.stdout
    assert "planted failure" in failed.stderr
    third = second + 1
    assert f"run {third}: failed" in failed.stdout
    assert [row[:3] for row in iceberg_tables(from_flag)] == [
        ("retail", "sales", "stores")
    ]  # not boom
    assert len(iceberg_tables(from_env)) == 1  # untouched by the run that named its own
    assert migrated[0].stat().st_mtime_ns == stamp  # reused from the cache, not migrated again

    # every run kept its log
    for run_id in (first, second, third):
        log = root / ".phasegate" / "runs" / f"{run_id}.log"
        assert log.is_file() and log.stat().st_size > 0, log
    assert "planted failure" in (root / ".phasegate" / "runs" / f"{third}.log").read_text()

    # the stored runs, read back from the shell
    listed = json.loads(phasegate("runs", "--json", cwd=root).stdout)["runs"]
    assert [(r["id"], r["tier"], r["status"]) for r in listed] == [
        (third, "full", "failed"),
        (second, "full", "passed"),
        (first, "full", "failed"),
    ]
    assert listed[0]["git_dirty"] in (True, False) and listed[0]["versions"]["pyspark"]
    shown = json.loads(phasegate("runs", "show", str(first), "--json", cwd=root).stdout)
    assert [(c["step"], c["outcome"]) for c in shown["checks"]][-1] == ("run", "timeout")
    out = tmp_path / "run.md"
    written = phasegate("runs", "show", str(first), "-o", str(out), cwd=root)
    assert written.returncode == 0 and f"Wrote {out}" in written.stderr
    assert "| run | timeout | timeout |" in out.read_text()
    status = json.loads(phasegate("status", "--json", cwd=root).stdout)
    assert sorted(
        (v["pipeline"], v["outcome"], v["run"], v["tier"]) for v in status["validations"]
    ) == [
        ("boom", "failed", third, "full"),
        ("sleepy", "timeout", first, "full"),
        ("store_master", "passed", third, "full"),
    ]
    # evidence for Unit Test Reports (D4.4) and Test Execution Reports (D5.2) in the report
    report = phasegate("export", cwd=root).stdout
    d44 = report[report.index("D4.4") :]
    assert "store\\_master: passed, " in d44 and f"(run {third}, full)" in d44
    d52 = report[report.index("D5.2") :]
    assert "boom: failed, " in d52 and f"sleepy: timeout, 0/1 checks (run {first}, full)" in d52
