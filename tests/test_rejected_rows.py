"""Malformed values never silently become null: the generated job reads CSV and JSON in Spark's
PERMISSIVE mode with the raw text of each record that does not parse, keeps those rows out of
the batch, counts them per column and writes them to `<table>_rejected` (real Spark, a real
Iceberg SQL catalog); a null in a NOT NULL column is rejected the same way; with mode FAILFAST
the error names Spark's cause."""

from __future__ import annotations

import importlib
import importlib.util
import json
import sys

import pytest

from pipelines.validation.protocol import describe
from tests.test_validation_static import make_solution

CSV_SPEC = """\
name: events
source: {path: landing/events.csv, format: csv, options: {header: true, nullValue: NA}}
schema:
  - {name: id, type: string, nullable: false}
  - {name: n, type: int}
  - {name: big, type: long}
  - {name: x, type: double}
  - {name: at, type: timestamp}
  - {name: day, type: date}
  - {name: flag, type: boolean}
  - {name: amount, type: "decimal(12,2)"}
  - {name: note, type: string}
target: {table: raw.events}
"""
JSON_SPEC = (
    CSV_SPEC.replace("name: events", "name: jevents")
    .replace(
        "landing/events.csv, format: csv, options: {header: true, nullValue: NA}",
        "landing/jevents.json, format: json",
    )
    .replace("raw.events", "raw.jevents")
)
COLUMNS = ("id", "n", "big", "x", "at", "day", "flag", "amount", "note")
GOOD = {
    "n": "5",
    "big": "7",
    "x": "1.5",
    "at": "2013-01-01 10:00:00",
    "day": "2013-01-01",
    "flag": "true",
    "amount": "12.50",
    "note": "ok",
}

# (column, the text in the CSV, what becomes of the row: the column it is rejected under, or
# None when the row is kept)
CSV_CASES = [
    ("n", "abc", "n"),
    ("n", "1.5", "n"),
    ("n", "99999999999", "n"),  # overflows an int
    ("n", "", None),  # empty: null, as Spark reads an empty field
    ("n", "NA", None),  # the spec's nullValue
    ("n", " 7", "n"),  # Spark does not trim (ignoreLeadingWhiteSpace is off when reading)
    ("big", "9223372036854775808", "big"),  # overflows a long
    ("x", "abc", "x"),
    ("x", "1,5", "x"),
    ("x", "NaN", None),
    ("at", "2013/01/01 10:00", "at"),
    ("at", "yesterday", "at"),
    ("at", "2013-01-01T10:00:00Z", None),
    ("at", "2013-01-01", None),
    ("day", "2013-02-30", "day"),
    ("day", "01/01/2013", "day"),
    ("day", "2013-13-01", "day"),
    ("flag", "maybe", "flag"),
    ("flag", "TRUE", None),
    ("amount", "123456789012345.5", "amount"),  # more digits than decimal(12,2)
    ("amount", "12,50", None),  # en-US grouping: 1250.00, a value a `between` rule guards
    ("id", "", "id"),  # NOT NULL: an empty id is a null in a NOT NULL column
    ("note", "", None),
]


def _csv_line(row_id: str, column: str, text: str) -> str:
    values = {"id": row_id, **GOOD, column: text}
    return ",".join(f'"{values[c]}"' if "," in values[c] else values[c] for c in COLUMNS)


LIMITED = CSV_SPEC.replace("name: events", "name: limited").replace("raw.events", "raw.limited") + (
    "quality:\n"
    "  - {rule: max_rejected, max_percent: 10}\n"
    "  - {rule: max_rejected, column: n, max: 1}\n"
    "  - {rule: max_rejected, column: at, max: 0, severity: warning}\n"
)


TEXT_ONLY = """\
name: notes
source: {path: landing/notes.csv, format: csv}
schema:
  - {name: a, type: string}
  - {name: b, type: string}
target: {table: raw.notes}
"""


@pytest.fixture(scope="module")
def solution(tmp_path_factory):
    project = make_solution(
        tmp_path_factory.mktemp("rejects") / "lakehouse",
        {"events": CSV_SPEC, "jevents": JSON_SPEC, "limited": LIMITED, "notes": TEXT_ONLY},
    )
    sys.path.insert(0, str(project.root))
    yield project
    sys.path.remove(str(project.root))
    for name in [m for m in sys.modules if m == "src" or m.startswith("src.")]:
        del sys.modules[name]
    project.close()


def _job(name: str):
    return importlib.import_module(f"src.ingestion.{name}")


def _catalog(tmp_path):
    from pyiceberg.catalog.sql import SqlCatalog

    return SqlCatalog(
        "lake", uri=f"sqlite:///{tmp_path / 'catalog.db'}", warehouse=(tmp_path / "wh").as_uri()
    )


def _ids(df) -> list[str]:
    return sorted(row["id"] for row in df.select("id").collect())


def test_each_malformed_spelling_is_rejected_under_its_column_and_the_rest_kept(
    solution, spark, tmp_path
):
    job = _job("events")
    lines = [",".join(COLUMNS), _csv_line("r0", "note", "all good")]
    lines += [_csv_line(f"r{n}", column, text) for n, (column, text, _) in enumerate(CSV_CASES, 1)]
    lines.append("r99,1,2")  # too few fields: the record itself is broken
    source = tmp_path / "events.csv"
    source.write_text("\n".join(lines) + "\n")
    batch, rejected, parsed = job.read_batch(spark, str(source), "cid-1")
    try:
        by_raw = {r["raw"]: r for r in rejected.collect()}
        kept = _ids(batch)
        # each case: its row kept (None) or rejected under a column, with its reason
        found, expected = {}, {}
        for n, (column, text, at_fault) in enumerate(CSV_CASES, 1):
            line = _csv_line(f"r{n}", column, text)
            expected[(column, text)] = at_fault
            if f"r{n}" in kept:
                found[(column, text)] = None
            elif line in by_raw:
                found[(column, text)] = by_raw[line]["columns"][0]
                assert by_raw[line]["reason"].startswith(f"{column}: '{text}' is not a valid ")
                assert by_raw[line]["source_file"] == source.as_uri()
            else:  # rejected after the transformations: the row as the job had it
                found[(column, text)] = next(
                    r["columns"][0] for r in by_raw.values() if r["raw"].startswith("{")
                )
        assert found == expected
        broken = by_raw["r99,1,2"]
        assert broken["columns"] == ["(record)"] and "does not parse" in broken["reason"]
        null_id = [r for r in by_raw.values() if r["columns"] == ["id"]]
        assert len(null_id) == 1 and null_id[0]["reason"] == "id: null in a NOT NULL column"
        assert json.loads(null_id[0]["raw"])["note"] == "ok"  # the row as the job had it
        # nothing that parsed is lost; nothing malformed became a null in the batch
        assert len(by_raw) + len(kept) == len(CSV_CASES) + 2
        assert batch.filter("n IS NULL").count() == 2  # the empty field and NA only
        assert batch.columns[: len(COLUMNS)] == list(COLUMNS)  # then the job's own columns
        assert {"_ingested_at", "_source_file", "_correlation_id"} <= set(batch.columns)
        assert {r["_source_file"] for r in batch.select("_source_file").collect()} == {
            source.as_uri()
        }
    finally:
        parsed.unpersist()


JSON_CASES = [
    ('{"id": "j1", "n": "abc"}', ["n"]),
    ('{"id": "j2", "n": 99999999999}', ["n"]),
    ('{"id": "j3", "n": 1.5}', ["n"]),
    ('{"id": "j4", "at": "2013/01/01 10:00", "x": "abc"}', ["x", "at"]),
    ('{"id": "j5", "day": "2013-02-30"}', ["day"]),
    ('{"id": "j6", "flag": "maybe"}', ["flag"]),
    ("not json at all", ["(record)"]),
    ('{"id": "j8", "n": null, "note": 7}', None),  # null is null; a number reads as text
    ('{"id": "j9", "n": 3, "at": "2013-01-01T10:00:00Z"}', None),
    ('{"n": 4}', ["id"]),  # no id: null in a NOT NULL column
]


def test_json_values_that_do_not_parse_are_rejected_under_their_own_columns(
    solution, spark, tmp_path
):
    job = _job("jevents")
    source = tmp_path / "events.json"
    source.write_text("\n".join(line for line, _ in JSON_CASES) + "\n")
    batch, rejected, parsed = job.read_batch(spark, str(source), "cid-2")
    try:
        found = {}
        for row in rejected.collect():
            found[row["raw"] if row["columns"] != ["id"] else '{"n": 4}'] = row["columns"]
        expected = {line: columns for line, columns in JSON_CASES if columns}
        assert found == expected
        assert _ids(batch) == ["j8", "j9"]
        assert batch.filter("id = 'j8'").first()["note"] == "7"
    finally:
        parsed.unpersist()


def test_rejected_rows_land_in_the_quarantine_table_and_a_rerun_of_the_date_replaces_them(
    solution, spark, tmp_path
):
    job = _job("events")
    source = tmp_path / "events.csv"
    source.write_text(
        "\n".join(
            [
                ",".join(COLUMNS),
                _csv_line("a", "n", "abc"),
                _csv_line("b", "at", "2013/01/01 10:00"),
                _csv_line("c", "note", "fine"),
            ]
        )
        + "\n"
    )
    catalog = _catalog(tmp_path)
    for attempt in (1, 2):  # the same run date twice: the second run replaces the first's rows
        _batch, rejected, parsed = job.read_batch(spark, str(source), f"cid-{attempt}")
        try:
            counts, rows = job.quarantine(rejected, catalog, f"cid-{attempt}", "2026-11-26")
        finally:
            parsed.unpersist()
        assert counts == {"n": 1, "at": 1} and rows == 2
    _, rows = job.quarantine(
        job.read_batch(spark, str(source), "cid-3")[1], catalog, "cid-3", "2026-11-27"
    )
    table = catalog.load_table("raw.events_rejected").scan().to_arrow().to_pylist()
    assert sorted((r["run_date"].isoformat(), r["correlation_id"]) for r in table) == [
        ("2026-11-26", "cid-2"),
        ("2026-11-26", "cid-2"),
        ("2026-11-27", "cid-3"),
        ("2026-11-27", "cid-3"),
    ]
    row = next(r for r in table if r["columns"] == ["at"])
    assert row["raw"] == _csv_line("b", "at", "2013/01/01 10:00")
    assert row["reason"] == "at: '2013/01/01 10:00' is not a valid timestamp"
    assert row["source_file"] == source.as_uri() and row["ingested_at"] is not None


def test_a_clean_source_rejects_nothing_and_creates_no_quarantine_table(solution, spark, tmp_path):
    job = _job("events")
    source = tmp_path / "events.csv"
    source.write_text(",".join(COLUMNS) + "\n" + _csv_line("a", "note", "fine") + "\n")
    batch, rejected, parsed = job.read_batch(spark, str(source), "cid")
    try:
        assert job.quarantine(rejected, _catalog(tmp_path), "cid", "2026-11-26") == ({}, 0)
        assert batch.count() == 1
    finally:
        parsed.unpersist()
    assert not _catalog(tmp_path).table_exists("raw.events_rejected")


def test_failfast_names_the_cause_in_the_error_the_log_and_the_recorded_result(
    solution, spark, tmp_path, caplog
):
    failfast = CSV_SPEC.replace("nullValue: NA}", "nullValue: NA, mode: FAILFAST}")
    project = make_solution(tmp_path / "strict", {"events": failfast})
    job_file = project.root / "src/ingestion/events.py"
    assert (
        'PARSE_MODE = str(SOURCE_OPTIONS.get("mode", "PERMISSIVE")).upper()' in job_file.read_text()
    )
    spec_module = _load(job_file, "strict_events")
    source = tmp_path / "events.csv"
    source.write_text(",".join(COLUMNS) + "\n" + _csv_line("a", "n", "abc") + "\n")
    with pytest.raises(spec_module.SourceError) as caught:
        spec_module.read_source_data(spark, str(source))
    message = str(caught.value)
    assert "MALFORMED_RECORD_IN_PARSING" in message and 'For input string: "abc"' in message
    assert "An error occurred while calling" not in message
    # the recorded result of the validation tier: the same cause, from the raw Py4J error
    raw = caught.value.__cause__
    assert "An error occurred while calling" in str(raw).splitlines()[0]
    recorded = describe(raw)
    assert "MALFORMED_RECORD_IN_PARSING" in recorded and '"abc"' in recorded, recorded
    assert "An error occurred" not in recorded
    # the job's log line
    with caplog.at_level("ERROR"), pytest.raises(spec_module.SourceError):
        spec_module.main(["--source", str(source), "--run-date", "2026-11-26"])
    logged = [json.loads(r.getMessage()) for r in caplog.records if r.levelname == "ERROR"]
    assert "MALFORMED_RECORD_IN_PARSING" in logged[-1]["message"], logged
    project.close()


def _load(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "An error occurred while calling o108.getResult.\n"
            ": org.apache.spark.SparkException: [FAILED_READ_FILE.NO_HINT] Encountered error while reading file x.csv.\n"
            "\tat org.apache.spark.sql.errors.QueryExecutionErrors$.cannotReadFilesError(QueryExecutionErrors.scala:920)\n"
            "Caused by: org.apache.spark.SparkException: [MALFORMED_RECORD_IN_PARSING.WITHOUT_SUGGESTION] Malformed records are detected in record parsing: [2,null].\n"
            "Parse Mode: FAILFAST.\n"
            'Caused by: java.lang.NumberFormatException: For input string: "abc"\n'
            "\tat java.base/java.lang.NumberFormatException.forInputString(NumberFormatException.java:67)\n",
            "Py4JJavaError: [MALFORMED_RECORD_IN_PARSING.WITHOUT_SUGGESTION] Malformed records are "
            'detected in record parsing: [2,null]. (cause: NumberFormatException: For input string: "abc")',
        ),
        (
            "An error occurred while calling o7.save.\n: java.io.IOException: disk full\n",
            "Py4JJavaError: IOException: disk full",
        ),
        ("plain words\nsecond line", "Py4JJavaError: plain words"),
        ("", "Py4JJavaError"),
    ],
)
def test_describe_names_the_innermost_spark_error_and_its_root_cause(text, expected):
    error = type("Py4JJavaError", (Exception,), {})
    assert describe(error(text)) == expected


@pytest.mark.parametrize(
    ("name", "rejected", "rejected_rows", "rows_read"),
    [
        ("events", {}, 0, 10),
        ("events", {"n": 1}, 1, 10),
        ("limited", {"n": 1}, 1, 10),
        ("limited", {"n": 2}, 2, 100),
        ("limited", {"n": 1, "at": 5, "x": 6}, 11, 100),
        ("limited", {"at": 3}, 3, 40),  # a warning's limit does not stop a publish
    ],
)
def test_the_job_and_the_full_tier_judge_max_rejected_alike(
    solution, name, rejected, rejected_rows, rows_read
):
    """The job's `rejected_failures` (what publish reads) and pipelines.rejects (the full
    tier's checks) fail the same limits."""
    from pipelines import load_specs
    from pipelines.rejects import check_rejected

    spec = next(s for s in load_specs(solution.root) if s.name == name)
    batch = {"rejected": rejected, "rejected_rows": rejected_rows, "rows_read": rows_read}
    failures = _job(name).rejected_failures(batch)
    checks = check_rejected(spec, rejected, rejected_rows, rows_read)
    assert [f.split(":")[0] for f in failures] == ["max_rejected"] * len(failures)
    assert [f.partition(": ")[2] for f in failures] == [
        c.detail({}) for c in checks if c.outcome == "failed"
    ]


def test_a_source_of_text_columns_still_rejects_a_broken_record(solution, spark, tmp_path):
    source = tmp_path / "notes.csv"
    source.write_text('x,y\n"unclosed,y\nz,w,extra\n')
    batch, rejected, parsed = _job("notes").read_batch(spark, str(source), "cid")
    try:
        rows = rejected.collect()
        assert [r["columns"] for r in rows] == [["(record)"]] * len(rows) and rows
        assert batch.count() + len(rows) == 3
    finally:
        parsed.unpersist()
