"""Pipeline specs: the documented format loads; every mistake names file, line and field."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from pipelines import SpecError, load_spec, load_specs
from pipelines.spec import cron_problem, describe_schedule
from tests.conftest import ROOT

DOC = (ROOT / "docs" / "pipeline-spec.md").read_text()
EXAMPLE = re.search(r"```yaml\n(.*?)```", DOC, re.S).group(1)
STORE_MASTER = """\
name: store_master
source: {path: landing/stores.parquet, format: parquet}
schema:
  - {name: store_id, type: string, nullable: false}
target: {table: sales.stores}
"""
# pos_orders depends on store_master: one orchestration runs both, on pos_orders' schedule


def _write(root: Path, name: str, text: str) -> Path:
    path = root / "pipelines" / f"{name}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def test_the_documented_example_loads_with_every_section(tmp_path):
    _write(tmp_path, "pos_orders", EXAMPLE)
    _write(tmp_path, "store_master", STORE_MASTER)
    specs = {s.name: s for s in load_specs(tmp_path)}
    spec = specs["pos_orders"]
    assert spec.source.format == "csv"
    assert dict(spec.source.options) == {"header": True, "delimiter": ";"}
    assert spec.source.sample == "samples/pos_orders.csv"
    assert [c.name for c in spec.schema][:3] == ["order_id", "store_id", "ordered_at"]
    assert spec.schema[0].nullable is False and spec.schema[3].type == "decimal(12,2)"
    assert spec.target.identifier == "sales.orders"
    assert [(p.column, p.transform, p.buckets) for p in spec.target.partition_by] == [
        ("ordered_on", "day", None),
        ("store_id", "bucket", 16),
    ]
    assert [t.kind for t in spec.transformations] == [
        "rename",
        "cast",
        "derive",
        "filter",
        "dedupe",
    ]
    # the columns after the transformations, plus the job's metadata
    output = {c.name: c.type for c in spec.output}
    assert "ordered_at" not in output and output["ordered_on"] == "timestamp"
    assert output["quantity"] == "long" and output["unit_price"] == "decimal(12,4)"
    assert list(output)[-4:] == ["_ingested_at", "_source_file", "_correlation_id", "_run_date"]
    assert output["_run_date"] == "date" and not spec.column("_run_date").nullable
    # the table's partition spec: the run's logical date first, then the spec's
    assert [(p.column, p.transform) for p in spec.table_partitions] == [
        ("_run_date", "identity"),
        ("ordered_on", "day"),
        ("store_id", "bucket"),
    ]
    assert [r.id for r in spec.quality] == [
        "not_null_order_id",
        "unique_order_id",
        "between_quantity",
        "in_set_status",
        "regex_email",
        "row_count",
        "freshness_ordered_on",
    ]
    assert spec.quality[3].severity == "warning" and spec.quality[3].values == (
        "paid",
        "refunded",
        "void",
    )
    assert spec.quality[6].max_age_hours == 26.0
    assert spec.schedule == "0 5 * * *" and spec.depends_on == ("store_master",)


BASE = """\
name: orders
source: {path: landing/orders.csv, format: csv}
schema:
  - {name: order_id, type: string}
  - {name: ordered_at, type: timestamp}
  - {name: qty, type: int}
target: {table: sales.orders}
"""


@pytest.mark.parametrize(
    ("extra", "line", "field", "problem"),
    [
        ("colour: red\n", 8, "colour", "unknown key"),
        (
            "transformations:\n  - rename: {column: nope, to: x}\n",
            9,
            "transformations[0].rename.column",
            "no column 'nope'",
        ),
        (
            "transformations:\n  - rename: {column: qty, to: 'qty; drop'}\n",
            9,
            "transformations[0].rename.to",
            "not a safe column name",
        ),
        (
            "transformations:\n  - explode: {column: qty}\n",
            9,
            "transformations[0]",
            "unknown step 'explode'",
        ),
        (
            "transformations:\n  - derive: {column: x, expr: \"reflect('java.lang.Runtime', 'getRuntime')\", type: string}\n",
            9,
            "transformations[0].derive.expr",
            "function reflect is not allowed",
        ),
        (
            "transformations:\n  - filter: {expr: 'qty > 0; DROP TABLE x'}\n",
            9,
            "transformations[0].filter.expr",
            "without ';'",
        ),
        (
            "transformations:\n  - cast: {column: qty, to: bigint}\n",
            9,
            "transformations[0].cast.to",
            "not a type",
        ),
        (
            "quality:\n  - {rule: between, column: qty, min: 5, max: 1}\n",
            9,
            "quality[0].max",
            "below min",
        ),
        (
            "quality:\n  - {rule: between, column: qty}\n",
            9,
            "quality[0].min",
            "give min, max or both",
        ),
        (
            "quality:\n  - {rule: regex, column: order_id, pattern: '([a-z'}\n",
            9,
            "quality[0].pattern",
            "not a valid regular expression",
        ),
        (
            "quality:\n  - {rule: not_null, column: qty, pattern: x}\n",
            9,
            "quality[0].pattern",
            "unknown key",
        ),
        (
            "quality:\n  - {rule: freshness, column: qty, max_age_hours: 3}\n",
            9,
            "quality[0].column",
            "date or timestamp",
        ),
        ("quality:\n  - {rule: row_count, min: 1.5}\n", 9, "quality[0].min", "whole number"),
        (
            "quality:\n  - {rule: in_set, column: qty, values: []}\n",
            9,
            "quality[0].values",
            "at least one",
        ),
        (
            "quality:\n  - {rule: not_null, column: qty, severity: fatal}\n",
            9,
            "quality[0].severity",
            "not one of",
        ),
        ("quality:\n  - {rule: nonsense}\n", 9, "quality[0].rule", "unknown rule"),
        (
            "quality:\n  - {rule: unique, column: qty}\n  - {rule: unique, column: qty}\n",
            10,
            "quality[1]",
            "repeats quality[0]",
        ),
        ("schedule: '61 * * * *'\n", 8, "schedule", "minute: '61' is not valid (expected 0-59"),
        ("schedule: '0 5 * * 9'\n", 8, "schedule", "weekday: '9' is not valid"),
        ("schedule: '@reboot'\n", 8, "schedule", "'@reboot' is not a schedule preset"),
        ("schedule: 'every day'\n", 8, "schedule", "expected 5 fields"),
        ("depends_on: [orders]\n", 8, "depends_on[0]", "cannot depend on itself"),
        ("scheduling: sometimes\n", 8, "scheduling", "'sometimes' is not one of: orchestration"),
        ("scheduling: assets\n", 8, "scheduling", "it has no depends_on"),
        (
            "depends_on: [customers]\nscheduling: assets\nschedule: '@daily'\n",
            10,
            "schedule",
            "runs when its upstreams publish, not on a schedule of its own",
        ),
        ("quality:\n  - {rule: max_rejected}\n", 9, "quality[0].max", "give max (rows) or"),
        (
            "quality:\n  - {rule: max_rejected, max: 1, max_percent: 2}\n",
            9,
            "quality[0].max",
            "one of them",
        ),
        ("quality:\n  - {rule: max_rejected, max: -1}\n", 9, "quality[0].max", "at least 0"),
        ("quality:\n  - {rule: max_rejected, max: 2.5}\n", 9, "quality[0].max", "whole number"),
        (
            "quality:\n  - {rule: max_rejected, max_percent: 101}\n",
            9,
            "quality[0].max_percent",
            "at most 100",
        ),
        (
            "quality:\n  - {rule: max_rejected, column: nope, max: 1}\n",
            9,
            "quality[0].column",
            "no column 'nope'",
        ),
        (
            "quality:\n  - {rule: max_rejected, column: _source_file, max: 1}\n",
            9,
            "quality[0].column",
            "added by the job",
        ),
        (
            "quality:\n  - {rule: max_rejected, max: 1, min: 0}\n",
            9,
            "quality[0].min",
            "unknown key",
        ),
        (
            "quality:\n  - {rule: max_rejected, max: 1}\n  - {rule: max_rejected, max: 2}\n",
            10,
            "quality[1]",
            "repeats quality[0]",
        ),
    ],
)
def test_errors_name_file_line_and_field(tmp_path, extra, line, field, problem):
    path = _write(tmp_path, "orders", BASE + extra)
    with pytest.raises(SpecError) as caught:
        load_spec(path, tmp_path)
    error = caught.value
    assert (error.path, error.line, error.field) == (str(path), line, field), str(error)
    assert problem in error.problem, str(error)


@pytest.mark.parametrize(
    ("old", "new", "field", "problem"),
    [
        ("name: orders", "name: Orders", "name", "not a safe pipeline name"),
        ("name: orders", "name: class", "name", "not a safe pipeline name"),
        ("name: orders", "name: invoices", "name", "must match the file name"),
        (
            "path: landing/orders.csv",
            "path: ../../etc/passwd",
            "source.path",
            "leaves the repository",
        ),
        ("path: landing/orders.csv", "path: /etc/passwd", "source.path", "leaves the repository"),
        (
            "path: landing/orders.csv",
            "path: file:///etc/passwd",
            "source.path",
            "leaves the repository",
        ),
        ("format: csv", "format: xlsx", "source.format", "not one of"),
        (
            "{name: qty, type: int}",
            "{name: 2qty, type: int}",
            "schema[2].name",
            "not a safe column name",
        ),
        (
            "{name: qty, type: int}",
            "{name: _ingested_at, type: int}",
            "schema[2].name",
            "added by the job",
        ),
        (
            "{name: qty, type: int}",
            "{name: order_id, type: int}",
            "schema[2].name",
            "already in the schema",
        ),
        ("{table: sales.orders}", "{table: orders}", "target.table", "namespace.table"),
        (
            "{table: sales.orders}",
            "{table: sales.orders, partition_by: [{column: qty, transform: day}]}",
            "target.partition_by[0].column",
            "date or timestamp",
        ),
        (
            "{table: sales.orders}",
            "{table: sales.orders, partition_by: [{column: qty, transform: bucket}]}",
            "target.partition_by[0].buckets",
            "missing",
        ),
        (
            "{table: sales.orders}",
            "{table: sales.orders, partition_by: [{column: qty, transform: hour}]}",
            "target.partition_by[0].transform",
            "not one of",
        ),
    ],
)
def test_unsafe_names_and_escaping_paths_are_refused(tmp_path, old, new, field, problem):
    text = BASE.replace(old, new)
    assert text != BASE
    path = _write(tmp_path, "orders", text)
    with pytest.raises(SpecError) as caught:
        load_spec(path, tmp_path)
    assert caught.value.field == field, str(caught.value)
    assert problem in caught.value.problem, str(caught.value)


def test_a_link_out_of_the_repository_is_refused(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    repo = tmp_path / "repo"
    (repo / "landing").mkdir(parents=True)
    (repo / "landing" / "elsewhere").symlink_to(outside)
    path = _write(repo, "orders", BASE.replace("landing/orders.csv", "landing/elsewhere/*.csv"))
    with pytest.raises(SpecError, match="through a link"):
        load_spec(path, repo)


def test_specs_are_checked_together(tmp_path):
    _write(tmp_path, "orders", BASE + "depends_on: [customers]\n")
    with pytest.raises(SpecError, match=r"depends_on\[0\]: no pipeline 'customers'"):
        load_specs(tmp_path)
    _write(
        tmp_path,
        "customers",
        BASE.replace("name: orders", "name: customers").replace("sales.orders", "sales.customers")
        + "depends_on: [orders]\n",
    )
    with pytest.raises(SpecError, match=r"cycle: customers → orders → customers"):
        load_specs(tmp_path)
    _write(tmp_path, "customers", BASE.replace("name: orders", "name: customers"))
    with pytest.raises(
        SpecError,
        match=r"sales\.orders is also written by customers\.yaml",
    ):
        load_specs(tmp_path)
    _write(
        tmp_path,
        "customers",
        BASE.replace("name: orders", "name: customers").replace("sales.orders", "sales.customers"),
    )
    assert [s.name for s in load_specs(tmp_path)] == ["customers", "orders"]


def test_no_specs_is_an_empty_list(tmp_path):
    assert load_specs(tmp_path) == []


@pytest.mark.parametrize(
    ("value", "tag"),
    [
        ("!!python/object/apply:os.system ['touch {proof}']", "!!python/object/apply:os.system"),
        (
            "!!python/object/apply:subprocess.check_call [[touch, '{proof}']]",
            "!!python/object/apply:subprocess.check_call",
        ),
        ("!<tag:yaml.org,2002:python/object/apply:os.system> ['touch {proof}']", "!!python"),
        ("!!python/object/new:os.system ['touch {proof}']", "!!python/object/new:os.system"),
        ("!!python/name:os.system ''", "!!python/name:os.system"),
        ("!custom '{proof}'", "!custom"),
        ("{{x: !!binary aGVsbG8=}}", "!!binary"),
    ],
)
def test_a_yaml_tag_is_refused_by_name_and_never_runs(tmp_path, value, tag):
    proof = tmp_path / "pwned"  # what the payload would create under an unsafe loader
    path = _write(
        tmp_path, "orders", BASE.replace("format: csv", "format: " + value.format(proof=proof))
    )
    with pytest.raises(SpecError, match=r"orders\.yaml:\d+: the YAML tag ") as caught:
        load_spec(path, tmp_path)
    assert tag in str(caught.value) and "is not allowed" in str(caught.value)
    assert not proof.exists()


def test_an_unsafe_loader_would_have_run_the_payload(tmp_path):
    """The control: the same payload under PyYAML's unsafe loader does create the file, so the
    test above would notice a loader that constructs objects."""
    import yaml

    proof = tmp_path / "pwned"
    yaml.unsafe_load(f"format: !!python/object/apply:os.system ['touch {proof}']")
    assert proof.exists()


@pytest.mark.parametrize(
    ("cron", "ok"),
    [
        ("0 5 * * *", True),
        ("*/15 8-18 * * mon-fri", True),
        ("0 0 1 jan,jul *", True),
        ("0 0 * * 7", True),
        ("0 24 * * *", False),
        ("0 0 0 * *", False),
        ("5-1 * * * *", True),  # croniter (and so Airflow) wraps such a range around
        ("*/0 * * * *", False),
        ("* * * *", False),
        ("* * * * * *", False),  # seconds: not a five-field expression
        ("0 5 L * *", True),  # the last day of the month
        ("0 5 * * 1#2", True),  # the second Monday
        ("0 5 * * L5", True),  # the last Friday (croniter spells it L5)
        ("0 5 * jan-mar mon-fri", True),
        ("0 5 * janx *", False),
        ("0 5 32 * *", False),
    ],
)
def test_cron_expressions(cron, ok):
    assert (cron_problem(cron) is None) == ok


@pytest.mark.parametrize(
    ("schedule", "words"),
    [
        ("0 5 * * *", "At 05:00"),
        ("0 5 L * *", "At 05:00, on the last day of the month"),
        ("0 5 * * 1#2", "At 05:00, on the second Monday of the month"),
        ("@once", "once, when first triggered"),
        ("@continuous", "continuously, one run after another"),
        ("@daily", "every day at 00:00"),
        (None, "not scheduled"),
    ],
)
def test_a_schedule_in_words(schedule, words):
    assert describe_schedule(schedule) == words


@pytest.mark.parametrize("preset", ["@once", "@continuous", "@hourly", "@quarterly", "@yearly"])
def test_airflow_presets_are_accepted(tmp_path, preset):
    path = _write(tmp_path, "orders", BASE + f"schedule: '{preset}'\n")
    assert load_spec(path, tmp_path).schedule == preset


# --- quality rules data engineers asked for: mostly, unique together, references, thresholds
# per environment (issue 13) -------------------------------------------------------------------

AIRLINES = """\
name: airlines
source: {path: landing/airlines.csv, format: csv}
schema:
  - {name: carrier, type: string, nullable: false}
  - {name: seats, type: int}
target: {table: ref.airlines}
"""


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        (
            "{rule: not_null, column: qty, mostly: 0.99}",
            {"id": "not_null_qty", "mostly": 0.99},
        ),
        ("{rule: not_null, column: qty, mostly: 1}", {"mostly": 1}),
        (
            "{rule: unique, columns: [order_id, ordered_at]}",
            {"id": "unique_order_id_ordered_at", "columns": ("order_id", "ordered_at")},
        ),
        (
            "{rule: unique, columns: [order_id, qty], mostly: 0.9, severity: warning}",
            {"columns": ("order_id", "qty"), "mostly": 0.9, "severity": "warning"},
        ),
        ("{rule: unique, column: order_id}", {"column": "order_id", "columns": ()}),
        (
            "{rule: row_count, min: {sample: 10, production: 100000}}",
            {"min": (("sample", 10), ("production", 100000)), "max": None},
        ),
        (
            "{rule: row_count, min: {production: 5}, max: {production: 9, staging: 20}}",
            {"min": (("production", 5),), "max": (("production", 9), ("staging", 20))},
        ),
        (
            "{rule: between, column: qty, min: 0, max: {sample: 10, production: 1000}, mostly: {sample: 0.5, production: 0.999}}",
            {"min": 0, "mostly": (("sample", 0.5), ("production", 0.999))},
        ),
        (
            "{rule: freshness, column: ordered_at, max_age_hours: {sample: 100000, production: 26}}",
            {"max_age_hours": (("sample", 100000.0), ("production", 26.0))},
        ),
        ("{rule: in_set, column: qty, values: [1, 2], mostly: 0.5}", {"mostly": 0.5}),
        ("{rule: regex, column: order_id, pattern: '^o', mostly: 0.75}", {"mostly": 0.75}),
    ],
)
def test_new_rule_spellings_load(tmp_path, rule, expected):
    spec = load_spec(_write(tmp_path, "orders", BASE + f"quality:\n  - {rule}\n"), tmp_path)
    loaded = spec.quality[0]
    for key, value in expected.items():
        assert getattr(loaded, key) == value, key


def test_a_threshold_per_environment_falls_back_to_production():
    from pipelines.spec import threshold

    value = (("sample", 10), ("production", 100000))
    assert threshold(value, "sample") == 10
    assert threshold(value, "production") == threshold(value) == 100000
    assert threshold(value, "staging") == 100000  # not named: production's
    assert threshold(7, "sample") == 7 and threshold(None, "sample") is None


@pytest.mark.parametrize(
    ("rule", "field", "problem"),
    [
        ("{rule: not_null, column: qty, mostly: 0}", "quality[0].mostly", "not a share of rows"),
        ("{rule: not_null, column: qty, mostly: 1.5}", "quality[0].mostly", "at most 1"),
        ("{rule: not_null, column: qty, mostly: -0.1}", "quality[0].mostly", "above 0"),
        ("{rule: not_null, column: qty, mostly: most}", "quality[0].mostly", "expected a number"),
        ("{rule: not_null, column: qty, mostly: true}", "quality[0].mostly", "expected a number"),
        ("{rule: row_count, min: 1, mostly: 0.5}", "quality[0].mostly", "not checked row by row"),
        (
            "{rule: freshness, column: ordered_at, max_age_hours: 2, mostly: 0.5}",
            "quality[0].mostly",
            "mostly applies to: not_null, unique, between, in_set, regex, references",
        ),
        (
            "{rule: not_null, column: qty, mostly: {sample: 0.5}}",
            "quality[0].mostly",
            "needs production",
        ),
        (
            "{rule: not_null, column: qty, mostly: {sample: 0.5, production: 2}}",
            "quality[0].mostly.production",
            "at most 1",
        ),
        ("{rule: unique}", "quality[0].column", "give column (one column) or columns"),
        (
            "{rule: unique, column: qty, columns: [qty, order_id]}",
            "quality[0].column",
            "give column (one column) or columns",
        ),
        ("{rule: unique, columns: [qty]}", "quality[0].columns", "two or more columns"),
        ("{rule: unique, columns: qty}", "quality[0].columns", "expected a list"),
        ("{rule: unique, columns: [qty, qty]}", "quality[0].columns", "'qty' more than once"),
        ("{rule: unique, columns: [qty, nope]}", "quality[0].columns[1]", "no column 'nope'"),
        ("{rule: not_null, columns: [qty, order_id]}", "quality[0].columns", "unknown key"),
        ("{rule: references, column: qty}", "quality[0].to", "missing (required)"),
        ("{rule: references, column: qty, to: airlines}", "quality[0].to", "not pipeline.column"),
        (
            "{rule: references, column: qty, to: Airlines.carrier}",
            "quality[0].to",
            "not pipeline.column",
        ),
        (
            "{rule: references, column: qty, to: 'airlines.car rier'}",
            "quality[0].to",
            "not pipeline.column",
        ),
        (
            "{rule: references, column: qty, to: orders.order_id}",
            "quality[0].to",
            "cannot reference its own pipeline",
        ),
        (
            "{rule: references, column: nope, to: airlines.carrier}",
            "quality[0].column",
            "no column 'nope'",
        ),
        (
            "{rule: row_count, min: {sample: 10, production: 1}, max: 5}",
            "quality[0].max",
            "max (5) is below min (10) in sample",
        ),
        (
            "{rule: row_count, min: {production: 1.5}}",
            "quality[0].min.production",
            "whole number",
        ),
        (
            "{rule: row_count, min: {Sample: 1, production: 1}}",
            "quality[0].min.Sample",
            "not an environment name",
        ),
        (
            "{rule: row_count, min: {production: 1, production: 2}}",
            "quality[0].min.production",
            "duplicate environment",
        ),
        (
            "{rule: row_count, min: [1, 2]}",
            "quality[0].min",
            "expected a whole number",
        ),
        (
            "{rule: freshness, column: ordered_at, max_age_hours: {production: -1}}",
            "quality[0].max_age_hours.production",
            "at least 0",
        ),
    ],
)
def test_bad_rule_spellings_name_file_line_and_field(tmp_path, rule, field, problem):
    path = _write(tmp_path, "orders", BASE + f"quality:\n  - {rule}\n")
    with pytest.raises(SpecError) as caught:
        load_spec(path, tmp_path)
    error = caught.value
    assert (error.path, error.line, error.field) == (str(path), 9, field), str(error)
    assert problem in error.problem, str(error)
    assert str(error).startswith(f"{path}:9: {field}: "), str(error)


@pytest.mark.parametrize(
    ("to", "column", "problem"),
    [
        ("airline.carrier", "order_id", "no pipeline 'airline' (pipelines: airlines, orders)"),
        ("airlines.carriers", "order_id", "airlines has no column 'carriers' (columns: carrier,"),
        ("airlines.seats", "order_id", "order_id is string but airlines.seats is int"),
    ],
)
def test_references_name_an_existing_pipeline_and_column(tmp_path, to, column, problem):
    _write(tmp_path, "airlines", AIRLINES)
    path = _write(
        tmp_path,
        "orders",
        BASE + f"quality:\n  - {{rule: not_null, column: qty}}\n"
        f"  - {{rule: references, column: {column}, to: {to}}}\n",
    )
    with pytest.raises(SpecError) as caught:
        load_specs(tmp_path)
    error = caught.value
    assert (error.path, error.line, error.field) == (str(path), 10, "quality[1].to"), str(error)
    assert problem in error.problem, str(error)


def test_a_reference_to_another_pipelines_column_loads(tmp_path):
    _write(tmp_path, "airlines", AIRLINES)
    _write(
        tmp_path,
        "orders",
        BASE + "quality:\n  - {rule: references, column: order_id, to: airlines.carrier, "
        "mostly: 0.98, severity: warning}\n",
    )
    rule = {s.name: s for s in load_specs(tmp_path)}["orders"].quality[0]
    assert (rule.id, rule.references, rule.mostly) == (
        "references_order_id",
        ("airlines", "carrier"),
        0.98,
    )


@pytest.mark.parametrize(
    ("quality", "limits"),
    [
        ("", [("max_rejected", None, 0, None, "error")]),
        (
            "quality:\n  - {rule: max_rejected, max: 5}\n",
            [("max_rejected", None, 5, None, "error")],
        ),
        (
            "quality:\n  - {rule: max_rejected, max_percent: 0.5, severity: warning}\n",
            [("max_rejected", None, None, 0.5, "warning")],
        ),
        (  # a column's limit comes on top of the pipeline-wide default of 0
            "quality:\n  - {rule: max_rejected, column: qty, max: 3}\n",
            [
                ("max_rejected", None, 0, None, "error"),
                ("max_rejected_qty", "qty", 3, None, "error"),
            ],
        ),
    ],
)
def test_max_rejected_limits_and_the_default_of_zero(tmp_path, quality, limits):
    spec = load_spec(_write(tmp_path, "orders", BASE + quality), tmp_path)
    found = [(r.id, r.column, r.max, r.max_percent, r.severity) for r in spec.max_rejected]
    assert found == limits
    assert all(r.rule != "max_rejected" for r in spec.quality)  # checked from the job's counts


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ("{mode: DROPMALFORMED}", "would drop them silently"),
        ("{mode: lenient}", "'lenient' is not one of: PERMISSIVE, FAILFAST"),
        ("{columnNameOfCorruptRecord: bad}", "set by the generated job"),
    ],
)
def test_reader_options_that_would_hide_malformed_rows_are_refused(tmp_path, options, problem):
    text = BASE.replace("format: csv}", f"format: csv, options: {options}}}")
    with pytest.raises(SpecError) as caught:
        load_spec(_write(tmp_path, "orders", text), tmp_path)
    assert caught.value.field.startswith("source.options.") and problem in caught.value.problem


@pytest.mark.parametrize("mode", ["FAILFAST", "failfast", "PERMISSIVE"])
def test_the_parse_modes_the_job_supports_load(tmp_path, mode):
    text = BASE.replace("format: csv}", f"format: csv, options: {{mode: {mode}}}}}")
    assert dict(load_spec(_write(tmp_path, "orders", text), tmp_path).source.options) == {
        "mode": mode
    }


def test_not_null_columns_follow_renames_and_leave_out_the_jobs_columns(tmp_path):
    spec = load_spec(_write(tmp_path, "pos_orders", EXAMPLE), tmp_path)
    assert spec.not_null_columns == ("order_id", "ordered_on")


def test_renamed_follows_a_chain_of_renames(tmp_path):
    text = BASE + (
        "transformations:\n"
        "  - rename: {column: qty, to: quantity}\n"
        "  - rename: {column: quantity, to: units}\n"
        "  - rename: {column: ordered_at, to: ordered_on}\n"
    )
    spec = load_spec(_write(tmp_path, "orders", text), tmp_path)
    assert spec.renamed == {"qty": "units", "ordered_at": "ordered_on"}


def _pipeline(root: Path, name: str, extra: str = "") -> Path:
    text = BASE.replace("name: orders", f"name: {name}").replace("sales.orders", f"sales.{name}")
    return _write(root, name, text + extra)


def test_pipelines_linked_by_depends_on_are_scheduled_one_way(tmp_path):
    _pipeline(tmp_path, "customers", "schedule: '@daily'\n")
    _pipeline(tmp_path, "products", "schedule: '@hourly'\n")  # an upstream keeps its own
    _pipeline(tmp_path, "orders", "depends_on: [customers, products]\nscheduling: assets\n")
    specs = {s.name: s for s in load_specs(tmp_path)}
    assert specs["orders"].scheduling == "assets"
    assert specs["customers"].scheduling == "orchestration"  # the default
    # a second downstream of the same group triggered by the orchestration instead
    path = _pipeline(tmp_path, "returns", "depends_on: [orders]\n")
    with pytest.raises(SpecError) as caught:
        load_specs(tmp_path)
    error = caught.value
    assert (error.path, error.line, error.field) == (str(path), 8, "scheduling"), str(error)
    assert "'orchestration' differs from orders's 'assets'" in error.problem
