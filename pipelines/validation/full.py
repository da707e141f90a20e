"""The full tier: each pipeline really runs, with one warm local Spark session for all of them.

Per pipeline: sample data (the spec's sample file, or rows synthesized from its schema) → the
generated job's own functions → an Iceberg table in the project's catalog (one append, one
commit: a failed job leaves no snapshot) → the generated quality runner running the pipeline's
GX checkpoint on the rows that run wrote, read back from Iceberg at its snapshot (the sample
environment's thresholds), one result per expectation → `dag.test()` of the pipeline's ingestion
DAG on the same sample, in a throwaway AIRFLOW_HOME whose metadata DB is copied from a
pre-migrated one, with each task's state.

Runs inside the validation subprocess (`pipelines.validation.child`).
"""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from pipelines.codegen import pipeline_paths
from pipelines.spec import PipelineSpec
from pipelines.validation.protocol import Emitter, describe
from pipelines.validation.sample import sample_path, synthesize

SAMPLES_SHOWN = 5
SAMPLE_ENVIRONMENT = "sample"  # whose thresholds the full tier's sample data is held to


class Lake:
    """Where the full tier writes: the project's Iceberg catalog."""

    def __init__(self, catalog_uri: str, warehouse: str) -> None:
        self.catalog_uri, self.warehouse = catalog_uri, warehouse

    def catalog(self):
        from pyiceberg.catalog.sql import SqlCatalog

        return SqlCatalog("phasegate", uri=self.catalog_uri, warehouse=self.warehouse)

    def snapshots(self, identifier: str) -> list[int]:
        from pyiceberg.exceptions import NoSuchNamespaceError, NoSuchTableError

        try:
            table = self.catalog().load_table(identifier)
        except (NoSuchTableError, NoSuchNamespaceError):
            return []
        return [s.snapshot_id for s in table.snapshots()]


def java_problem() -> str | None:
    """Spark needs a JVM: JAVA_HOME's, or `java` on the PATH."""
    home = os.environ.get("JAVA_HOME")
    java = Path(home, "bin", "java") if home else None
    if java is not None and java.exists():
        return None
    if home:
        return f"JAVA_HOME is {home}, which has no bin/java: install Java 17 or fix JAVA_HOME"
    if shutil.which("java") is None:
        return "Java is not installed (no JAVA_HOME, no java on the PATH): Spark needs Java 17"
    return None


def spark_session():
    from pyspark.sql import SparkSession

    builder = (
        SparkSession.builder.master(os.environ.get("PHASEGATE_SPARK_MASTER", "local[2]"))
        .appName("phasegate validation")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.variable.substitute", "false")  # spec text: no ${env:...} expanded
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.memory", os.environ.get("PHASEGATE_SPARK_MEMORY", "2g"))
    )
    return builder.getOrCreate()


class FullTier:
    def __init__(
        self,
        root: Path,
        emit: Emitter,
        lake: Lake,
        workdir: Path,
        rows: int,
        now: datetime | None = None,
    ) -> None:
        self.root, self.emit, self.lake, self.workdir = root, emit, lake, workdir
        self.rows, self.now = rows, now
        self.spark = None
        self.specs: dict[str, PipelineSpec] = {}
        self._airflow_ready = False

    def run(self, specs: list[PipelineSpec]) -> None:
        problem = java_problem()
        if problem is None:
            try:
                self.spark = spark_session()
            except Exception as exc:
                problem = f"Spark did not start: {describe(exc)}"
        if problem is not None:
            for spec in specs:
                self.emit.check(spec.name, "sample", "Spark session", "error", problem)
                self.emit.emit("pipeline", pipeline=spec.name)
            return
        if str(self.root) not in sys.path:
            sys.path.insert(0, str(self.root))
        self.specs = {spec.name: spec for spec in specs}
        for spec in run_order(specs):
            self.pipeline(spec)
            self.emit.emit("pipeline", pipeline=spec.name)

    def pipeline(self, spec: PipelineSpec) -> None:
        missing = [p for p in pipeline_paths(spec).values() if not (self.root / p).exists()]
        if missing:
            self.emit.check(
                spec.name,
                "sample",
                "generated files",
                "failed",
                "not generated: run `phasegate generate pipelines` (missing "
                + ", ".join(missing[:3])
                + ")",
            )
            return
        source = self._sample(spec)
        if source is None:
            return
        batch = self._job(spec, source)
        if batch is None:
            return
        self._quality(spec, batch)
        self._dag_test(spec, source)

    # --- steps ---------------------------------------------------------------------------------

    def _sample(self, spec: PipelineSpec) -> Path | None:
        with self.emit.timed(spec.name, "sample", "sample data") as result:
            given = sample_path(spec, self.root)
            if given is not None:
                if not given.exists():
                    result.update(outcome="failed", detail=f"{spec.source.sample}: no such file")
                    return None
                result.update(
                    detail=f"the spec's sample {spec.source.sample}",
                    data={"source": spec.source.sample},
                )
                return given
            path = synthesize(
                self.spark, spec, self.rows, self.workdir / "samples", self._now(), self.specs
            )
            result.update(
                detail=f"{self.rows} rows synthesized from the schema ({spec.source.format})",
                data={"rows": self.rows, "synthesized": True},
            )
            return path
        return None  # the step raised: recorded as an error

    def _job(self, spec: PipelineSpec, source: Path) -> dict | None:
        batch: dict | None = None
        with self.emit.timed(spec.name, "job", "job on the sample") as result:
            job = self._module(f"src.ingestion.{spec.name}")
            correlation_id = f"validation-{uuid.uuid4()}"
            before = self.lake.snapshots(spec.target.identifier)
            try:
                df = job.validate_schema(job.read_source_data(self.spark, str(source)))
                rows_read = df.count()
                out = job.add_metadata(job.apply_transformations(df), correlation_id)
                rows, snapshot = job.write_to_iceberg(
                    out, self.lake.catalog_uri, self.lake.warehouse
                )
            except Exception:
                after = self.lake.snapshots(spec.target.identifier)
                result["data"] = {
                    "snapshots_before": len(before),
                    "snapshots_after": len(after),
                    "partial_write": after != before,
                }
                raise
            result.update(
                detail=f"{rows_read} rows read, {rows} written to {spec.target.identifier}",
                data={"rows_read": rows_read, "rows_written": rows, "snapshot_id": snapshot},
            )
            batch = {"correlation_id": correlation_id, "rows": rows, "snapshot_id": snapshot}
        if batch is not None:
            self._iceberg(spec, batch)
        return batch

    def _iceberg(self, spec: PipelineSpec, batch: dict) -> None:
        with self.emit.timed(spec.name, "iceberg", "Iceberg table") as result:
            table = self.lake.catalog().load_table(spec.target.identifier)
            current = table.current_snapshot()
            fields = [[f.name, str(f.transform)] for f in table.spec().fields]
            expected = [
                [
                    f"{p.column}_{p.transform}",
                    f"bucket[{p.buckets}]" if p.transform == "bucket" else p.transform,
                ]
                for p in spec.target.partition_by
            ]
            columns = [f.name for f in table.schema().fields]
            problems = []
            if current is None or current.snapshot_id != batch["snapshot_id"]:
                problems.append("the job's commit is not the table's current snapshot")
            if columns != [c.name for c in spec.output]:
                problems.append(f"columns {columns}, expected {[c.name for c in spec.output]}")
            if fields != expected:
                problems.append(f"partition spec {fields}, expected {expected}")
            result["data"] = {
                "snapshot_id": batch["snapshot_id"],
                "snapshots": len(table.snapshots()),
                "partition_spec": fields,
                "location": table.location(),
            }
            if problems:
                result.update(outcome="failed", detail="; ".join(problems))
            else:
                result["detail"] = f"snapshot {batch['snapshot_id']} committed; partitioned by " + (
                    ", ".join(f"{n} ({t})" for n, t in fields) or "nothing"
                )

    def _quality(self, spec: PipelineSpec, batch: dict) -> tuple[bool, list[str]] | None:
        """Runs the pipeline's GX checkpoint (great_expectations/checkpoints/) through its
        generated quality runner, on the batch read back from Iceberg at the job's snapshot,
        with the thresholds of the sample environment; one result per expectation. Returns
        (every critical expectation passed, the failed ones), or None when it could not run."""
        self.emit.step(spec.name, "quality")
        start = time.perf_counter()
        try:
            quality = self._module(f"src.validation.{spec.name}_quality")
            catalog = self.lake.catalog()
            df = quality.read_batch(
                catalog.load_table(spec.target.identifier),
                batch["snapshot_id"],
                batch["correlation_id"],
            )
            try:
                report = quality.run_checkpoint(
                    df,
                    env=SAMPLE_ENVIRONMENT,
                    now=self._now(),
                    catalog=catalog,
                    run_name=batch["correlation_id"],
                )
            except quality.DataQualityException as exc:
                report = exc.report
        except Exception as exc:
            self.emit.check(
                spec.name,
                "quality",
                "GX checkpoint",
                "error",
                describe(exc),
                duration=time.perf_counter() - start,
            )
            return None
        elapsed = time.perf_counter() - start
        failing = []
        for r in report["results"]:
            severity = "error" if r["severity"] == "critical" else r["severity"]
            outcome = "passed" if r["success"] else ("failed" if severity == "error" else "warning")
            data = {
                "expectation": r["expectation"],
                "severity": severity,
                "kwargs": r["kwargs"],
                "rows": report["rows"],
                "environment": report["environment"],
                "data_docs": report["data_docs"],
            }
            for key in (
                "unexpected_count",
                "unexpected_percent",
                "observed_value",
                "missing_count",
            ):
                if key in r:
                    data[key] = r[key]
            if r.get("unexpected_samples"):
                data["unexpected_samples"] = r["unexpected_samples"][:SAMPLES_SHOWN]
            if "exception" in r:
                outcome = "error"
                data["exception"] = r["exception"]
            if "note" in r:
                data["note"] = r["note"]
            if outcome in ("failed", "error"):
                failing.append(r["rule"])
            self.emit.check(
                spec.name,
                "quality",
                r["rule"],
                outcome,
                _expectation_detail(r["success"], data),
                data,
                elapsed / max(1, len(report["results"])),
            )
        return report["success"] and not failing, failing

    def _dag_test(self, spec: PipelineSpec, source: Path) -> None:
        with self.emit.timed(spec.name, "dag_test", "dag.test()") as result:
            self._airflow()
            from airflow.dag_processing.dagbag import DagBag

            dag_file = self.root / pipeline_paths(spec)["dag"]
            bag = DagBag(dag_folder=str(dag_file), safe_mode=False)
            if bag.import_errors:
                result.update(
                    outcome="failed",
                    detail="the DAG does not import: "
                    + str(next(iter(bag.import_errors.values()))).strip().splitlines()[-1],
                )
                return
            dag = bag.dags.get(spec.name)
            if dag is None:
                result.update(
                    outcome="failed", detail=f"{dag_file.name} defines no DAG '{spec.name}'"
                )
                return
            for task in dag.tasks:
                task.retries = 0  # a failure shows now, not after the production retry delay
            run = dag.test(run_conf={"source": str(source)})
            tasks = {ti.task_id: str(ti.state) for ti in run.get_task_instances()}
            durations = {ti.task_id: round(ti.duration or 0, 3) for ti in run.get_task_instances()}
            state = str(run.state)
            result["data"] = {"dag_run": state, "tasks": tasks, "durations": durations}
            if state.endswith("success"):
                result["detail"] = "success: " + ", ".join(f"{t} {s}" for t, s in tasks.items())
            else:
                result.update(
                    outcome="failed",
                    detail=f"dag run {state}: " + ", ".join(f"{t} {s}" for t, s in tasks.items()),
                )

    # --- helpers -------------------------------------------------------------------------------

    def _now(self) -> datetime:
        return self.now or datetime.now(UTC)

    def _module(self, name: str):
        """The project's generated module, freshly imported (the files may have changed)."""
        for loaded in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
            del sys.modules[loaded]
        importlib.invalidate_caches()
        return importlib.import_module(name)

    def _airflow(self) -> None:
        """AIRFLOW_HOME (set by the child before anything imported Airflow) gets a copy of a
        metadata DB migrated once per Airflow version and kept in the user's cache."""
        if self._airflow_ready:
            return
        home = Path(os.environ["AIRFLOW_HOME"])
        database = home / "airflow.db"
        if not database.exists():
            shutil.copyfile(migrated_database(), database)
        os.environ["ICEBERG_CATALOG_URI"] = self.lake.catalog_uri
        os.environ["ICEBERG_WAREHOUSE"] = self.lake.warehouse
        # the DAG's quality task holds the sample to the sample environment's thresholds
        os.environ["PHASEGATE_ENV"] = SAMPLE_ENVIRONMENT
        from airflow import settings

        settings.configure_orm()
        self._airflow_ready = True


def run_order(specs: list[PipelineSpec]) -> list[PipelineSpec]:
    """The specs with every pipeline after those it depends on or references (a references
    rule reads the other pipeline's table), otherwise in the order given; a cycle of
    references (depends_on has none) keeps the order given."""
    by_name = {spec.name: spec for spec in specs}
    done: dict[str, PipelineSpec] = {}
    visiting: set[str] = set()

    def visit(spec: PipelineSpec) -> None:
        if spec.name in done or spec.name in visiting:
            return
        visiting.add(spec.name)
        for name in [*spec.depends_on, *(r.references[0] for r in spec.quality if r.references)]:
            if name in by_name:
                visit(by_name[name])
        done[spec.name] = spec

    for spec in specs:
        visit(spec)
    return list(done.values())


def migrated_database() -> Path:
    """`airflow db migrate` once per Airflow version (~3 s), into the user's cache."""
    from importlib.metadata import version

    from phases.loader import cache_dir

    cache = cache_dir()
    target = cache / f"airflow-{version('apache-airflow')}.db"
    if target.exists():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    scratch = cache / f"airflow-migrate-{os.getpid()}"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir()
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(scratch),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{scratch / 'airflow.db'}",
    }
    done = subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0:
        raise RuntimeError("airflow db migrate failed: " + done.stderr.strip()[-400:])
    os.replace(scratch / "airflow.db", target)  # atomic: a concurrent run sees all or nothing
    shutil.rmtree(scratch, ignore_errors=True)
    return target


def _expectation_detail(success: bool, data: dict) -> str:
    if "unexpected_count" in data:
        text = f"{data['unexpected_count']} of {data['rows']} rows unexpected"
        if data.get("unexpected_samples"):
            text += ", e.g. " + ", ".join(repr(v) for v in data["unexpected_samples"][:3])
        if data.get("note"):
            text += f" ({data['note']})"
        return text
    if "observed_value" in data:
        return f"observed {data['observed_value']}"
    return "passed" if success else "failed"
