"""The full tier: each pipeline really runs, with one warm local Spark session for all of them.

Per pipeline, each after the pipelines it depends on or references: sample data (the spec's
sample file, or rows synthesized from its schema) → one `dag.test()` of the pipeline's ingestion
DAG on that sample, for today's logical date, in a throwaway AIRFLOW_HOME whose metadata DB is
copied from a pre-migrated one. Its tasks run in this process, on the same Spark session, and the
results of each step are taken from the tasks' own calls (`_Steps`): ingest runs the generated
job, which writes the batch to an audit branch of the Iceberg table (created from the spec) in the
solution's catalog → the table is checked against the DDL, the batch on its audit branch and main
untouched, before the next task runs → check_quality runs the generated quality runner, the
pipeline's GX checkpoint on that audit snapshot with the sample environment's thresholds, one
result per expectation, and the spec's max_rejected limits are held against the rows the job
rejected → publish: main gets the snapshot when every check passed; otherwise main is checked
untouched and the audit branch kept. The job runs once per pipeline and validation.

The DAG runs the job the way agent-prompts/context.yaml submits it (pipelines.validation.submitted):
in the task, through the real SparkSubmitOperator (the job step's results are then the batch the
audit_batch task found on the audit branch), or as a client of the Spark Connect server the
connection names; the dag.test() check records which.

Runs inside the validation subprocess (`pipelines.validation.child`).
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from datetime import time as midnight
from functools import partial
from pathlib import Path

from pipelines.codegen import partition_fields, pipeline_paths
from pipelines.lake import catalog_name, catalog_properties, env_prefix, open_catalog
from pipelines.rejects import check_rejected
from pipelines.spec import RUN_DATE_COLUMN, PipelineSpec
from pipelines.validation.protocol import Emitter, describe
from pipelines.validation.sample import sample_path, synthesize
from pipelines.validation.submitted import Validated, prepare

SAMPLES_SHOWN = 5
CONNECT_MODE = "SPARK_CONNECT_MODE_ENABLED"  # PySpark's switch to Spark Connect, per process
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
        """How many rows of logical date `run_date` main holds (0 without a table). The run date
        is the table's first partition field (identity): the files the scan plans for it hold
        its rows only, so their record counts add up to it, unless a file has deletes or a
        residual filter left (then the rows are read)."""
        from pyiceberg.exceptions import NoSuchNamespaceError, NoSuchTableError
        from pyiceberg.expressions import AlwaysTrue, EqualTo

        try:
            table = self.catalog().load_table(identifier)
        except (NoSuchTableError, NoSuchNamespaceError):
            return 0
        scan = table.scan(row_filter=EqualTo(RUN_DATE_COLUMN, run_date))
        tasks = list(scan.plan_files())
        if all(not t.delete_files and t.residual == AlwaysTrue() for t in tasks):
            return sum(t.file.record_count for t in tasks)
        return scan.select(RUN_DATE_COLUMN).to_arrow().num_rows

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
        self._validated: Validated | None = None  # the submission, prepared once

    def run(self, specs: list[PipelineSpec]) -> None:
        problem = java_problem()
        if problem is None:
            try:
                self.spark = self._spark_session()
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
        self._dag_run(spec, source)

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

    def _dag_run(self, spec: PipelineSpec, source: Path) -> None:
        """The pipeline's one run: `dag.test()` of its ingestion DAG on the sample, for this
        validation's logical date. Its tasks run in this process, on the validation's Spark
        session; each task's own call gives its step's results (`_Steps`): the job's (ingest),
        the Iceberg table's (checked between ingest and check_quality, while the batch is on its
        audit branch only), the quality results (check_quality), then publish's."""
        start = time.perf_counter()
        try:
            dag, problem = self._load_dag(spec)
        except Exception as exc:
            dag, problem = None, describe(exc)
        if dag is None:
            self.emit.step(spec.name, "dag_test")
            self.emit.check(
                spec.name,
                "dag_test",
                "dag.test()",
                "failed",
                f"{problem}: the pipeline's DAG did not run, nor any step of it",
                duration=time.perf_counter() - start,
            )
            return
        validated = self._submission()
        if validated.problem is not None:
            self.emit.step(spec.name, "dag_test")
            self.emit.check(
                spec.name,
                "dag_test",
                "dag.test()",
                "error",
                f"not run as {validated.mode}: {validated.problem}",
                {"submission": validated.facts},
                duration=time.perf_counter() - start,
            )
            return
        steps = _Steps(self, spec, validated.mode)
        steps.attach(dag)
        # the logical date of the run: today's (UTC), as the job's --run-date (Airflow's ds)
        logical = datetime.combine(self._date(), midnight(), UTC)
        run = None
        with self.emit.timed(spec.name, "dag_test", "dag.test()") as result:
            connect_mode = os.environ.get(CONNECT_MODE)
            try:
                run = dag.test(logical_date=logical, run_conf={"source": str(source)})
            finally:
                # a Spark Connect client switches this whole process to Connect (PySpark reads
                # CONNECT_MODE in its functions): the validation's own session is a local one
                if connect_mode is None:
                    os.environ.pop(CONNECT_MODE, None)
                steps.finish()  # what the DAG's tasks did, also when dag.test() raised
            instances = run.get_task_instances()
            tasks = {ti.task_id: str(ti.state) for ti in instances}
            durations = {ti.task_id: round(ti.duration or 0, 3) for ti in instances}
            state = str(run.state)
            result["data"] = {
                "dag_run": state,
                "tasks": tasks,
                "durations": durations,
                "submission": validated.facts,
            }
            listed = ", ".join(f"{t} {s}" for t, s in tasks.items())
            if state.endswith("success"):
                result["detail"] = f"success ({validated.describe()}): {listed}"
            else:
                result.update(
                    outcome="failed", detail=f"dag run {state} ({validated.describe()}): {listed}"
                )
            steps.submitted(tasks, durations)

    def _spark_session(self):
        """The validation's own Spark session (the samples are synthesized on it): a local one,
        or in the spark_connect mode a client of the server the DAGs run the jobs on (PySpark
        allows no Spark Connect session beside a local one in a process; the samples are then
        written where the server reads them)."""
        validated = self._submission()
        if validated.mode == "spark_connect" and validated.problem is None:
            from pyspark.sql import SparkSession

            builder = SparkSession.builder.remote(validated.facts["remote"])
            builder = builder.config("spark.sql.session.timeZone", "UTC")
            builder = builder.config("spark.sql.variable.substitute", "false")
            return builder.appName("phasegate validation").getOrCreate()
        return spark_session()

    def _submission(self) -> Validated:
        """How the DAGs run the job (context.yaml), made ready once per validation."""
        if self._validated is None:
            self._airflow()  # the connections are Airflow's
            self._validated = prepare(self.root)
        return self._validated

    def _load_dag(self, spec: PipelineSpec):
        """(the pipeline's ingestion DAG, None), or (None, why it cannot run)."""
        self._airflow()
        from airflow.dag_processing.dagbag import DagBag

        dag_file = self.root / pipeline_paths(spec)["dag"]
        bag = DagBag(dag_folder=str(dag_file), safe_mode=False)
        if bag.import_errors:
            error = str(next(iter(bag.import_errors.values()))).strip().splitlines()[-1]
            return None, f"the DAG does not import: {error}"
        dag = bag.dags.get(spec.name)
        if dag is None:
            return None, f"{dag_file.name} defines no DAG '{spec.name}'"
        for task in dag.tasks:
            task.retries = 0  # a failure shows now, not after the production retry delay
        return dag, None

    def _job_result(self, spec: PipelineSpec, batch: dict, result: dict) -> None:
        rows, rejected_rows = batch["rows"], batch.get("rejected_rows", 0)
        result.update(
            detail=f"{batch['rows_read']} rows read, {rows} written to audit branch "
            f"{batch['branch']} of {spec.target.identifier}"
            + (f", {rejected_rows} rejected" if rejected_rows else ""),
            data={
                "rows_read": batch["rows_read"],
                "rows_written": rows,
                "snapshot_id": batch["snapshot_id"],
                "branch": batch["branch"],
                "run_date": batch["run_date"],
                "rejected": batch.get("rejected", {}),
                "rejected_rows": rejected_rows,
            },
        )

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

    def _quality(self, spec: PipelineSpec, report: dict, elapsed: float) -> list[str]:
        """One result per expectation of the GX checkpoint the check_quality task ran (the
        generated quality runner, on the job's audit snapshot, with the sample environment's
        thresholds). Returns the rules that failed or raised."""
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
        return failing

    def _publish(
        self, spec: PipelineSpec, steps: _Steps, result: dict, published: dict | None
    ) -> None:
        """What the publish task did (`published`: what it returned; None: it refused, or did
        not run), checked on the table against what the checks decided: published when every
        check passed, otherwise main untouched and the audit branch kept."""
        batch = steps.batch
        identifier, branch, day = spec.target.identifier, batch["branch"], batch["run_date"]
        expected = steps.passed  # None: the checks' verdict is unknown (check_quality raised)
        problems = []
        if published is not None:
            table = self.lake.catalog().load_table(identifier)
            main = table.current_snapshot()
            rows = self.lake.rows_on_main(identifier, day)
            if expected is False:
                problems.append(f"published although {', '.join(steps.failed)} failed")
            if main is None or main.snapshot_id != published["published"]:
                problems.append("main is not the published snapshot")
            if table.snapshot_by_name(branch) is not None:
                problems.append(f"audit branch {branch} was not removed")
            if rows != batch["rows"]:
                problems.append(
                    f"main holds {rows} rows of {day}, the batch had {batch['rows']}"
                    + (" (added to, not replaced)" if steps.rows_before else "")
                )
            result["data"] = {
                "published": True,
                "how": published["how"],
                "main_snapshot_id": main.snapshot_id if main else None,
                "rows_on_main": rows,
                "rows_of_the_date_before": steps.rows_before,
            }
            detail = (
                f"published to main ({published['how']}): snapshot "
                f"{published['published']}, {rows} rows of {day}"
                + (
                    f" (they replaced the {steps.rows_before} a previous run published)"
                    if steps.rows_before
                    else ""
                )
            )
        else:
            if expected is True:
                problems.append(
                    "not published although every check passed"
                    + (f": {steps.publish_error}" if steps.publish_error else "")
                )
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
                "publish_task": steps.publish_task,
            }
            why = ", ".join(steps.failed) or "the quality check"
            detail = (
                f"not published ({why} failed; the publish task {steps.publish_task}): main "
                f"untouched at snapshot {batch['base_snapshot_id']}, the rows kept on audit "
                f"branch {branch}"
            )
        if problems:
            result.update(outcome="failed", detail="; ".join(problems))
        else:
            result["detail"] = detail

    # --- helpers -------------------------------------------------------------------------------

    def _now(self) -> datetime:
        return self.now or datetime.now(UTC)

    def _date(self) -> date:
        """The logical date of this validation's runs (the job's, then the DAG's rerun)."""
        return self._now().astimezone(UTC).date()

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


class _Steps:
    """The per-step results of a pipeline's one `dag.test()`, taken from the DAG's own tasks as
    they run in this process: the python_callable of each of ingest, check_quality and publish
    is wrapped by one that calls it unchanged (its arguments, return value and exception pass
    through) and records what it returned or raised, and how long it took. What a task did not
    do (it did not run) is not reported, except publish's: main untouched, the branch kept.

    In the spark_submit mode ingest is the SparkSubmitOperator (the job runs in spark-submit's
    process): the job step's results are then those of audit_batch, the batch it found on the
    audit branch (the job's snapshot properties and rejected rows)."""

    JOB_TASKS = {"spark_submit": "audit_batch"}  # the task returning the batch, by mode

    def __init__(self, tier: FullTier, spec: PipelineSpec, mode: str = "in_process") -> None:
        self.tier, self.spec, self.emit, self.mode = tier, spec, tier.emit, mode
        self.job_task = self.JOB_TASKS.get(mode, "ingest")
        self.batch: dict | None = None  # what ingest returned
        self.passed: bool | None = None  # every check passed (None: unknown, or not checked)
        self.failed: list[str] = []  # the checks that failed: GX's rules, max_rejected limits
        self.publish_task = "did not run"
        self.publish_error = ""
        self.published = False  # publish's result is recorded
        identifier = spec.target.identifier
        self.snapshots_before = tier.lake.snapshots(identifier)
        self.main_rows_before = tier.lake.main_rows(identifier)
        # the rows of the run's date already on main (a previous validation's): replaced
        self.rows_before = tier.lake.rows_on_main(identifier, tier._date().isoformat())

    def attach(self, dag) -> None:
        tasks = {self.job_task: self._ingest, "check_quality": self._check_quality}
        tasks["publish"] = self._publish
        for name in tasks:
            task = dag.task_dict.get(name)
            if task is None or not callable(getattr(task, "python_callable", None)):
                # the steps' results come from these tasks' own calls: without them only the
                # DAG run's task states can be reported
                self.emit.check(
                    self.spec.name,
                    "job",
                    "job on the sample",
                    "error",
                    f"the DAG has no Python task '{name}' (tasks: {', '.join(dag.task_ids)}): "
                    "the steps' results cannot be taken from its run",
                )
                return
        for name, step in tasks.items():
            task = dag.task_dict[name]
            task.python_callable = functools.wraps(task.python_callable)(
                partial(step, task.python_callable)
            )

    def _ingest(self, call, *args, **kwargs):
        spec, lake = self.spec, self.tier.lake
        identifier = spec.target.identifier
        with self.emit.timed(spec.name, "job", "job on the sample") as result:
            try:
                batch = call(*args, **kwargs)
            except Exception as exc:
                after = lake.snapshots(identifier)
                result["data"] = {
                    "snapshots_before": len(self.snapshots_before),
                    "snapshots_after": len(after),
                    # main's rows changed: the failed job's rows would be visible
                    "partial_write": lake.main_rows(identifier) != self.main_rows_before,
                }
                raised = exc
                raise
            raised = None
            self.tier._job_result(spec, batch, result)
            self.batch = batch
        if raised is not None:
            raise raised  # the task fails, as it would without the validation
        if self.batch is not None:
            self.tier._iceberg(spec, self.batch)
        return batch

    def _check_quality(self, call, *args, **kwargs):
        spec = self.spec
        self.emit.step(spec.name, "quality")
        start = time.perf_counter()
        report, raised = None, None
        try:
            report = call(*args, **kwargs)
        except Exception as exc:
            raised = exc
            report = getattr(exc, "report", None)  # the runner's DataQualityException
        elapsed = time.perf_counter() - start
        failing = None
        if isinstance(report, dict) and isinstance(report.get("results"), list):
            try:
                failing = self.tier._quality(spec, report, elapsed)
            except Exception as exc:
                self.emit.check(spec.name, "quality", "GX checkpoint", "error", describe(exc))
        else:
            self.emit.check(
                spec.name,
                "quality",
                "GX checkpoint",
                "error",
                describe(raised) if raised is not None else f"the runner returned {report!r}",
                duration=elapsed,
            )
        refused = self.tier._rejected(spec, self.batch) if self.batch is not None else []
        if failing is not None:
            self.failed = [*failing, *refused]
            self.passed = bool(report.get("success")) and not self.failed
        if raised is not None:
            raise raised
        return report

    def _publish(self, call, *args, **kwargs):
        spec = self.spec
        self.published = True
        published, raised = None, None
        with self.emit.timed(spec.name, "publish", "write-audit-publish") as result:
            try:
                published = call(*args, **kwargs)
                self.publish_task = "published"
            except Exception as exc:
                raised = exc
                refused = type(exc).__name__ == "NotPublished"
                self.publish_task = "refused" if refused else "failed"
                self.publish_error = describe(exc)
            if self.batch is not None:
                self.tier._publish(spec, self, result, published)
        if raised is not None:
            raise raised
        return published

    def submitted(self, tasks: dict[str, str], durations: dict[str, float]) -> None:
        """After the run, in the spark_submit mode: a submission that failed (audit_batch did
        not run) is the job step's failure."""
        if self.mode != "spark_submit" or self.batch is not None:
            return
        state = tasks.get("ingest", "did not run")
        if state.endswith("success"):
            return  # audit_batch's own failure is recorded by its call
        self.emit.check(
            self.spec.name,
            "job",
            "job on the sample",
            "failed",
            f"spark-submit of the job (task ingest) {state.removeprefix('TaskInstanceState.')}: "
            "no batch on an audit branch",
            {"task": "ingest", "state": state},
            durations.get("ingest"),
        )

    def finish(self) -> None:
        """After the run: when ingest wrote a batch and publish did not run, main must be
        untouched and the audit branch kept."""
        if self.batch is None or self.published:
            return
        with self.emit.timed(self.spec.name, "publish", "write-audit-publish") as result:
            self.tier._publish(self.spec, self, result, None)


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
