"""Everything a pipeline spec generates (process 4.3), rendered from templates/pipeline/.

Per pipeline: the Spark job (src/ingestion/), its quality runner (src/validation/), the Iceberg
DDL (sql/ddl/), the GX suite, validation definition and checkpoint (great_expectations/), the
ingestion DAG, a pytest module with fixture rows, the agent-prompts task file. For all of them:
the orchestration DAG (DAG-to-DAG, following depends_on), the Mermaid data-flow diagram
(docs/architecture/) and the GX file data context's config (great_expectations/).
Spec values reach code only as escaped literals (`pystr`, `sqlstr`, JSON) or as identifiers
that pipelines.spec validated.
"""

from __future__ import annotations

import json
import math
import re
import uuid
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from phases.text import md_code, py_string
from pipelines.errors import GenerationError, LakeError
from pipelines.generate import Plan, RenderedFile, apply, plan
from pipelines.lake import catalog_name, env_prefix
from pipelines.orchestration import asset_uri, groups, run_plans
from pipelines.pyformat import format_python, project_pyproject
from pipelines.rejects import suite_meta
from pipelines.spec import (
    PartitionField,
    PipelineSpec,
    Transformation,
    load_specs,
    threshold,
)
from pipelines.submission import Submission, submission
from pipelines.templating import environment

if TYPE_CHECKING:
    from deliverables import Project

PIPELINE_VERSION = "pipeline@1"
FIXTURE_ROWS = 3
CONFLICT_MARKER = "<<<<<<< your version"
SPARK_TYPES = {
    "string": "T.StringType()",
    "int": "T.IntegerType()",
    "long": "T.LongType()",
    "float": "T.FloatType()",
    "double": "T.DoubleType()",
    "boolean": "T.BooleanType()",
    "date": "T.DateType()",
    "timestamp": "T.TimestampType()",
    "binary": "T.BinaryType()",
}
SQL_TYPES = {
    "string": "STRING",
    "int": "INT",
    "long": "BIGINT",
    "float": "FLOAT",
    "double": "DOUBLE",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "binary": "BINARY",
}
EXPECTATIONS = {
    "not_null": "expect_column_values_to_not_be_null",
    "unique": "expect_column_values_to_be_unique",
    "between": "expect_column_values_to_be_between",
    "in_set": "expect_column_values_to_be_in_set",
    "regex": "expect_column_values_to_match_regex",
    "references": "expect_column_values_to_be_in_set",
    "row_count": "expect_table_row_count_to_be_between",
    "freshness": "expect_column_max_to_be_between",
}


def generate_pipelines(project: Project, *, dry_run: bool = False) -> Plan:
    """Loads every spec, renders what they generate, and applies it unless `dry_run`."""
    specs = load_specs(project.root)
    rendered = render_pipelines(specs, project.today())
    result = plan(project.root, rendered)
    if not dry_run:
        apply(project.root, result, rendered)
        block_on_conflicts(project, result)
    return result


# Which checklist item a generated file belongs to, for blocking it while conflicts remain.
CONFLICT_ITEMS = (
    ("src/ingestion/", "4.3.1"),
    ("tests/", "4.3.1"),
    ("sql/", "4.3.1"),
    ("airflow/dags/", "4.3.2"),
    ("src/validation/", "4.3.3"),
    ("great_expectations/", "4.3.3"),
    ("", "4.2.1"),
)
BLOCK_REASON = "generation conflict: resolve the markers in "


def block_on_conflicts(project: Project, result: Plan) -> None:
    """A file left with conflict markers blocks its checklist item (with the files as reason);
    once no conflict is left, the items this blocked go back to todo."""
    conflicts: dict[str, list[str]] = {}
    for planned in result.files:
        if planned.state == "conflict" or (
            planned.state == "unchanged" and CONFLICT_MARKER in _text(project.root / planned.path)
        ):
            item = next(item for prefix, item in CONFLICT_ITEMS if planned.path.startswith(prefix))
            conflicts.setdefault(item, []).append(planned.path)
    for _, item_id in CONFLICT_ITEMS:
        if project.model.item(item_id) is None:
            continue
        state = project.item_state(item_id)
        if item_id in conflicts:
            reason = BLOCK_REASON + ", ".join(conflicts[item_id])
            if state.status != "blocked" or state.reason != reason:
                project.set_item(item_id, status="blocked", reason=reason)
        elif state.status == "blocked" and (state.reason or "").startswith(BLOCK_REASON):
            project.set_item(item_id, status="todo")


def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def render_pipelines(specs: list[PipelineSpec], today: date) -> list[RenderedFile]:
    env = environment()
    files: list[RenderedFile] = []
    triggered = orchestrated(specs)
    # the spec is <repository>/pipelines/<name>.yaml
    root = specs[0].path.resolve().parents[1] if specs else None
    how = submission(root) if root else Submission()
    for spec in specs:
        files.extend(_render_one(env, spec, spec.name in triggered, specs, how))
    if triggered:
        text = env.get_template("pipeline/orchestration.py.j2").render(groups=groups(specs))
        files.append(RenderedFile(ORCHESTRATION_DAG, text, PIPELINE_VERSION))
    if specs:
        text = env.get_template("pipeline/data_flow.md.j2").render(
            specs=specs, plans=run_plans(specs)
        )
        files.append(RenderedFile("docs/architecture/data-flow.md", text, PIPELINE_VERSION))
        files.extend(gx_context_files(specs))
    return format_python(files, project_pyproject(root) if root else None)


ORCHESTRATION_DAG = "airflow/dags/orchestration/orchestration.py"


def pipeline_paths(spec: PipelineSpec) -> dict[str, str]:
    """The files one spec generates, by kind, relative to the repository."""
    return {
        "job": f"src/ingestion/{spec.name}.py",
        "quality": f"src/validation/{spec.name}_quality.py",
        "ddl": f"sql/ddl/{spec.target.identifier}.sql",
        "suite": f"{GX_CONTEXT}/expectations/{spec.name}.json",
        "validation": f"{GX_CONTEXT}/validation_definitions/{spec.name}.json",
        "checkpoint": f"{GX_CONTEXT}/checkpoints/{spec.name}.json",
        "dag": f"airflow/dags/ingestion/{spec.name}_dag.py",
        "test": f"tests/unit/test_{spec.name}.py",
        "fixture": f"tests/fixtures/{spec.name}.json",
        "task": f"agent-prompts/tasks/ingestion/{spec.name}.md",
    }


def orchestrated(specs: list[PipelineSpec]) -> set[str]:
    """The pipelines an orchestration DAG triggers: those with or behind a dependency (their
    own DAGs have no schedule; pipelines.orchestration)."""
    return {name for group in groups(specs) for name in group.pipelines}


def _render_one(
    env, spec: PipelineSpec, orchestrated: bool, specs: list[PipelineSpec], how: Submission
) -> list[RenderedFile]:
    paths = pipeline_paths(spec)
    catalog = solution_catalog(spec)
    by_name = {s.name: s for s in specs}
    context = {
        "submission": how,
        "asset_uri": asset_uri(catalog, spec),
        "upstream_assets": [asset_uri(catalog, by_name[n]) for n in spec.depends_on]
        if spec.scheduling == "assets"
        else [],
        "spec": spec,
        "catalog": catalog,
        "catalog_env": env_prefix(catalog).removeprefix("PYICEBERG_CATALOG__").rstrip("_"),
        "spark_types": {c.type: spark_type(c.type) for c in (*spec.schema, *spec.output)},
        "sql_types": {c.type: sql_type(c.type) for c in spec.output},
        "options": "{" + ", ".join(f"{_py(k)}: {_py(v)}" for k, v in spec.source.options) + "}",
        "schedule": None if orchestrated else spec.schedule,
        "output_columns": [c.name for c in spec.output],
        "partition_fields": partition_fields(spec),
        "fixture_ext": "json",
        "fixture_count": FIXTURE_ROWS,
        "not_null_column": next(
            (r.column for r in spec.quality if r.rule == "not_null" and r.severity == "error"), None
        ),
        "references": [[f"{r.id}_values", r.column] for r in spec.quality if r.references],
        "files": list(paths.values()),
        "partition_sql": partition_sql,
        "spark_datasource": GX_SPARK_DATASOURCE,
        "batch": GX_BATCH,
        "describe": describe_step,
    }
    tag = f"{PIPELINE_VERSION}:{spec.name}"  # the manifest (and the Pipelines screen) know whose file it is
    out = []
    for key, template in (
        ("job", "job.py.j2"),
        ("quality", "quality.py.j2"),
        ("ddl", "ddl.sql.j2"),
        ("dag", "dag.py.j2"),
        ("test", "test_job.py.j2"),
        ("task", "task.md.j2"),
    ):
        out.append(
            RenderedFile(
                paths[key],
                env.get_template(f"pipeline/{template}").render(context),
                tag,
            )
        )
    out.append(RenderedFile(paths["suite"], suite_json(spec, specs), tag))
    out.append(RenderedFile(paths["validation"], validation_definition_json(spec), tag))
    out.append(RenderedFile(paths["checkpoint"], checkpoint_json(spec), tag))
    out.append(RenderedFile(paths["fixture"], fixture_rows(spec), tag))
    return out


def solution_catalog(spec: PipelineSpec) -> str:
    """The catalog name the generated code loads: the solution's (pipelines.lake)."""
    try:
        # the spec is <repository>/pipelines/<name>.yaml
        return catalog_name(spec.path.resolve().parents[1])
    except LakeError as exc:
        raise GenerationError(str(exc)) from None


def partition_fields(spec: PipelineSpec) -> list[list[str]]:
    """The Iceberg table's partition fields as [name, transform], as PyIceberg shows them."""
    return [
        [
            f"{p.column}_{p.transform}",
            f"bucket[{p.buckets}]" if p.transform == "bucket" else p.transform,
        ]
        for p in spec.table_partitions
    ]


GX_CONTEXT = "great_expectations"
GX_CONFIG = f"{GX_CONTEXT}/great_expectations.yml"
GX_DATASOURCE = "lake"  # a pandas data source: the runner hands GX the batch read from Iceberg
# a Spark data source with the same assets: the runner validates a large batch on Spark
GX_SPARK_DATASOURCE = "lake_spark"
GX_BATCH = "batch"  # each asset's batch definition: the whole dataframe of one run
GX_DOCS_SITE = "local_site"
GX_DOCS_INDEX_LIMIT = 30  # validation results the Data Docs index lists (bench/gx_checkpoint.py)
GX_SEVERITY = {"error": "critical", "warning": "warning"}  # spec severity -> GX 1.x severity
_GX_IDS = uuid.UUID("6a1f0c1e-5b0e-4f5c-9a7e-0d3c2b1a9f80")  # namespace of the ids below


def gx_id(*parts: str) -> str:
    """A stable id for a GX object: re-generation writes the same files, and each file's
    references to another (validation definition -> suite, checkpoint -> validation
    definition) hold across runs."""
    return str(uuid.uuid5(_GX_IDS, ":".join(parts)))


def gx_context_files(specs: list[PipelineSpec]) -> list[RenderedFile]:
    """The files of the GX file data context every pipeline shares: its config (stores, the
    local Data Docs site, the data source with one asset per pipeline) and a .gitignore that
    keeps run output (validation results, Data Docs) out of git."""
    assets = [
        {
            "name": spec.name,
            "id": gx_id("asset", spec.name),
            "batch_id": gx_id("batch_definition", spec.name),
            "table": spec.target.identifier,
            "spark_id": gx_id("asset", GX_SPARK_DATASOURCE, spec.name),
            "spark_batch_id": gx_id("batch_definition", GX_SPARK_DATASOURCE, spec.name),
        }
        for spec in specs
    ]
    config = (
        environment()
        .get_template("pipeline/great_expectations.yml.j2")
        .render(
            assets=assets,
            datasource=GX_DATASOURCE,
            spark_datasource=GX_SPARK_DATASOURCE,
            batch=GX_BATCH,
            docs_site=GX_DOCS_SITE,
            docs_index_limit=GX_DOCS_INDEX_LIMIT,
            ids={
                "datasource": gx_id("datasource", GX_DATASOURCE),
                "spark_datasource": gx_id("datasource", GX_SPARK_DATASOURCE),
            },
        )
    )
    ignore = "# validation results and Data Docs: output of runs, not sources\nuncommitted/\n"
    return [
        RenderedFile(GX_CONFIG, config, PIPELINE_VERSION),
        RenderedFile(f"{GX_CONTEXT}/.gitignore", ignore, PIPELINE_VERSION),
    ]


def suite_json(spec: PipelineSpec, specs: list[PipelineSpec] | None = None) -> str:
    """The GX 1.x expectation suite of a spec's quality rules, as GX's file store writes it.

    Severity is GX's own (`critical` for the spec's `error`); `meta.rule` names the spec rule.
    What is known only at run time is a suite parameter (`{"$PARAMETER": name}`) described in
    the suite's `meta.parameters`, which the quality runner fills in: a threshold given per
    environment (`environment`), the oldest acceptable value of a freshness rule (`freshness`),
    the values of a referenced table's column (`references`)."""
    tables = {s.name: s.target.identifier for s in specs or [spec]}
    expectations, parameters = [], {}

    def bound(rule, field: str, value):
        """A threshold: itself, or a parameter when it differs by environment."""
        if not isinstance(value, tuple):
            return value
        name = f"{rule.id}_{field}"
        parameters[name] = {"kind": "environment", "values": dict(value)}
        return {"$PARAMETER": name}

    for rule in spec.quality:
        kwargs: dict = {}
        if rule.columns:
            kwargs["column_list"] = list(rule.columns)
        if rule.column:
            kwargs["column"] = rule.column
        if rule.rule in ("between", "row_count"):
            if rule.min is not None:
                kwargs["min_value"] = bound(rule, "min", rule.min)
            if rule.max is not None:
                kwargs["max_value"] = bound(rule, "max", rule.max)
        elif rule.rule == "in_set":
            kwargs["value_set"] = list(rule.values)
        elif rule.rule == "regex":
            kwargs["regex"] = rule.pattern
        elif rule.rule == "references":
            pipeline, column = rule.references
            name = f"{rule.id}_values"
            parameters[name] = {
                "kind": "references",
                "pipeline": pipeline,
                "table": tables.get(pipeline),
                "column": column,
            }
            kwargs["value_set"] = {"$PARAMETER": name}
        elif rule.rule == "freshness":
            name = f"freshness_min_{rule.column}"
            hours = rule.max_age_hours
            parameters[name] = {
                "kind": "freshness",
                "hours": dict(hours) if isinstance(hours, tuple) else hours,
            }
            kwargs["min_value"] = {"$PARAMETER": name}
        if rule.mostly is not None:
            kwargs["mostly"] = bound(rule, "mostly", rule.mostly)
        expectations.append(
            {
                "id": gx_id("expectation", spec.name, rule.id),
                "kwargs": kwargs,
                "meta": {"rule": rule.id},
                "severity": GX_SEVERITY[rule.severity],
                "type": expectation_type(rule),
            }
        )
    expectations.extend(constraint_expectations(spec))
    suite = {
        "expectations": expectations,
        "id": gx_id("suite", spec.name),
        "meta": {
            "generated_by": "phasegate",
            "pipeline": spec.name,
            "table": spec.target.identifier,
            "parameters": parameters,
            "max_rejected": rejected_limits(spec),
        },
        "name": spec.name,
        "notes": None,
    }
    return json.dumps(suite, indent=2, sort_keys=True) + "\n"


def expectation_type(rule) -> str:
    """The GX expectation a rule becomes."""
    if rule.rule == "unique" and rule.columns:
        return "expect_compound_columns_to_be_unique"
    return EXPECTATIONS[rule.rule]


def validation_definition_json(spec: PipelineSpec) -> str:
    """Validates the pipeline's batch (its asset's whole-dataframe batch) against its suite."""
    definition = {
        "data": {
            "asset": {"id": gx_id("asset", spec.name), "name": spec.name},
            "batch_definition": {"id": gx_id("batch_definition", spec.name), "name": GX_BATCH},
            "datasource": {"id": gx_id("datasource", GX_DATASOURCE), "name": GX_DATASOURCE},
        },
        "id": gx_id("validation_definition", spec.name),
        "name": spec.name,
        "suite": {"id": gx_id("suite", spec.name), "name": spec.name},
    }
    return json.dumps(definition, indent=2, sort_keys=True) + "\n"


def constraint_expectations(spec: PipelineSpec) -> list[dict]:
    """`nullable: false` as a check of its own: an error-severity not-null expectation for every
    NOT NULL column no error-severity `not_null` rule already checks. (The job keeps rows with
    such a null out of the batch and counts them against `max_rejected`; this catches a batch
    that reached the table another way.)"""
    checked = {r.column for r in spec.quality if r.rule == "not_null" and r.severity == "error"}
    ids = {r.id for r in spec.quality}
    expectations = []
    for column in spec.not_null_columns:
        if column in checked:
            continue
        rule = f"not_null_{column}" if f"not_null_{column}" not in ids else f"nullable_{column}"
        expectations.append(
            {
                "id": gx_id("expectation", spec.name, rule),
                "kwargs": {"column": column},
                "meta": {"rule": rule, "from": "nullable: false"},
                "severity": GX_SEVERITY["error"],
                "type": EXPECTATIONS["not_null"],
            }
        )
    return expectations


def rejected_limits(spec: PipelineSpec) -> list[dict]:
    """The spec's `max_rejected` limits for the quality runner (pipelines.rejects)."""
    return suite_meta(spec)


def checkpoint_json(spec: PipelineSpec) -> str:
    """Runs the validation definition; GX stores each result (validation_results_store) and
    the action rebuilds the local Data Docs site (files, no server, no network)."""
    checkpoint = {
        "actions": [
            {"name": "update_data_docs", "site_names": [GX_DOCS_SITE], "type": "update_data_docs"}
        ],
        "id": gx_id("checkpoint", spec.name),
        "name": spec.name,
        "result_format": "SUMMARY",
        "validation_definitions": [
            {"id": gx_id("validation_definition", spec.name), "name": spec.name}
        ],
    }
    return json.dumps(checkpoint, indent=2, sort_keys=True) + "\n"


def fixture_rows(spec: PipelineSpec, count: int = FIXTURE_ROWS) -> str:
    """A few rows in the declared schema as JSON lines, inside the spec's quality bounds where
    a rule names them, so the job's own tests have real data to run on."""
    rows = []
    rules = {(r.rule, r.column): r for r in spec.quality}
    for n in range(count):
        row = {}
        for column in spec.schema:
            between = rules.get(("between", column.name))
            in_set = rules.get(("in_set", column.name))
            if in_set:
                row[column.name] = in_set.values[n % len(in_set.values)]
            elif (
                column.type in ("int", "long")
                or column.type.startswith("decimal")
                or column.type in ("float", "double")
            ):
                low = threshold(between.min, "sample") if between else None
                low = 1 if low is None else low
                value = low + n
                row[column.name] = value if column.type in ("int", "long") else float(value) + 0.25
            elif column.type == "boolean":
                row[column.name] = n % 2 == 0
            elif column.type == "date":
                row[column.name] = f"2026-01-{n + 1:02d}"
            elif column.type == "timestamp":
                row[column.name] = f"2026-01-{n + 1:02d}T10:00:00Z"
            elif column.type == "binary":
                row[column.name] = None
            else:
                row[column.name] = (
                    f"{column.name}_{n + 1}@example.com"
                    if "mail" in column.name
                    else f"{column.name}_{n + 1}"
                )
        rows.append(json.dumps(row))
    return "\n".join(rows) + "\n"


def spark_type(kind: str) -> str:
    match = re.match(r"decimal\((\d+),(\d+)\)", kind)
    return f"T.DecimalType({match.group(1)}, {match.group(2)})" if match else SPARK_TYPES[kind]


def sql_type(kind: str) -> str:
    return kind.upper() if kind.startswith("decimal") else SQL_TYPES[kind]


def partition_sql(p: PartitionField) -> str:
    column = f"`{p.column}`"
    return {"identity": column, "day": f"days({column})", "month": f"months({column})"}.get(
        p.transform, f"bucket({p.buckets}, {column})"
    )


def describe_step(step: Transformation) -> str:
    """One step as a line of markdown (the task file): an expression as a code span that
    holds its backticks."""
    return {
        "rename": f"Rename `{step.column}` to `{step.to}`",
        "cast": f"Cast `{step.column}` to {step.type}",
        "derive": f"Derive `{step.column}` ({step.type}) as {md_code(step.expr)}",
        "filter": f"Keep rows where {md_code(step.expr)}",
        "dedupe": f"Drop duplicates on {', '.join(f'`{k}`' for k in step.keys)}",
    }[step.kind]


def _py(value: object) -> str:
    """A Python literal for a plain YAML value (text, number, bool)."""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, float) and not math.isfinite(value):
        return f'float("{value}")'  # YAML's .inf and .nan: repr would be a bare name
    if isinstance(value, int | float):
        return repr(value)
    return py_string(value)


def pipeline_states(
    specs: list[PipelineSpec], plan_: Plan, rendered: list[RenderedFile], root: Path
) -> dict[str, str]:
    """Per pipeline: not generated / in sync / out of date / conflicts."""
    owner = {f.path: f.template.partition(":")[2] for f in rendered}
    by_pipeline: dict[str, list[str]] = {s.name: [] for s in specs}
    for planned in plan_.files:
        name = owner.get(planned.path)
        if name in by_pipeline:
            state = planned.state
            if state in ("unchanged", "kept") and CONFLICT_MARKER in (
                (root / planned.path).read_text(errors="replace")
                if (root / planned.path).is_file()
                else ""
            ):
                state = "conflict"
            by_pipeline[name].append(state)
    states = {}
    for name, files in by_pipeline.items():
        if "conflict" in files:
            states[name] = "conflicts"
        elif files and all(f == "new" for f in files):
            states[name] = "not generated"
        elif any(f in ("new", "updated", "merged") for f in files):
            states[name] = "out of date"
        else:
            states[name] = "in sync"
    return states
