"""Block sampling for `phasegate profile --sample` (pipelines.profiling.blocks): what `resolve`
stages from a large CSV or JSON-lines source (whole lines of the source only, one header, the
line ends as they were), when it reads the source whole instead, bad bytes in a sampled block,
and, on the session's real Spark, a block-sampled profile labelled sampled with its rows
estimated and the drafted row_count rule drawn from that estimate."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from pipelines.errors import ProfileError
from pipelines.profiling.compute import profile as compute_profile
from pipelines.profiling.outputs import render_report
from pipelines.profiling.run import assemble
from pipelines.profiling.source import resolve
from pipelines.profiling.suggest import suggest
from tests.test_profile import NOW


def csv_lines(rows: int, end: str = "\n", seed: int = 3) -> list[str]:
    """Rows of uneven length, with multi-byte UTF-8 characters (a cut inside one would fail
    to decode)."""
    rng = random.Random(seed)
    return [
        f"{i},{'é' * rng.randint(0, 40)}{'€' * rng.randint(0, 5)},{rng.randint(0, 999)}{end}"
        for i in range(rows)
    ]


def json_lines(rows: int, end: str = "\n") -> list[str]:
    rng = random.Random(5)
    return [
        json.dumps({"id": i, "name": "ü" * rng.randint(0, 30), "n": rng.random()}) + end
        for i in range(rows)
    ]


def staged_lines(source) -> list[bytes]:
    out = []
    for path in source.local:
        out += Path(path).read_bytes().splitlines(keepends=True)
    return out


CASES = [  # name, file name, header, lines, options
    ("csv with a header", "a.csv", "id,name,n\n", csv_lines(60_000), {}),
    ("csv, \\r\\n", "a.csv", "id,name,n\r\n", csv_lines(60_000, "\r\n"), {}),
    ("csv without a header", "a.csv", "", csv_lines(60_000), {"header": False}),
    ("json lines", "a.jsonl", "", json_lines(60_000), {}),
    ("json lines, \\r\\n", "a.jsonl", "", json_lines(60_000, "\r\n"), {}),
]


@pytest.mark.parametrize(
    ("name", "file", "header", "lines", "options"), CASES, ids=[c[0] for c in CASES]
)
def test_blocks_hold_whole_lines_of_the_source(tmp_path, name, file, header, lines, options):
    (tmp_path / file).write_bytes((header + "".join(lines)).encode())
    source = resolve(tmp_path, file, None, options, sample_rows=1_000)
    try:
        assert source.block_sampled and source.staging and len(source.local) == 1
        staged = staged_lines(source)
        body = staged
        if header:  # exactly one header, first
            assert staged[0] == header.encode()
            body = staged[1:]
            assert header.encode() not in body
        original = {line.encode() for line in lines}
        assert body and all(line in original for line in body)
        assert len(set(body)) == len(body)  # blocks never overlap
        terminator = lines[0][-2:].encode() if lines[0].endswith("\r\n") else b"\n"
        assert all(line.endswith(terminator) for line in body)
        assert 900 <= source.rows_staged == len(body) < 1_500  # about the 1,000 asked for
        assert abs(source.rows_estimated - len(lines)) <= len(lines) * 0.1
        assert source.bytes == (tmp_path / file).stat().st_size
    finally:
        source.discard()
    assert not Path(source.staging).exists()


WHOLE = [  # name, file name, text, options
    ("smaller than the sample", "a.csv", "id,name,n\n" + "".join(csv_lines(500)), {}),
    ("under twice the sample", "a.csv", "id,name,n\n" + "".join(csv_lines(1_500)), {}),
    ("multiLine csv", "a.csv", "id,name,n\n" + "".join(csv_lines(60_000)), {"multiLine": True}),
    ("multiline=true as text", "a.csv", "id,n\n" + "1,2\n" * 60_000, {"multiline": "true"}),
    ("a lineSep of its own", "a.csv", "id,n\n" + "1,2\n" * 60_000, {"lineSep": ";"}),
    ("multiLine json", "a.json", "".join(json_lines(60_000)), {"multiLine": True}),
    ("a json array", "a.json", "[\n" + ",\n".join(['{"a": 1}'] * 60_000) + "\n]\n", {}),
    ("utf-16", "a.csv", ("id,n\n" + "1,2\n" * 60_000), {"encoding": "UTF-16"}),
]


@pytest.mark.parametrize(("name", "file", "text", "options"), WHOLE, ids=[w[0] for w in WHOLE])
def test_read_whole_when_lines_are_not_records_or_the_source_is_small(
    tmp_path, name, file, text, options
):
    encoding = str(options.get("encoding", "utf-8"))
    (tmp_path / file).write_bytes(text.encode(encoding))
    source = resolve(tmp_path, file, None, options, sample_rows=1_000)
    assert not source.block_sampled
    assert source.local == () and source.staging is None and source.rows_estimated is None


def test_blocks_spread_over_the_files_by_size_and_partitions_stay(tmp_path):
    big, small = csv_lines(90_000), csv_lines(30_000, seed=4)
    for day, lines in (("2026-11-26", big), ("2026-11-27", small)):
        (tmp_path / f"dt={day}").mkdir()
        (tmp_path / f"dt={day}/part.csv").write_text("id,name,n\n" + "".join(lines))
    source = resolve(tmp_path, "dt=*/part.csv", None, {}, sample_rows=2_000)
    try:
        assert source.block_sampled and len(source.files) == 2
        assert [Path(p).parent.name for p in source.local] == ["dt=2026-11-26", "dt=2026-11-27"]
        per_file = [len(Path(p).read_bytes().splitlines()) - 1 for p in source.local]
        assert 2 <= per_file[0] / per_file[1] <= 4  # about 3:1, as the files' bytes
        assert abs(source.rows_estimated - 120_000) <= 12_000
    finally:
        source.discard()


def test_a_last_line_without_a_line_end_stays_a_line(tmp_path):
    lines = csv_lines(60_000)
    lines[-1] = lines[-1].rstrip("\n")
    (tmp_path / "a.csv").write_text("id,name,n\n" + "".join(lines))
    # the last block ends at the file's end
    source = resolve(tmp_path, "a.csv", None, {}, sample_rows=1_000)
    try:
        assert source.block_sampled
        staged = staged_lines(source)
        assert staged[-1] == (lines[-1] + "\n").encode()
        assert all(line.endswith(b"\n") for line in staged)
    finally:
        source.discard()


def test_a_bad_byte_in_a_sampled_block_is_one_line_naming_the_file(tmp_path, monkeypatch):
    import tempfile

    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))  # this test's staging folders
    lines = [line.encode() for line in csv_lines(60_000)]
    lines[3] = b"3,Gen\xe8ve,1\n"  # in the first block (after the header)
    (tmp_path / "landing").mkdir()
    (tmp_path / "landing/a.csv").write_bytes(b"id,name,n\n" + b"".join(lines))
    with pytest.raises(ProfileError) as raised:
        resolve(tmp_path, "landing/a.csv", None, {}, sample_rows=1_000)
    message = str(raised.value)
    assert message.startswith("landing/a.csv (the sampled block from byte 10): line 4: ")
    assert "bytes that are not utf-8 (b'\\xe8ve,')" in message
    assert "\n" not in message
    assert list(scratch.iterdir()) == []  # the staged blocks are removed


def test_a_block_sampled_profile_is_labelled_sampled_and_estimates_its_rows(
    spark, tmp_path, project
):
    rng = random.Random(9)
    rows = 40_000
    lines = [
        f"{i},S{i % 7},{rng.randint(1, 9999) / 100:.2f},2026-11-{1 + i % 26:02d} 10:00:00\n"
        for i in range(rows)
    ]
    (tmp_path / "orders.csv").write_text("order_id,store,amount,ordered_at\n" + "".join(lines))
    source = resolve(tmp_path, "orders.csv", None, {}, sample_rows=1_000)
    try:
        assert source.block_sampled
        result = compute_profile(spark, source, sample_rows=1_000, now=NOW)
    finally:
        source.discard()
    p = assemble(tmp_path, "orders", source, result, NOW)
    assert p["basis"] == "sampled" and p["sampling"] == "blocks" and p["rows"] is None
    assert {c["basis"] for c in p["columns"]} == {"sampled"}
    assert p["rows_profiled"] == source.rows_staged < 2_000  # not sampled again
    assert abs(p["rows_estimated"] - rows) <= rows * 0.1
    assert p["source"]["bytes"] == (tmp_path / "orders.csv").stat().st_size
    row_count = next(s for s in suggest(p) if s.rule["rule"] == "row_count")
    assert row_count.rule["min"]["production"] == p["rows_estimated"] // 2
    assert f"{p['rows_estimated']:,} rows estimated" in row_count.evidence
    report = render_report(project, [p])
    assert "blocks of whole lines" in report and "(estimated)" in report
