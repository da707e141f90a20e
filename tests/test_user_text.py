"""Issue 9 §3 and §6: one module for user text (phases/text.py). Control characters are refused
where text comes in (YAML specs and process files, every tracker write); on the way out, text is
terminal-safe, and markdown, Mermaid, Python and Spark SQL each get their own escaping, checked
by parsing the result back. Ids and names never accept a trailing newline; values in spec
messages are quoted so a message stays on one line."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest

from deliverables import Project, TrackerError
from phases import ProcessError, load_process
from phases.text import (
    control_problem,
    md_code,
    md_escape,
    mermaid_label,
    py_string,
    spark_sql_string,
    terminal_safe,
)
from pipelines import SpecError, load_spec
from pipelines.spec import cron_problem
from tests.conftest import fixed_clock
from tests.test_pipeline_spec import STORE_MASTER

SCHEDULED = STORE_MASTER + 'schedule: "@daily"\n'  # store_master on its own, on a schedule

CONTROLS = [
    "\x1b[31mred",  # ESC: colours, cursor moves, screen clearing
    "\x1b]52;c;aGVsbG8=\x07",  # OSC 52: writes the clipboard
    "bell\x07",
    "over\rwrite",
    "nul\x00",
    "back\x08space",
    "del\x7f",
    "c1 \x9b31m",  # the 8-bit CSI
    "\u202eevil",  # right-to-left override
    "line\u2028separator",
    "lone \ud800 surrogate",
    "not utf-8 \udcff",
]


@pytest.mark.parametrize("text", CONTROLS)
def test_control_characters_are_named_and_refused(text):
    problem = control_problem(text)
    assert problem is not None
    assert "U+" in problem or "not UTF-8" in problem
    assert control_problem(text, multiline=True) is not None


@pytest.mark.parametrize(
    "text", ["plain", "naïve café 中文", "emoji 😀 👨‍👩‍👧 🇫🇷", "tab\tand\nnewline", "a\u00a0b"]
)
def test_ordinary_text_passes(text):
    assert control_problem(text, multiline=True) is None


@pytest.mark.parametrize("text", CONTROLS)
def test_terminal_safe_text_has_only_printable_characters(text):
    shown = terminal_safe(text)
    assert shown.isprintable(), repr(shown)
    assert terminal_safe(text, multiline=True).replace("\n", "").isprintable()


@pytest.mark.parametrize(
    "text", ["naïve café", "a\u00a0b", "wide\u3000space", "emoji 👨‍👩‍👧", "中文", "tab\there"]
)
def test_terminal_safe_leaves_ordinary_text_as_it_is(text):
    assert terminal_safe(text, multiline=True) == text


@pytest.mark.parametrize(
    "text",
    [
        "<img src=x onerror=alert(1)>",
        "| a | b |",
        "# heading",
        "**bold** _it_ `code` ![img](x) [link](y)",
        "line\nbreak\rand\x1b[2J",
        "\\ backslash",
    ],
)
def test_markdown_text_stays_literal_and_on_one_line(text):
    escaped = md_escape(text)
    assert "\n" not in escaped and escaped.isprintable()
    for special in "<>|#*_`![]":
        assert all(escaped[i - 1] == "\\" for i, ch in enumerate(escaped) if ch == special)


@pytest.mark.parametrize("text", ["a`b", "``x``", "`", "plain", "a ``` b"])
def test_a_code_span_holds_its_backticks(text):
    span = md_code(text)
    fence = span[: len(span) - len(span.lstrip("`"))]
    inner = span[len(fence) : -len(fence)]
    assert fence not in inner
    assert inner.strip(" ") == text or inner == f" {text} "


@pytest.mark.parametrize("text", ['a"b', "x\ny", "<b>", "```", "#quot;"])
def test_a_mermaid_label_cannot_close_itself_or_the_fence(text):
    label = mermaid_label(text)
    assert not any(ch in label for ch in '"<>\n`')


HOSTILE = [
    "Customer's id",
    'say "hi"',
    'x """ + __import__("os").system("id") + """',
    "back\\slash\\n",
    "emoji 😀 and 👨‍👩‍👧",
    "nul \x00 esc \x1b bell \x07",
    "lone \ud83d surrogate",
    "\\'; DROP TABLE t; --",
    "tab\tnew\nline\rcr",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_python_literals_round_trip(text):
    literal = py_string(text)
    assert literal.startswith('"') and literal.endswith('"')
    assert ast.literal_eval(literal) == text
    if text.isprintable():
        assert all(ch in literal for ch in text if ch not in '\\"')  # unescaped, as written


@pytest.mark.parametrize("text", [t for t in HOSTILE if "\ud83d" not in t])
def test_spark_sql_literals_round_trip(text):
    import sqlglot

    literal = spark_sql_string(text)
    parsed = sqlglot.parse_one(f"SELECT {literal}", read="spark").expressions[0]
    assert parsed.this == text.replace("\x00", "\x00")
    assert "''" not in literal  # Spark's escape is \', not ANSI ''


# --- YAML: specs and process files ----------------------------------------------------------------


def _spec(root: Path, text: str) -> Path:
    path = root / "pipelines" / "store_master.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("old", "new", "line", "field"),
    [
        ("schema:", 'description: "\\e]52;c;aGk=\\a"\nschema:', 3, "description"),
        ("schema:", 'description: "\\u202eevil"\nschema:', 3, "description"),
        ("store_id, type", 'store_id, description: "\\x1b[2J", type', 4, "schema[0].description"),
        ("@daily", "@dai\\rly", 6, "schedule"),
    ],
)
def test_control_characters_in_a_spec_name_file_line_and_field(tmp_path, old, new, line, field):
    path = _spec(tmp_path, SCHEDULED.replace(old, new))
    with pytest.raises(SpecError) as caught:
        load_spec(path, tmp_path)
    assert (caught.value.line, caught.value.field) == (line, field), str(caught.value)
    assert "control character" in caught.value.problem
    assert "\n" not in str(caught.value) and str(caught.value).isprintable()


@pytest.mark.parametrize("raw", ["\x1b[31m", "\x07", "\x00", "\x9b", "\u202e"])
def test_raw_control_bytes_in_a_spec_file_are_refused_with_their_line(tmp_path, raw):
    path = _spec(tmp_path, SCHEDULED.replace("sales.stores", f"sales.stores{raw}"))
    with pytest.raises(SpecError) as caught:
        load_spec(path, tmp_path)
    assert caught.value.line == 5 and "control character" in caught.value.problem


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ("format: parquet}", 'format: parquet, options: {"sep\\n": ";"}}', "source.options"),
        ("format: parquet}", 'format: parquet, options: {"sep\\e": ";"}}', "source.options"),
        ("sales.stores", '"sales.stores\\nx"', "target.table"),
        ("store_id, type", '"store_id\\nx", type', "schema[0].name"),
        ("format: parquet", 'format: "parquet\\nx"', "source.format"),
        ("type: string", 'type: "decimal(10,2)\\nx"', "schema[0].type"),
        ('"@daily"', '"@daily\\nx"', "schedule"),
    ],
)
def test_names_never_accept_a_newline_and_messages_stay_on_one_line(tmp_path, old, new, field):
    path = _spec(tmp_path, SCHEDULED.replace(old, new))
    with pytest.raises(SpecError) as caught:
        load_spec(path, tmp_path)
    assert caught.value.field.startswith(field), str(caught.value)
    assert "\n" not in str(caught.value), str(caught.value)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("name: store_master", 'name: "store_master\\n"'),
        ("sales.stores", '"sales.stores\\n"'),
        ("store_id, type", '"store_id\\n", type'),
        ('"@daily"', '"@daily\\n"'),
    ],
)
def test_a_trailing_newline_around_a_value_is_trimmed_never_kept(tmp_path, old, new):
    spec = load_spec(_spec(tmp_path, SCHEDULED.replace(old, new)), tmp_path)
    values = (spec.name, spec.target.identifier, spec.schema[0].name, spec.schedule)
    assert values == ("store_master", "sales.stores", "store_id", "@daily")


@pytest.mark.parametrize(
    ("schedule", "problem"),
    [
        ("² * * * *", "minute"),
        ("* ³ * * *", "hour"),
        ("*/² * * * *", "step"),
        ("\u0661 * * * *", "minute"),  # Arabic-Indic 1
        ("99999999999999999999 * * * *", "minute"),
        ("* * * * 8", "weekday"),
    ],
)
def test_cron_fields_in_other_digits_are_problems_not_crashes(schedule, problem):
    assert problem in (cron_problem(schedule) or "")


@pytest.mark.parametrize(
    "overlay",
    [
        'items:\n  "1.1.9\\n": {sub_phase: "1.1", text: x}\n',
        'items:\n  "1.1.9\\e": {sub_phase: "1.1", text: x}\n',
        'items:\n  1.1.9: {sub_phase: "1.1", text: "x\\e]0;pwned\\a"}\n',
        'phases:\n  2: {title: "Architecture\\u202e"}\n',
        "phases:\n  2: {title: Architecture\x1b[2J}\n",
    ],
)
def test_control_characters_in_a_process_overlay_are_refused(tmp_path, overlay):
    path = tmp_path / ".phasegate" / "process.yaml"
    path.parent.mkdir(parents=True)
    path.write_text("version: 1\n" + textwrap.dedent(overlay), encoding="utf-8")
    with pytest.raises(ProcessError) as caught:
        load_process(tmp_path)
    assert "control character" in str(caught.value)
    assert "\n" not in str(caught.value)


# --- the tracker: every write -----------------------------------------------------------------


@pytest.mark.parametrize("text", CONTROLS)
@pytest.mark.parametrize("field", ["note", "owner", "reason"])
def test_no_tracker_write_stores_a_control_character(tmp_path, field, text):
    project, _ = Project.init(tmp_path / "solution", clock=fixed_clock)
    try:
        fields = {field: text, **({"status": "blocked"} if field == "reason" else {})}
        with pytest.raises(TrackerError, match=f"{field} (holds the control|is not UTF-8)"):
            project.set_item("1.1.1", **fields)
        assert project.item_state("1.1.1").status == "todo"
    finally:
        project.close()


def test_an_adr_file_written_elsewhere_is_listed_as_printable_text(tmp_path):
    from deliverables.documents import adrs

    project, _ = Project.init(tmp_path / "solution", clock=fixed_clock)
    try:
        folder = project.root / "docs" / "adr"
        folder.mkdir(parents=True)
        (folder / "0001-x.md").write_text(
            "# 1. Use \x1b]52;c;aGk=\x07Iceberg\n\n- Status: accepted\x1b[2J\n", encoding="utf-8"
        )
        (adr,) = adrs(project)
        assert adr.title.isprintable() and "Iceberg" in adr.title
        assert adr.status.isprintable() and adr.status.startswith("accepted")
    finally:
        project.close()
