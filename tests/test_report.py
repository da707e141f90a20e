"""The markdown status report, parsed as CommonMark (with GFM tables, as GitHub renders it)."""

from __future__ import annotations

import pytest
from markdown_it import MarkdownIt

from deliverables import TrackerError
from deliverables.report import render_status_report
from deliverables.templating import md_escape


def _parse(text: str):
    return MarkdownIt("commonmark").enable("table").parse(text)


def _headings(tokens) -> list[tuple[str, str]]:
    return [
        (tok.tag, tokens[n + 1].content)
        for n, tok in enumerate(tokens)
        if tok.type == "heading_open"
    ]


def _tables(tokens) -> list[list[list[str]]]:
    """Every table as rows of cell texts (header row first)."""
    tables, rows, row, cell = [], None, None, None
    for tok in tokens:
        if tok.type == "table_open":
            rows = []
        elif tok.type == "tr_open":
            row = []
        elif tok.type in ("th_open", "td_open"):
            cell = ""
        elif tok.type == "inline" and cell is not None:
            cell = "".join(
                child.content for child in tok.children if child.type in ("text", "code_inline")
            )
        elif tok.type in ("th_close", "td_close"):
            row.append(cell)
            cell = None
        elif tok.type == "tr_close":
            rows.append(row)
        elif tok.type == "table_close":
            tables.append(rows)
    return tables


def test_the_report_has_a_summary_every_phase_and_recent_activity(demo):
    tokens = _parse(render_status_report(demo))
    headings = _headings(tokens)
    assert headings[0] == ("h1", "retail-events — status report")
    h2 = [text for tag, text in headings if tag == "h2"]
    assert h2[0] == "Summary"
    assert h2[1:8] == [f"Phase {p.id}: {p.title}" for p in demo.model.phases]
    assert h2[-1] == "Recent activity"
    assert [text for tag, text in headings if tag == "h3" and text[0].isdigit()] == [
        f"{s.id} {s.title}" for s in demo.model.sub_phases
    ]
    tables = _tables(tokens)
    summary = tables[0]
    assert summary[0] == ["Phase", "Status", "Progress", "Checklist", "Deliverables"]
    assert summary[1][0] == "1. Discovery & Requirements" and summary[1][1] == "passed"
    assert summary[2][3] == "10/12"  # phase 2: nine items done, one not applicable
    checklist_11 = tables[1]
    assert checklist_11[0] == ["ID", "Item", "Status", "Owner", "Due", "Note"]
    assert checklist_11[1][:4] == [
        "1.1.1",
        "Capture business objectives and success criteria",
        "done",
        "Ana Ruiz",
    ]
    na_row = next(row for t in tables for row in t if row[0] == "2.2.3")
    assert na_row[2].startswith("n/a: Sources are append-only")


def test_user_text_cannot_break_the_markdown(project):
    project.set_item("1.1.1", note="a | b *not bold* <script> `tick` [link](x)", owner="Ann|Bob")
    tokens = _parse(render_status_report(project, phase="1"))
    row = next(row for t in _tables(tokens) for row in t if row[0] == "1.1.1")
    assert len(row) == 6
    assert row[3] == "Ann|Bob"
    assert row[5] == "a | b *not bold* <script> `tick` [link](x)"
    inline = [child.type for tok in tokens for child in (tok.children or [])]
    assert "html_inline" not in inline and "link_open" not in inline
    assert inline.count("em_open") == len(
        project.model.phase("1").assists
    )  # only the "With Claude" labels


def test_phase_scope_and_unknown_phase(demo):
    text = render_status_report(demo, phase="3")
    headings = [h for _, h in _headings(_parse(text))]
    assert "Phase 3: Development Environment Setup" in headings
    assert "Phase 2: Architecture & Design" not in headings and "Summary" not in headings
    with pytest.raises(TrackerError, match="unknown phase '9'"):
        render_status_report(demo, phase="9")


def test_md_escape_keeps_text_on_one_line():
    assert md_escape("line one\nline two") == "line one line two"
    assert md_escape(None) == ""
