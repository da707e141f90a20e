"""Issue 9 §3 and §6: the command line's edges. Huge numbers, non-UTF-8 arguments, control
characters, dates in other spellings, ids with a trailing newline, a reader that goes away,
`--path` beside `-C`: each gives one clear line (or none, for the pipe) and changes nothing."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from cli.main import main
from deliverables import Project
from tests.conftest import ROOT, fixed_clock

HUGE = "99999999999999999999999"


@pytest.fixture
def made(tmp_path: Path) -> Path:
    project, _ = Project.init(tmp_path / "solution", clock=fixed_clock, actor="Ana <a@x.org>")
    project.close()
    return tmp_path / "solution"


def phasegate(*args: str) -> int:
    """`phasegate ARGS` in this process: its exit code (argparse's own errors exit 2)."""
    try:
        return main(list(args))
    except SystemExit as exc:
        return int(exc.code or 0)


def _digest(root: Path) -> str:
    conn = sqlite3.connect(root / ".phasegate" / "tracker.db")
    try:
        return hashlib.sha256("\n".join(conn.iterdump()).encode()).hexdigest()
    finally:
        conn.close()


def _one_line(capsys, code: int, expected_code: int) -> str:
    out = capsys.readouterr()
    assert code == expected_code, out.err
    lines = out.err.strip().splitlines()
    assert len(lines) == 1 or (expected_code == 2 and lines[-1].startswith("phasegate")), out.err
    assert "internal error" not in out.err and "Traceback" not in out.err
    return lines[-1]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("runs", "show", HUGE), "is too large"),
        (("gate", "review", "1", "--corrects", HUGE), "is too large"),
        (("waiver", "approve", HUGE), "is too large"),
        (("adr", "status", HUGE, "accepted"), "is too large"),
        (("runs", "--limit", HUGE), "is too large"),
        (("validate", "--rows", HUGE), "is too large"),
        (("runs", "show", "\u0663"), "is not a whole number"),  # Arabic-Indic 3: int() reads it
        (("runs", "show", "1_000"), "is not a whole number"),
        (("runs", "show", "²"), "is not a whole number"),
        (("runs", "show", "0"), "must be at least 1"),
        (("runs", "show", "-1"), "is not a whole number"),
        # seconds: a finite number within reason (nan is not > 0 and not <= 0 either)
        (("validate", "--timeout", "nan"), "must be a number of seconds"),
        (("validate", "--timeout", "inf"), "must be a number of seconds"),
        (("validate", "--timeout=-inf"), "must be a number of seconds"),
        (("validate", "--timeout", "1e-9"), "must be a number of seconds"),
        (("validate", "--timeout", "0"), "must be a number of seconds"),
        (("validate", "--timeout", "1e300"), "must be a number of seconds"),
        (("validate", "--timeout", "soon"), "is not a number of seconds"),
    ],
)
def test_numbers_out_of_range_are_usage_errors(made, capsys, args, message):
    before = _digest(made)
    line = _one_line(capsys, phasegate("-C", str(made), *args), 2)
    assert message in line
    assert _digest(made) == before


@pytest.mark.parametrize(
    "text",
    [
        "20300101",
        "2030-W01-1",
        "2030-1-1",
        "2030-01-01T00:00",
        "2030-01-01\n",
        "\u0662\u0660\u0663\u0660-\u0660\u0661-\u0660\u0661",  # Arabic-Indic digits
        "2030-02-30",
        "tomorrow",
    ],
)
@pytest.mark.parametrize(
    "command",
    [
        ("item", "set", "1.1.1", "--due"),
        ("waiver", "request", "G1.1", "--reason", "late", "--expires"),
    ],
)
def test_due_and_expires_share_one_strict_date_parser(made, capsys, command, text):
    before = _digest(made)
    line = _one_line(capsys, phasegate("-C", str(made), *command, text), 1)
    assert "YYYY-MM-DD" in line or "not a real date" in line
    assert "\n" not in line
    assert _digest(made) == before


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("item", "set", "1.1.1", "--note", "\x1b]52;c;aGVsbG8=\x07"), "note"),
        (("item", "set", "1.1.1", "--owner", "Ana\x1b[2J"), "owner"),
        (("item", "set", "1.1.1", "--owner", "Ana\nBen"), "owner"),
        (("item", "set", "1.1.1", "--status", "blocked", "--reason", "x\ry"), "reason"),
        (("deliverable", "set", "D1.1", "--owner", "\u202eevil"), "owner"),
        (("deliverable", "set", "D1.1", "--path", "docs/a\x00b.md"), "path"),
        (("adr", "new", "Title\x07"), "the ADR title"),
        (("waiver", "request", "G1.1", "--reason", "\x9b31m", "--expires", "2030-01-01"), "reason"),
        (("today", "--blockers", "none\x1b[8m"), "blockers"),
        (("gate", "request", "1", "--reviewer", "Ben\n<b@x.org>"), "a reviewer"),
        (("gate", "request", "1", "--reviewer", "Ben\x1b[2J"), "a reviewer"),
    ],
)
def test_control_characters_are_refused_at_input(made, capsys, args, field):
    before = _digest(made)
    line = _one_line(capsys, phasegate("-C", str(made), *args), 1)
    assert field in line and ("control character" in line or "NUL" in line), line
    assert _digest(made) == before


def test_text_stored_before_the_checks_reaches_the_terminal_escaped(made, capsys):
    conn = sqlite3.connect(made / ".phasegate" / "tracker.db")
    with conn:  # an old tracker: the row was written before input was checked
        conn.execute(
            "INSERT INTO activity (at, actor, action, subject, field, before, after) "
            "VALUES ('2026-11-27T09:00:00Z', ?, 'item.note', '1.1.1', 'note', NULL, ?)",
            ("Eve\x1b]52;c;aGk=\x07", "\x1b[2J\rboom"),
        )
    conn.close()
    shown = ""
    for args in (["export"], ["status"], ["today"], ["export", "--phase", "1"]):
        assert phasegate("-C", str(made), *args) == 0
        out = capsys.readouterr()
        assert "\x1b" not in out.out + out.err and "\x07" not in out.out + out.err, args
        assert "\r" not in out.out + out.err, args
        shown += out.out
    assert "boom" in shown and "Eve" in shown  # the text is there, as visible escapes


def test_path_is_the_document_relative_to_the_project_of_minus_c(tmp_path, capsys):
    for name in ("A", "B"):
        Project.init(tmp_path / name, clock=fixed_clock)[0].close()
    cwd = Path.cwd()
    os.chdir(tmp_path / "A")
    try:
        assert phasegate("-C", "../B", "deliverable", "set", "D1.1", "--path", "README.md") == 0
        assert (
            phasegate("-C", "../B", "deliverable", "set", "D1.2", "--path", "docs/later/d.md") == 0
        )
    finally:
        os.chdir(cwd)
    capsys.readouterr()
    b = Project.open(tmp_path / "B")
    a = Project.open(tmp_path / "A")
    try:
        assert b.deliverable_state("D1.1").path == "README.md"
        assert b.deliverable_state("D1.2").path == "docs/later/d.md"  # a folder to come is fine
        assert a.deliverable_state("D1.1").path is None
    finally:
        a.close()
        b.close()


@pytest.mark.parametrize(
    ("args", "position"),
    [
        (["adr", "new", b"title\xff"], 5),
        (["item", "set", "1.1.1", "--note", b"caf\xe9"], 7),
        (["deliverable", "create", b"D1.\xff"], 5),
        (["status", b"--\xff"], 4),
    ],
)
def test_arguments_that_are_not_utf8_get_a_clear_line(made, args, position):
    before = _digest(made)
    run = subprocess.run(
        [sys.executable, "-m", "cli", "-C", str(made), *args],
        capture_output=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=60,
    )
    err = run.stderr.decode()
    assert run.returncode == 2, err
    assert err.startswith(f"phasegate: argument {position} is not UTF-8 text (the byte 0x")
    assert err.count("\n") == 1
    assert _digest(made) == before


def test_a_reader_that_goes_away_ends_the_command_quietly(made):
    read, write = os.pipe()
    os.close(read)  # `phasegate status | true`: nobody reads
    try:
        run = subprocess.run(
            [sys.executable, "-m", "cli", "-C", str(made), "export"],
            stdout=write,
            stderr=subprocess.PIPE,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            timeout=60,
        )
    finally:
        os.close(write)
    assert run.stderr == b""
    assert run.returncode == 141  # as a Unix tool ended by SIGPIPE: the shell shows it as 141
