"""The full tier: each pipeline really runs, with one warm local Spark session for all of them.

Per pipeline, write-audit-publish as the generated DAG runs it, each after the pipelines it
depends on or references: sample data (the spec's sample file, or rows synthesized from its
schema) → the generated job's own functions → an audit branch of the Iceberg table (created from
the spec) in the solution's catalog, main untouched → the generated quality runner running the
pipeline's GX checkpoint on that audit snapshot (the sample environment's thresholds), one result
per expectation → `publish`: main gets the snapshot when no error-severity expectation failed;
otherwise main is checked untouched and the audit branch kept → `dag.test()` of the pipeline's
ingestion DAG on the same sample and the same logical date, in a throwaway AIRFLOW_HOME whose
metadata DB is copied from a pre-migrated one, with each task's state; that rerun of the date
must replace its rows, not add to them.

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
from datetime import UTC, date, datetime
from datetime import time as midnight
from pathlib import Path

from pipelines.codegen import partition_fields, pipeline_paths
from pipelines.lake import catalog_name, catalog_properties, env_prefix, open_catalog
from pipelines.rejects import check_rejected
from pipelines.spec import RUN_DATE_COLUMN, PipelineSpec
from pipelines.validation.protocol import Emitter, describe
from pipelines.validation.sample import sample_path, synthesize

SAMPLES_SHOWN = 5
SAMPLE_ENVIRONMENT = "sample"  # whose thresholds the full tier's sample data is held to


class Lake:
    """Where the full tier writes: the solution's catalog (`load_catalog(<its name>)`, see
    pipelines.lake). A URI or warehouse other than the configured ones (--catalog-uri) is set
    for this process, and so for the generated code it runs, the way PyIceberg reads it:
    PYICEBERG_CATALOG__<NAME>__URI / __WAREHOUSE (a given URI is a SQL catalog's)."""

    def __init__(self, root: Path, catalog_uri: str = "", warehouse: str | None = None) -> None:
        self.root, self.name = root, catalog_name(root)
        configured = catalog_properties(root, self.name)
        prefix = env_prefix(self.name)
        if catalog_uri and catalog_uri != configured.get("uri"):
            os.environ[prefix + "URI"] = catalog_uri
            os.environ[prefix + "TYPE"] = "sql"
        if warehouse and warehouse != configured.get("warehouse"):
            os.environ[prefix + "WAREHOUSE"] = warehouse
        self.catalog_uri = catalog_uri or configured.get("uri", "")
        self.warehouse = warehouse or configured.get("warehouse", "")
        self._catalog = None

    def catalog(self):
        """One catalog for the run (a SQL catalog holds a connection pool)."""
        if self._catalog is None:
            self._catalog = open_catalog(self.root, self.name)
        return self._catalog

    def main(self, identifier: str) -> int | None:
        """The snapshot main points at (None: no table, or no snapshot)."""
        current = self._current(identifier)
        return current.snapshot_id if current is not None else None

    def main_rows(self, identifier: str) -> int:
        """The rows main holds (its snapshot's total-records; 0 without a table)."""
        current = self._current(identifier)
        summary = current.summary if current is not None else None
        return int(summary.get("total-records", 0)) if summary is not None else 0

    def _current(self, identifier: str):
        from pyiceberg.exceptions import NoSuchNamespaceError, NoSuchTableError

        try:
            return self.catalog().load_table(identifier).current_snapshot()
        except (NoSuchTableError, NoSuchNamespaceError):
            return None

    def rows_on_main(self, identifier: str, run_date: str) -> int:
        """How many rows of logical date `run_date` main holds."""
        from pyiceberg.expressions import EqualTo

        table = self.catalog().load_table(identifier)
        return table.scan(row_filter=EqualTo(RUN_DATE_COLUMN, run_date)).to_arrow().num_rows

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
        verdict = self._quality(spec, batch)
        refused = self._rejected(spec, batch)  # over max_rejected: not published either
        if verdict is not None:
            success, failed = verdict
            # publish names the max_rejected limits itself (the job's rejected_failures)
            self._publish(spec, batch, success and not refused, failed)
        self._dag_test(spec, source, batch)

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
            main_before = self.lake.main_rows(spec.target.identifier)
            parsed = None
            try:
                out, rejected, parsed = job.read_batch(
                    self.spark, str(source), correlation_id, self._date()
                )
                rows_read = parsed.count()  # cached
                counts, rejected_rows = job.quarantine(
                    rejected, self.lake.catalog(), correlation_id, self._date()
                )
                written = job.write_to_iceberg(out, self._date(), correlation_id)
            except Exception:
                after = self.lake.snapshots(spec.target.identifier)
                result["data"] = {
                    "snapshots_before": len(before),
                    "snapshots_after": len(after),
                    # main's rows changed: the failed job's rows would be visible
                    "partial_write": self.lake.main_rows(spec.target.identifier) != main_before,
                }
                raise
            finally:
                if parsed is not None:
                    parsed.unpersist()
            rows = written["rows"]
            result.update(
                detail=f"{rows_read} rows read, {rows} written to audit branch "
                f"{written['branch']} of {spec.target.identifier}"
                + (f", {rejected_rows} rejected" if rejected_rows else ""),
                data={
                    "rows_read": rows_read,
                    "rows_written": rows,
                    "snapshot_id": written["snapshot_id"],
                    "branch": written["branch"],
                    "run_date": written["run_date"],
                    "rejected": counts,
                    "rejected_rows": rejected_rows,
                },
            )
            batch = {
                **written,
                "rows_read": rows_read,
                "rejected": counts,
                "rejected_rows": rejected_rows,
            }
        if batch is not None:
            self._iceberg(spec, batch)
        return batch

    def _rejected(self, spec: PipelineSpec, batch: dict) -> list[str]:
        """The spec's `max_rejected` limits (default 0) against the rows the job rejected: a
        quality check of their own, beside GX's (the rejected rows never reach the table).
        Returns the error-severity limits exceeded (the batch is then not published)."""
        checks = check_rejected(spec, batch["rejected"], batch["rejected_rows"], batch["rows_read"])
        for check in checks:
            self.emit.check(
                spec.name,
                "quality",
                check.name,
                check.outcome,
                check.detail(batch["rejected"]),
                {
                    "rule": "max_rejected",
                    "severity": check.rule.severity,
                    "column": check.rule.column,
                    "rejected": check.rejected,
                    "allowed": check.allowed,
                    "rows_read": check.rows_read,
                    "counts": batch["rejected"],
                    "table": f"{spec.target.identifier}_rejected",
                },
            )
        return [check.name for check in checks if check.outcome == "failed"]

    def _iceberg(self, spec: PipelineSpec, batch: dict) -> None:
        """The table is the spec's (as its DDL declares it) and the batch is on its audit branch,
        main untouched."""
        with self.emit.timed(spec.name, "iceberg", "Iceberg table") as result:
            table = self.lake.catalog().load_table(spec.target.identifier)
            fields = [[f.name, str(f.transform)] for f in table.spec().fields]
            expected_fields = partition_fields(spec)
            columns = [
                [f.name, str(f.field_type), f.required, f.doc or ""] for f in table.schema().fields
            ]
            expected = [
                [c.name, iceberg_type_name(c.type), not c.nullable, c.description]
                for c in spec.output
            ]
            audit = table.snapshot_by_name(batch["branch"])
            main = table.current_snapshot()
            problems = []
            if audit is None or audit.snapshot_id != batch["snapshot_id"]:
                problems.append(f"the job's commit is not the head of {batch['branch']}")
            if main is None or main.snapshot_id != batch["base_snapshot_id"]:
                problems.append("main moved: the job did not write to its audit branch only")
            for got, want in zip(columns, expected, strict=False):
                if got != want:
                    problems.append(
                        f"column {got[0]}: {_column_text(got)}, the DDL says {_column_text(want)}"
                    )
            if [c[0] for c in columns] != [c[0] for c in expected]:
                problems.append(
                    f"columns {[c[0] for c in columns]}, the DDL's {[c[0] for c in expected]}"
                )
            if fields != expected_fields:
                problems.append(f"partition spec {fields}, expected {expected_fields}")
            result["data"] = {
                "snapshot_id": batch["snapshot_id"],
                "branch": batch["branch"],
                "main_snapshot_id": main.snapshot_id if main else None,
                "snapshots": len(table.snapshots()),
                "partition_spec": fields,
                "columns": columns,
                "location": table.location(),
            }
            if problems:
                result.update(outcome="failed", detail="; ".join(problems))
            else:
                result["detail"] = (
                    f"snapshot {batch['snapshot_id']} on {batch['branch']}, main untouched; "
                    f"{len(columns)} columns as the DDL declares them; partitioned by "
                    + ", ".join(f"{n} ({t})" for n, t in fields)
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

    def _publish(self, spec: PipelineSpec, batch: dict, success: bool, failed: list[str]) -> None:
        """Publishes when the check succeeded; otherwise checks that main is untouched and the
        audit branch kept."""
        with self.emit.timed(spec.name, "publish", "write-audit-publish") as result:
            job = sys.modules.get(f"src.ingestion.{spec.name}") or self._module(
                f"src.ingestion.{spec.name}"
            )
            identifier, branch = spec.target.identifier, batch["branch"]
            problems = []
            if success:
                published = job.publish(batch, {"success": True})
                table = self.lake.catalog().load_table(identifier)
                main = table.current_snapshot()
                rows = self.lake.rows_on_main(identifier, batch["run_date"])
                if main is None or main.snapshot_id != published["published"]:
                    problems.append("main is not the published snapshot")
                if table.snapshot_by_name(branch) is not None:
                    problems.append(f"audit branch {branch} was not removed")
                if rows != batch["rows"]:
                    problems.append(
                        f"main holds {rows} rows of {batch['run_date']}, the batch had {batch['rows']}"
                    )
                result["data"] = {
                    "published": True,
                    "how": published["how"],
                    "main_snapshot_id": main.snapshot_id if main else None,
                    "rows_on_main": rows,
                }
                detail = (
                    f"published to main ({published['how']}): snapshot "
                    f"{published['published']}, {rows} rows of {batch['run_date']}"
                )
            else:
                try:
                    job.publish(batch, {"success": False, "failed": ", ".join(failed)})
                    problems.append("published although the check failed")
                except job.NotPublished:
                    pass
                table = self.lake.catalog().load_table(identifier)
                main = table.current_snapshot()
                audit = table.snapshot_by_name(branch)
                untouched = main is not None and main.snapshot_id == batch["base_snapshot_id"]
                kept = audit is not None and audit.snapshot_id == batch["snapshot_id"]
                if not untouched:
                    problems.append("main moved although the check failed")
                if not kept:
                    problems.append(f"audit branch {branch} is gone")
                result["data"] = {
                    "published": False,
                    "main_untouched": untouched,
                    "branch_kept": kept,
                    "branch": branch,
                    "main_snapshot_id": main.snapshot_id if main else None,
                }
                detail = (
                    f"not published ({', '.join(failed)} failed): main untouched at snapshot "
                    f"{batch['base_snapshot_id']}, the rows kept on audit branch {branch}"
                )
            if problems:
                result.update(outcome="failed", detail="; ".join(problems))
            else:
                result["detail"] = detail

    def _dag_test(self, spec: PipelineSpec, source: Path, batch: dict) -> None:
        ran = False
        main_before = self.lake.main(spec.target.identifier)
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
            # the same logical date as the job's run: the DAG's ingest is a rerun of it
            logical = datetime.combine(self._date(), midnight(), UTC)
            run = dag.test(logical_date=logical, run_conf={"source": str(source)})
            ran = True
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
        if ran:
            self._rerun(spec, batch, main_before, state.endswith("success"))

    def _rerun(self, spec: PipelineSpec, batch: dict, main_before, succeeded: bool) -> None:
        """dag.test() ran the job's logical date again: its rows are replaced, not added to
        (when it published), or main is as it was (when its check failed)."""
        day = batch["run_date"]
        with self.emit.timed(spec.name, "dag_test", "rerun of the date") as result:
            rows = self.lake.rows_on_main(spec.target.identifier, day)
            main_after = self.lake.main(spec.target.identifier)
            result["data"] = {
                "run_date": day,
                "rows_on_main": rows,
                "rows_expected": batch["rows"],
                "dag_run_published": succeeded,
                "main_before": main_before,
                "main_after": main_after,
            }
            if succeeded:
                if rows == batch["rows"]:
                    result["detail"] = f"{rows} rows of {day} on main after the rerun: replaced"
                else:
                    result.update(
                        outcome="failed",
                        detail=f"{rows} rows of {day} on main after the rerun, the sample gives "
                        f"{batch['rows']}: the rerun did not replace the date",
                    )
            elif main_after == main_before:
                result["detail"] = "the DAG run did not publish: main untouched"
            else:
                result.update(
                    outcome="failed",
                    detail="the DAG run failed, yet main moved: not write-audit-publish",
                )

    # --- helpers -------------------------------------------------------------------------------

    def _now(self) -> datetime:
        return self.now or datetime.now(UTC)

    def _date(self) -> date:
        """The logical date of this validation's runs (the job's, then the DAG's rerun)."""
        return self._now().astimezone(UTC).date()

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


ICEBERG_TYPES = {"timestamp": "timestamptz"}  # a Spark TIMESTAMP is an instant


def iceberg_type_name(kind: str) -> str:
    """A spec type as PyIceberg prints the Iceberg type the generated job makes of it."""
    if kind.startswith("decimal("):
        precision, scale = kind.removeprefix("decimal(").removesuffix(")").split(",")
        return f"decimal({int(precision)}, {int(scale)})"
    return ICEBERG_TYPES.get(kind, kind)


def _column_text(column: list) -> str:
    _, kind, required, doc = column
    return f"{kind}{' NOT NULL' if required else ''}" + (f" COMMENT {doc!r}" if doc else "")


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
