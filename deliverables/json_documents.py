"""The JSON documents `phasegate … --json` prints: one function per document, each a documented,
versioned shape (docs/json.md; JSON Schemas in docs/schemas/, checked by tests/test_json_documents.py).

Every document is an object that starts with `"document"` (its name) and `"version"`; a change
that removes or renames a field, or changes its meaning, raises the version. Built here, in the
domain, so that the CLI and any other front end print the same thing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from deliverables.errors import TrackerError
from deliverables.statuses import PASSING
from deliverables.store import DeliverableState

if TYPE_CHECKING:
    from collections.abc import Iterable

    from deliverables.day import Day
    from deliverables.project import Project
    from deliverables.store import CheckRecord, Event, RunRecord

VERSION = 1


def status_document(project: Project) -> dict[str, Any]:
    """`phasegate status --json`: every phase with its gate, items, assists and deliverables, and
    the latest validation outcome per pipeline."""
    from deliverables.gates import evaluate
    from deliverables.validations import latest_results

    items, delivs = project.item_states(), project.deliverable_states()
    gates = project.gate_states()
    phases = []
    for phase in project.model.phases:
        evaluation = evaluate(project, phase.id)
        phases.append(
            {
                "id": phase.id,
                "title": phase.title,
                "status": project.phase_status(phase, items, delivs, gates),
                "gate": {"outcome": evaluation.outcome, "blockers": evaluation.blockers},
                "sub_phases": [
                    {
                        "id": sub.id,
                        "title": sub.title,
                        "items": [
                            {
                                "id": item.id,
                                "text": item.text,
                                "status": items[item.id].status if item.id in items else "todo",
                                "owner": items[item.id].owner if item.id in items else None,
                                "due": items[item.id].due if item.id in items else None,
                            }
                            for item in sub.items
                        ],
                        "assists": [
                            {"id": a.id, "tool": a.tool, "text": a.text} for a in sub.assists
                        ],
                    }
                    for sub in phase.sub_phases
                ],
                "deliverables": [
                    {
                        "id": d.id,
                        "title": d.title,
                        "status": delivs[d.id].status if d.id in delivs else "missing",
                        "owner": delivs[d.id].owner if d.id in delivs else None,
                        "path": project.deliverable_path(
                            d, delivs.get(d.id) or DeliverableState(d.id)
                        ),
                    }
                    for d in phase.deliverables
                ],
            }
        )
    validations = [
        {
            "pipeline": r.pipeline,
            "outcome": r.outcome,
            "run": r.run.id if r.run else None,
            "tier": r.run.tier if r.run else None,
        }
        for r in latest_results(project)
    ]
    return {
        **document_header("status"),
        "project": project.name,
        "phases": phases,
        "validations": validations,
    }


def runs_document(project: Project, limit: int = 20) -> dict[str, Any]:
    """`phasegate runs --json`: the newest validation runs, without their checks."""
    return {**document_header("runs"), "runs": [_run(r) for r in project.tracker.runs(limit)]}


def run_document(project: Project, run_id: int) -> dict[str, Any]:
    """`phasegate runs show N --json` and `phasegate validate --json`: one run with every check."""
    run = project.tracker.run(run_id)
    if run is None:
        raise TrackerError(f"no validation run {run_id}")
    checks = [_check(c) for c in project.tracker.run_checks(run_id)]
    return {**document_header("run"), **_run(run), "checks": checks}


def gate_document(project: Project, phase_id: str) -> dict[str, Any]:
    """`phasegate gate status --json`: the gate's criteria as they stand and what blocks it."""
    from deliverables.gates import evaluate

    evaluation = evaluate(project, phase_id)
    return {
        **document_header("gate"),
        "phase": evaluation.phase,
        "title": project.model.phase(evaluation.phase).title,
        "outcome": evaluation.outcome,
        "passes": evaluation.outcome in PASSING,
        "blockers": evaluation.blockers,
        "criteria": [
            {
                "id": c.id,
                "kind": c.kind,
                "text": c.text,
                "status": c.status,
                "evidence": list(c.evidence),
                "blockers": list(c.blockers),
                "waivers": list(c.waivers),
            }
            for c in evaluation.criteria
        ],
    }


def gate_reviews_document(project: Project, phase_id: str | None = None) -> dict[str, Any]:
    """`phasegate gate history --json`: the recorded (immutable) gate reviews, oldest first."""
    from deliverables.gates import reviews

    return {
        **document_header("gate_reviews"),
        "reviews": [
            {
                "id": r.id,
                "phase": r.phase,
                "request_id": r.request_id,
                "outcome": r.outcome,
                "at": r.at,
                "actor": r.actor,
                "git_commit": r.git_commit,
                "git_dirty": None if r.git_dirty is None else bool(r.git_dirty),
                "corrects": r.corrects,
                "record": r.data,
            }
            for r in reviews(project, phase_id)
        ],
    }


def waivers_document(project: Project) -> dict[str, Any]:
    """`phasegate waiver list --json`: every waiver with its state today."""
    from deliverables.gates import waivers

    today = project.today()
    return {
        **document_header("waivers"),
        "waivers": [
            {
                "id": w.id,
                "target": w.target,
                "reason": w.reason,
                "requester": w.requester,
                "requested_at": w.requested_at,
                "expires": w.expires,
                "approver": w.approver,
                "approved_at": w.approved_at,
                "state": w.state(today),
            }
            for w in waivers(project)
        ],
    }


def facts_document(project: Project, ids: Iterable[str] = ()) -> dict[str, Any]:
    """`phasegate deliverable facts --json`: what git knows of each deliverable's document."""
    from deliverables.documents import document_facts

    chosen = list(ids) or [d.id for d in project.model.deliverables]
    deliverables = []
    for ident in chosen:
        facts = document_facts(project, ident)
        git = facts.git
        deliverables.append(
            {
                "id": facts.deliverable.id,
                "status": facts.status,
                "path": facts.path,
                "git": {
                    "exists": git.exists,
                    "tracked": git.tracked,
                    "last_commit": git.last_commit,
                    "author": git.author,
                    "date": git.date,
                    "subject": git.subject,
                    "uncommitted": git.uncommitted,
                },
                "suggestions": list(facts.suggestions),
            }
        )
    return {**document_header("deliverable_facts"), "deliverables": deliverables}


def day_document(project: Project, day: Day) -> dict[str, Any]:
    """`phasegate today --json`: my day (as `deliverables.day.day_view` sees it)."""
    from deliverables.templating import describe_event

    def item(pair) -> dict[str, Any]:
        it, state = pair
        return {"id": it.id, "text": it.text, "status": state.status, "due": state.due}

    standup = day.standup
    return {
        **document_header("day"),
        "project": project.name,
        "me": day.me,
        "today": day.today.isoformat(),
        "last_session": day.last_session,
        "items": [item(pair) for pair in day.items],
        "deliverables": [
            {"id": d.id, "title": d.title, "status": state.status} for d, state in day.deliverables
        ],
        "overdue": [item(pair) for pair in day.overdue],
        "team_overdue": [{**item(pair), "owner": pair[1].owner} for pair in day.team_overdue],
        "due_this_week": [item(pair) for pair in day.due_this_week],
        "changes": [_event(e, describe_event(e)) for e in day.changes],
        "conflicts": [
            {
                "at": c.at,
                "item": c.target,
                "field": c.field,
                "kept": c.kept,
                "kept_by": c.kept_by,
                "lost": c.lost,
                "lost_by": c.lost_by,
                "text": c.describe(day.me),
            }
            for c in day.conflicts
        ],
        "drift": [
            {
                "source": p.name,
                "profiled_at": p.profiled_at,
                "profiled_by": p.actor,
                "since": p.since,
                "findings": [
                    {"kind": f["kind"], "column": f["column"], "detail": f["detail"]}
                    for f in p.drift
                ],
            }
            for p in day.drift
        ],
        "waivers": [
            {"id": w.id, "target": w.target, "expires": w.expires, "note": note}
            for w, note in day.waivers
        ],
        "reviews": [
            {"phase": r.phase, "requested_at": r.at, "requested_by": r.actor} for r in day.reviews
        ],
        "standup": None
        if standup is None
        else {"yesterday": standup.yesterday, "today": standup.today, "blockers": standup.blockers},
    }


def document_header(name: str) -> dict[str, Any]:
    """The first two fields of every document: its name and the version of its shape."""
    return {"document": name, "version": VERSION}


def _run(run: RunRecord) -> dict[str, Any]:
    return {
        "id": run.id,
        "tier": run.tier,
        "status": run.status,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "actor": run.actor,
        "git_commit": run.git_commit,
        "git_dirty": None if run.git_dirty is None else bool(run.git_dirty),
        "pipelines": run.pipeline_names,
        "versions": run.version_map,
        "summary": run.summary,
    }


def _check(check: CheckRecord) -> dict[str, Any]:
    return {
        "pipeline": check.pipeline,
        "step": check.step,
        "check": check.check_name,
        "outcome": check.outcome,
        "detail": check.detail,
        "duration": check.duration,
        "data": check.payload,
    }


def _event(event: Event, what: str) -> dict[str, Any]:
    return {"at": event.at, "actor": event.actor, "subject": event.subject, "what": what}
