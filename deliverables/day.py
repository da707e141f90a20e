"""The engineer's day: what is mine, what is due, what others changed since my last session,
waivers about to expire (or just expired), gates waiting for my decision, drift found in the
sources I answer for (deliverables.profiles), and my stand-up note.

`phasegate today` prints it; the TUI opens on it for a returning user. Sessions (one row each
time someone opens phasegate's TUI or asks for their day) tell "since my last session".
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from deliverables.errors import TrackerError
from deliverables.gates import (
    DECISION_LABELS,
    GateRequest,
    decisions,
    expiring,
    open_request,
)
from deliverables.identity import display_name, possessive, same_person
from deliverables.paths import repo_file
from deliverables.profiles import StoredProfile, my_drift
from deliverables.store import Event
from phases.text import check_text

if TYPE_CHECKING:
    from deliverables.project import Project

WEEK = 7
CHANGES_SHOWN = 30


# NamedTuples and a plain class, not dataclasses: a frozen dataclass costs ~5 M instructions to
# define, and this module is imported by the day a returning user's TUI opens on.


class Standup(NamedTuple):
    day: str
    yesterday: str = ""
    today: str = ""
    blockers: str = ""


class Conflict(NamedTuple):
    """Two people set one field without seeing each other's change (deliverables.oplog): the
    later in the total order was kept; the other value stays in the history."""

    at: str
    subject: str  # "item:2.1.1"
    field: str
    kept: str | None
    kept_by: str
    lost: str | None
    lost_by: str

    @property
    def target(self) -> str:
        return self.subject.split(":", 1)[-1]

    def describe(self, me: str) -> str:
        """`Ana Ruiz set 2.1.1 done while you set it blocked; done was kept`."""

        def who(actor: str) -> str:
            return "you" if same_person(actor, me) else display_name(actor)

        def shown(value: str | None) -> str:
            return (
                (value or "(empty)").replace("_", " ")
                if self.field == "status"
                else (value or "(empty)")
            )

        what = "" if self.field == "status" else f"{self.field} "
        return (
            f"{who(self.kept_by)} set {self.target} {what}{shown(self.kept)} while "
            f"{who(self.lost_by)} set it {shown(self.lost)}; {shown(self.kept)} was kept "
            "(set it again to settle it)"
        )


def conflicts(project: Project) -> list[Conflict]:
    """Concurrent edits nobody has settled yet (a later write that saw the kept value
    settles one), newest first."""
    rows = project.tracker.query(
        "SELECT at, subject, field, kept, kept_by, lost, lost_by FROM conflicts "
        "WHERE resolved_by IS NULL ORDER BY id DESC"
    )
    return [Conflict(*row) for row in rows]


class Day:
    """My day, as day_view() gathers it."""

    def __init__(self, me: str, today: date, last_session: str | None) -> None:
        self.me, self.today, self.last_session = me, today, last_session
        self.items: list[tuple] = []  # (item, state) assigned to me, open
        self.deliverables: list[tuple] = []  # (deliverable, state) mine, open
        self.overdue: list[tuple] = []  # (item, state): mine, due before today
        self.team_overdue: list[tuple] = []  # (item, state): others', overdue
        self.due_this_week: list[tuple] = []  # (item, state): mine, due within 7 days
        self.changes: list[Event] = []  # others', since my last session
        self.waivers: list[tuple] = []  # (waiver, what to know)
        self.reviews: list[GateRequest] = []  # gates waiting for my decision
        self.standup: Standup | None = None
        self.conflicts: list[Conflict] = []  # concurrent edits not yet settled
        self.drift: list[StoredProfile] = []  # my sources whose latest profile found drift

    @property
    def returning(self) -> bool:
        return self.last_session is not None


def record_session(project: Project) -> str | None:
    """Notes that I opened phasegate now; returns when my previous session was (None: first)."""
    return project.tracker.start_session()


def last_session(project: Project) -> str | None:
    return project.tracker.last_session()


LOOK_UP = "look up"


def day_view(project: Project, since: str | None = LOOK_UP) -> Day:
    """My day. `since`: when my last session was (None: this is my first), by default as
    the sessions table says."""
    me, today = project.tracker.actor, project.today()
    since = last_session(project) if since == LOOK_UP else since
    day = Day(me, today, since)
    items, delivs = project.item_states(), project.deliverable_states()
    week = (today + timedelta(days=WEEK)).isoformat()
    for item in project.model.items:
        state = items.get(item.id)
        if state is None or state.status in ("done", "not_applicable"):
            continue
        mine = same_person(state.owner, me)
        if mine:
            day.items.append((item, state))
        if state.due and state.due < today.isoformat():
            (day.overdue if mine else day.team_overdue).append((item, state))
        elif mine and state.due and state.due <= week:
            day.due_this_week.append((item, state))
    day.overdue.sort(key=lambda pair: pair[1].due)
    day.team_overdue.sort(key=lambda pair: pair[1].due)
    day.due_this_week.sort(key=lambda pair: pair[1].due)
    for deliverable in project.model.deliverables:
        state = delivs.get(deliverable.id)
        if (
            state
            and same_person(state.owner, me)
            and state.status not in ("approved", "not_applicable")
        ):
            day.deliverables.append((deliverable, state))
    if since:
        others = [
            e for e in project.tracker.news_since_session(since) if not same_person(e.actor, me)
        ]
        day.changes = others[:CHANGES_SHOWN]
    day.waivers = expiring(project)
    for phase in project.model.phases:
        request = open_request(project, phase.id)
        if request is None or not any(same_person(me, r) for r in request.reviewers):
            continue
        if not any(same_person(me, d.reviewer) for d in decisions(project, request.id)):
            day.reviews.append(request)
    day.standup = standup(project, today)
    day.conflicts = conflicts(project)
    day.drift = my_drift(project, me)
    return day


def standup(project: Project, day: date) -> Standup | None:
    rows = project.tracker.query(
        "SELECT day, yesterday, today, blockers FROM standups WHERE actor = ? AND day = ?",
        (project.tracker.actor, day.isoformat()),
    )
    return Standup(*(value or "" for value in rows[0])) if rows else None


def save_standup(
    project: Project, *, yesterday: str | None, today: str | None, blockers: str | None
) -> Standup:
    """Saves (or updates) my stand-up note for today; None leaves a part as it was."""
    day = project.today()
    current = standup(project, day) or Standup(day.isoformat())
    parts = {
        "yesterday": current.yesterday if yesterday is None else yesterday.strip(),
        "today": current.today if today is None else today.strip(),
        "blockers": current.blockers if blockers is None else blockers.strip(),
    }
    if not any(parts.values()):
        raise TrackerError("a stand-up note needs at least one of yesterday, today, blockers")
    for name, text in parts.items():
        check_text(text, f"the stand-up's {name}", multiline=True, error=TrackerError)
    project.tracker.record(
        "standup",
        f"standup:{day.isoformat()}",
        {"day": day.isoformat(), **parts, "action": "stand-up note saved"},
    )
    return Standup(day.isoformat(), **parts)


def standups(project: Project, day: date) -> list[tuple[str, Standup]]:
    """Everyone's notes of a day: (who, note)."""
    rows = project.tracker.query(
        "SELECT actor, day, yesterday, today, blockers FROM standups WHERE day = ? ORDER BY actor",
        (day.isoformat(),),
    )
    return [(row[0], Standup(*(value or "" for value in row[1:]))) for row in rows]


def standup_path(project: Project, day: date) -> Path:
    """Where a day's markdown goes (`phasegate today -o`, the Today screen's export)."""
    return repo_file(project.root, f"docs/standups/{day.isoformat()}.md", what="the day's note")


def render_day(project: Project, day: Day) -> str:
    """The day as markdown (what `phasegate today` prints and `--export` writes)."""
    from deliverables.templating import render_template

    return render_template(
        "day.md.j2",
        {
            "project": project.name,
            "day": day,
            "me": possessive(display_name(day.me)),
            "labels": DECISION_LABELS,
            "team": standups(project, day.today),
        },
    )
