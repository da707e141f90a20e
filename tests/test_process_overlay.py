"""A team's `.phasegate/process.yaml`: what it may change, and the errors it gets."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from phases import ProcessError, load_process


def _overlay(root: Path, text: str) -> Path:
    path = root / ".phasegate" / "process.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def test_an_overlay_adds_retires_rewords_and_marks_optional(tmp_path):
    _overlay(
        tmp_path,
        """\
        version: 1
        phases:
          2: {title: Architecture}
        sub_phases:
          1.1: {title: Business Requirements}
        items:
          1.1.5: {sub_phase: "1.1", text: Agree data contracts with every source owner}
          1.2.4: {retired: true}
          1.3.4: {optional: true}
          1.1.1: {text: Capture objectives and measurable success criteria}
        deliverables:
          D1.6: {phase: 1, title: Data Contracts}
          D4.7: {retired: true}
          D2.5: {optional: true}
        assists:
          A1.9: {sub_phase: "1.3", text: Draft a data contract from the profile}
          A7.2: {retired: true}
        """,
    )
    model = load_process(tmp_path)
    assert model.phase("2").title == "Architecture"
    assert model.sub_phase("1.1").title == "Business Requirements"
    assert [i.id for i in model.sub_phase("1.1").items][-1] == "1.1.5"
    assert model.item("1.2.4") is None
    assert model.item("1.3.4").optional
    assert model.item("1.1.1").text == "Capture objectives and measurable success criteria"
    added = model.deliverable("D1.6")
    assert (added.phase_id, added.path) == ("1", "docs/phase-1/data-contracts.md")
    assert model.deliverable("D4.7") is None
    assert model.deliverable("D2.5").optional
    assert model.assist("A1.9").tool == "Claude"
    assert model.assist("A7.2") is None
    assert len(model.items) == 80 and len(model.deliverables) == 39
    assert len(model.sources) == 2


def test_an_empty_overlay_changes_nothing(tmp_path):
    _overlay(tmp_path, "# nothing yet\n")
    assert len(load_process(tmp_path).items) == 80


@pytest.mark.parametrize(
    ("text", "line", "field", "problem"),
    [
        ("items:\n  1.1.1: {optinal: true}\n", 2, "items.1.1.1.optinal", "unknown key"),
        ("itemz: {}\n", 1, "itemz", "unknown key"),
        (
            "items:\n  1.1.1: {optional: perhaps}\n",
            2,
            "items.1.1.1.optional",
            "expected true or false",
        ),
        ("items:\n  9.9.9: {text: New}\n", 2, "items.9.9.9.sub_phase", "missing"),
        (
            "items:\n  9.9.9: {text: New, sub_phase: '8.1'}\n",
            2,
            "items.9.9.9.sub_phase",
            "no sub-phase '8.1'",
        ),
        ("items:\n  D1.1: {text: New, sub_phase: '1.1'}\n", 2, "items.D1.1", "already used"),
        ("items:\n  1.1.1: {sub_phase: '1.2'}\n", 2, "items.1.1.1.sub_phase", "cannot move"),
        (
            "deliverables:\n  D9.1: {title: X, phase: 9}\n",
            2,
            "deliverables.D9.1.phase",
            "no phase '9'",
        ),
        (
            "deliverables:\n  D1.1: {path: ../../etc/passwd}\n",
            2,
            "deliverables.D1.1.path",
            "inside the repository",
        ),
        ("phases:\n  '8': {title: Eight}\n", 2, "phases.8", "no phase '8'"),
        ("items:\n  1.1.1: {text: ''}\n", 2, "items.1.1.1.text", "must not be empty"),
        ("items: [1, 2]\n", 1, "items", "expected a mapping"),
        ("version: 2\n", 1, "version", "version 1"),
        ("items:\n  1.1.1: {text: a\n  1.1.2: x\n", 3, "", "invalid YAML"),
        ("items:\n  1.1.1: {text: a}\n  1.1.1: {text: b}\n", 3, "items.1.1.1", "duplicate id"),
    ],
)
def test_errors_name_file_line_and_field(tmp_path, text, line, field, problem):
    path = _overlay(tmp_path, text)
    with pytest.raises(ProcessError) as caught:
        load_process(tmp_path)
    error = caught.value
    assert error.path == str(path)
    assert error.line == line
    assert error.field == field
    assert problem in error.problem
    assert str(error).startswith(f"{path}:{line}: ")


def test_a_file_that_is_not_utf8_is_reported(tmp_path):
    path = tmp_path / ".phasegate" / "process.yaml"
    path.parent.mkdir()
    path.write_bytes(b"items:\n  1.1.1: {text: \xff\xfe}\n")
    with pytest.raises(ProcessError, match="not UTF-8"):
        load_process(tmp_path)
