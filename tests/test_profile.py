"""Profiling (process 1.3) on the session's real Spark: the statistics of a small source, the
sensitive columns withheld, the suggested rules and the drafted spec, the D1.3 report and the
tracker's record, and bad input as one clear line. The drafted spec on the real full tier (GX,
Iceberg) is tests/test_profile_full.py."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cli.main import main
from pipelines.errors import ProfileError
from pipelines.profiling.compute import profile as compute_profile
from pipelines.profiling.outputs import render_report, write_outputs
from pipelines.profiling.run import assemble
from pipelines.profiling.source import parse_options, resolve
from pipelines.profiling.suggest import draft_spec, suggest
from pipelines.spec import load_spec

NOW = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)
HEADER = "order_id,store_id,ordered_at,amount,quantity,status,email,day,code,line,note\n"


def orders_csv(rows: int = 60, now: datetime = NOW) -> str:
    """A small, regular source: an int key, categories, an ISO timestamp, a decimal, an email,
    a dd/MM/yyyy date, digits with leading zeros, a composite key (day, line) and NULL markers."""
    out = [HEADER]
    for i in range(rows):
        at = (now - timedelta(hours=i)).strftime("%Y-%m-%d %H:%M:%S")
        day = (now - timedelta(days=i % 6)).strftime("%d/%m/%Y")
        note = "NULL" if i % 5 == 0 else f"note {i % 3}"
        out.append(
            f"{1000 + i},S{i % 4:02d},{at},{(i * 7) % 50 + 0.25:.2f},{i % 9 + 1},"
            f"{('paid', 'refunded', 'void')[i % 3]},user{i}@example.com,{day},{i % 7:04d},"
            f"{i // 6},{note}\n"
        )
    return "".join(out)


def profile_of(spark, root: Path, location: str, options=None, sample=None, name="orders"):
    source = resolve(root, location, None, parse_options(options or []))
    result = compute_profile(spark, source, sample_rows=sample, now=NOW)
    return assemble(root, name, source, result, NOW)


@pytest.fixture(scope="module")
def orders(spark, tmp_path_factory):
    root = tmp_path_factory.mktemp("profiled")
    (root / "landing").mkdir()
    (root / "landing/orders.csv").write_text(orders_csv())
    return root, profile_of(spark, root, "landing/orders.csv")


def column(profile: dict, name: str) -> dict:
    return next(c for c in profile["columns"] if c["name"] == name)


def test_types_statistics_patterns_and_keys_of_a_csv(orders):
    _, p = orders
    assert p["rows"] == p["rows_profiled"] == 60 and p["basis"] == "all rows"
    assert p["source"]["files"] == 1 and p["source"]["bytes"] > 0
    assert p["null_marker"] == "NULL" and column(p, "note")["nulls"] == 12
    types = {c["name"]: c["type"] for c in p["columns"]}
    assert types == {
        "order_id": "int",
        "store_id": "string",
        "ordered_at": "timestamp",
        "amount": "decimal(4,2)",
        "quantity": "int",
        "status": "string",
        "email": "string",
        "day": "date",
        "code": "string",  # digits with leading zeros: a number would drop them
        "line": "int",
        "note": "string",
    }
    assert column(p, "day")["date_format"] == "dd/MM/yyyy"
    qty = column(p, "quantity")
    assert (qty["min"], qty["max"], qty["distinct"], qty["distinct_exact"]) == (1, 9, 9, True)
    assert qty["mean"] == pytest.approx(sum(i % 9 + 1 for i in range(60)) / 60)
    assert set(qty["quantiles"]) == {"p5", "p25", "p50", "p75", "p95"}
    assert sum(qty["histogram"]["counts"]) == 60 and len(qty["histogram"]["counts"]) == 9
    assert column(p, "status")["top"] == [["paid", 20], ["refunded", 20], ["void", 20]]
    assert column(p, "code")["patterns"]["numeric with leading zeros"] == 60
    assert column(p, "store_id")["length"] == {"min": 3, "max": 3}
    assert p["keys"]["single"] == ["order_id", "email"]  # both hold 60 distinct values
    assert p["duplicate_rows"] == 0
    assert p["freshness"] == {
        "column": "ordered_at",
        "latest": "2026-11-27T09:30:00+00:00",
        "type": "timestamp",
    }


def test_sensitive_columns_are_flagged_and_none_of_their_values_is_kept(orders):
    _, p = orders
    email = column(p, "email")
    assert email["sensitive"] == "email" and email["withheld"] is True
    assert not {"min", "max", "top", "categories", "histogram"} & set(email)
    assert "example.com" not in json.dumps(p)
    # nor in the report or the spec
    spec = draft_spec(p, "docs/phase-1/data-profiling-report.md")
    assert "user1@" not in spec and "example.com" not in spec
    assert "SENSITIVE (email)" in spec


def test_failing_values_composite_keys_duplicates_and_a_sample(spark, tmp_path):
    text = "day,line,qty,card\n" + "".join(
        f"2026-11-{1 + i // 4:02d},{i % 4},{'x' if i == 5 else i % 3},4111 1111 1111 1111\n"
        for i in range(40)
    )
    (tmp_path / "lines.csv").write_text(text + "2026-11-01,0,0,4111 1111 1111 1111\n")
    p = profile_of(spark, tmp_path, "lines.csv", name="lines")
    qty = column(p, "qty")
    assert qty["type"] == "int" and qty["failing"] == 1 and qty["failing_examples"] == ["x"]
    assert p["duplicate_rows"] == 1 and p["keys"]["single"] == []
    assert column(p, "card")["sensitive"] == "card number"
    rules = {s.id: s for s in suggest(p)}
    assert rules["max_rejected"].rule == {"rule": "max_rejected", "max": 1}
    # without the duplicate: (day, line) is a key together
    (tmp_path / "lines.csv").write_text(text)
    p = profile_of(spark, tmp_path, "lines.csv", name="lines")
    assert p["keys"] == {"single": [], "composite": [["day", "line"]]}
    assert "unique_day_line" in {s.id for s in suggest(p)}
    # sampled: labelled, and the row count is an estimate
    sampled = profile_of(spark, tmp_path, "lines.csv", sample=10, name="lines")
    assert sampled["basis"] == "sampled" and sampled["rows"] is None
    assert sampled["rows_estimated"] > 0
    assert {c["basis"] for c in sampled["columns"]} == {"sampled"}


def test_suggested_rules_and_the_drafted_spec_loads(orders, tmp_path):
    _, p = orders
    rules = {s.id: s.rule for s in suggest(p)}
    assert rules["unique_order_id"] == {"rule": "unique", "column": "order_id"}
    assert rules["in_set_status"]["values"] == ["paid", "refunded", "void"]
    assert rules["between_quantity"] == {
        "rule": "between",
        "column": "quantity",
        "min": 0,
        "max": 10,
    }
    assert rules["regex_code"]["pattern"] == "^[0-9]+$"
    assert rules["row_count"]["min"] == {"sample": 1, "production": 30}
    assert rules["freshness_ordered_at"]["max_age_hours"]["production"] == 26
    assert "not_null_note" not in rules and "not_null_order_id" in rules
    assert not any(
        r.get("column") == "email" and r["rule"] in ("in_set", "between") for r in rules.values()
    )
    (tmp_path / "pipelines").mkdir()
    (tmp_path / "landing").mkdir()
    (tmp_path / "landing/orders.csv").write_text(orders_csv())
    path = tmp_path / "pipelines/orders.yaml"
    path.write_text(draft_spec(p, "docs/phase-1/data-profiling-report.md"))
    spec = load_spec(path, tmp_path)
    assert dict(spec.source.options) == {
        "header": True,
        "nullValue": "NULL",
        "dateFormat": "dd/MM/yyyy",
    }
    assert spec.source.sample == "landing/orders.csv"
    assert [r.id for r in spec.quality][-2:] == ["row_count", "freshness_ordered_at"]
    assert "# no nulls in 60 rows" in path.read_text()


def test_report_spec_store_and_tracker_record(orders, project):
    _, p = orders
    root = project.root
    (root / "landing").mkdir()
    (root / "landing/orders.csv").write_text(orders_csv())
    outcome = write_outputs(project, p)
    assert (outcome.report_state, outcome.spec_state) == ("new", "new")
    report = (root / outcome.report).read_text()
    assert outcome.report == "docs/phase-1/data-profiling-report.md"
    assert "xychart-beta" in report and "null rate per column" in report
    assert "| orders.email | email | withheld |" in report
    assert "example.com" not in report
    assert json.loads((root / outcome.stored).read_text())["name"] == "orders"
    assert project.deliverable_state("D1.3").status == "draft"
    assert outcome.ticked == ["1.3.1", "1.3.2"]
    state = project.item_state("1.3.1")
    assert state.status == "done" and state.note.startswith("by the profiler: orders")
    assert state.updated_by.startswith("phasegate profiler (run by")
    # again: the spec is never drafted over; --update merges (an edit of the user's stays)
    spec = root / "pipelines/orders.yaml"
    spec.write_text(spec.read_text().replace("table: raw.orders", "table: sales.orders"))
    again = write_outputs(project, p)
    assert again.spec_state == "exists" and "--update" in again.spec_problem
    # profiled again: compared with the stored profile (no drift in the same data)
    assert again.profile["drift"] == {"since": p["profiled_at"], "findings": []}
    assert "no drift since" in (root / outcome.report).read_text()
    changed = {**p, "profiled_at": "2026-11-28T09:30:00+00:00"}
    merged = write_outputs(project, changed, update=True)
    assert merged.spec_state == "merged"
    assert "table: sales.orders" in spec.read_text() and "2026-11-28" in spec.read_text()
    assert render_report(project, [p]).count("\n### orders\n") == 1


def test_profile_cli_end_to_end(project, capsys):
    """One real run through the CLI and the profiling subprocess (its own Spark), of a source
    profiled before (tests/fixtures/profile-orders.json): the drift against it is printed."""
    from tests.helpers.profiles import orders as stored_orders

    root = project.root
    write_outputs(project, stored_orders())
    (root / "landing").mkdir()
    (root / "landing/orders.csv").write_text(orders_csv(20, datetime.now(UTC)))
    code = main(["-C", str(root), "profile", "landing/orders.csv", "-q"])
    assert code == 0
    out = capsys.readouterr().out
    assert out.startswith("orders: 20 rows (all rows), 11 columns")
    assert (
        "drift since 2026-11-27T09:30:00+00:00: " in out
        and "drift since 2026-11-27T09:30:00+00:00: none" not in out
    )
    assert "spec     exists" in out  # drafted from the stored profile; not drafted over
    assert (root / "pipelines/orders.yaml").exists()
    assert (root / "docs/phase-1/data-profiling-report.md").exists()


HEADER_ONLY = "a,b,c\n"


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("empty.csv", b"", "empty.csv: the file is empty (0 bytes): nothing to profile"),
        (
            "binary.csv",
            b"a,b\n1,\x00\x01\x02\n",
            "binary.csv: line 2: a NUL byte: this looks like a binary file",
        ),
        (
            "mixed.csv",
            "name\nZürich\n".encode() + "Gen\xe8ve\n".encode("latin-1"),
            "mixed.csv: line 3: mixed encodings: utf-8 text (line 2 has utf-8 characters)",
        ),
        ("latin.csv", "name\nGen\xe8ve\n".encode("latin-1"), "latin.csv: line 2: not utf-8 text"),
        ("fake.parquet", b"not parquet at all", "fake.parquet: not a Parquet file"),
        ("missing.csv", None, "missing.csv: no such file"),
        ("unreadable.csv", "link", "cannot be resolved (a symbolic link loop?)"),
        ("../outside.csv", b"a\n1\n", "leaves the repository"),
        # S3 sources, good and bad, on a real S3-protocol server: tests/test_profile_s3.py
        ("gs://bucket/orders.csv", None, "only s3:// object-store sources are read (not gs://)"),
    ],
)
def test_bad_input_is_one_clear_line(project, capsys, name, content, expected):
    root = project.root
    target = [name]
    if content == "link":  # a link that leads nowhere readable (root reads any mode bits)
        (root / name).symlink_to(name)
    else:
        if content is not None:
            (root / name).write_bytes(content)
    code = main(["-C", str(root), "profile", *target])
    err = capsys.readouterr().err
    assert code == 1
    assert expected in err, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_a_header_only_file_is_one_clear_line(spark, tmp_path):
    (tmp_path / "header.csv").write_text(HEADER_ONLY)
    with pytest.raises(ProfileError, match=r"header.csv: a header with no data rows \(3 column"):
        profile_of(spark, tmp_path, "header.csv")


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        ("orders.csv", "csv"),
        ("landing/*.csv", "csv"),
        ("landing/2026-*/*.CSV", "csv"),
        ("landing/*.json", "json"),
        ("events.jsonl", "json"),
        ("data/part-*.parquet", "parquet"),
        ("data/*.pq", "parquet"),
        ("s3://bucket/prefix/*.tsv", "csv"),
        ("landing/", None),
        ("landing/*", None),
        ("README", None),
        ("archive.tar.gz", None),
    ],
)
def test_the_format_is_told_from_the_name_also_of_a_glob(location, expected):
    from pipelines.profiling.source import guess_format

    assert guess_format(location) == expected


@pytest.mark.parametrize(
    ("location", "given", "expected"),
    [
        ("landing/Orders-2026.csv", None, "orders_2026"),
        ("landing/orders.csv", None, "orders"),
        ("landing/*.csv", None, "source"),
        ("2026.csv", None, "source_2026"),
        ("s3://bucket/Daily Sales.json", None, "daily_sales"),
        ("landing/orders.csv", "pos_orders", "pos_orders"),
    ],
)
def test_the_pipeline_name_comes_from_the_file_name_or_name(location, given, expected):
    from pipelines.profiling.run import pipeline_name

    assert pipeline_name(location, given) == expected


@pytest.mark.parametrize("given", ["Orders", "1orders", "orders-2026", "", "a" * 64, "x;rm"])
def test_an_unsafe_name_is_refused(given):
    from pipelines.profiling.run import pipeline_name

    with pytest.raises(ProfileError, match="is not a safe pipeline name"):
        pipeline_name("landing/orders.csv", given)


def test_a_sample_below_one_row_is_refused(tmp_path):
    from pipelines.profiling.run import profile_source

    (tmp_path / "orders.csv").write_text("a,b\n1,2\n")
    for rows in (0, -5):
        with pytest.raises(ProfileError, match="--sample must be at least 1 row"):
            profile_source(tmp_path, "orders.csv", sample_rows=rows)


def test_the_time_limit_ends_the_profiling_subprocess(tmp_path):
    """The limit holds while the child works (it ends the child's process group), not only after
    the child has ended on its own."""
    from pipelines.profiling.run import profile_source

    (tmp_path / "orders.csv").write_text("a,b\n1,2\n")
    # before the fix the limit was checked only after the child had profiled the file and ended
    with pytest.raises(ProfileError, match=r"profiling took longer than 0\.5 s: stopped"):
        profile_source(tmp_path, "orders.csv", timeout=0.5)


def test_a_stored_profiles_options_are_checked_before_it_is_profiled_again(project):
    """A stored profile may be a teammate's (synced): its reader options are checked as
    `--option` pairs are, and a profile that names no source is refused, before Spark starts."""
    from pipelines.profiling.run import profile_again
    from tests.helpers.profiles import orders

    stored = orders()
    stored["source"]["options"] = {"path": "/etc"}
    with pytest.raises(ProfileError, match="option path: names files to read"):
        profile_again(project, stored)
    stored["source"]["options"] = {"delimiter": [";"]}
    with pytest.raises(ProfileError, match=r"option delimiter: \[';'\] is not a plain value"):
        profile_again(project, stored)
    del stored["source"]["location"]
    with pytest.raises(ProfileError, match="the stored profile of orders does not say what"):
        profile_again(project, stored)


def test_options_are_checked_as_a_spec_checks_them(tmp_path):
    with pytest.raises(ProfileError, match="--option path: names files to read"):
        parse_options(["path=/etc"])
    with pytest.raises(ProfileError, match="--option mode: 'DROPMALFORMED' is not one of"):
        parse_options(["mode=DROPMALFORMED"])
    assert parse_options(["header=false", "delimiter=;", "samplingRatio=0.5"]) == {
        "header": False,
        "delimiter": ";",
        "samplingRatio": 0.5,
    }


def _numeric(name, counts, edges, nulls=0, categories=None, kind="int"):
    return {
        "name": name,
        "type": kind,
        "nulls": nulls,
        "histogram": {"edges": edges, "counts": counts},
        "categories": categories,
    }


def test_drift_schema_nulls_distribution_and_new_categories():
    from pipelines.profiling.drift import drift, psi

    edges = [0, 10, 20, 30, 40, 50]
    before = {
        "rows_profiled": 100,
        "columns": [
            _numeric("amount", [20, 20, 20, 20, 20], edges),
            _numeric("status", [], [], categories=["paid", "void"], kind="string"),
            _numeric("gone", [], [], kind="string"),
            _numeric("qty", [], [], kind="int"),
            _numeric("note", [], [], nulls=1, kind="string"),
        ],
    }
    after = {
        "rows_profiled": 100,
        "columns": [
            _numeric("amount", [0, 0, 10, 40, 50], [0, 10, 20, 30, 40, 50]),
            _numeric("status", [], [], categories=["lost", "paid", "void"], kind="string"),
            _numeric("qty", [], [], kind="string"),
            _numeric("note", [], [], nulls=30, kind="string"),
            _numeric("added", [], [], kind="date"),
        ],
    }
    found = [(f["kind"], f["column"]) for f in drift(before, after)]
    assert found == [
        ("removed", "gone"),
        ("retyped", "qty"),
        ("added", "added"),
        ("nulls", "note"),
        ("distribution", "amount"),
        ("categories", "status"),
    ]
    same = {"edges": edges, "counts": [20] * 5}
    assert psi(same, same) == pytest.approx(0.0)
    # the same values binned differently: a small index, no alert
    shifted = {"edges": [5, 15, 25, 35, 45, 55], "counts": [20] * 5}
    assert psi(same, shifted) < 0.2
    assert drift(before, before) == []
    # whole-day edges may repeat (ten bins over six days): such bins join a neighbour
    days = {"edges": ["2026-11-01", "2026-11-01", "2026-11-02", "2026-11-03"], "counts": [5, 5, 10]}
    assert psi(days, days) == pytest.approx(0.0)


@pytest.mark.parametrize("chunk", [3, 7, 16, 1 << 20])
@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            "a\nb\nZürich\n".encode() + "Gen\xe8ve\n".encode("latin-1"),
            "x.csv: line 4: mixed encodings: utf-8 text (line 3 has utf-8 characters)",
        ),
        (b"a\n" * 5 + "Gen\xe8ve\n".encode("latin-1"), "x.csv: line 6: not utf-8 text"),
        (
            b"a\n" * 3 + "é\n".encode() + b"x\n" * 3 + b"\xff\n",
            "x.csv: line 8: mixed encodings: utf-8 text (line 4 has utf-8 characters)",
        ),
        (b"id\n" + b"1\n" * 9 + b"\x00\n", "x.csv: line 11: a NUL byte"),
    ],
)
def test_encoding_problems_name_their_lines_whatever_the_chunk_size(
    tmp_path, monkeypatch, chunk, content, expected
):
    """The text check reads the file in chunks (1 MiB): where a chunk ends never moves the line
    a problem is reported on, nor the line the first non-ASCII character was seen on."""
    from pipelines.profiling import source

    monkeypatch.setattr(source, "CHUNK", chunk)
    path = tmp_path / "x.csv"
    path.write_bytes(content)
    with pytest.raises(ProfileError) as raised:
        source.check_file(path, "x.csv", "csv", {})
    assert str(raised.value).startswith(expected), str(raised.value)


# Values at the edges of the scan's guards (first character, length, '@'): each must be counted
# by the guarded scan exactly as by the bare regular expressions.
EDGE_VALUES = [
    *("0", "7", "-3", "+12", "007", "0.50", "-.5", ".5", "1e5", "1.2E-3", "12345678901234567890"),
    *("2147483647", "2147483648", "-2147483649", "٣٤", "12a", " 12", "12 ", "1,000", "+", "-", "."),
    *("true", "FALSE", "True\n", "truex", "yes", "t"),
    *("2026-01-02", "2026-01-02\n", "2026-1-2", "02/01/2026", "13/13/2026", "2026/01/02"),
    *("02.01.2026", "20260102", "2026010", "2026-01-02T03:04", "2026-01-02 03:04:05.123+02:00"),
    *(
        "2026-01-02T03:04:05Z",
        "2026-01-02T03:04:05Z\r\n",
        "02/01/2026 03:04:05",
        "02/01/2026 03:04",
    ),
    *("2026/01/02 03:04:05", "a@b.co", "a@b", "@b.co", "x y@b.co", "ana@example.com\n"),
    *("123e4567-e89b-12d3-a456-426614174000", "123E4567-E89B-12D3-A456-426614174000\n"),
    *("123e4567-e89b-12d3-a456-42661417400", "g23e4567-e89b-12d3-a456-426614174000"),
    *("+44 20 7946 0958", "0044 20 7946 0958", "(020) 7946 0958", "020-7946-0958", "5551234"),
    *("4111 1111 1111 1111", "4111-1111-1111-1111", "4111111111111111", "4111111111111112"),
    *("Ana", "Ana Ruiz", "ana ruiz", "O'Neil", "Ana-Maria Ruiz", "ÁNA", "Z", "Zoë", "ana"),
    *("", "NULL", "N/A", "-", "paid", "x1", "S01"),
    *(
        "0123456",
        "012345",
        "-007.5",
        "0012345678901234567890",
        "00123456789012345678901",
        "-007",
        "+0.5",
    ),
    *("0.", "-0", "00", "1.", "1..2", "12.5.6", "0x1F"),
]


def test_the_scans_guards_count_every_value_as_the_bare_expressions_do(spark):
    from pyspark.sql import functions as F

    from pipelines.profiling.compute import _Profiler

    scanner = _Profiler(spark, None, None, lambda *a: None, NOW)
    values = spark.createDataFrame([(v,) for v in EDGE_VALUES], "v string")
    c, is_text = F.col("v"), F.lit(True)
    frames = {  # the scan's input: each value with the pattern matches several checks share
        mode: values.select("v", *scanner._shared_matches(c, is_text, F, guarded=mode))
        for mode in (True, False)
    }
    df = frames[True]
    guarded = df.agg(*scanner._text_scan(c, is_text, F)).first().asDict()
    bare = frames[False].agg(*scanner._text_scan(c, is_text, F, guarded=False)).first().asDict()
    assert guarded == bare
    # the greatest null marker present, as Spark orders strings, kept as its place in that order
    from pipelines.profiling.compute import MARKER_ORDER, NULL_MARKERS

    present = [m for m in NULL_MARKERS if m in EDGE_VALUES]
    assert len(present) >= 3 and MARKER_ORDER[bare["marker_at"] - 1] == max(present)
    # the values meet the checks they are about (else the comparison proves little)
    for check in ("bool", "int", "lead0", "decimal", "iso", "isozone", "email", "uuid", "phone"):
        assert bare[check] > 0, check
    assert bare["card"] > 0 and bare["name"] > 0 and bare["date0"] > 0 and bare["ts0"] > 0
    # value by value (grouped by the value): a guard that dropped one value and let another
    # through would hide in the sums above
    per_value = {
        mode: {
            r["v"]: r.asDict()
            for r in frames[mode]
            .groupBy("v")
            .agg(*scanner._text_scan(c, is_text, F, guarded=mode))
            .collect()
        }
        for mode in (True, False)
    }
    assert per_value[True] == per_value[False]
    # and what a few values are, whatever the guards: the checks that count each one
    counted = {v: {k for k in CHECKS if (row[k] or 0) > 0} for v, row in per_value[True].items()}
    for value, expected in SCANNED.items():
        assert counted[value] == expected, value


CHECKS = ("bool", "int", "long", "lead0", "digits", "decimal", "numeric", "iso", "isozone")
CHECKS += ("email", "uuid", "phone", "card", "name", "date0", "date5", "ts0")
SCANNED = {  # value -> the checks (of CHECKS) it counts for
    "007": {"int", "long", "lead0", "digits", "numeric"},
    "2147483648": {"long", "digits", "numeric"},
    "-.5": {"numeric"},
    "0.50": {"decimal", "numeric"},  # a leading zero is one before more digits
    "-007.5": {"lead0", "decimal", "numeric"},
    "1.2E-3": {"numeric"},
    "True\n": {"bool", "name"},  # a capitalised word, as a name is
    "20260102": {"int", "long", "digits", "numeric", "date5"},
    "2026-01-02": {"date0", "phone"},  # digits and dashes: _sensitive tells dates apart
    "2026-01-02T03:04:05Z": {"iso", "isozone"},
    "2026-01-02T03:04": {"iso"},
    "02/01/2026 03:04:05": {"ts0"},
    "a@b.co": {"email"},
    "123e4567-e89b-12d3-a456-426614174000": {"uuid"},
    "+44 20 7946 0958": {"phone"},
    "4111 1111 1111 1111": {"card", "phone"},
    "Ana Ruiz": {"name"},
    "paid": set(),
}


# column -> (a value for row k, the sensitive kind expected): the phone shape (digits with
# dashes, dots, spaces) is also a date's and a decimal's; only text, or a phone-ish name, is a phone
SHAPED = {
    "day": (lambda k: f"2026-01-{k % 28 + 1:02d}", None),
    "shipped": (lambda k: f"{k % 28 + 1:02d}.01.2026", None),
    "price": (lambda k: f"{k % 90 + 10}.{k:04d}", None),
    "code": (lambda k: f"{5550000000 + k}", None),
    "mobile": (lambda k: f"{5550000000 + k}", "phone number"),
    "contact": (lambda k: f"+44 20 7946 {k:04d}", "phone number"),
    "fax_line": (lambda k: f"020-7946-{k:04d}", "phone number"),
}


def test_dates_decimals_and_numbers_are_not_phone_numbers_unless_named_so(spark, tmp_path):
    header = ",".join(SHAPED)
    lines = [",".join(make(k) for make, _ in SHAPED.values()) for k in range(60)]
    (tmp_path / "shaped.csv").write_text(header + "\n" + "\n".join(lines) + "\n")
    profile = profile_of(spark, tmp_path, "shaped.csv", name="shaped")
    found = {c["name"]: c["sensitive"] for c in profile["columns"]}
    assert found == {name: kind for name, (_, kind) in SHAPED.items()}
    types = {c["name"]: c["type"] for c in profile["columns"]}
    assert types["day"] == "date" and types["shipped"] == "date"
