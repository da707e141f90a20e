"""The rows `phasegate publish` sends: the tracker's facts in the published schema's shape
(sql/v1.sql), computed here from the same functions the CLI and the TUI show (`status --json`,
`runs --json`, deliverables.metrics), so a dashboard says what the tracker says.

Nothing here knows PostgreSQL: each table is a list of tuples in `TABLES[name].columns` order.
Small tables whose rows change in place (items, phases, waivers, the daily metrics) are sent
whole every time and merged; the growing ones (the activity log, validation runs and their
checks) are sent from a high-water mark on (`Mark`) unless the marks say the tracker's numbers
moved (a sync that folded an older op renumbers its rows), when they are sent whole too.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from deliverables.metrics import Metrics, metrics
from deliverables.statuses import PASSING
from deliverables.store import DeliverableState

if TYPE_CHECKING:
    from deliverables.project import Project

PROFILE_DIR = ".phasegate/profiles"
# outcomes of a check that count as passing in a pass rate (deliverables.metrics says the same)
PASSING_CHECKS = ("passed", "warning", "skipped")
FAILING_CHECKS = ("failed", "error", "timeout", "cancelled")


class Table(NamedTuple):
    columns: tuple[str, ...]
    key: tuple[str, ...]
    growing: bool = False  # sent from the high-water mark on


TABLES: dict[str, Table] = {
    "projects": Table(
        (
            "project",
            "as_of",
            "current_phase",
            "current_phase_title",
            "items_done",
            "items_total",
            "deliverables_done",
            "deliverables_total",
            "first_activity",
            "last_activity",
        ),
        ("project",),
    ),
    "phases": Table(
        (
            "project",
            "phase",
            "position",
            "title",
            "status",
            "items_done",
            "items_total",
            "deliverables_done",
            "deliverables_total",
            "gate_outcome",
            "entered",
            "passed",
            "duration_days",
        ),
        ("project", "phase"),
    ),
    "phase_days": Table(
        ("project", "phase", "day", "closed", "required"), ("project", "phase", "day")
    ),
    "items": Table(
        (
            "project",
            "item",
            "phase",
            "sub_phase",
            "text",
            "optional",
            "status",
            "reason",
            "owner",
            "due",
            "note",
            "updated_at",
            "updated_by",
        ),
        ("project", "item"),
    ),
    "deliverables": Table(
        (
            "project",
            "deliverable",
            "phase",
            "title",
            "optional",
            "status",
            "reason",
            "owner",
            "path",
            "updated_at",
            "updated_by",
        ),
        ("project", "deliverable"),
    ),
    "activity": Table(
        ("project", "id", "at", "actor", "action", "subject", "field", "before", "after", "op"),
        ("project", "id"),
        growing=True,
    ),
    "gate_requests": Table(
        ("project", "id", "phase", "at", "actor", "reviewers"), ("project", "id")
    ),
    "gate_decisions": Table(
        ("project", "id", "request_id", "reviewer", "decision", "comment", "at"),
        ("project", "id"),
    ),
    "gate_reviews": Table(
        (
            "project",
            "id",
            "phase",
            "request_id",
            "outcome",
            "at",
            "actor",
            "git_commit",
            "git_dirty",
            "corrects",
            "first_of_phase",
            "record",
        ),
        ("project", "id"),
    ),
    "gate_blockers": Table(
        ("project", "phase", "position", "criterion", "blocker"), ("project", "phase", "position")
    ),
    "waivers": Table(
        (
            "project",
            "id",
            "target",
            "reason",
            "requester",
            "requested_at",
            "expires",
            "approver",
            "approved_at",
            "state",
        ),
        ("project", "id"),
    ),
    "validation_runs": Table(
        (
            "project",
            "id",
            "tier",
            "status",
            "started_at",
            "finished_at",
            "actor",
            "git_commit",
            "git_dirty",
            "pipelines",
            "summary",
            "checks",
            "passed",
            "failed",
            "op",
        ),
        ("project", "id"),
        growing=True,
    ),
    "validation_checks": Table(
        (
            "project",
            "run_id",
            "position",
            "pipeline",
            "step",
            "check_name",
            "outcome",
            "detail",
            "duration",
            "element_count",
            "unexpected_count",
            "unexpected_percent",
            "severity",
            "data",
        ),
        ("project", "run_id", "position"),
        growing=True,
    ),
    "profiles": Table(
        (
            "project",
            "name",
            "profiled_at",
            "source",
            "rows_profiled",
            "duplicate_rows",
            "basis",
            "columns",
        ),
        ("project", "name"),
    ),
    "profile_columns": Table(
        (
            "project",
            "profile",
            "position",
            "column_name",
            "type",
            "nulls",
            "distinct_count",
            "sensitive",
        ),
        ("project", "profile", "position"),
    ),
    "metrics_daily": Table(("project", "day", "metric", "value"), ("project", "day", "metric")),
}


class Mark(NamedTuple):
    """What the last publish of a project sent: the high-water mark (publish_state)."""

    replica: str
    arrival_seq: int
    activity_max: int
    activity_last_op: str | None  # ROW_IDENTITY of the last row sent
    activity_count: int


class Facts(NamedTuple):
    """The rows to send; `whole` names the growing tables sent whole (merge and delete the
    rows no longer there), the others are sent from the mark on (merge only)."""

    project: str
    rows: dict[str, list[tuple]]
    whole: frozenset[str]
    mark: Mark
    metrics: Metrics


def project_key(project: Project) -> str:
    """The project's name in the published schema: context.yaml's `project`, else the folder's."""
    path = project.root / "agent-prompts" / "context.yaml"
    if path.is_file():
        import yaml

        try:
            document = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (yaml.YAMLError, OSError, UnicodeDecodeError):
            document = None
        if isinstance(document, dict) and isinstance(document.get("project"), str):
            name = document["project"].strip()
            if name:
                return name
    return project.name


# What identifies an activity row whatever its number: its op and the field it changed (an op
# that sets two fields makes two rows, so the op alone would not see them shift by one).
ROW_IDENTITY = "SELECT coalesce(op, '') || ' ' || action || ' ' || field FROM activity WHERE id = ?"


def current_mark(project: Project) -> Mark:
    """The tracker's high-water mark now."""
    query = project.tracker.query
    (seq,) = query("SELECT coalesce(max(seq), 0) FROM arrivals")[0]
    top, count = query("SELECT coalesce(max(id), 0), count(*) FROM activity")[0]
    found = query(ROW_IDENTITY, (top,))
    return Mark(project.tracker.replica, seq, top, found[0][0] if found else None, count)


def still_numbered_as(project: Project, mark: Mark | None) -> bool:
    """Whether the rows a publish at `mark` sent still carry the numbers they had: the same
    clone, no op lost, and the last activity row sent is still the row of that number."""
    if mark is None or mark.replica != project.tracker.replica:
        return False
    query = project.tracker.query
    (seq,) = query("SELECT coalesce(max(seq), 0) FROM arrivals")[0]
    if seq < mark.arrival_seq:
        return False
    (count,) = query("SELECT count(*) FROM activity WHERE id <= ?", (mark.activity_max,))[0]
    if count != mark.activity_count:
        return False
    if mark.activity_max == 0:
        return True
    found = query(ROW_IDENTITY, (mark.activity_max,))
    return bool(found) and found[0][0] == mark.activity_last_op


def collect(project: Project, since: Mark | None) -> Facts:
    """Every row to publish; the growing tables from `since` on when the tracker's numbers
    still hold (`still_numbered_as`), whole otherwise."""
    from deliverables.gates import evaluate, reviews, waivers

    key = project_key(project)
    mark = current_mark(project)
    incremental = still_numbered_as(project, since)
    model, today = project.model, project.today()
    items, delivs = project.item_states(), project.deliverable_states()
    gates = project.gate_states()
    found = metrics(project)
    rows: dict[str, list[tuple]] = {name: [] for name in TABLES}

    per_phase = {p.phase_id: p for p in found.phases}
    for position, phase in enumerate(model.phases, start=1):
        progress = project.progress(phase, items, delivs)
        evaluation = evaluate(project, phase.id)
        m = per_phase[phase.id]
        rows["phases"].append(
            (
                key,
                phase.id,
                position,
                phase.title,
                project.phase_status(phase, items, delivs, gates),
                progress.items_done,
                progress.items_total,
                progress.deliverables_done,
                progress.deliverables_total,
                evaluation.outcome,
                m.entered,
                m.passed,
                m.duration_days,
            )
        )
        blockers = [
            (c.id, b)
            for c in evaluation.criteria
            if c.status in ("unmet", "pending")
            for b in (c.blockers or [c.text])
        ]
        rows["gate_blockers"] += [
            (key, phase.id, n, criterion, text)
            for n, (criterion, text) in enumerate(blockers, start=1)
        ]
        rows["phase_days"] += [
            (key, phase.id, day, closed, m.required)
            for day, closed in zip(m.days, m.burnup, strict=True)
        ]

    for sub in (s for p in model.phases for s in p.sub_phases):
        for item in sub.items:
            state = items.get(item.id)
            rows["items"].append(
                (
                    key,
                    item.id,
                    item.phase_id,
                    sub.id,
                    item.text,
                    bool(item.optional),
                    state.status if state else "todo",
                    state.reason if state else None,
                    state.owner if state else None,
                    state.due if state else None,
                    state.note if state else None,
                    state.updated_at if state else None,
                    state.updated_by if state else None,
                )
            )
    for d in model.deliverables:
        state = delivs.get(d.id) or DeliverableState(d.id)
        rows["deliverables"].append(
            (
                key,
                d.id,
                d.phase_id,
                d.title,
                bool(d.optional),
                state.status,
                state.reason,
                state.owner,
                project.deliverable_path(d, state),
                state.updated_at,
                state.updated_by,
            )
        )

    current = project.current_phase(items, delivs, gates)
    totals = [project.progress(p, items, delivs) for p in model.phases]
    first_last = project.tracker.query("SELECT min(at), max(at) FROM activity")[0]
    rows["projects"].append(
        (
            key,
            today,
            current.id,
            current.title,
            sum(t.items_done for t in totals),
            sum(t.items_total for t in totals),
            sum(t.deliverables_done for t in totals),
            sum(t.deliverables_total for t in totals),
            *first_last,
        )
    )

    floor = since.activity_max if incremental and since else 0
    rows["activity"] = [
        (key, *row)
        for row in project.tracker.query(
            "SELECT id, at, actor, action, subject, field, before, after, op FROM activity "
            "WHERE id > ? ORDER BY id",
            (floor,),
        )
    ]

    recorded = reviews(project)
    seen_phases: set[str] = set()
    for r in recorded:
        first = r.phase not in seen_phases
        seen_phases.add(r.phase)
        rows["gate_reviews"].append(
            (
                key,
                r.id,
                r.phase,
                r.request_id,
                r.outcome,
                r.at,
                r.actor,
                r.git_commit,
                None if r.git_dirty is None else bool(r.git_dirty),
                r.corrects,
                first,
                r.record,
            )
        )
    rows["gate_requests"] = [
        (key, *row)
        for row in project.tracker.query(
            "SELECT id, phase, at, actor, reviewers FROM gate_requests ORDER BY id"
        )
    ]
    rows["gate_decisions"] = [
        (key, *row)
        for row in project.tracker.query(
            "SELECT id, request_id, reviewer, decision, comment, at FROM gate_decisions ORDER BY id"
        )
    ]
    rows["waivers"] = [
        (
            key,
            w.id,
            w.target,
            w.reason,
            w.requester,
            w.requested_at,
            w.expires,
            w.approver,
            w.approved_at,
            w.state(today),
        )
        for w in waivers(project)
    ]

    runs, checks = _runs(project, key, since.arrival_seq if incremental and since else None)
    rows["validation_runs"], rows["validation_checks"] = runs, checks
    rows["profiles"], rows["profile_columns"] = _profiles(project.root, key)
    rows["metrics_daily"] = _daily(project, key, found)
    whole = frozenset() if incremental else frozenset(n for n, t in TABLES.items() if t.growing)
    return Facts(key, rows, whole, mark, found)


def _runs(project: Project, key: str, after_seq: int | None) -> tuple[list[tuple], list[tuple]]:
    """Finished runs (those in the op log; a running one is this clone's business until it
    ends) with their checks: all of them, or those whose op arrived after `after_seq`."""
    query = project.tracker.query
    sql = (
        "SELECT id, tier, status, started_at, finished_at, actor, git_commit, git_dirty, "
        "pipelines, summary, op FROM validation_runs WHERE op IS NOT NULL"
    )
    args: tuple = ()
    if after_seq is not None:
        sql += " AND op IN (SELECT id FROM arrivals WHERE seq > ?)"
        args = (after_seq,)
    found = query(sql + " ORDER BY id", args)
    if not found:
        return [], []
    wanted = {row[0] for row in found}
    per_run: dict[int, list[tuple]] = {}
    check_sql = (
        "SELECT run_id, pipeline, step, check_name, outcome, detail, duration, data "
        "FROM validation_results"
    )
    if after_seq is not None:
        check_sql += f" WHERE run_id IN ({', '.join('?' * len(wanted))})"
    for row in query(check_sql + " ORDER BY run_id, id", tuple(wanted) if after_seq else ()):
        if row[0] in wanted:
            per_run.setdefault(row[0], []).append(row)
    runs, checks = [], []
    for run_id, tier, status, started, finished, actor, commit, dirty, pipes, summary, op in found:
        mine = per_run.get(run_id, [])
        outcomes = [c[4] for c in mine]
        runs.append(
            (
                key,
                run_id,
                tier,
                status,
                started,
                finished,
                actor,
                commit,
                None if dirty is None else bool(dirty),
                pipes or "[]",
                summary,
                len(mine),
                sum(1 for o in outcomes if o in PASSING_CHECKS),
                sum(1 for o in outcomes if o in FAILING_CHECKS),
                op,
            )
        )
        for position, (_, pipeline, step, name, outcome, detail, duration, data) in enumerate(
            mine, start=1
        ):
            payload = _object(data)
            checks.append(
                (
                    key,
                    run_id,
                    position,
                    pipeline,
                    step,
                    name,
                    outcome,
                    detail or "",
                    duration,
                    _number(payload.get("rows"), int),
                    _number(payload.get("unexpected_count"), int),
                    _number(payload.get("unexpected_percent"), float),
                    payload.get("severity") if isinstance(payload.get("severity"), str) else None,
                    data or "{}",
                )
            )
    return runs, checks


def _profiles(root: Path, key: str) -> tuple[list[tuple], list[tuple]]:
    """The stored profiles (`phasegate profile`), read as files: the profiler owns their shape,
    so every field is optional here."""
    folder = root / PROFILE_DIR
    profiles, columns = [], []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            profile = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # a broken stored profile is the profiler's to report
        if not isinstance(profile, dict):
            continue
        name = str(profile.get("name") or path.stem)
        cols = [c for c in profile.get("columns") or [] if isinstance(c, dict)]
        source = profile.get("source")
        profiles.append(
            (
                key,
                name,
                profile.get("profiled_at"),
                source.get("location") if isinstance(source, dict) else None,
                _number(profile.get("rows_profiled"), int),
                _number(profile.get("duplicate_rows"), int),
                str(profile["basis"]) if profile.get("basis") is not None else None,
                len(cols),
            )
        )
        columns += [
            (
                key,
                name,
                position,
                str(c.get("name")),
                str(c["type"]) if c.get("type") is not None else None,
                _number(c.get("nulls"), int),
                _number(c.get("distinct"), int),
                bool(c["sensitive"]) if "sensitive" in c else None,
            )
            for position, c in enumerate(cols, start=1)
        ]
    return profiles, columns


# The success metrics of the process document the tracker can measure, one value per day.
DAILY_METRICS = (
    "activity_events",  # changes recorded that day
    "required_items_closed",  # required checklist items done or n/a at the end of the day
    "deliverables_approved",  # at the end of the day
    "gates_passed",  # phases whose gate had passed by then
    "first_time_pass_rate",  # of the phases reviewed by then, those passed at their first review
    "validation_runs",  # validation runs finished that day
    "validation_pass_rate",  # checks of full runs finished by then that passed
    "days_since_phase_1",  # development velocity while under way
    "development_velocity_days",  # phase 1 entered → deployment (6) passed, once it has
)


def _daily(project: Project, key: str, found: Metrics) -> list[tuple]:
    today = project.today()
    query = project.tracker.query
    # local days in SQLite, as deliverables.metrics does (`date(at, 'localtime')`)
    events = {
        date.fromisoformat(day): count
        for day, count in query(
            # per minute first (zones are whole minutes from UTC): one conversion per minute
            "SELECT date(minute, 'localtime') AS day, sum(n) FROM (SELECT CASE WHEN at LIKE "
            "'%Z' THEN substr(at, 1, 16) || ':00Z' ELSE at END AS minute, count(*) AS n "
            "FROM activity GROUP BY minute) GROUP BY day"
        )
    }
    if not events:
        return []
    approved_by_day: dict[date, int] = {}
    approved: dict[str, bool] = {}
    for day, subject, after in query(
        "SELECT date(at, 'localtime'), subject, after FROM activity "
        "WHERE action = 'deliverable.status' ORDER BY id"
    ):
        approved[subject] = after == "approved"
        approved_by_day[date.fromisoformat(day)] = sum(approved.values())
    first_day, last_day = min(events), max(max(events), today)

    closed_by_phase = [dict(zip(p.days, p.burnup, strict=True)) for p in found.phases]
    first_outcome: dict[str, tuple[date, str]] = {}
    passed_on: dict[str, date] = {}
    for day_text, phase, outcome in found.gates:
        day = date.fromisoformat(day_text)
        first_outcome.setdefault(phase, (day, outcome))
        if outcome in PASSING:
            passed_on.setdefault(phase, day)
    checks_by_day = {
        date.fromisoformat(day): (total, passing)
        for day, total, passing in query(
            "SELECT date(r.finished_at, 'localtime') AS day, count(*), "
            f"sum(c.outcome IN ({', '.join('?' * len(PASSING_CHECKS))})) "
            "FROM validation_runs r JOIN validation_results c ON c.run_id = r.id "
            "WHERE r.finished_at IS NOT NULL AND r.tier = 'full' GROUP BY day",
            PASSING_CHECKS,
        )
    }
    runs_by_day = {
        date.fromisoformat(day): count
        for day, count in query(
            "SELECT date(finished_at, 'localtime') AS day, count(*) FROM validation_runs "
            "WHERE finished_at IS NOT NULL GROUP BY day"
        )
    }

    started = found.phases[0].entered if found.phases else None
    deployment = next((p for p in found.phases if p.phase_id == "6"), None)
    rows: list[tuple] = []
    running_closed = [0] * len(closed_by_phase)
    delivered = 0
    checks_total = checks_passed = 0
    day = first_day
    while day <= last_day:
        for n, closed in enumerate(closed_by_phase):
            running_closed[n] = closed.get(day, running_closed[n])
        delivered = approved_by_day.get(day, delivered)
        total, passing = checks_by_day.get(day, (0, 0))
        checks_total += total
        checks_passed += passing
        firsts = [o for d, o in first_outcome.values() if d <= day]
        values: dict[str, float | None] = {
            "activity_events": events.get(day, 0),
            "required_items_closed": sum(running_closed),
            "deliverables_approved": delivered,
            "gates_passed": sum(1 for d in passed_on.values() if d <= day),
            "first_time_pass_rate": (
                sum(1 for o in firsts if o in PASSING) / len(firsts) if firsts else None
            ),
            "validation_runs": runs_by_day.get(day, 0),
            "validation_pass_rate": checks_passed / checks_total if checks_total else None,
            "days_since_phase_1": (day - started).days if started and started <= day else None,
            "development_velocity_days": (
                found.velocity_days
                if deployment and deployment.passed and deployment.passed <= day
                else None
            ),
        }
        rows += [
            (key, day, name, float(values[name]))
            for name in DAILY_METRICS
            if values[name] is not None
        ]
        day += timedelta(days=1)
    return rows


def _object(text: str | None) -> dict[str, Any]:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _number(value: Any, kind: type) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return kind(value)
