"""A demo project with realistic partial progress: what `make run` opens.

Four engineers, two weeks in: discovery is done, design is in review, the
environment is being set up, development is being planned. Every change goes through the same
`Project` calls as a user's, with its own author and time, so the activity log reads true.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path

from deliverables import git
from deliverables.day import record_session, save_standup
from deliverables.errors import TrackerError
from deliverables.gates import approve_waiver, decide, record_review, request_gate, request_waiver
from deliverables.identity import current_actor
from deliverables.project import STATE_DIR, Project
from deliverables.store import Clock, format_time, utc_now

ANA = "Ana Ruiz <ana.ruiz@example.com>"
BEN = "Ben Okafor <ben.okafor@example.com>"
CHEN = "Chen Li <chen.li@example.com>"
DANA = "Dana Weiss <dana.weiss@example.com>"

DEMO_PIPELINES = Path(__file__).with_name("demo_pipelines")
README = """\
# Retail events platform

Ingests point-of-sale and web-shop events into Iceberg tables, validates them with Great
Expectations, orchestrates them with Airflow and serves daily sales KPIs in Metabase.

This is phasegate's demo project: its delivery is tracked in `.phasegate/`.
"""


def create_demo(path: Path | str, *, clock: Clock = utc_now) -> Project:
    """Creates the demo project in `path` (which must not be a phasegate project yet)."""
    root = Path(path).resolve()
    if (root / STATE_DIR).exists():
        raise TrackerError(
            f"{root} is already a phasegate project; pick another folder for the demo"
        )
    now = clock()
    start = now - timedelta(days=14)
    timeline = _Timeline(start)
    if not (root / ".git").exists():
        # its own repository even inside another one: the demo's commit must land in the demo
        root.mkdir(parents=True, exist_ok=True)
        git.init(root)
    project, _ = Project.init(root, clock=timeline, actor=ANA)
    _commit_readme(root, start)
    today = now.date()

    def due(days: int) -> str:
        return (today + timedelta(days=days)).isoformat()

    def as_(actor: str, hours: float) -> None:
        project.tracker.actor = actor
        timeline.advance(hours)

    # Phase 1 — done and approved.
    owners_1 = {"1.1": ANA, "1.2": BEN, "1.3": CHEN}
    for sub in project.model.phase("1").sub_phases:
        for item in sub.items:
            as_(owners_1[sub.id], 0.2)
            project.set_item(item.id, owner=owners_1[sub.id].split(" <")[0])
        for item in sub.items:
            as_(owners_1[sub.id], 5)
            project.set_item(item.id, status="done")
    project.set_item("1.3.1", note="12 % of POS events lack a store id; quality rule proposed")
    for deliverable, owner in zip(
        project.model.phase("1").deliverables, (ANA, BEN, CHEN, CHEN, ANA), strict=True
    ):
        as_(owner, 3)
        project.set_deliverable(deliverable.id, owner=owner.split(" <")[0], status="draft")
        as_(owner, 6)
        project.set_deliverable(deliverable.id, status="in_review")
        as_(ANA, 4)
        project.set_deliverable(deliverable.id, status="approved")

    # Phase 1's gate: requested, decided by two reviewers (one with a condition), recorded.
    as_(ANA, 2)
    request_gate(project, "1", [BEN, DANA])
    as_(BEN, 3)
    decide(project, "1", "approve", "Requirements and profiling are complete")
    as_(DANA, 2)
    decide(project, "1", "conditions", "Keep the profiling notebook in the repository")
    as_(ANA, 1)
    record_review(project, "1")

    # Phase 2 — mostly designed, two documents still in review or draft.
    owners_2 = {"2.1": BEN, "2.2": CHEN, "2.3": DANA}
    for sub in project.model.phase("2").sub_phases:
        for item in sub.items:
            as_(owners_2[sub.id], 2)
            project.set_item(item.id, owner=owners_2[sub.id].split(" <")[0])
    for item_id in (
        "2.1.1",
        "2.1.2",
        "2.1.3",
        "2.1.4",
        "2.2.1",
        "2.2.2",
        "2.2.4",
        "2.3.1",
        "2.3.2",
    ):
        as_(owners_2[item_id[:3]], 7)
        project.set_item(item_id, status="done")
    as_(CHEN, 1)
    project.set_item(
        "2.2.3",
        status="not_applicable",
        reason="Sources are append-only events; no dimension changes over time",
    )
    as_(DANA, 1)
    project.set_item(
        "2.3.3", due=due(-2), note="Waiting for the security team's audit-log retention rule"
    )
    project.set_item("2.3.4", due=due(1))
    for deliverable_id, owner, steps in (
        ("D2.1", BEN, ("draft", "in_review", "approved")),
        ("D2.2", BEN, ("draft", "in_review")),
        ("D2.3", CHEN, ("draft", "in_review", "approved")),
        ("D2.4", DANA, ("draft",)),
        ("D2.5", BEN, ("draft",)),
    ):
        as_(owner, 2)
        project.set_deliverable(deliverable_id, owner=owner.split(" <")[0])
        for status in steps:
            as_(owner if status != "approved" else ANA, 5)
            project.set_deliverable(deliverable_id, status=status)

    # The security review is late: Dana asks to waive it for now, Ana approves; the gate of
    # phase 2 is open, Chen has approved, Ana has not decided yet.
    as_(DANA, 1)
    waiver = request_waiver(
        project, "2.3.3", "The security team sets the audit-log retention by next sprint", due(4)
    )
    as_(ANA, 1)
    approve_waiver(project, waiver.id)
    as_(BEN, 1)
    request_gate(project, "2", [ANA, CHEN])
    as_(CHEN, 2)
    decide(project, "2", "approve", "The data model matches the profiling findings")
    as_(ANA, 0.5)
    record_session(project)  # Ana's last session: what the others do from here is news to her
    save_standup(
        project,
        yesterday="Approved the waiver for the audit-log retention",
        today="Review phase 2's gate; unblock the CI set-up",
        blockers="",
    )

    # Phase 3 — the environment is being set up.
    for item in project.model.phase("3").items:
        as_(BEN, 0.5)
        project.set_item(
            item.id, owner="Ben Okafor" if item.sub_phase_id == "3.1" else "Dana Weiss"
        )
    for item_id in ("3.1.1", "3.1.2", "3.1.3", "3.1.4", "3.1.5", "3.1.6", "3.2.1"):
        as_(BEN if item_id.startswith("3.1") else DANA, 3)
        project.set_item(item_id, status="done")
    for item_id, days in (
        ("3.1.7", 0),
        ("3.1.8", 3),
        ("3.1.10", 4),
        ("3.2.2", 2),
        ("3.2.3", 5),
        ("3.2.4", 9),
    ):
        as_(BEN, 0.3)
        project.set_item(item_id, due=due(days))
    as_(DANA, 2)
    project.set_deliverable("D3.1", owner="Dana Weiss", status="draft")
    as_(BEN, 2)
    project.set_deliverable("D3.6", owner="Ben Okafor", status="draft")
    project.set_deliverable("D3.3", owner="Ben Okafor")

    _dana_on_her_own_clone(project, timeline)

    # Phase 4 — planned: owners and first due dates.
    for item_id, owner, days in (
        ("4.1.1", "Chen Li", 12),
        ("4.1.2", "Chen Li", 19),
        ("4.2.1", "Ben Okafor", 8),
    ):
        as_(ANA, 1)
        project.set_item(item_id, owner=owner, due=due(days))

    project.tracker.clock = clock
    # from here on whoever runs phasegate acts (PHASEGATE_USER or git), not the demo's cast
    project.tracker.actor = partial(current_actor, root)
    return project


# Dana's clone: a second replica. Its id sorts before any random one, so the demo's order (and
# which of two concurrent values is kept) is the same every time.
DANA_CLONE = "0" * 31 + "d"


def _dana_on_her_own_clone(project: Project, timeline: _Timeline) -> None:
    """Two replicas and a conflict to look at: offline on her own clone, Dana marked 3.2.4
    blocked while Ben, on his, marked it done. Her op arrives as a sync would bring it (and
    waits in the outbox, so the next `phasegate sync` shares it): both values are in the
    history, Ben's (later in the total order) is kept, and the day view shows the conflict."""
    from deliverables.oplog import Op

    tracker = project.tracker
    (held,) = tracker.query("SELECT winners FROM items WHERE id = '3.2.4'")[0]
    winners = {name: won[0] for name, won in json.loads(held or "{}").items()}
    seen = tracker.query("SELECT max(lamport) FROM ops")[0][0]
    tracker.actor = BEN
    timeline.advance(1)
    project.set_item("3.2.4", status="done")
    offline = Op.create(
        lamport=seen,  # what Dana's clone had seen when she wrote: before Ben's change
        replica=DANA_CLONE,
        author=DANA,
        at=format_time(timeline() - timedelta(minutes=20)),
        kind="item.set",
        subject="3.2.4",
        payload={
            "fields": [
                ["status", "blocked", winners.get("status")],
                ["reason", "The secrets vault is not provisioned yet", winners.get("reason")],
            ]
        },
    )
    tracker.integrate([offline], {}, in_git=False)


class _Timeline:
    """A clock the demo moves forward by hand, so its events spread over past weeks."""

    def __init__(self, start: datetime) -> None:
        self.moment = start

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, hours: float) -> None:
        self.moment += timedelta(hours=hours)


def _commit_readme(root: Path, when: datetime) -> None:
    """The first commit: a README and the two pipeline specs the team has drafted."""
    readme = root / "README.md"
    if readme.exists():
        return
    readme.write_text(README)
    specs = root / "pipelines"
    specs.mkdir(exist_ok=True)
    for spec in sorted(DEMO_PIPELINES.glob("*.yaml")):
        (specs / spec.name).write_text(spec.read_text())
    git.commit_paths(
        root,
        ["README.md", ".phasegate/.gitignore", "pipelines"],
        "Start the retail events platform",
        name="Ana Ruiz",
        email="ana.ruiz@example.com",
        # dated when the demo's story starts: the same clock gives the same commit
        date=when.isoformat(),
    )
