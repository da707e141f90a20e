"""Deliverable documents on a real repository: one template per deliverable, never overwritten,
git facts (committed, dirty, untracked) with suggestions, and MADR decision records."""

from __future__ import annotations

import re
import subprocess

import pytest

from deliverables import TrackerError
from deliverables.documents import (
    adrs,
    create_document,
    document_facts,
    new_adr,
    set_adr_status,
)
from tests.conftest import ROOT


def git(root, *args) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=Dana Weiss", "-c", "user.email=dana@example.com", *args],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def test_every_deliverable_has_its_own_template_with_sections(project):
    folder = ROOT / "deliverables" / "templates" / "documents"
    for deliverable in project.model.deliverables:
        template = folder / f"{deliverable.id}.md.j2"
        assert template.is_file(), deliverable.id
        assert len(re.findall(r"^## ", template.read_text(), re.M)) >= 1, deliverable.id
    assert len(project.model.deliverables) == 39


def test_the_brd_has_the_sections_the_process_names(project):
    path = create_document(project, "D1.1")
    assert path == project.root / "docs/phase-1/business-requirements-document.md"
    text = path.read_text()
    headings = re.findall(r"^## (.*)$", text, re.M)
    assert headings[:4] == [
        "Business objectives and success criteria",
        "SLAs, data freshness and KPIs",
        "Stakeholders and data consumers",
        "Data sources: volume, velocity and variety",
    ]
    assert "- 1.1.4 Document data sources, volumes, velocity, and variety" in text
    assert project.deliverable_state("D1.1").status == "draft"  # missing -> draft


def test_create_never_overwrites(project):
    path = project.root / "docs/phase-2/security-compliance-design.md"
    path.parent.mkdir(parents=True)
    path.write_text("our own words\n")
    with pytest.raises(TrackerError, match="already exists: phasegate never overwrites"):
        create_document(project, "D2.4")
    assert path.read_text() == "our own words\n"
    with pytest.raises(TrackerError, match="unknown deliverable"):
        create_document(project, "D9.9")


def test_git_facts_and_suggestions(project):
    root = project.root
    facts = document_facts(project, "D1.2")
    assert not facts.git.exists and facts.suggestions == ()
    # a file someone wrote while the tracker still says missing
    create_document(project, "D1.3")
    project.set_deliverable("D1.3", status="missing")
    facts = document_facts(project, "D1.3")
    assert facts.git.exists and not facts.git.tracked and facts.git.uncommitted
    assert facts.suggestions == (
        "docs/phase-1/data-profiling-report.md exists but the status is missing: mark it draft "
        "(`phasegate deliverable set D1.3 --status draft`)",
        "docs/phase-1/data-profiling-report.md is not in git yet: commit it",
    )
    git(root, "add", "docs")
    git(root, "commit", "-qm", "Profiling report")
    for status in ("draft", "in_review", "approved"):
        project.set_deliverable("D1.3", status=status)
    facts = document_facts(project, "D1.3")
    assert facts.git.tracked and not facts.git.uncommitted
    assert (
        facts.git.author == "Dana Weiss <dana@example.com>"
        and facts.git.subject == "Profiling report"
    )
    assert facts.git.last_commit == git(root, "rev-parse", "HEAD").strip()[:10]
    assert facts.suggestions == ()
    # edited after approval
    path = root / "docs/phase-1/data-profiling-report.md"
    path.write_text(path.read_text() + "\nA late finding.\n")
    assert document_facts(project, "D1.3").suggestions == (
        "docs/phase-1/data-profiling-report.md changed since it was approved: review it again, or commit",
    )
    # approved, but the file is gone
    project.set_deliverable("D1.4", status="draft")
    assert "does not exist: create it" in document_facts(project, "D1.4").suggestions[0]


def test_decision_records_in_madr_form(project):
    first = new_adr(project, "Use Iceberg's JDBC catalog on PostgreSQL")
    second = new_adr(project, "Orchestrate with Airflow 3")
    assert first.name == "0001-use-iceberg-s-jdbc-catalog-on-postgresql.md"
    text = first.read_text()
    assert text.startswith("# 1. Use Iceberg's JDBC catalog on PostgreSQL\n\n- Status: proposed\n")
    for heading in ("## Context and Problem Statement", "## Considered Options",
                    "## Decision Outcome", "## Pros and Cons of the Options"):  # fmt: skip
        assert heading in text
    assert project.deliverable_state("D2.5").status == "draft"
    set_adr_status(project, 2, "accepted")
    set_adr_status(project, 1, "superseded", superseded_by=2)
    assert [(a.number, a.status) for a in adrs(project)] == [
        (1, "superseded by [ADR 0002](0002-orchestrate-with-airflow-3.md)"),
        (2, "accepted"),
    ]
    assert second.read_text().count("- Status: accepted") == 1
    with pytest.raises(TrackerError, match="superseded needs --by N"):
        set_adr_status(project, 2, "superseded", superseded_by=2)
    with pytest.raises(TrackerError, match="unknown ADR status 'maybe'"):
        set_adr_status(project, 2, "maybe")
    with pytest.raises(TrackerError, match="no ADR 7"):
        set_adr_status(project, 7, "accepted")
    with pytest.raises(TrackerError, match="needs a title"):
        new_adr(project, "   ")


def test_cli_documents_and_adrs(project, capsys):
    from cli.main import main

    root = str(project.root)
    assert main(["-C", root, "deliverable", "create", "D5.3"]) == 0
    assert "docs/phase-5/data-quality-rules-catalog.md (D5.3 is draft)" in capsys.readouterr().out
    assert main(["-C", root, "deliverable", "create", "D5.3"]) == 1
    assert "already exists" in capsys.readouterr().err
    assert main(["-C", root, "adr", "new", "Keep raw events for 400 days"]) == 0
    assert main(["-C", root, "deliverable", "facts", "D2.5", "D5.3"]) == 0
    out = capsys.readouterr().out
    assert "ADR 0001 Keep raw events for 400 days (proposed)" in out
    assert "suggest: docs/phase-5/data-quality-rules-catalog.md is not in git yet" in out


async def test_the_phase_screen_creates_a_document_and_explains_the_editor(project):
    from tui.app import PhasegateApp
    from tui.widgets import VimTable

    app = PhasegateApp(project)
    async with app.run_test(size=(150, 42)) as pilot:
        await pilot.press("1")
        await pilot.pause()
        table = app.screen.query_one("#phase-deliverables", VimTable)
        table.focus()
        await pilot.press("E")  # nothing to edit yet
        await pilot.pause()
        assert any("does not exist yet: n creates it" in n.message for n in app._notifications)
        await pilot.press("n")
        await pilot.pause()
        assert (project.root / "docs/phase-1/business-requirements-document.md").is_file()
        assert "no document yet" not in str(app.screen.query_one("#details").render())
        await pilot.press("E")  # headless: no terminal to hand to an editor, said plainly
        await pilot.pause()
        assert any(n.title == "Editor" for n in app._notifications)
