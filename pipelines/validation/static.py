"""The static tier: what can be checked without running anything, in seconds.

Per pipeline: its generated files are in sync with its spec; its Python parses and is ruff-clean;
its DAG imports in a real DagBag (no metadata DB) without errors or warnings and has the
structure the spec implies (the orchestration's `trigger_dag_id`s exist; Airflow does not check
that), runs the job the way agent-prompts/context.yaml chooses (pipelines.submission), and
declares its table as an Asset, scheduled on its upstreams' assets when the spec says so (the
asset graph matches depends_on); its GX suite loads with every expectation (GX 1.x drops unknown types silently) and sane
arguments (min <= max and mostly in (0, 1] in every environment, every suite parameter described,
references to existing pipelines and columns); its checkpoint names its validation definition,
which names its suite and batch definition, and GX loads the checkpoint from the file data
context with all of them; its DDL parses and declares the spec's columns, types and partitions.

Runs inside the validation subprocess: it imports Airflow, Great Expectations and sqlglot.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

from pipelines.codegen import (
    EXPECTATIONS,
    GX_CONFIG,
    ORCHESTRATION_DAG,
    pipeline_paths,
    pipeline_states,
    render_pipelines,
    solution_catalog,
    sql_type,
)
from pipelines.errors import GenerationError, SpecError
from pipelines.generate import plan
from pipelines.orchestration import Group, RunPlan, asset_uri, groups, run_plans
from pipelines.spec import DEFAULT_ENVIRONMENT, RUN_DATE_COLUMN, PipelineSpec
from pipelines.submission import Submission, submission
from pipelines.validation.protocol import STATIC_STEPS, Emitter, describe

PYTHON_KINDS = ("job", "quality", "dag", "test")
DAG_TASKS = ("ingest", "check_quality", "publish")  # write-audit-publish
# spark_submit: the job runs outside the task, so its arguments are a task of their own and the
# batch it wrote is found in the table afterwards
SUBMIT_TASKS = ("arguments", "ingest", "audit_batch", "check_quality", "publish")
GENERATED_EXPECTATIONS = {*EXPECTATIONS.values(), "expect_compound_columns_to_be_unique"}


def run_static(root: Path, specs: list[PipelineSpec], selected: list[str], emit: Emitter) -> None:
    chosen = [s for s in specs if s.name in selected]
    start = time.perf_counter()
    rendered = render_pipelines(specs, _today())
    states = pipeline_states(specs, plan(root, rendered), rendered, root)
    ready = []
    for spec in chosen:
        state = states[spec.name]
        emit.step(spec.name, "sync")
        if state == "not generated":
            emit.check(
                spec.name,
                "sync",
                "generated files",
                "failed",
                "not generated yet: run `phasegate generate pipelines`",
                duration=time.perf_counter() - start,
            )
            for step in STATIC_STEPS[1:]:  # every step after sync
                emit.check(spec.name, step, step, "skipped", "nothing generated to check")
            continue
        outcome = "passed" if state == "in sync" else "failed"
        detail = {
            "in sync": "the generated files match the spec",
            "out of date": "the spec changed since the files were generated: run "
            "`phasegate generate pipelines`",
            "conflicts": "a re-generation left conflict markers: resolve them",
        }[state]
        emit.check(spec.name, "sync", "spec and files in sync", outcome, detail, {"state": state})
        ready.append(spec)
    suites = _start_suites(root, ready)
    for spec in ready:
        _parse(root, spec, emit)
    _lint(root, ready, emit)
    _dags(root, specs, ready, emit)
    for spec in ready:
        _ddl(root, spec, emit)
    _finish_suites(suites, ready, emit)


def _today():
    from datetime import date

    return date.today()


def _parse(root: Path, spec: PipelineSpec, emit: Emitter) -> None:
    paths = pipeline_paths(spec)
    with emit.timed(spec.name, "parse", "python parses") as result:
        problems = []
        for kind in PYTHON_KINDS:
            path = root / paths[kind]
            try:
                ast.parse(path.read_bytes(), filename=paths[kind])
            except FileNotFoundError:
                problems.append(f"{paths[kind]}: missing")
            except SyntaxError as exc:
                problems.append(f"{paths[kind]}:{exc.lineno}: {exc.msg}")
        if problems:
            result.update(outcome="failed", detail="; ".join(problems))
        else:
            result["detail"] = f"{len(PYTHON_KINDS)} files"


def _lint(root: Path, specs: list[PipelineSpec], emit: Emitter) -> None:
    """One ruff run over every selected pipeline's Python, with the repository's own config."""
    if not specs:
        return
    files = {
        paths[kind]: spec.name
        for spec in specs
        for paths in [pipeline_paths(spec)]
        for kind in PYTHON_KINDS
        if (root / paths[kind]).is_file()
    }
    for spec in specs:
        emit.step(spec.name, "lint")
    start = time.perf_counter()
    ruff = Path(sys.executable).with_name("ruff")
    try:
        done = subprocess.run(
            [
                str(ruff if ruff.exists() else "ruff"),
                "check",
                "--no-cache",
                "--output-format",
                "json",
                "--exit-zero",
                *files,
            ],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=120,
        )
        findings = json.loads(done.stdout or "[]")
        error = None if done.returncode == 0 else done.stderr.strip()[:400]
    except (OSError, subprocess.SubprocessError, ValueError) as exc:
        findings, error = [], describe(exc)
    elapsed = time.perf_counter() - start
    by_pipeline: dict[str, list[str]] = {spec.name: [] for spec in specs}
    for finding in findings:
        path = os.path.relpath(finding["filename"], root)
        if path in files:
            row = (finding.get("location") or {}).get("row")
            by_pipeline[files[path]].append(f"{path}:{row}: {finding['code']} {finding['message']}")
    for spec in specs:
        found = by_pipeline[spec.name]
        if error:
            emit.check(spec.name, "lint", "ruff", "error", f"ruff did not run: {error}")
        elif found:
            emit.check(
                spec.name,
                "lint",
                "ruff",
                "failed",
                f"{len(found)} finding(s): " + "; ".join(found[:5]),
                {"findings": found},
                elapsed,
            )
        else:
            emit.check(spec.name, "lint", "ruff", "passed", "no findings", duration=elapsed)


def _dags(root: Path, specs: list[PipelineSpec], ready: list[PipelineSpec], emit: Emitter) -> None:
    if not ready:
        return
    for spec in ready:
        emit.step(spec.name, "dagbag")
    start = time.perf_counter()
    try:
        from airflow.dag_processing.dagbag import DagBag

        bag = DagBag(dag_folder=str(root / "airflow" / "dags"), safe_mode=False)
        errors = {os.path.relpath(k, root): v for k, v in bag.import_errors.items()}
        warnings = {
            os.path.relpath(k, root): [str(w) for w in v] for k, v in bag.captured_warnings.items()
        }
        dags = bag.dags
    except Exception as exc:  # Airflow itself failed to load: every DAG check is an error
        for spec in ready:
            emit.check(spec.name, "dagbag", "DagBag import", "error", describe(exc))
        return
    elapsed = time.perf_counter() - start
    plans = run_plans(specs)
    by_dag = {group.dag_id: group for group in groups(specs)}
    try:
        how, how_problem = submission(root), None
    except SpecError as exc:
        how, how_problem = Submission(), str(exc)
    for spec in ready:
        path = pipeline_paths(spec)["dag"]
        if path in errors:
            emit.check(
                spec.name,
                "dagbag",
                "DagBag import",
                "failed",
                _last_line(errors[path]),
                {"error": errors[path]},
                elapsed,
            )
        elif warnings.get(path):
            emit.check(
                spec.name,
                "dagbag",
                "DagBag import",
                "failed",
                "warnings: " + "; ".join(warnings[path])[:400],
                {"warnings": warnings[path]},
                elapsed,
            )
        else:
            emit.check(
                spec.name,
                "dagbag",
                "DagBag import",
                "passed",
                "no errors, no warnings",
                duration=elapsed,
            )
        emit.step(spec.name, "dag")
        _structure(spec, dags.get(spec.name), how, emit)
        _submission(root, spec, dags.get(spec.name), how, how_problem, emit)
        plan = plans[spec.name]
        _schedule(spec, plan, dags, emit)
        _assets(spec, plan, specs, dags, emit)
        if plan.orchestrated:
            if ORCHESTRATION_DAG in errors:
                emit.check(
                    spec.name,
                    "dag",
                    "orchestration",
                    "failed",
                    "orchestration DAG: " + _last_line(errors[ORCHESTRATION_DAG]),
                )
            else:
                _orchestration(spec, by_dag[plan.dag_id], dags.get(plan.dag_id), set(dags), emit)


def _structure(spec: PipelineSpec, dag, how: Submission, emit: Emitter) -> None:
    if dag is None:
        emit.check(spec.name, "dag", "DAG structure", "failed", f"no DAG with id '{spec.name}'")
        return
    problems = []
    tasks = {t.task_id: t for t in dag.tasks}
    expected = SUBMIT_TASKS if how.mode == "spark_submit" else DAG_TASKS
    batch = "audit_batch" if how.mode == "spark_submit" else "ingest"
    if set(tasks) != set(expected):
        problems.append(f"tasks are {sorted(tasks)}, expected {sorted(expected)}")
    elif how.mode == "spark_submit" and "ingest" not in tasks["arguments"].downstream_task_ids:
        problems.append("ingest does not run after arguments")
    elif how.mode == "spark_submit" and "audit_batch" not in tasks["ingest"].downstream_task_ids:
        problems.append("audit_batch does not run after ingest")
    elif "check_quality" not in tasks[batch].downstream_task_ids:
        problems.append(f"check_quality does not run after {batch}")
    elif "publish" not in tasks["check_quality"].downstream_task_ids:
        problems.append("publish does not run after check_quality (write-audit-publish)")
    if "source" not in (dag.params or {}):
        problems.append("the DAG has no 'source' param (validation triggers it with a sample)")
    emit.check(
        spec.name,
        "dag",
        "DAG structure",
        "failed" if problems else "passed",
        "; ".join(problems) or " >> ".join(expected),
        {"tasks": sorted(tasks), "schedule": str(getattr(dag, "schedule", None))},
    )


def _schedule(spec: PipelineSpec, plan: RunPlan, dags: dict, emit: Emitter) -> None:
    """The pipeline runs where and when pipelines.orchestration says (what data-flow.md and the
    Pipelines screen show): on its own DAG's schedule, or, in a group, only when its
    orchestration triggers it (its own DAG unscheduled: nothing runs twice)."""
    own, carrier = dags.get(spec.name), dags.get(plan.dag_id)
    problems = []
    if own is not None and plan.on_assets:
        pass  # its schedule is its upstreams' assets: the "assets" check
    elif own is not None:
        expected = None if plan.orchestrated else plan.schedule
        if _schedule_of(own) != expected:
            problems.append(
                f"its DAG's schedule is {_schedule_of(own)!r}, expected {expected!r}"
                + (f" (it runs when {plan.dag_id} triggers it)" if plan.orchestrated else "")
            )
    if plan.orchestrated and carrier is not None and _schedule_of(carrier) != plan.schedule:
        problems.append(
            f"{plan.dag_id} runs on {_schedule_of(carrier)!r}, the specs say {plan.schedule!r}"
        )
    emit.check(
        spec.name,
        "dag",
        "schedule",
        "failed" if problems else "passed",
        "; ".join(problems) or plan.markdown().replace("`", ""),
        {"schedule": plan.schedule, "dag_id": plan.dag_id},
    )


def _submission(
    root: Path, spec: PipelineSpec, dag, how: Submission, problem: str | None, emit: Emitter
) -> None:
    """ingest runs the job the way context.yaml says: SparkSubmitOperator on the connection
    with the job and its arguments, a Spark Connect client of the connection (`--remote`), or
    the job inside the task."""
    if problem:
        emit.check(spec.name, "dag", "submission", "failed", problem)
        return
    task = next((t for t in dag.tasks if t.task_id == "ingest"), None) if dag else None
    if task is None:
        emit.check(spec.name, "dag", "submission", "failed", "the DAG has no task ingest")
        return
    problems = []
    facts: dict = {"mode": how.mode, "operator": type(task).__name__}
    callable_ = getattr(task, "python_callable", None)
    names = set(callable_.__code__.co_names) if callable_ else set()
    constants = set(_constants(callable_.__code__)) if callable_ else set()
    if how.mode == "spark_submit":
        try:
            from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator
        except ImportError as exc:
            emit.check(spec.name, "dag", "submission", "error", describe(exc))
            return
        if not isinstance(task, SparkSubmitOperator):
            problems.append(f"ingest is a {type(task).__name__}, not a SparkSubmitOperator")
        else:
            conn_id, application = task._conn_id, str(task.application)
            arguments = [str(a) for a in task.application_args or []]
            facts.update(conn_id=conn_id, application=application, application_args=arguments)
            if conn_id != how.conn_id:
                problems.append(
                    f"submits with the connection {conn_id!r}, context.yaml says {how.conn_id!r}"
                )
            job = (root / pipeline_paths(spec)["job"]).resolve()
            if Path(application).resolve() != job:
                problems.append(f"submits {application}, not the job {pipeline_paths(spec)['job']}")
            for flag in ("--run-date", "--source", "--correlation-id"):
                at = arguments.index(flag) if flag in arguments else -1
                if at < 0 or at + 1 >= len(arguments) or "{{" not in arguments[at + 1]:
                    problems.append(f"the job's arguments have no templated {flag}")
    elif how.mode == "spark_connect":
        if callable_ is None:
            problems.append(f"ingest is a {type(task).__name__}, not a task running the job")
        else:
            conn_id = callable_.__globals__.get("SPARK_CONN_ID")
            facts["conn_id"] = conn_id
            if "--remote" not in constants or "SparkConnectHook" not in names:
                problems.append("ingest does not run the job with --remote <the connection's URL>")
            if conn_id != how.conn_id:
                problems.append(f"connects with {conn_id!r}, context.yaml says {how.conn_id!r}")
    else:
        if callable_ is None:
            problems.append(f"ingest is a {type(task).__name__}, not a task running the job")
        elif "--remote" in constants or "main" not in names:
            problems.append("ingest does not run the job's main in the task")
    emit.check(
        spec.name,
        "dag",
        "submission",
        "failed" if problems else "passed",
        "; ".join(problems)
        or {
            "spark_submit": f"SparkSubmitOperator on {how.conn_id}",
            "spark_connect": f"Spark Connect client of {how.conn_id}",
        }.get(how.mode, "the job runs in the task"),
        facts,
    )


def _constants(code) -> list:
    """The constants of a function's code and of the code nested in it."""
    out = []
    for value in code.co_consts:
        out.extend(_constants(value) if hasattr(value, "co_consts") else [value])
    return out


def _assets(
    spec: PipelineSpec, plan: RunPlan, specs: list[PipelineSpec], dags: dict, emit: Emitter
) -> None:
    """The asset graph matches depends_on: the DAG's publish updates the Asset of its table (and
    nothing else does); a pipeline scheduled on assets runs on exactly its upstreams' Assets, each
    one an upstream DAG publishes."""
    dag = dags.get(spec.name)
    if dag is None:
        return  # "DAG structure" says so
    try:
        catalog = solution_catalog(spec)
    except GenerationError as exc:
        emit.check(spec.name, "dag", "assets", "failed", str(exc))
        return
    by_name = {s.name: s for s in specs}
    expected = asset_uri(catalog, spec)
    problems = []
    outlets = {t.task_id: sorted(_uris(t.outlets)) for t in dag.tasks if t.outlets}
    if outlets.get("publish") != [expected]:
        problems.append(
            f"publish updates {outlets.get('publish') or 'no asset'}, expected [{expected!r}]"
        )
    others = {task: uris for task, uris in outlets.items() if task != "publish"}
    if others:
        problems.append(f"tasks other than publish update assets: {others}")
    listened = _scheduled_on(dag)
    if plan.on_assets:
        wanted = {asset_uri(catalog, by_name[n]) for n in spec.depends_on}
        if listened is None:
            problems.append(
                f"runs on {_schedule_of(dag)!r}, not on the assets of {', '.join(spec.depends_on)}"
            )
        elif listened != wanted:
            problems.append(
                f"scheduled on {sorted(listened)}, expected all of {sorted(wanted)} "
                f"(the tables of {', '.join(spec.depends_on)})"
            )
        for name in spec.depends_on:
            upstream = dags.get(name)
            published = {
                uri for t in (upstream.tasks if upstream else []) for uri in _uris(t.outlets)
            }
            if asset_uri(catalog, by_name[name]) not in published:
                problems.append(f"{name}'s DAG does not update {asset_uri(catalog, by_name[name])}")
    elif listened is not None:
        problems.append(
            f"scheduled on assets {sorted(listened)}, but the spec does not say scheduling: assets"
        )
    emit.check(
        spec.name,
        "dag",
        "assets",
        "failed" if problems else "passed",
        "; ".join(problems)
        or (
            f"publishes {expected}; runs when {', '.join(spec.depends_on)} publish"
            if plan.on_assets
            else f"publishes {expected}"
        ),
        {"outlets": outlets, "scheduled_on": sorted(listened) if listened is not None else None},
    )


def _uris(assets) -> set[str]:
    return {a.uri for a in assets or () if getattr(a, "uri", None)}


def _scheduled_on(dag) -> set[str] | None:
    """The URIs a DAG's schedule waits for, all of them (None: it is not scheduled on assets,
    or on a condition other than all of a set of assets)."""
    from airflow.sdk import Asset
    from airflow.sdk.definitions.asset import AssetAll

    condition = getattr(getattr(dag, "timetable", None), "asset_condition", None)
    if isinstance(condition, Asset):
        return {condition.uri}
    if isinstance(condition, AssetAll) and all(isinstance(o, Asset) for o in condition.objects):
        return {o.uri for o in condition.objects}
    return None


def _schedule_of(dag) -> str | None:
    schedule = getattr(dag, "schedule", None)
    return None if schedule is None else str(schedule)


# the template the orchestration passes as the triggered run's logical date
LOGICAL_DATE = "{{ logical_date }}"


def _orchestration(spec: PipelineSpec, group: Group, dag, dag_ids: set[str], emit: Emitter) -> None:
    if dag is None:
        emit.check(
            spec.name,
            "dag",
            "orchestration",
            "failed",
            f"the orchestration DAG {group.dag_id} is missing, and this pipeline is in its group",
        )
        return
    task = next((t for t in dag.tasks if t.task_id == f"trigger_{spec.name}"), None)
    if task is None:
        emit.check(
            spec.name,
            "dag",
            "orchestration",
            "failed",
            f"the orchestration DAG has no task trigger_{spec.name}",
        )
        return
    problems = []
    target = getattr(task, "trigger_dag_id", None)
    if target not in dag_ids:
        problems.append(f"trigger_{spec.name} triggers '{target}', which is no DAG")
    upstream = {t.removeprefix("trigger_") for t in task.upstream_task_ids}
    if upstream != set(spec.depends_on):
        problems.append(
            f"runs after {sorted(upstream) or 'nothing'}, the spec depends on "
            f"{sorted(spec.depends_on) or 'nothing'}"
        )
    if not getattr(task, "wait_for_completion", False):
        problems.append("does not wait for the triggered DAG")
    if getattr(task, "logical_date", None) != LOGICAL_DATE:
        problems.append(
            f"triggers with logical_date {getattr(task, 'logical_date', None)!r}, not "
            f"{LOGICAL_DATE!r}: the triggered run would ingest another date than this run's"
        )
    if not getattr(task, "reset_dag_run", False):
        problems.append("a rerun of a date would fail (reset_dag_run is off)")
    if getattr(task, "conf", None):
        problems.append(f"passes conf {task.conf!r}, which the pipeline's DAG does not read")
    emit.check(
        spec.name,
        "dag",
        "orchestration",
        "failed" if problems else "passed",
        "; ".join(problems) or f"triggered after {', '.join(spec.depends_on) or 'nothing'}",
        {"trigger_dag_id": target, "upstream": sorted(upstream)},
    )


def _start_suites(root: Path, specs: list[PipelineSpec]) -> subprocess.Popen | None:
    """Importing GX takes ~3 s: its checks run in a process of their own, beside the rest."""
    if not specs:
        return None
    return subprocess.Popen(
        [sys.executable, "-m", "pipelines.validation.static", str(root), *(s.name for s in specs)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )


def _finish_suites(
    process: subprocess.Popen | None, specs: list[PipelineSpec], emit: Emitter
) -> None:
    if process is None:
        return
    for spec in specs:
        emit.step(spec.name, "suite")
    start = time.perf_counter()
    out, _ = process.communicate()
    found = {}
    for line in out.splitlines():
        try:
            found.update(json.loads(line))
        except ValueError:
            continue
    elapsed = time.perf_counter() - start
    for spec in specs:
        path = pipeline_paths(spec)["suite"]
        if spec.name not in found:
            for name in ("GX suite loads", "GX checkpoint"):
                emit.check(
                    spec.name,
                    "suite",
                    name,
                    "error",
                    f"the GX check ended without a result (exit code {process.returncode})",
                )
            continue
        (problems, loaded), (checkpoint_problems, checkpoint) = found[spec.name]
        if problems:
            emit.check(
                spec.name,
                "suite",
                "GX suite loads",
                "failed",
                f"{path}: " + "; ".join(problems),
                {"loaded": loaded},
                elapsed,
            )
        else:
            emit.check(
                spec.name,
                "suite",
                "GX suite loads",
                "passed",
                f"{loaded} expectations load",
                {"loaded": loaded},
                elapsed,
            )
        emit.check(
            spec.name,
            "suite",
            "GX checkpoint",
            "failed" if checkpoint_problems else "passed",
            "; ".join(checkpoint_problems)
            or "the checkpoint loads in the file data context with its validation definition, "
            "suite and batch definition",
            checkpoint,
        )


def _check_suites(root: Path, names: list[str]) -> None:
    """`python -m pipelines.validation.static ROOT NAME...`: one JSON line per pipeline checked,
    `{name: [[suite problems, expectations loaded], [checkpoint problems, facts]]}`."""
    from pipelines.spec import load_specs

    try:
        from great_expectations.expectations.expectation_configuration import (
            ExpectationConfiguration,
        )
    except Exception as exc:
        problem = f"GX does not import: {describe(exc)}"
        for name in names:
            print(json.dumps({name: [[[problem], 0], [[problem], {}]]}), flush=True)
        return
    specs = load_specs(root)
    context, context_problem = _gx_context(root)
    for spec in specs:
        if spec.name in names:
            path = root / pipeline_paths(spec)["suite"]
            try:
                problems, loaded = _suite_problems(path, spec, ExpectationConfiguration, specs)
            except Exception as exc:  # a file shaped in a way no check foresaw
                problems, loaded = [f"cannot be checked: {describe(exc)}"], 0
            if context_problem:
                checkpoint = ([context_problem], {})
            else:
                try:
                    checkpoint = _checkpoint_problems(root, spec, context)
                except Exception as exc:
                    checkpoint = ([f"cannot be checked: {describe(exc)}"], {})
            print(json.dumps({spec.name: [[problems, loaded], list(checkpoint)]}), flush=True)


def _gx_context(root: Path):
    """The solution's GX file data context, or why it does not open."""
    config = root / GX_CONFIG
    if not config.is_file():
        return None, f"{GX_CONFIG}: missing"
    try:
        import great_expectations as gx

        return gx.get_context(mode="file", context_root_dir=str(config.parent)), None
    except Exception as exc:
        return None, f"{GX_CONFIG}: does not load in GX: {describe(exc)}"


def _suite_problems(
    path: Path, spec: PipelineSpec, configuration, specs: list[PipelineSpec] | None = None
) -> tuple[list[str], int]:
    try:
        suite = json.loads(path.read_text())
    except FileNotFoundError:
        return ["missing"], 0
    except ValueError as exc:
        return [f"not JSON: {exc}"], 0
    problems, loaded = [], 0
    columns = {c.name for c in spec.output}
    outputs = {s.name: {c.name for c in s.output} for s in specs or [spec]}
    tables = {s.name: s.target.identifier for s in specs or [spec]}
    parameters = (suite.get("meta") or {}).get("parameters") or {}
    for number, expectation in enumerate(suite.get("expectations") or [], start=1):
        where = f"expectation {number} ({expectation.get('type', '?')})"
        try:
            configuration(**expectation).to_domain_obj()
            loaded += 1
        except Exception as exc:  # GX raises many kinds for an unknown type or bad kwargs
            problems.append(f"{where}: does not load in GX: {_gx_message(exc)}")
            continue
        kwargs = expectation.get("kwargs") or {}
        used = {
            key: value["$PARAMETER"]
            for key, value in kwargs.items()
            if isinstance(value, dict) and "$PARAMETER" in value
        }
        for key, name in used.items():
            if name not in parameters:
                problems.append(
                    f"{where}: {key} is the parameter {name!r}, which meta.parameters does not describe"
                )
        low, high = _bounds(kwargs, parameters)
        for env in sorted(set(low) | set(high), key=lambda env: env or ""):
            lo, hi = (
                low.get(env, low.get(DEFAULT_ENVIRONMENT)),
                high.get(env, high.get(DEFAULT_ENVIRONMENT)),
            )
            if isinstance(lo, int | float) and isinstance(hi, int | float) and lo > hi:
                problems.append(
                    f"{where}: min_value {lo} > max_value {hi}" + (f" in {env}" if env else "")
                )
        for env, mostly in _values(kwargs.get("mostly"), parameters).items():
            if (
                isinstance(mostly, bool)
                or not isinstance(mostly, int | float)
                or not 0 < mostly <= 1
            ):
                problems.append(
                    f"{where}: mostly {mostly!r}"
                    + (f" in {env}" if env else "")
                    + " is not in (0, 1]"
                )
        if "value_set" in kwargs and not kwargs["value_set"]:
            problems.append(f"{where}: empty value_set")
        if "value_set" in used:
            how = parameters.get(used["value_set"]) or {}
            if how.get("kind") == "references":
                other, column = how.get("pipeline"), how.get("column")
                if other not in outputs:
                    problems.append(
                        f"{where}: references the pipeline {other!r}, which does not exist"
                    )
                elif column not in outputs[other]:
                    problems.append(
                        f"{where}: references {other}.{column}, which is not a column of {other}"
                    )
                elif how.get("table") != tables[other]:
                    problems.append(
                        f"{where}: references the table {how.get('table')}, {other} writes {tables[other]}"
                    )
        if "regex" in kwargs:
            try:
                re.compile(kwargs["regex"])
            except re.error as exc:
                problems.append(f"{where}: regex does not compile: {exc}")
        for column in [kwargs.get("column"), *(kwargs.get("column_list") or [])]:
            if column is not None and column not in columns:
                problems.append(f"{where}: column '{column}' is not in the table")
        if expectation.get("type") not in GENERATED_EXPECTATIONS:
            problems.append(f"{where}: not an expectation phasegate generates")
    return problems, loaded


def _gx_message(exc: Exception) -> str:
    """GX's error on one line: pydantic puts the useful part (which field, which batch
    definition is missing) below its first line."""
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:400]}" if text else type(exc).__name__


def _values(value, parameters: dict) -> dict:
    """A kwarg's value per environment ({None: value} when it is one value, {} when absent)."""
    if isinstance(value, dict) and "$PARAMETER" in value:
        how = parameters.get(value["$PARAMETER"]) or {}
        return dict(how.get("values") or {}) if how.get("kind") == "environment" else {}
    return {} if value is None else {None: value}


def _bounds(kwargs: dict, parameters: dict) -> tuple[dict, dict]:
    low = _values(kwargs.get("min_value"), parameters)
    high = _values(kwargs.get("max_value"), parameters)
    # one value against values per environment: compare it in each of them
    if None in low and high and None not in high:
        low = {env: low[None] for env in high}
    if None in high and low and None not in low:
        high = {env: high[None] for env in low}
    return low, high


def _checkpoint_problems(root: Path, spec: PipelineSpec, context) -> tuple[list[str], dict]:
    """The checkpoint names the pipeline's validation definition, which names its suite and a
    batch definition of the data source's asset (by name and id, as GX resolves them); then
    GX itself loads the checkpoint with all it references."""
    paths = pipeline_paths(spec)
    problems: list[str] = []
    documents = {}
    for kind in ("checkpoint", "validation", "suite"):
        try:
            documents[kind] = json.loads((root / paths[kind]).read_text())
        except FileNotFoundError:
            problems.append(f"{paths[kind]}: missing")
        except ValueError as exc:
            problems.append(f"{paths[kind]}: not JSON: {exc}")
    if problems:
        return problems, {}
    checkpoint, definition, suite = (
        documents["checkpoint"],
        documents["validation"],
        documents["suite"],
    )
    named = checkpoint.get("validation_definitions") or []
    wanted = {"name": definition.get("name"), "id": definition.get("id")}
    if not any(isinstance(v, dict) and v == wanted for v in named):
        problems.append(
            f"{paths['checkpoint']}: validation_definitions {named} do not name "
            f"{paths['validation']} ({wanted})"
        )
    if (definition.get("suite") or {}) != {"name": suite.get("name"), "id": suite.get("id")}:
        problems.append(
            f"{paths['validation']}: suite {definition.get('suite')} is not "
            f"{paths['suite']} (name {suite.get('name')!r}, id {suite.get('id')!r})"
        )
    if not any(a.get("type") == "update_data_docs" for a in checkpoint.get("actions") or []):
        problems.append(f"{paths['checkpoint']}: actions do not update the Data Docs")
    facts = {
        "checkpoint": checkpoint.get("name"),
        "actions": [a.get("type") for a in checkpoint.get("actions") or []],
    }
    if problems:
        return problems, facts
    try:
        loaded = context.checkpoints.get(checkpoint["name"])
        validation = loaded.validation_definitions[0]
        facts.update(
            validation_definition=validation.name,
            suite=validation.suite.name,
            data_source=validation.data_source.name,
            asset=validation.asset.name,
            batch_definition=validation.batch_definition.name,
        )
        if len(validation.suite.expectations) != len(suite.get("expectations") or []):
            problems.append(
                f"{paths['suite']}: GX loads {len(validation.suite.expectations)} of "
                f"{len(suite.get('expectations') or [])} expectations"
            )
    except Exception as exc:  # GX's own load: a name or id it cannot resolve, a bad action
        problems.append(f"{paths['checkpoint']}: does not load in GX: {_gx_message(exc)}")
    return problems, facts


def _ddl(root: Path, spec: PipelineSpec, emit: Emitter) -> None:
    with emit.timed(spec.name, "ddl", "DDL parses and matches the spec") as result:
        path = pipeline_paths(spec)["ddl"]
        problems = ddl_problems((root / path).read_text(), spec)
        if problems:
            result.update(outcome="failed", detail=f"{path}: " + "; ".join(problems))
        else:
            result["detail"] = (
                f"{len(spec.output)} columns, {len(spec.table_partitions)} partition fields"
            )


def ddl_problems(text: str, spec: PipelineSpec) -> list[str]:
    """Parses the DDL with sqlglot (Spark dialect) and compares it with the spec's output."""
    import sqlglot
    from sqlglot import exp

    try:
        statements = [s for s in sqlglot.parse(text, read="spark", error_level="raise") if s]
    except sqlglot.errors.SqlglotError as exc:
        return [f"does not parse: {_first_line(str(exc))}"]
    creates = [s for s in statements if isinstance(s, exp.Create)]
    if len(statements) != 1 or len(creates) != 1:
        kinds = ", ".join(type(s).__name__.upper() for s in statements) or "none"
        return [f"expected one CREATE TABLE statement, found {len(statements)} ({kinds})"]
    create = creates[0]
    schema = create.this
    table = schema.this if isinstance(schema, exp.Schema) else schema
    problems = []
    name = ".".join(p.name for p in (table.args.get("db"), table.this) if p is not None)
    if name != spec.target.identifier:
        problems.append(f"creates {name}, the spec's table is {spec.target.identifier}")
    declared = {}
    for column in schema.expressions if isinstance(schema, exp.Schema) else []:
        if isinstance(column, exp.ColumnDef):
            kind = column.args["kind"].sql("spark").replace(" ", "").upper()
            not_null = any(
                isinstance(c.kind, exp.NotNullColumnConstraint) for c in column.constraints
            )
            declared[column.name] = (kind, not_null)
    expected = {c.name: (_spark_sql_type(c.type), not c.nullable) for c in spec.output}
    if list(declared) != list(expected):
        problems.append(f"columns {list(declared)}, the spec's output is {list(expected)}")
    for column, (kind, not_null) in expected.items():
        if column in declared and declared[column] != (kind, not_null):
            got = declared[column]
            problems.append(
                f"{column}: {got[0]}{' NOT NULL' if got[1] else ''}, expected "
                f"{kind}{' NOT NULL' if not_null else ''}"
            )
    partitioned = create.find(exp.PartitionedByProperty)
    partitions = len(partitioned.this.expressions) if partitioned is not None else 0
    if partitions != len(spec.table_partitions):
        problems.append(
            f"{partitions} partition field(s), the table has {len(spec.table_partitions)} "
            f"({RUN_DATE_COLUMN} and the spec's partition_by)"
        )
    return problems


def _spark_sql_type(kind: str) -> str:
    """The spec's type as sqlglot prints it back in the Spark dialect."""
    import sqlglot

    return (
        sqlglot.parse_one(f"CAST(x AS {sql_type(kind)})", read="spark")
        .to.sql("spark")
        .replace(" ", "")
        .upper()
    )


def _first_line(text: str) -> str:
    """A message's first line (sqlglot puts the SQL it quotes after it)."""
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    return lines[0][:400] if lines else ""


def _last_line(text: str) -> str:
    """A traceback's last line: the exception."""
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    return lines[-1][:400] if lines else ""


if __name__ == "__main__":
    _check_suites(Path(sys.argv[1]), sys.argv[2:])
