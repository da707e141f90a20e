"""The status report: progress, checklists, deliverables, validations, metrics and activity."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from deliverables.errors import TrackerError
from deliverables.identity import display_name
from deliverables.paths import repo_file
from deliverables.project import Project
from deliverables.store import DeliverableState, ItemState
from deliverables.templating import describe_event, local_time, render_template
from deliverables.validations import EVIDENCE, evidence


def render_status_report(
    project: Project, *, phase: str | None = None, activity_limit: int = 25
) -> str:
    """The status report: progress per phase, checklists, deliverables, recent activity."""
    phases = project.model.phases
    if phase is not None:
        chosen = project.model.phase(phase)
        if chosen is None:
            ids = ", ".join(p.id for p in phases)
            raise TrackerError(f"unknown phase '{phase}' (phases are {ids})")
        phases = (chosen,)
    items, delivs = project.item_states(), project.deliverable_states()
    context = {
        "project": project.name,
        "process": project.model.title,
        "generated": local_time(project.now().strftime("%Y-%m-%dT%H:%M:%SZ")),
        "scope": f"Phase {phases[0].id}" if phase is not None else "All phases",
        "current": project.current_phase(),
        "phases": [_phase_view(project, p, items, delivs) for p in phases],
        "activity": [_event_view(project, e) for e in project.tracker.activity(activity_limit)],
        "validations": _validation_view(project, phases),
        "metrics": _metrics_view(project) if phase is None else None,
    }
    return render_template("status_report.md.j2", context)


def status_report_path(project: Project, phase: str | None = None) -> Path:
    """Where the status report goes (`phasegate export -o`, the Report screen's `w`): one file a
    day, and one per phase for a phase's report."""
    name = f"status-{project.today().isoformat()}" + (f"-phase-{phase}" if phase else "")
    return repo_file(project.root, f"docs/reports/{name}.md", what="the status report")


def _metrics_view(project: Project) -> dict[str, Any]:
    from deliverables.metrics import metrics, timeline

    found = metrics(project)
    return {
        "phases": found.phases,
        "timeline": timeline(found, project.today()),
        "gates": found.gates,
        "velocity": f"{found.velocity_days} days"
        if found.velocity_days is not None
        else f"not deployed yet ({found.elapsed_days or 0} days since phase 1 started)",
        "first_pass": found.first_time_pass_rate,
        "quality": found.validation_pass_rate,
    }


def _validation_view(project: Project, phases) -> dict[str, Any] | None:
    """Latest static and full result per pipeline, and the validations-green criteria."""
    from deliverables.validations import latest_results, validations_green

    static = latest_results(project, "static")
    if not static:
        return None
    full = {r.pipeline: r for r in latest_results(project, "full")}
    rows = []
    for result in static:
        latest_full = full.get(result.pipeline)
        runs = [r.run for r in (result, latest_full) if r is not None and r.run is not None]
        newest = max(runs, key=lambda run: run.id) if runs else None
        rows.append(
            {
                "pipeline": result.pipeline,
                "static": result.outcome,
                "full": latest_full.outcome if latest_full else "not validated",
                "run": newest,
            }
        )
    criteria = []
    for phase in phases:
        for criterion in phase.gate:
            if criterion.kind == "validations_green":
                met, lines = validations_green(project, phase.id)
                criteria.append({"criterion": criterion, "met": met, "lines": lines})
    return {"rows": rows, "criteria": criteria}


def _phase_view(
    project: Project, phase, items: dict[str, ItemState], delivs: dict[str, DeliverableState]
) -> dict[str, Any]:
    progress = project.progress(phase, items, delivs)
    return {
        "phase": phase,
        "status": project.phase_status(phase, items, delivs).replace("_", " "),
        "progress": progress,
        "percent": round(progress.fraction * 100),
        "sub_phases": [
            {
                "sub": sub,
                "rows": [(item, items.get(item.id) or ItemState(item.id)) for item in sub.items],
            }
            for sub in phase.sub_phases
        ],
        "deliverables": [
            (
                d,
                delivs.get(d.id) or DeliverableState(d.id),
                project.deliverable_path(d, delivs.get(d.id) or DeliverableState(d.id)),
            )
            for d in phase.deliverables
        ],
        "evidence": [(d, evidence(project, d.id)) for d in phase.deliverables if d.id in EVIDENCE],
    }


def _event_view(project: Project, event) -> dict[str, Any]:
    return {
        "at": local_time(event.at),
        "actor": display_name(event.actor),
        "subject": event.subject,
        "what": describe_event(event),
    }
