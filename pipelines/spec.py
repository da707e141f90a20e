"""Pipeline specs: one YAML file per pipeline, `pipelines/<name>.yaml` in the solution repo.

A spec names a source, its schema, the target Iceberg table, transformations, quality rules, a
schedule and the pipelines it depends on (the format is documented in docs/pipeline-spec.md).
Loading checks everything a generator will rely on, so generated code only ever receives
validated identifiers and values it writes as escaped literals:

- names of pipelines, columns, namespaces and tables are safe identifiers;
- paths stay inside the repository (or are object-store URIs);
- every column a transformation, rule or partition names exists at that point;
- Spark SQL expressions hold one expression of allow-listed functions over existing columns
  (pipelines.expressions), so a spec cannot reach Java.

Every problem is a `SpecError` naming the file, the line and the field.
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import yaml

from phases.text import control_problem
from phases.yamldoc import YamlDoc, is_null, scalar
from pipelines.errors import SpecError

SPEC_DIR = "pipelines"
FORMATS = ("csv", "json", "parquet")
SIMPLE_TYPES = (
    "string",
    "int",
    "long",
    "float",
    "double",
    "boolean",
    "date",
    "timestamp",
    "binary",
)
TRANSFORMS = ("identity", "day", "month", "bucket")
RULES = (
    "not_null",
    "unique",
    "between",
    "in_set",
    "regex",
    "references",
    "row_count",
    "freshness",
)
# Checked from the job's count of rejected values (malformed, or null in a NOT NULL column), not
# by GX: the rejected rows never reach the table GX validates.
REJECTED_RULE = "max_rejected"
# The column a malformed record is counted under when no single column is at fault.
RECORD = "(record)"
# Spark's parse modes the generated job supports: PERMISSIVE (the default) routes malformed
# records to the quarantine table; FAILFAST stops at the first. DROPMALFORMED is refused: it
# drops rows silently.
PARSE_MODES = ("PERMISSIVE", "FAILFAST")
SEVERITIES = ("error", "warning")
# How a pipeline with depends_on runs after its upstreams: triggered by the orchestration DAG of
# its group (in dependency order, on the group's schedule), or by Airflow's data-aware scheduling
# on the Iceberg tables (assets) its upstreams publish (pipelines.orchestration).
SCHEDULING = ("orchestration", "assets")
# Rules checked row by row: each takes `mostly` (the share of rows that must pass).
ROW_RULES = ("not_null", "unique", "between", "in_set", "regex", "references")
# A threshold given per environment falls back to this one for any environment it does not name.
DEFAULT_ENVIRONMENT = "production"
URI_SCHEMES = ("s3", "s3a", "gs", "abfs", "abfss", "hdfs")
# Columns the generated job adds to every row (ingestion time, source file, correlation id, the
# run's logical date: a rerun of a date replaces the rows with that `_run_date`).
METADATA_COLUMNS = ("_ingested_at", "_source_file", "_correlation_id", "_run_date")
RUN_DATE_COLUMN = "_run_date"
METADATA_TYPES = {"_ingested_at": "timestamp", "_run_date": "date"}
# The column the generated job reads a malformed record's raw text into (Spark's default name).
CORRUPT_RECORD = "_corrupt_record"
METADATA_DESCRIPTIONS = {
    "_run_date": "the run's logical date (Airflow's ds); a rerun replaces its rows"
}

# `\Z`, not `$`: `$` also matches before a trailing newline ("sales\n" would pass).
_PIPELINE_NAME = re.compile(r"[a-z][a-z0-9_]{0,62}\Z")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}\Z")
_OPTION_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_.]{0,63}\Z")
# Reader options that name what to read: they would bypass source.path's checks.
_PATH_OPTIONS = frozenset(("path", "paths", "basepath"))
# Reader options the generated job sets itself.
_JOB_OPTIONS = frozenset(("columnnameofcorruptrecord",))
_DECIMAL = re.compile(r"decimal\(([0-9]{1,2}),\s*([0-9]{1,2})\)\Z")
_ENVIRONMENT = re.compile(r"[a-z][a-z0-9_]{0,31}\Z")


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    nullable: bool = True
    description: str = ""


@dataclass(frozen=True)
class Source:
    path: str
    format: str
    options: tuple[tuple[str, str | int | float | bool], ...] = ()
    sample: str | None = None


@dataclass(frozen=True)
class PartitionField:
    column: str
    transform: str = "identity"
    buckets: int | None = None


@dataclass(frozen=True)
class Target:
    namespace: str
    table: str
    partition_by: tuple[PartitionField, ...] = ()

    @property
    def identifier(self) -> str:
        return f"{self.namespace}.{self.table}"


@dataclass(frozen=True)
class Transformation:
    """One step: `rename` (column → to), `cast` (column → type), `derive` (column = expr, type),
    `filter` (expr), `dedupe` (keys)."""

    kind: str
    column: str | None = None
    to: str | None = None
    type: str | None = None
    expr: str | None = None
    keys: tuple[str, ...] = ()


# A number, or per environment: ((environment, number), ...) with DEFAULT_ENVIRONMENT among them.
Threshold = int | float | tuple[tuple[str, int | float], ...] | None


def threshold(value: Threshold, environment: str = DEFAULT_ENVIRONMENT) -> int | float | None:
    """A threshold's value in `environment` (a per-environment one falls back to production)."""
    if not isinstance(value, tuple):
        return value
    values = dict(value)
    return values.get(environment, values[DEFAULT_ENVIRONMENT])


@dataclass(frozen=True)
class QualityRule:
    """One quality rule. `column` for a one-column rule, `columns` for `unique` over several;
    `min`, `max`, `mostly` and `max_age_hours` are thresholds (see `threshold`); `references`
    names (pipeline, column) whose table holds every allowed value."""

    rule: str
    column: str | None = None
    severity: str = "error"
    min: Threshold = None
    max: Threshold = None
    max_percent: float | None = None
    values: tuple[str | int | float | bool, ...] = ()
    pattern: str | None = None
    max_age_hours: Threshold = None
    mostly: Threshold = None
    columns: tuple[str, ...] = ()
    references: tuple[str, str] | None = None
    # where the rule is in its file, for errors found when specs are checked together
    line: int | None = field(default=None, compare=False, repr=False)
    where: str = field(default="", compare=False, repr=False)

    @property
    def id(self) -> str:
        if self.columns:
            return f"{self.rule}_{'_'.join(self.columns)}"
        return f"{self.rule}_{self.column}" if self.column else self.rule

    @property
    def environments(self) -> tuple[str, ...]:
        """The environments this rule's thresholds name (production first), or ()."""
        named = {
            env
            for value in (self.min, self.max, self.mostly, self.max_age_hours)
            if isinstance(value, tuple)
            for env, _ in value
        }
        return tuple(sorted(named, key=lambda env: (env != DEFAULT_ENVIRONMENT, env)))


@dataclass(frozen=True, kw_only=True)
class PipelineSpec:
    name: str
    path: Path
    source: Source
    schema: tuple[Column, ...]
    target: Target
    transformations: tuple[Transformation, ...] = ()
    quality: tuple[QualityRule, ...] = ()
    schedule: str | None = None
    depends_on: tuple[str, ...] = ()
    scheduling: str = "orchestration"
    description: str = ""
    output: tuple[Column, ...] = field(default=())
    # the line of `scheduling` (or of `depends_on`), for errors found when specs are checked together
    scheduling_line: int | None = field(default=None, compare=False, repr=False)

    rejected_limits: tuple[QualityRule, ...] = ()

    def column(self, name: str) -> Column | None:
        return next((c for c in self.output if c.name == name), None)

    @property
    def not_null_columns(self) -> tuple[str, ...]:
        """The table's NOT NULL columns the data fills (the job's metadata columns excepted)."""
        return tuple(
            c.name for c in self.output if not c.nullable and c.name not in METADATA_COLUMNS
        )

    @property
    def renamed(self) -> dict[str, str]:
        """The source columns the transformations rename: {name in the source: name in the table}."""
        names = {c.name: c.name for c in self.schema}
        for step in self.transformations:
            if step.kind == "rename":
                names = {s: (step.to if t == step.column else t) for s, t in names.items()}
        return {s: t for s, t in names.items() if s != t}

    @property
    def max_rejected(self) -> tuple[QualityRule, ...]:
        """The `max_rejected` limits: the spec's, and the pipeline-wide default of 0 when the
        spec sets none for the whole pipeline."""
        if any(r.column is None for r in self.rejected_limits):
            return self.rejected_limits
        return (QualityRule(REJECTED_RULE, max=0), *self.rejected_limits)

    @property
    def table_partitions(self) -> tuple[PartitionField, ...]:
        """The Iceberg table's partition spec: the run's logical date first (a rerun of a date
        drops whole files), then the spec's `target.partition_by`."""
        return (PartitionField(RUN_DATE_COLUMN), *self.target.partition_by)


def load_specs(repo_root: Path) -> list[PipelineSpec]:
    """Every `pipelines/*.yaml` of the repository, checked one by one and against each other."""
    folder = Path(repo_root) / SPEC_DIR
    paths = sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml")) if folder.is_dir() else []
    specs = [load_spec(path, repo_root) for path in paths]
    _check_together(specs)
    return specs


def load_spec(path: Path, repo_root: Path) -> PipelineSpec:
    """One spec file, checked on its own (references to other pipelines are checked by load_specs)."""
    doc = YamlDoc.read(Path(path), SpecError)
    if doc.root is None or is_null(doc.root):
        raise doc.fail(None, "", "the file is empty; see docs/pipeline-spec.md")
    return _Reader(doc, Path(repo_root)).spec()


class _Reader:
    def __init__(self, doc: YamlDoc, root: Path) -> None:
        self.doc, self.root = doc, root

    def spec(self) -> PipelineSpec:
        doc = self.doc
        top = doc.mapping(
            doc.root,
            "",
            ("name", "source", "schema", "target"),
            ("description", "transformations", "quality", "schedule", "depends_on", "scheduling"),
        )
        name = doc.text(top["name"], "name")
        if not _PIPELINE_NAME.match(name) or keyword.iskeyword(name):
            raise doc.fail(
                top["name"],
                "name",
                f"{name!r} is not a safe pipeline name (a-z, 0-9, _; starts with a letter)",
            )
        if doc.path.stem != name:
            raise doc.fail(
                top["name"],
                "name",
                f"must match the file name: the file is {doc.path.name}, so name: {doc.path.stem}",
            )
        description = doc.text(top["description"], "description") if "description" in top else ""
        source = self.source(top["source"])
        schema = self.schema(top["schema"])
        columns = {c.name: c for c in schema}
        steps = []
        for n, step_node in enumerate(doc.sequence(top.get("transformations"), "transformations")):
            steps.append(self.transformation(step_node, f"transformations[{n}]", columns))
        output = tuple(columns.values()) + tuple(
            Column(
                meta,
                METADATA_TYPES.get(meta, "string"),
                False,
                METADATA_DESCRIPTIONS.get(meta, "added by the job"),
            )
            for meta in METADATA_COLUMNS
        )
        target = self.target(top["target"], {c.name: c for c in output})
        rules = tuple(
            self.rule(node, f"quality[{n}]", {c.name: c for c in output})
            for n, node in enumerate(doc.sequence(top.get("quality"), "quality"))
        )
        seen_rules: dict[str, str] = {}
        for n, rule in enumerate(rules):
            if rule.id in seen_rules:
                raise doc.fail(
                    doc.sequence(top["quality"], "quality")[n],
                    f"quality[{n}]",
                    f"repeats {seen_rules[rule.id]} ({rule.id})",
                )
            seen_rules[rule.id] = f"quality[{n}]"
        quality = tuple(r for r in rules if r.rule != REJECTED_RULE)
        rejected_limits = tuple(r for r in rules if r.rule == REJECTED_RULE)
        schedule = self.schedule(top["schedule"]) if "schedule" in top else None
        depends = []
        for n, node in enumerate(doc.sequence(top.get("depends_on"), "depends_on")):
            other = doc.text(node, f"depends_on[{n}]")
            if not _PIPELINE_NAME.match(other):
                raise doc.fail(node, f"depends_on[{n}]", f"{other!r} is not a pipeline name")
            if other == name:
                raise doc.fail(node, f"depends_on[{n}]", "a pipeline cannot depend on itself")
            depends.append(other)
        scheduling = self.scheduling(top, bool(depends))
        return PipelineSpec(
            name=name,
            path=doc.path,
            source=source,
            schema=schema,
            target=target,
            transformations=tuple(steps),
            quality=quality,
            rejected_limits=rejected_limits,
            schedule=schedule,
            depends_on=tuple(depends),
            scheduling=scheduling,
            scheduling_line=_line(top.get("scheduling") or top.get("depends_on")),
            description=description,
            output=output,
        )

    # --- sections ------------------------------------------------------------------------------

    def source(self, node: yaml.Node) -> Source:
        doc = self.doc
        src = doc.mapping(node, "source", ("path", "format"), ("options", "sample"))
        path = self.repo_path(src["path"], "source.path", allow_uri=True, allow_glob=True)
        fmt = doc.text(src["format"], "source.format")
        if fmt not in FORMATS:
            raise doc.fail(
                src["format"], "source.format", f"{fmt!r} is not one of: {', '.join(FORMATS)}"
            )
        options = []
        if "options" in src:
            if not isinstance(src["options"], yaml.MappingNode):
                raise doc.fail(
                    src["options"], "source.options", "expected a mapping of reader options"
                )
            for key_node, value_node in src["options"].value:
                key = doc.key(key_node, "source.options")
                problem = option_key_problem(key)
                if problem:
                    raise doc.fail(key_node, f"source.options.{key}", problem)
                value = self.plain_scalar(value_node, f"source.options.{key}")
                problem = option_value_problem(key, value)
                if problem:
                    raise doc.fail(value_node, f"source.options.{key}", problem)
                options.append((key, value))
        sample = self.repo_path(src["sample"], "source.sample") if "sample" in src else None
        return Source(path, fmt, tuple(options), sample)

    def schema(self, node: yaml.Node) -> tuple[Column, ...]:
        doc = self.doc
        columns: list[Column] = []
        for n, col_node in enumerate(doc.sequence(node, "schema")):
            where = f"schema[{n}]"
            col = doc.mapping(col_node, where, ("name", "type"), ("nullable", "description"))
            name = self.identifier(col["name"], f"{where}.name", "column")
            if name in (*METADATA_COLUMNS, CORRUPT_RECORD):
                raise doc.fail(
                    col["name"],
                    f"{where}.name",
                    f"{name!r} is added by the job itself; choose another name",
                )
            if any(c.name == name for c in columns):
                raise doc.fail(
                    col["name"], f"{where}.name", f"column {name!r} is already in the schema"
                )
            nullable = doc.flag(col["nullable"], f"{where}.nullable") if "nullable" in col else True
            description = (
                doc.text(col["description"], f"{where}.description") if "description" in col else ""
            )
            columns.append(
                Column(name, self.data_type(col["type"], f"{where}.type"), nullable, description)
            )
        if not columns:
            raise doc.fail(node, "schema", "a pipeline needs at least one column")
        return tuple(columns)

    def transformation(
        self, node: yaml.Node, where: str, columns: dict[str, Column]
    ) -> Transformation:
        """Reads one step and applies it to `columns` (the columns at that point of the job)."""
        doc = self.doc
        if not isinstance(node, yaml.MappingNode) or len(node.value) != 1:
            raise doc.fail(
                node,
                where,
                "each step is one of: rename, cast, derive, filter, dedupe (e.g. `- rename: {column: a, to: b}`)",
            )
        key_node, body = node.value[0]
        kind = doc.key(key_node, where)
        at = f"{where}.{kind}"
        if kind == "rename":
            step = doc.mapping(body, at, ("column", "to"))
            old = self.existing(step["column"], f"{at}.column", columns)
            new = self.identifier(step["to"], f"{at}.to", "column")
            if new in columns or new in METADATA_COLUMNS:
                raise doc.fail(step["to"], f"{at}.to", f"column {new!r} already exists")
            # in place: Spark's withColumnRenamed keeps the column's position
            renamed = {
                (new if name == old else name): (
                    c if name != old else Column(new, c.type, c.nullable, c.description)
                )
                for name, c in columns.items()
            }
            columns.clear()
            columns.update(renamed)
            return Transformation("rename", column=old, to=new)
        if kind == "cast":
            step = doc.mapping(body, at, ("column", "to"))
            name = self.existing(step["column"], f"{at}.column", columns)
            data_type = self.data_type(step["to"], f"{at}.to")
            columns[name] = Column(
                name, data_type, columns[name].nullable, columns[name].description
            )
            return Transformation("cast", column=name, type=data_type)
        if kind == "derive":
            step = doc.mapping(body, at, ("column", "expr", "type"))
            name = self.identifier(step["column"], f"{at}.column", "column")
            if name in METADATA_COLUMNS:
                raise doc.fail(
                    step["column"], f"{at}.column", f"{name!r} is added by the job itself"
                )
            expr = self.expression(step["expr"], f"{at}.expr", columns)
            data_type = self.data_type(step["type"], f"{at}.type")
            columns[name] = Column(name, data_type, True, f"derived: {expr}")
            return Transformation("derive", column=name, expr=expr, type=data_type)
        if kind == "filter":
            step = doc.mapping(body, at, ("expr",))
            return Transformation(
                "filter", expr=self.expression(step["expr"], f"{at}.expr", columns)
            )
        if kind == "dedupe":
            step = doc.mapping(body, at, ("keys",))
            keys = tuple(
                self.existing(k, f"{at}.keys[{n}]", columns)
                for n, k in enumerate(doc.sequence(step["keys"], f"{at}.keys"))
            )
            if not keys:
                raise doc.fail(step["keys"], f"{at}.keys", "name at least one key column")
            return Transformation("dedupe", keys=keys)
        raise doc.fail(
            key_node,
            where,
            f"unknown step {kind!r} (expected one of: rename, cast, derive, filter, dedupe)",
        )

    def target(self, node: yaml.Node, columns: dict[str, Column]) -> Target:
        doc = self.doc
        tgt = doc.mapping(node, "target", ("table",), ("partition_by",))
        table = doc.text(tgt["table"], "target.table")
        parts = table.split(".")
        if len(parts) != 2 or not all(_IDENTIFIER.match(p) for p in parts):
            raise doc.fail(
                tgt["table"],
                "target.table",
                f"{table!r} is not namespace.table with safe names (letters, digits, _)",
            )
        fields = []
        for n, p_node in enumerate(doc.sequence(tgt.get("partition_by"), "target.partition_by")):
            where = f"target.partition_by[{n}]"
            p = doc.mapping(p_node, where, ("column",), ("transform", "buckets"))
            column = self.existing(p["column"], f"{where}.column", columns)
            transform = (
                doc.text(p["transform"], f"{where}.transform") if "transform" in p else "identity"
            )
            if transform not in TRANSFORMS:
                raise doc.fail(
                    p["transform"],
                    f"{where}.transform",
                    f"{transform!r} is not one of: {', '.join(TRANSFORMS)}",
                )
            if transform in ("day", "month") and columns[column].type not in ("date", "timestamp"):
                raise doc.fail(
                    p["column"],
                    f"{where}.column",
                    f"a {transform} partition needs a date or timestamp column; {column!r} is {columns[column].type}",
                )
            buckets = None
            if transform == "bucket":
                if "buckets" not in p:
                    raise doc.fail(
                        p_node, f"{where}.buckets", "missing (required by the bucket transform)"
                    )
                buckets = self.number(p["buckets"], f"{where}.buckets", integer=True, minimum=1)
            elif "buckets" in p:
                raise doc.fail(
                    p["buckets"], f"{where}.buckets", "only the bucket transform takes buckets"
                )
            fields.append(PartitionField(column, transform, buckets))
        return Target(parts[0], parts[1], tuple(fields))

    def rule(self, node: yaml.Node, where: str, columns: dict[str, Column]) -> QualityRule:
        doc = self.doc
        head = doc.mapping(
            node,
            where,
            ("rule",),
            (
                "column",
                "columns",
                "severity",
                "min",
                "max",
                "max_percent",
                "values",
                "pattern",
                "max_age_hours",
                "mostly",
                "to",
            ),
        )
        rule = doc.text(head["rule"], f"{where}.rule")
        if rule == REJECTED_RULE:
            return self.rejected_rule(node, where, columns)
        if rule not in RULES:
            raise doc.fail(
                head["rule"],
                f"{where}.rule",
                f"unknown rule {rule!r} (expected one of: {', '.join((*RULES, REJECTED_RULE))})",
            )
        needs = {
            "not_null": (("column",), ()),
            "unique": ((), ("column", "columns")),
            "between": (("column",), ("min", "max")),
            "in_set": (("column", "values"), ()),
            "regex": (("column", "pattern"), ()),
            "references": (("column", "to"), ()),
            "row_count": ((), ("min", "max")),
            "freshness": (("column", "max_age_hours"), ()),
        }[rule]
        optional = ("severity", *needs[1]) + (("mostly",) if rule in ROW_RULES else ())
        if "mostly" in head and rule not in ROW_RULES:
            raise doc.fail(
                head["mostly"],
                f"{where}.mostly",
                f"{rule} is not checked row by row; mostly applies to: {', '.join(ROW_RULES)}",
            )
        r = doc.mapping(node, where, ("rule", *needs[0]), optional)
        severity = self.severity(r, where)
        column = self.existing(r["column"], f"{where}.column", columns) if "column" in r else None
        values: dict = {"line": node.start_mark.line + 1, "where": where}
        if rule == "unique":
            if ("column" in r) == ("columns" in r):
                raise doc.fail(
                    node,
                    f"{where}.column",
                    "give column (one column) or columns (a list: unique together)",
                )
            if "columns" in r:
                names = tuple(
                    self.existing(c, f"{where}.columns[{n}]", columns)
                    for n, c in enumerate(doc.sequence(r["columns"], f"{where}.columns"))
                )
                if len(names) < 2:
                    raise doc.fail(
                        r["columns"],
                        f"{where}.columns",
                        "list two or more columns (for one, write column: name)",
                    )
                repeated = next((c for n, c in enumerate(names) if c in names[:n]), None)
                if repeated:
                    raise doc.fail(
                        r["columns"], f"{where}.columns", f"names {repeated!r} more than once"
                    )
                values["columns"] = names
        if rule in ("between", "row_count"):
            if "min" not in r and "max" not in r:
                raise doc.fail(node, f"{where}.min", "give min, max or both")
            integer = rule == "row_count"
            low = (
                self.threshold(
                    r["min"], f"{where}.min", integer=integer, minimum=0 if integer else None
                )
                if "min" in r
                else None
            )
            high = (
                self.threshold(
                    r["max"], f"{where}.max", integer=integer, minimum=0 if integer else None
                )
                if "max" in r
                else None
            )
            if low is not None and high is not None:
                for env in _environments(low, high):
                    lo, hi = threshold(low, env), threshold(high, env)
                    if lo > hi:
                        in_env = "" if env is None else f" in {env}"
                        raise doc.fail(
                            r["max"], f"{where}.max", f"max ({hi}) is below min ({lo}){in_env}"
                        )
            values.update(min=low, max=high)
        if rule == "in_set":
            items = tuple(
                self.plain_scalar(v, f"{where}.values[{n}]")
                for n, v in enumerate(doc.sequence(r["values"], f"{where}.values"))
            )
            if not items:
                raise doc.fail(r["values"], f"{where}.values", "list at least one allowed value")
            values["values"] = items
        if rule == "regex":
            pattern = doc.text(r["pattern"], f"{where}.pattern")
            try:
                re.compile(pattern)
            except re.error as exc:
                raise doc.fail(
                    r["pattern"], f"{where}.pattern", f"not a valid regular expression: {exc}"
                ) from None
            values["pattern"] = pattern
        if rule == "references":
            target = doc.text(r["to"], f"{where}.to")
            pipeline, dot, other = target.partition(".")
            if not dot or not _PIPELINE_NAME.match(pipeline) or not _IDENTIFIER.match(other):
                raise doc.fail(
                    r["to"],
                    f"{where}.to",
                    f"{target!r} is not pipeline.column (e.g. to: airlines.carrier)",
                )
            if pipeline == self.doc.path.stem:
                raise doc.fail(
                    r["to"],
                    f"{where}.to",
                    "a rule cannot reference its own pipeline (its table is checked before it is published)",
                )
            values["references"] = (pipeline, other)
        if rule == "freshness":
            if columns[column].type not in ("date", "timestamp"):
                raise doc.fail(
                    r["column"],
                    f"{where}.column",
                    f"freshness needs a date or timestamp column; {column!r} is {columns[column].type}",
                )
            values["max_age_hours"] = self.threshold(
                r["max_age_hours"], f"{where}.max_age_hours", minimum=0, as_float=True
            )
        if "mostly" in r:
            values["mostly"] = self.threshold(r["mostly"], f"{where}.mostly", share=True)
        return QualityRule(rule, column, severity, **values)

    def threshold(
        self,
        node: yaml.Node,
        where: str,
        *,
        integer: bool = False,
        minimum: float | None = None,
        share: bool = False,
        as_float: bool = False,
    ) -> Threshold:
        """A number, or a mapping of environment to number that names production (the value
        for any environment it leaves out), e.g. `min: {sample: 10, production: 100000}`."""
        if not isinstance(node, yaml.MappingNode):
            return self._bound(node, where, integer, minimum, share, as_float)
        pairs = []
        for key_node, value_node in node.value:
            env = self.doc.key(key_node, where)
            if not _ENVIRONMENT.match(env):
                raise self.doc.fail(
                    key_node,
                    f"{where}.{env}",
                    f"{env!r} is not an environment name (a-z, 0-9, _; e.g. sample, production)",
                )
            if any(env == seen for seen, _ in pairs):
                raise self.doc.fail(key_node, f"{where}.{env}", "duplicate environment")
            value = self._bound(value_node, f"{where}.{env}", integer, minimum, share, as_float)
            pairs.append((env, value))
        if DEFAULT_ENVIRONMENT not in dict(pairs):
            raise self.doc.fail(
                node,
                where,
                f"a value per environment needs {DEFAULT_ENVIRONMENT} (used for every environment not named), e.g. {{sample: 10, production: 100000}}",
            )
        return tuple(pairs)

    def _bound(
        self,
        node: yaml.Node,
        where: str,
        integer: bool,
        minimum: float | None,
        share: bool,
        as_float: bool,
    ) -> int | float:
        value = self.number(node, where, integer=integer, minimum=minimum)
        if share and not 0 < value <= 1:
            raise self.doc.fail(
                node, where, f"{value} is not a share of rows: give a number above 0, at most 1"
            )
        return float(value) if as_float else value

    def severity(self, r: dict, where: str) -> str:
        """A rule's `severity` ("error" when it has none), one of SEVERITIES."""
        if "severity" not in r:
            return "error"
        severity = self.doc.text(r["severity"], f"{where}.severity")
        if severity not in SEVERITIES:
            raise self.doc.fail(
                r["severity"],
                f"{where}.severity",
                f"{severity!r} is not one of: {', '.join(SEVERITIES)}",
            )
        return severity

    def rejected_rule(self, node: yaml.Node, where: str, columns: dict[str, Column]) -> QualityRule:
        """`max_rejected`: how many rows (`max`) or what share of the rows read (`max_percent`)
        may be rejected, for the whole pipeline or for one `column`."""
        doc = self.doc
        r = doc.mapping(node, where, ("rule",), ("column", "severity", "max", "max_percent"))
        if ("max" in r) == ("max_percent" in r):
            raise doc.fail(node, f"{where}.max", "give max (rows) or max_percent, one of them")
        severity = self.severity(r, where)
        column = self.existing(r["column"], f"{where}.column", columns) if "column" in r else None
        if column in METADATA_COLUMNS:
            raise doc.fail(r["column"], f"{where}.column", f"{column!r} is added by the job")
        if "max" in r:
            limit = self.number(r["max"], f"{where}.max", integer=True, minimum=0)
            return QualityRule(REJECTED_RULE, column, severity, max=limit)
        percent = float(self.number(r["max_percent"], f"{where}.max_percent", minimum=0))
        if percent > 100:
            raise doc.fail(r["max_percent"], f"{where}.max_percent", "must be at most 100")
        return QualityRule(REJECTED_RULE, column, severity, max_percent=percent)

    def schedule(self, node: yaml.Node) -> str | None:
        doc = self.doc
        if is_null(node):
            return None
        text = doc.text(node, "schedule")
        if text.startswith("@"):
            if text not in PRESETS:
                raise doc.fail(
                    node,
                    "schedule",
                    f"{text!r} is not a schedule preset (expected one of: {', '.join(PRESETS)})",
                )
            return text
        problem = cron_problem(text)
        if problem:
            raise doc.fail(node, "schedule", f"{text!r} is not a cron schedule: {problem}")
        return text

    def scheduling(self, top: dict[str, yaml.Node], depends: bool) -> str:
        doc = self.doc
        if "scheduling" not in top:
            return SCHEDULING[0]
        node = top["scheduling"]
        value = doc.text(node, "scheduling")
        if value not in SCHEDULING:
            raise doc.fail(
                node,
                "scheduling",
                f"{value!r} is not one of: {', '.join(SCHEDULING)} (orchestration: the "
                "orchestration DAG triggers it after its upstreams; assets: it runs when the "
                "tables of its upstreams are published)",
            )
        if value == "assets" and not depends:
            raise doc.fail(
                node,
                "scheduling",
                "assets runs this pipeline when the tables it depends on are published, and it "
                "has no depends_on",
            )
        if value == "assets" and "schedule" in top and not is_null(top["schedule"]):
            raise doc.fail(
                top["schedule"],
                "schedule",
                "a pipeline with scheduling: assets runs when its upstreams publish, not on a "
                "schedule of its own: remove schedule (its upstreams keep theirs), or use "
                "scheduling: orchestration",
            )
        return value

    # --- values --------------------------------------------------------------------------------

    def identifier(self, node: yaml.Node, where: str, what: str) -> str:
        name = self.doc.text(node, where)
        if not _IDENTIFIER.match(name):
            raise self.doc.fail(
                node,
                where,
                f"{name!r} is not a safe {what} name (letters, digits and _, not starting with a digit)",
            )
        return name

    def existing(self, node: yaml.Node, where: str, columns: dict[str, Column]) -> str:
        name = self.identifier(node, where, "column")
        if name not in columns:
            known = ", ".join(columns)
            raise self.doc.fail(node, where, f"no column {name!r} at this point (columns: {known})")
        return name

    def data_type(self, node: yaml.Node, where: str) -> str:
        text = self.doc.text(node, where).lower()
        if text in SIMPLE_TYPES:
            return text
        match = _DECIMAL.match(text)
        if match:
            precision, scale = int(match.group(1)), int(match.group(2))
            if 1 <= precision <= 38 and scale <= precision:
                return f"decimal({precision},{scale})"
        raise self.doc.fail(
            node, where, f"{text!r} is not a type (one of: {', '.join(SIMPLE_TYPES)}, decimal(p,s))"
        )

    def expression(self, node: yaml.Node, where: str, columns: dict[str, Column]) -> str:
        """A Spark SQL expression over the columns at this point, checked on its parse tree
        (pipelines.expressions): allow-listed functions, existing columns, literals."""
        from pipelines.expressions import expression_problem

        expr = self.doc.text(node, where)
        if "\n" in expr or "\r" in expr:
            raise self.doc.fail(node, where, "one Spark SQL expression on one line")
        problem = expression_problem(expr, columns)
        if problem:
            raise self.doc.fail(node, where, problem)
        return expr

    def number(
        self, node: yaml.Node, where: str, *, integer: bool = False, minimum: float | None = None
    ) -> int | float:
        value = scalar(node) if isinstance(node, yaml.ScalarNode) else None
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or (integer and not isinstance(value, int))
        ):
            raise self.doc.fail(
                node, where, "expected a whole number" if integer else "expected a number"
            )
        if minimum is not None and value < minimum:
            raise self.doc.fail(node, where, f"must be at least {minimum}")
        return value

    def plain_scalar(self, node: yaml.Node, where: str) -> str | int | float | bool:
        if not isinstance(node, yaml.ScalarNode) or is_null(node):
            raise self.doc.fail(node, where, "expected a plain value (text, number or true/false)")
        value = scalar(node)
        if not isinstance(value, str | int | float | bool):
            raise self.doc.fail(node, where, "expected a plain value (text, number or true/false)")
        return value

    def repo_path(
        self, node: yaml.Node, where: str, *, allow_uri: bool = False, allow_glob: bool = False
    ) -> str:
        """A location inside the repository (symlinks and every glob match resolved), or an
        object-store URI where `allow_uri`; `file:` URIs are local paths and checked as such."""
        text = self.doc.text(node, where)
        problem = location_problem(self.root, text, allow_uri=allow_uri, allow_glob=allow_glob)
        if problem:
            raise self.doc.fail(node, where, problem)
        return text


# --- checks shared with other readers of a source (pipelines.profiling) ---------------------------


def option_key_problem(key: str) -> str | None:
    """What is wrong with a reader option's name (`source.options`), or None."""
    if not _OPTION_KEY.match(key):
        return "not a reader option name"
    if key.lower() in _PATH_OPTIONS:  # would read past source.path's checks
        return "names files to read; put the location in source.path"
    if key.lower() in _JOB_OPTIONS:
        return f"set by the generated job (malformed records are read into {CORRUPT_RECORD})"
    return None


def option_value_problem(key: str, value: str | int | float | bool) -> str | None:
    """What is wrong with a reader option's value, or None."""
    if isinstance(value, str) and control_problem(value):
        return control_problem(value)
    if key.lower() == "mode" and str(value).upper() not in PARSE_MODES:
        return (
            f"{value!r} is not one of: {', '.join(PARSE_MODES)} (PERMISSIVE keeps "
            "malformed rows out of the table in <table>_rejected; DROPMALFORMED "
            "would drop them silently)"
        )
    return None


def location_problem(
    root: Path, text: str, *, allow_uri: bool = False, allow_glob: bool = False
) -> str | None:
    """What is wrong with a source location (`source.path`, `source.sample`): it must stay inside
    the repository once symlinks and every glob match are resolved, or be an object-store URI
    where `allow_uri`; `file:` URIs are local paths and checked as such. None when it is fine."""
    from deliverables.paths import OutsideRepo, local_or_remote, scheme_of

    if control_problem(text):  # a newline would break the Mermaid fence and the task file
        return control_problem(text)
    if "\\" in text:
        return "use forward slashes"
    if scheme_of(text) is None:
        pure = PurePosixPath(text)
        if pure.is_absolute() or ".." in pure.parts or text.startswith("~"):
            return f"{text!r} leaves the repository; use a path relative to it"
    if not allow_glob and re.search(r"[*?\[]", text):
        return "a single file, not a pattern"
    try:
        local_or_remote(root, text, what="", allow_remote=allow_uri)
    except OutsideRepo as exc:
        return str(exc)
    return None


def _line(node: yaml.Node | None) -> int | None:
    return node.start_mark.line + 1 if node is not None else None


def _environments(*values: Threshold) -> list[str | None]:
    """The environments to compare thresholds in: [None] when none is per environment."""
    named = {env for value in values if isinstance(value, tuple) for env, _ in value}
    return sorted(named) or [None]


# Airflow's schedule presets; any other `@…` is refused rather than left for Airflow to reject.
PRESETS = {
    "@once": "once, when first triggered",
    "@continuous": "continuously, one run after another",
    "@hourly": "every hour",
    "@daily": "every day at 00:00",
    "@weekly": "every Sunday at 00:00",
    "@monthly": "on the first day of every month at 00:00",
    "@quarterly": "on the first day of every quarter at 00:00",
    "@yearly": "on 1 January at 00:00",
}
_CRON_FIELDS = (
    ("minute", "0-59"),
    ("hour", "0-23"),
    ("day of month", "1-31, or L for the last day"),
    ("month", "1-12 or jan-dec"),
    ("weekday", "0-7 or sun-sat, n#k for the k-th weekday n, Ln for the last"),
)


def cron_problem(text: str) -> str | None:
    """Why `text` is not a five-field cron expression as Airflow reads it (croniter: ranges,
    steps, names, `L` and `#`), or None when it is one."""
    from croniter import croniter  # only when a spec has a schedule

    fields = text.split()
    if len(fields) != 5:
        return f"expected 5 fields (minute hour day month weekday), got {len(fields)}"
    if croniter.is_valid(text):
        return None
    # name the field at fault: each one alone, the others left at *
    for n, (value, (label, allowed)) in enumerate(zip(fields, _CRON_FIELDS, strict=True)):
        alone = " ".join(value if i == n else "*" for i in range(5))
        if not croniter.is_valid(alone):
            return f"{label}: {value!r} is not valid (expected {allowed}, lists, ranges, /steps)"
    return "the fields do not make a valid cron expression together"


def describe_schedule(schedule: str | None) -> str:
    """A schedule in words for the TUI and the CLI: `At 05:00`, `every hour`, `not scheduled`."""
    if not schedule:
        return "not scheduled"
    if schedule in PRESETS:
        return PRESETS[schedule]
    from cron_descriptor import ExpressionDescriptor, Options  # only when one is shown

    options = Options()
    options.use_24hour_time_format = True
    try:
        return ExpressionDescriptor(schedule, options).get_description()
    except Exception:  # a valid cron expression the describer cannot word: show it as is
        return schedule


def _check_together(specs: list[PipelineSpec]) -> None:
    """Names and tables are unique; every dependency exists; dependencies have no cycle."""
    by_name: dict[str, PipelineSpec] = {}
    tables: dict[str, PipelineSpec] = {}
    for spec in specs:
        if spec.name in by_name:
            raise SpecError(
                spec.path,
                None,
                "name",
                f"{spec.name!r} is also the name in {by_name[spec.name].path}",
            )
        by_name[spec.name] = spec
        if spec.target.identifier in tables:
            raise SpecError(
                spec.path,
                None,
                "target.table",
                f"{spec.target.identifier} is also written by {tables[spec.target.identifier].path.name}",
            )
        tables[spec.target.identifier] = spec
    for spec in specs:
        for n, other in enumerate(spec.depends_on):
            if other not in by_name:
                raise SpecError(
                    spec.path,
                    None,
                    f"depends_on[{n}]",
                    f"no pipeline {other!r} (pipelines: {', '.join(by_name) or 'none'})",
                )
        for rule in spec.quality:
            if rule.references:
                _check_reference(spec, rule, by_name)
    state: dict[str, int] = {}

    def visit(name: str, trail: list[str]) -> None:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            cycle = " → ".join([*trail[trail.index(name) :], name])
            raise SpecError(
                by_name[name].path, None, "depends_on", f"dependencies form a cycle: {cycle}"
            )
        state[name] = 1
        for other in by_name[name].depends_on:
            visit(other, [*trail, name])
        state[name] = 2

    for name in by_name:
        visit(name, [])
    _check_schedules(specs)


def dependency_groups(specs: list[PipelineSpec]) -> list[tuple[str, ...]]:
    """The pipelines linked by depends_on (directly or through others), each group in dependency
    order; pipelines that depend on none and that none depends on are in no group. The groups
    run as orchestration DAGs (pipelines.orchestration)."""
    by_name = {s.name: s for s in specs}
    root = {s.name: s.name for s in specs}

    def find(name: str) -> str:
        while root[name] != name:
            name = root[name]
        return name

    for spec in specs:
        for upstream in spec.depends_on:
            if upstream in root and find(upstream) != find(spec.name):
                root[find(spec.name)] = find(upstream)
    linked = {s.name for s in specs if s.depends_on} | {u for s in specs for u in s.depends_on}
    members: dict[str, list[str]] = {}
    done: set[str] = set()

    def visit(name: str) -> None:
        if name in done:
            return
        done.add(name)
        for upstream in by_name[name].depends_on:
            if upstream in by_name:
                visit(upstream)
        if name in linked:
            members.setdefault(find(name), []).append(name)

    for spec in specs:
        visit(spec.name)
    return [tuple(names) for names in members.values()]


def _check_schedules(specs: list[PipelineSpec]) -> None:
    """Pipelines linked by depends_on run one way (`scheduling`). A group run by one
    orchestration DAG runs on one schedule: the ones they declare must agree (one that leaves it
    out takes the group's). In a group scheduled on assets, each upstream keeps its own."""
    by_name = {s.name: s for s in specs}
    for names in dependency_groups(specs):
        downstream = [by_name[n] for n in names if by_name[n].depends_on]
        for spec in downstream[1:]:
            first = downstream[0]
            if spec.scheduling != first.scheduling:
                raise SpecError(
                    spec.path,
                    spec.scheduling_line,
                    "scheduling",
                    f"{spec.scheduling!r} differs from {first.name}'s {first.scheduling!r}: "
                    f"{', '.join(names)} depend on each other and are scheduled one way; give "
                    "them the same scheduling",
                )
        if downstream and downstream[0].scheduling == "assets":
            continue
        declared = [by_name[n] for n in names if by_name[n].schedule]
        for spec in declared[1:]:
            first = declared[0]
            if spec.schedule != first.schedule:
                raise SpecError(
                    spec.path,
                    None,
                    "schedule",
                    f"{spec.schedule!r} differs from {first.name}'s {first.schedule!r}: "
                    f"{', '.join(names)} depend on each other and run in one orchestration DAG, "
                    "on one schedule; give them the same one, or leave it out of all but one",
                )


def _check_reference(
    spec: PipelineSpec, rule: QualityRule, by_name: dict[str, PipelineSpec]
) -> None:
    """A `references` rule names an existing pipeline and a column of its table, of the type
    of the column it checks (values of other types would never match)."""
    pipeline, column = rule.references
    where = f"{rule.where}.to"
    other = by_name.get(pipeline)
    if other is None:
        raise SpecError(
            spec.path,
            rule.line,
            where,
            f"no pipeline {pipeline!r} (pipelines: {', '.join(by_name)})",
        )
    target = other.column(column)
    if target is None:
        raise SpecError(
            spec.path,
            rule.line,
            where,
            f"{pipeline} has no column {column!r} (columns: "
            + ", ".join(c.name for c in other.output)
            + ")",
        )
    own = spec.column(rule.column)
    if own is not None and own.type != target.type:
        raise SpecError(
            spec.path,
            rule.line,
            where,
            f"{rule.column} is {own.type} but {pipeline}.{column} is {target.type}",
        )
