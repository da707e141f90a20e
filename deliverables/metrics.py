"""History and metrics from the activity log and the gate records: how long each phase took
(entered → passed), gate outcomes over time, each phase's checklist burn-up, and the process
document's success metrics that the tracker can measure (development velocity; quality)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, NamedTuple

from deliverables.gates import reviews
from deliverables.statuses import PASSING
from deliverables.store import parse_time

if TYPE_CHECKING:
    from deliverables.project import Project

CLOSED = ("done", "not_applicable")
SPARKS = "▁▂▃▄▅▆▇█"


@dataclass
class PhaseMetrics:
    phase_id: str
    title: str
    required: int
    entered: date | None = None  # the first change to one of its items or deliverables
    passed: date | None = None  # its first passing gate review
    burnup: list[int] = field(default_factory=list)  # closed required items at the end of each day
    days: list[date] = field(default_factory=list)

    @property
    def duration_days(self) -> int | None:
        """Days from entered to passed (None while not entered or not passed)."""
        if self.entered is None or self.passed is None:
            return None
        return (self.passed - self.entered).days

    def sparkline(self, width: int = 20) -> str:
        """The burn-up as block characters, the last `width` days, scaled to the required."""
        values = self.burnup[-width:]
        if not values or not self.required:
            return ""
        return "".join(
            SPARKS[min(len(SPARKS) - 1, round(v / self.required * (len(SPARKS) - 1)))]
            for v in values
        )


@dataclass
class Metrics:
    phases: list[PhaseMetrics]
    gates: list[tuple[str, str, str]]  # (date, phase, outcome), oldest first
    velocity_days: int | None  # phase 1 entered → phase 6 (deployment) passed
    elapsed_days: int | None  # phase 1 entered → today
    first_time_pass_rate: float | None  # reviews of a phase whose first review passed
    validation_pass_rate: float | None  # checks of full validation runs that passed


def metrics(project: Project) -> Metrics:
    today = project.today()
    model = project.model
    owner = {i.id: i.phase_id for i in model.items}
    owner.update({d.id: d.phase_id for d in model.deliverables})
    required = {p.id: {i.id for i in p.items if not i.optional} for p in model.phases}
    per = {p.id: PhaseMetrics(p.id, p.title, len(required[p.id])) for p in model.phases}
    status: dict[str, str] = {}
    closed_by_day: dict[str, dict[date, int]] = {p.id: {} for p in model.phases}
    # The local day of each event is SQLite's `date(at, 'localtime')` (the C library's local
    # time, as Python's astimezone()): converting 10,000 times in Python took a third of a second.
    # A phase is entered on the day of the first event (in the log's order) of one of its subjects.
    first_event: dict[str, tuple[int, date]] = {}
    for subject, event_id, day in project.tracker.query(
        "SELECT a.subject, a.id, date(a.at, 'localtime') FROM activity a "
        "JOIN (SELECT min(id) AS id FROM activity GROUP BY subject) f ON a.id = f.id"
    ):
        phase_id = owner.get(subject)
        if phase_id is not None and (
            phase_id not in first_event or event_id < first_event[phase_id][0]
        ):
            first_event[phase_id] = (event_id, date.fromisoformat(day))
    for phase_id, (_, day) in first_event.items():
        per[phase_id].entered = day
    for day_text, subject, after in project.tracker.query(
        "SELECT date(at, 'localtime'), subject, after FROM activity "
        "WHERE action = 'item.status' ORDER BY id"
    ):
        phase_id = owner.get(subject)
        if phase_id is None:
            continue
        status[subject] = after or "todo"
        closed = sum(1 for i in required[phase_id] if status.get(i) in CLOSED)
        closed_by_day[phase_id][date.fromisoformat(day_text)] = closed
    gate_history = []
    first_outcome: dict[str, str] = {}
    for r in reviews(project):
        day = parse_time(r.at).astimezone().date()
        gate_history.append((day.isoformat(), r.phase, r.outcome))
        first_outcome.setdefault(r.phase, r.outcome)
        if r.outcome in PASSING and per[r.phase].passed is None:
            per[r.phase].passed = day
    for phase_id, m in per.items():
        if m.entered is None:
            continue
        end = m.passed or today
        running, day = 0, m.entered
        while day <= end:
            running = closed_by_day[phase_id].get(day, running)
            m.days.append(day)
            m.burnup.append(running)
            day += timedelta(days=1)
    first, deploy = per[model.phases[0].id], per.get("6")
    velocity = (
        (deploy.passed - first.entered).days if first.entered and deploy and deploy.passed else None
    )
    elapsed = (today - first.entered).days if first.entered else None
    first_pass = (
        sum(1 for o in first_outcome.values() if o in PASSING) / len(first_outcome)
        if first_outcome
        else None
    )
    return Metrics(
        list(per.values()),
        gate_history,
        velocity,
        elapsed,
        first_pass,
        _validation_pass_rate(project),
    )


class Span(NamedTuple):
    """A phase on the timeline: from entered to passed, or to today while it runs."""

    phase: PhaseMetrics
    start: date
    end: date  # its last day
    passed: bool

    @property
    def until(self) -> date:
        """The day after its last (a gantt bar's end: a phase entered today is one day long)."""
        return self.end + timedelta(days=1)


def timeline(m: Metrics, today: date) -> list[Span]:
    """The phases that have started, as spans: what the status report's Mermaid gantt and the
    Metrics screen's bars draw (and the published phase_timeline view holds)."""
    return [
        Span(p, p.entered, p.passed or max(today, p.entered), p.passed is not None)
        for p in m.phases
        if p.entered is not None
    ]


def _validation_pass_rate(project: Project) -> float | None:
    rows = project.tracker.query(
        "SELECT c.outcome FROM validation_results c JOIN validation_runs r ON r.id = c.run_id "
        "WHERE r.tier = 'full' AND r.finished_at IS NOT NULL"
    )
    if not rows:
        return None
    return sum(1 for (outcome,) in rows if outcome in ("passed", "warning", "skipped")) / len(rows)


def as_document(m: Metrics) -> dict:
    return json.loads(
        json.dumps(
            {
                "phases": [
                    {
                        "id": p.phase_id,
                        "entered": p.entered,
                        "passed": p.passed,
                        "duration_days": p.duration_days,
                        "burnup": p.burnup,
                        "required": p.required,
                    }
                    for p in m.phases
                ],
                "gates": [{"date": d, "phase": ph, "outcome": o} for d, ph, o in m.gates],
                "velocity_days": m.velocity_days,
                "elapsed_days": m.elapsed_days,
                "first_time_pass_rate": m.first_time_pass_rate,
                "validation_pass_rate": m.validation_pass_rate,
            },
            default=str,
        )
    )
