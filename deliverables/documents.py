"""Deliverables as documents in the repository: each rendered from its template in
templates/documents/ to its path (docs/phase-N/<slug>.md by default; a folder deliverable gets a
README.md index), never over an existing file; what git knows of each; suggestions where the
tracker and the repository disagree; and Technology Decision Records (MADR) under docs/adr/.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from deliverables.errors import TrackerError
from deliverables.git import PathFacts, path_facts
from deliverables.identity import display_name
from deliverables.paths import create_file, inside_repo
from phases.text import check_text, md_unescape, terminal_safe

if TYPE_CHECKING:
    from deliverables.project import Project
    from phases import Deliverable

ADR_DIR = "docs/adr"
ADR_DELIVERABLE = "D2.5"
ADR_STATUSES = ("proposed", "accepted", "rejected", "deprecated", "superseded")
_ADR_NAME = re.compile(r"([0-9]{4})-.*\.md\Z")
_STATUS_LINE = re.compile(r"^- Status: (.*)$", re.M)


@dataclass(frozen=True)
class DocumentFacts:
    deliverable: Deliverable
    status: str
    path: str  # the file (a folder deliverable: its README.md)
    git: PathFacts
    suggestions: tuple[str, ...]


def git_summary(facts: PathFacts) -> str | None:
    """What git knows of a document in one line, the same in the CLI and the TUI:
    `3f2a9c1e0b 2026-11-20 by Ana Ruiz · uncommitted changes`, `not committed yet`, or None when
    there is no file."""
    if facts.last_commit:
        return f"{facts.last_commit} {facts.date} by {display_name(facts.author)}" + (
            " · uncommitted changes" if facts.uncommitted else ""
        )
    return "not committed yet" if facts.exists else None


def document_path(project: Project, deliverable: Deliverable) -> str:
    path = project.deliverable_path(deliverable)
    return path + "README.md" if path.endswith("/") else path


def create_document(project: Project, deliverable_id: str) -> Path:
    """Renders the deliverable's template to its path; refuses to touch an existing file.
    A missing deliverable becomes a draft."""
    from deliverables.templating import render_template

    deliverable = project.deliverable(deliverable_id)
    relative = document_path(project, deliverable)
    target = inside_repo(project.root, relative, what=f"{deliverable.id}'s document")
    if target.exists():
        raise TrackerError(f"{relative} already exists: phasegate never overwrites a document")
    phase = project.model.phase(deliverable.phase_id)
    state = project.deliverable_state(deliverable.id)
    text = render_template(
        f"documents/{deliverable.id}.md.j2"
        if _has_template(deliverable.id)
        else "documents/_base.md.j2",
        {
            "deliverable": deliverable,
            "phase": phase,
            "project": project.name,
            "owner": state.owner,
            "created": project.today().isoformat(),
            "author": display_name(project.tracker.actor),
        },
    )
    create_file(project.root, relative, text, what=f"{deliverable.id}'s document")
    if state.status == "missing":
        project.set_deliverable(deliverable.id, status="draft")
    return project.root / relative


def _has_template(deliverable_id: str) -> bool:
    return (
        Path(__file__).with_name("templates") / "documents" / f"{deliverable_id}.md.j2"
    ).is_file()


def document_facts(project: Project, deliverable_id: str) -> DocumentFacts:
    deliverable = project.deliverable(deliverable_id)
    state = project.deliverable_state(deliverable.id)
    folder = project.deliverable_path(deliverable)
    relative = document_path(project, deliverable)
    facts = path_facts(project.root, folder.rstrip("/") if folder.endswith("/") else relative)
    return DocumentFacts(
        deliverable,
        state.status,
        relative,
        facts,
        tuple(_suggestions(deliverable, state.status, facts)),
    )


def _suggestions(deliverable: Deliverable, status: str, facts: PathFacts) -> list[str]:
    out = []
    if facts.exists and status == "missing":
        out.append(
            f"{facts.path} exists but the status is missing: mark it draft "
            f"(`phasegate deliverable set {deliverable.id} --status draft`)"
        )
    if not facts.exists and status in ("draft", "in_review", "approved"):
        out.append(
            f"the status is {status.replace('_', ' ')} but {facts.path} does not exist: "
            f"create it (`phasegate deliverable create {deliverable.id}`)"
        )
    if facts.exists and not facts.tracked:
        out.append(f"{facts.path} is not in git yet: commit it")
    elif facts.uncommitted and status == "approved":
        out.append(f"{facts.path} changed since it was approved: review it again, or commit")
    elif facts.uncommitted and status == "in_review":
        out.append(f"{facts.path} has uncommitted changes: commit them for the reviewers")
    return out


# --- Technology Decision Records ----------------------------------------------------------------


@dataclass(frozen=True)
class Adr:
    number: int
    title: str
    status: str
    path: str


def adrs(project: Project) -> list[Adr]:
    folder = inside_repo(project.root, ADR_DIR, what="the ADR folder")
    found = []
    for path in sorted(folder.glob("*.md")) if folder.is_dir() else []:
        match = _ADR_NAME.match(path.name)
        if not match:
            continue
        inside_repo(project.root, f"{ADR_DIR}/{path.name}", what="ADR file")  # not a link out
        text = path.read_text(encoding="utf-8", errors="replace")
        heading = next((line for line in text.splitlines() if line.startswith("# ")), "# ")
        # a file anyone may have written (a cloned repository): shown as printable text only
        title = terminal_safe(md_unescape(heading[2:].split(". ", 1)[-1].strip()))
        status = _STATUS_LINE.search(text)
        found.append(
            Adr(
                int(match.group(1)),
                title,
                terminal_safe(status.group(1).strip()) if status else "unknown",
                f"{ADR_DIR}/{path.name}",
            )
        )
    return found


def new_adr(project: Project, title: str) -> Path:
    """docs/adr/NNNN-<slug>.md in MADR form, status proposed; D2.5 becomes a draft if missing."""
    from deliverables.templating import render_template
    from phases.model import slugify

    title = " ".join(check_text(title, "the ADR title", error=TrackerError).split())
    if not title:
        raise TrackerError(
            'an ADR needs a title, e.g. phasegate adr new "Use Iceberg\'s JDBC catalog"'
        )
    number = max((a.number for a in adrs(project)), default=0) + 1
    slug = slugify(title)[:60].strip("-") or "decision"
    relative = f"{ADR_DIR}/{number:04d}-{slug}.md"
    text = render_template(
        "adr.md.j2",
        {
            "number": number,
            "title": title,
            "date": project.today().isoformat(),
            "author": display_name(project.tracker.actor),
        },
    )
    create_file(project.root, relative, text, what="the ADR")
    if project.deliverable_state(ADR_DELIVERABLE).status == "missing":
        project.set_deliverable(ADR_DELIVERABLE, status="draft")
    return project.root / relative


def set_adr_status(
    project: Project, number: int, status: str, superseded_by: int | None = None
) -> Adr:
    """Rewrites the record's status line: proposed, accepted, rejected, deprecated, or
    superseded by another ADR."""
    status = status.strip().lower()
    if status not in ADR_STATUSES:
        raise TrackerError(f"unknown ADR status '{status}' (choose {', '.join(ADR_STATUSES)})")
    records = {a.number: a for a in adrs(project)}
    if number not in records:
        raise TrackerError(f"no ADR {number} in {ADR_DIR}/ (`phasegate adr list`)")
    if status == "superseded":
        if superseded_by is None or superseded_by not in records or superseded_by == number:
            raise TrackerError("superseded needs --by N, another existing ADR")
        line = f"superseded by [ADR {superseded_by:04d}]({Path(records[superseded_by].path).name})"
    elif superseded_by is not None:
        raise TrackerError("--by goes with the status superseded")
    else:
        line = status
    path = inside_repo(project.root, records[number].path, what=f"ADR {number}")
    text = path.read_text(encoding="utf-8")
    if not _STATUS_LINE.search(text):
        raise TrackerError(f"{records[number].path} has no '- Status:' line to update")
    path.write_text(_STATUS_LINE.sub(f"- Status: {line}", text, count=1), encoding="utf-8")
    return next(a for a in adrs(project) if a.number == number)
