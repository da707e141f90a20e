"""Sample data for a full validation run: the spec's own sample file, or rows synthesized from
its schema by Spark, written in the source's format where the job reads them.

Synthesized rows keep to the spec's quality rules (so a correct pipeline passes) and still probe
the job: the bounds of every `between` rule, every value of an `in_set`, nulls in nullable
columns no rule protects, and zero, negative, empty and non-ASCII values in columns without rules.
Thresholds are the `sample` environment's; a column that `references` another pipeline's column
gets the values that pipeline's synthesized rows hold.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from pipelines.codegen import SQL_TYPES
from pipelines.spec import threshold

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from pipelines.spec import Column, PipelineSpec, QualityRule

NULL_EVERY = 7  # every 7th row of an unprotected nullable column is null
EDGE_NUMBERS = (0, 1, -1, 999_999)
EDGE_TEXT = ("", "Zürich ✓", "x" * 200)
SAMPLE = "sample"  # the environment whose thresholds synthesized rows keep to


def sample_path(spec: PipelineSpec, root: Path) -> Path | None:
    """The spec's own sample file, when it names one."""
    return root / spec.source.sample if spec.source.sample else None


def synthesize(
    spark: SparkSession,
    spec: PipelineSpec,
    rows: int,
    folder: Path,
    now: datetime,
    others: dict[str, PipelineSpec] | None = None,
) -> Path:
    """Writes `rows` synthesized rows in the source format under `folder`; returns the path the
    job reads. `others`: pipelines whose columns a `references` rule names (by name)."""
    df = synthesized_frame(spark, spec, rows, now, others)
    target = folder / f"{spec.name}.{spec.source.format}"
    options = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in spec.source.options}
    df.write.mode("overwrite").format(spec.source.format).options(**options).save(str(target))
    return target


def synthesized_frame(
    spark: SparkSession,
    spec: PipelineSpec,
    rows: int,
    now: datetime,
    others: dict[str, PipelineSpec] | None = None,
) -> DataFrame:
    from pyspark.sql import functions as F

    n = F.col("id")
    by_source = _rules_by_source(spec)
    columns = []
    for column in spec.schema:
        rules = by_source.get(column.name, [])
        referenced = _referenced(rules, others or {})
        if referenced is not None:
            # the values the referenced pipeline's rows get (same count, same formula), so
            # every value exists in its table: a correct pair of pipelines passes
            source, other_rules = referenced
            value = _column(source, other_rules, n, now)
            if not column.nullable:  # where the referenced row is null, the row before it
                value = F.coalesce(value, _column(source, other_rules, n - 1, now))
            value = value.cast(_spark_type(column))
        else:
            value = _column(column, rules, n, now)
        columns.append(value.alias(column.name))
    # one partition per 100k rows: a few files, written in parallel
    partitions = max(1, min(8, rows // 100_000))
    return spark.range(0, rows, numPartitions=partitions).select(*columns)


def _referenced(
    rules: list[QualityRule], others: dict[str, PipelineSpec]
) -> tuple[Column, list[QualityRule]] | None:
    """The referenced pipeline's source column and its rules, for a column with a `references`
    rule to a pipeline in `others` whose column comes from its source."""
    rule = next((r for r in rules if r.rule == "references"), None)
    if rule is None or rule.references[0] not in others:
        return None
    other = others[rule.references[0]]
    renamed = {t.to: t.column for t in other.transformations if t.kind == "rename"}
    name = renamed.get(rule.references[1], rule.references[1])
    source = next((c for c in other.schema if c.name == name), None)
    if source is None:  # a derived column: no formula to follow
        return None
    return source, _rules_by_source(other).get(name, [])


def _rules_by_source(spec: PipelineSpec) -> dict[str, list[QualityRule]]:
    """A spec's rules by the source column they end up checking."""
    rules: dict[str, list[QualityRule]] = {}
    for rule in spec.quality:
        # unique together: each column unique on its own keeps the combination unique
        for column in (rule.column,) if rule.column else rule.columns:
            rules.setdefault(column, []).append(rule)
    # quality rules name columns after the transformations; follow renames back to the source
    renamed = {t.to: t.column for t in spec.transformations if t.kind == "rename"}
    by_source: dict[str, list[QualityRule]] = {}
    for column, column_rules in rules.items():
        by_source.setdefault(renamed.get(column, column), []).extend(column_rules)
    return by_source


def _spark_type(column: Column) -> str:
    return column.type.upper() if column.type.startswith("decimal") else SQL_TYPES[column.type]


def _column(column: Column, rules: list[QualityRule], n, now: datetime):
    from pyspark.sql import functions as F

    kinds = {r.rule: r for r in rules}
    value = _value(column, kinds, n, now).cast(_spark_type(column))
    if column.nullable and "not_null" not in kinds and "unique" not in kinds:
        value = F.when(n % NULL_EVERY == NULL_EVERY - 1, F.lit(None)).otherwise(value)
    return value


def _value(column: Column, kinds: dict, n, now: datetime):
    from pyspark.sql import functions as F

    kind = column.type
    if "in_set" in kinds:
        values = [str(v) for v in kinds["in_set"].values]
        return F.element_at(F.array(*[F.lit(v) for v in values]), (n % len(values) + 1).cast("int"))
    if kind in ("int", "long", "float", "double") or kind.startswith("decimal"):
        between = kinds.get("between")
        if between is not None:
            low, high = threshold(between.min, SAMPLE), threshold(between.max, SAMPLE)
            low = low if low is not None else high - 1000
            high = high if high is not None else low + 1000
            # the bounds themselves, then values spread between them
            spread = F.lit(low) + (n % max(1, int(high - low) + 1))
            return F.when(n % 5 == 0, F.lit(low)).when(n % 5 == 1, F.lit(high)).otherwise(spread)
        if "unique" in kinds:
            return n + 1
        scale = 0.25 if kind in ("float", "double") or kind.startswith("decimal") else 0
        edges = F.array(*[F.lit(e) for e in EDGE_NUMBERS])
        edge = F.element_at(edges, (n % len(EDGE_NUMBERS) + 1).cast("int"))
        return F.when(n % 10 < len(EDGE_NUMBERS), edge).otherwise(n % 1000 + 2 + scale)
    if kind == "boolean":
        return n % 2 == 0
    if kind in ("timestamp", "date"):
        freshness = kinds.get("freshness")
        hours = threshold(freshness.max_age_hours, SAMPLE) if freshness else None
        window = int(hours * 3600 / 2) if freshness else 30 * 86400
        if kind == "date" and freshness:
            window = 0  # today: a date counts from midnight
        epoch = int(now.timestamp())
        moment = F.timestamp_seconds(F.lit(epoch) - (n % max(1, window)))
        return F.to_date(moment) if kind == "date" else moment
    if kind == "binary":
        return F.encode(F.concat(F.lit("b"), n.cast("string")), "UTF-8")
    # strings
    if "regex" in kinds:
        return _matching_text(kinds["regex"].pattern, column.name, n)
    text = F.concat(F.lit(f"{column.name}_"), n.cast("string"))
    if "unique" in kinds or "not_null" in kinds:
        return text
    edges = F.array(*[F.lit(e) for e in EDGE_TEXT])
    edge = F.element_at(edges, (n % len(EDGE_TEXT) + 1).cast("int"))
    return F.when(n % 10 < len(EDGE_TEXT), edge).otherwise(text)


def _matching_text(pattern: str | None, name: str, n):
    """A value the rule's pattern accepts: an e-mail shape for e-mail-like patterns, else the
    column name with a number, checked against the pattern once here."""
    from pyspark.sql import functions as F

    for template in (f"{name}_{{}}@example.com", f"{name}_{{}}", "{}"):
        if pattern is None or re.search(pattern, template.format(7)):
            head, _, tail = template.partition("{}")
            return F.concat(F.lit(head), n.cast("string"), F.lit(tail))
    return F.lit(None)  # nothing simple matches: leave the column null rather than invent
