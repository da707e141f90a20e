"""Gate reviews with waivers under a fixed clock, immutable records, the gate report and its
commit on a real repository (dirty tree, someone else's staged changes), and the day view."""

from __future__ import annotations

import subprocess
from datetime import timedelta

import pytest

from deliverables import Project, TrackerError
from deliverables.day import day_view, record_session, render_day, save_standup
from deliverables.gates import (
    approve_waiver,
    decide,
    evaluate,
    record_review,
    render_report,
    request_gate,
    request_waiver,
    review,
    reviews,
    waivers,
    write_report,
)
from tests.conftest import NOW

LEAD = "Ana Ruiz <ana@example.com>"
REVIEWER = "Ben Okafor <ben@example.com>"
ENGINEER = "Chen Li <chen@example.com>"


def as_(project: Project, actor: str) -> Project:
    project.tracker.actor = actor
    return project


def finish_phase_1(project: Project, skip: tuple[str, ...] = ()) -> None:
    phase = project.model.phase("1")
    for item in phase.items:
        if item.id not in skip:
            project.set_item(item.id, status="done")
    for d in phase.deliverables:
        for status in ("draft", "in_review", "approved"):
            project.set_deliverable(d.id, status=status)


def git(root, *args) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=T", "-c", "user.email=t@example.com", *args],
        cwd=root, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip


@pytest.fixture
def repo(project):
    (project.root / "README.md").write_text("solution\n")
    git(project.root, "add", "README.md")
    git(project.root, "commit", "-qm", "start")
    return project


def test_a_gate_lists_exactly_what_blocks_it(project):
    project.set_item("1.1.1", status="done")
    evaluation = evaluate(project, "1")
    assert evaluation.outcome == "failed"
    statuses = {c.id: c.status for c in evaluation.criteria}
    assert statuses == {"G1.1": "unmet", "G1.2": "unmet", "G1.3": "pending"}
    blockers = evaluation.blockers
    assert "G1.1: 1.1.2 Define SLAs, data freshness requirements, and KPIs (todo)" in blockers
    assert "G1.2: D1.1 Business Requirements Document (missing)" in blockers
    assert "G1.3: no review requested yet (`phasegate gate request`)" in blockers
    assert not any(b.startswith("G1.1: 1.1.1 ") for b in blockers)  # done: not a blocker


def test_reviewers_decide_and_the_recorded_review_is_immutable(repo):
    project = as_(repo, LEAD)
    finish_phase_1(project)
    request_gate(project, "1", [REVIEWER, ENGINEER])
    assert project.phase_status(project.model.phase("1")) == "in_review"
    with pytest.raises(TrackerError, match="already in review"):
        request_gate(project, "1", [REVIEWER])
    with pytest.raises(TrackerError, match="you \\(Ana Ruiz\\) are not a reviewer"):
        decide(project, "1", "approve", "fine")
    as_(project, REVIEWER)
    with pytest.raises(TrackerError, match="needs a comment"):
        decide(project, "1", "approve", "  ")
    decide(project, "1", "reject", "The BRD lacks the SLAs")
    decide(project, "1", "approve", "SLAs added in the BRD")  # a later decision supersedes
    evaluation = evaluate(project, "1")
    assert evaluation.outcome == "pending"
    assert evaluation.blockers == ["G1.3: awaiting the decision of Chen Li"]
    as_(project, ENGINEER)
    decide(project, "1", "conditions", "Keep the profiling notebook in the repo")
    as_(project, LEAD)
    recorded = record_review(project, "1")
    assert recorded.outcome == "passed"
    assert project.phase_status(project.model.phase("1")) == "passed"
    assert recorded.git_commit == git(project.root, "rev-parse", "HEAD").strip()
    assert recorded.git_dirty == 0
    data = recorded.data
    reviewer = next(c for c in data["criteria"] if c["id"] == "G1.3")
    assert reviewer["evidence"] == [
        "Ben Okafor: approved — SLAs added in the BRD",
        "Chen Li: approved with conditions — Keep the profiling notebook in the repo",
    ]
    assert [d["decision"] for d in data["decisions"]] == [
        "reject",
        "approve",
        "approve_with_conditions",
    ]
    # nothing edits or deletes a record, not even SQL through the tracker
    for statement in (
        "UPDATE gate_reviews SET outcome = 'failed'",
        "DELETE FROM gate_reviews",
        "DELETE FROM gate_decisions",
        "UPDATE gate_requests SET reviewers = '[]'",
    ):
        with pytest.raises(TrackerError, match="append-only"):
            project.tracker.execute(statement, action="tamper", subject="gate:1")
    assert review(project, recorded.id).outcome == "passed"
    # a correction is a new review naming the one it corrects
    project.set_item("1.1.1", status="todo")
    correction = record_review(project, "1", corrects=recorded.id)
    assert correction.outcome == "failed" and correction.corrects == recorded.id
    assert [r.id for r in reviews(project, "1")] == [recorded.id, correction.id]


def test_waivers_need_another_approver_and_stop_counting_when_expired(project):
    clock = {"now": NOW}
    project.tracker.clock = lambda: clock["now"]
    as_(project, LEAD)
    finish_phase_1(project, skip=("1.2.4",))
    request_gate(project, "1", [REVIEWER])
    as_(project, REVIEWER)
    decide(project, "1", "approve", "ok")
    assert evaluate(project, "1").outcome == "failed"
    as_(project, ENGINEER)
    with pytest.raises(TrackerError, match=r"unknown waiver target 'G9\.9'"):
        request_waiver(project, "G9.9", "why", "2026-12-01")
    with pytest.raises(TrackerError, match="in the past"):
        request_waiver(project, "1.2.4", "why", "2026-11-01")
    with pytest.raises(TrackerError, match="needs a reason"):
        request_waiver(project, "1.2.4", " ", "2026-12-01")
    waiver = request_waiver(
        project, "1.2.4", "Costed in phase 2 with the platform team", "2026-11-30"
    )
    assert waiver.state(project.today()) == "pending approval"
    assert evaluate(project, "1").outcome == "failed"  # not approved: does not count
    with pytest.raises(TrackerError, match="another person must approve"):
        approve_waiver(project, waiver.id)
    as_(project, LEAD)
    approve_waiver(project, waiver.id)
    with pytest.raises(TrackerError, match="already approved by Ana Ruiz"):
        approve_waiver(project, waiver.id)
    evaluation = evaluate(project, "1")
    assert evaluation.outcome == "passed_with_waivers"
    checklist = next(c for c in evaluation.criteria if c.id == "G1.1")
    assert checklist.status == "waived" and checklist.waivers == [waiver.id]
    # the last day it counts is its expiry day; the day after, it does not
    clock["now"] = NOW + timedelta(days=3)
    assert evaluate(project, "1").outcome == "passed_with_waivers"
    clock["now"] = NOW + timedelta(days=4)
    assert evaluate(project, "1").outcome == "failed"
    assert waivers(project)[0].state(project.today()) == "expired"
    with pytest.raises(TrackerError, match="never edited"):
        project.tracker.execute(
            "UPDATE waivers SET expires = '2030-01-01'", action="tamper", subject="waiver"
        )


def test_a_phase_cannot_pass_before_the_earlier_ones_unless_a_waiver_says_why(project):
    as_(project, LEAD)
    phase2 = project.model.phase("2")
    for item in phase2.items:
        project.set_item(item.id, status="done")
    for d in phase2.deliverables:
        for status in ("draft", "in_review", "approved"):
            project.set_deliverable(d.id, status=status)
    request_gate(project, "2", [REVIEWER])
    as_(project, REVIEWER)
    decide(project, "2", "approve", "design is sound")
    evaluation = evaluate(project, "2")
    assert evaluation.blockers == [
        "G2.0: phase 1 (Discovery & Requirements) has not passed its gate"
    ]
    waiver = request_waiver(
        project, "G2.0", "Discovery runs late; design was signed off", "2026-12-15"
    )
    as_(project, LEAD)
    approve_waiver(project, waiver.id)
    recorded = record_review(project, "2")
    assert recorded.outcome == "passed_with_waivers"
    assert project.phase_status(phase2) == "passed"
    report = render_report(project, recorded)
    assert "Outcome: **passed with waivers**" in report
    assert (
        "| 1 | G2.0 | Discovery runs late; design was signed off | Ben Okafor | Ana Ruiz | 2026-12-15 | active | yes |"
        in report
    )


def test_the_gate_report_commit_takes_that_file_alone(repo):
    project = as_(repo, LEAD)
    root = project.root
    finish_phase_1(project)
    request_gate(project, "1", [REVIEWER])
    as_(project, REVIEWER)
    decide(project, "1", "approve", "complete")
    as_(project, LEAD)
    # a teammate's work in progress: one change staged, one only in the working tree
    (root / "staged.txt").write_text("staged by someone else\n")
    git(root, "add", "staged.txt")
    (root / "README.md").write_text("solution, edited\n")
    recorded = record_review(project, "1")
    assert recorded.git_dirty == 1  # the tree differed from HEAD when the gate was judged
    path, sha = write_report(project, recorded, commit=True)
    assert path == root / "docs" / "gates" / f"phase-1-{recorded.at[:10]}.md"
    shown = [
        line
        for line in git(root, "show", "--name-only", "--format=%s|%an", sha).splitlines()
        if line
    ]
    assert shown == [
        "Gate review of phase 1 (Discovery & Requirements): passed|Ana Ruiz",
        f"docs/gates/{path.name}",
    ]
    status = git(root, "status", "--porcelain")
    assert "A  staged.txt" in status  # still staged, not committed
    assert " M README.md" in status  # still modified, not staged
    assert "docs/gates" not in status
    # a second review the same day gets its own file
    second = record_review(project, "1")
    path2, _ = write_report(project, second)
    assert path2.name == f"phase-1-{second.at[:10]}-2.md" and path.read_text() != path2.read_text()


def test_the_day_view_shows_what_is_mine_and_what_others_did(project):
    clock = {"now": NOW}
    project.tracker.clock = lambda: clock["now"]
    as_(project, LEAD)
    project.set_item("1.1.1", owner="Ana Ruiz", due="2026-11-29")
    project.set_item("1.1.2", owner="ana@example.com", due="2026-12-20")
    project.set_item("1.2.1", owner="Chen Li", due="2026-11-20")  # overdue, someone else's
    project.set_item("1.2.2", owner="Chen Li", due="2026-11-21")  # overdue, stays open
    project.set_item("1.3.1", owner="Ana Ruiz", due="2026-11-26")  # overdue, mine
    project.set_deliverable("D1.1", owner="Ana Ruiz")
    assert record_session(project) is None  # first session
    clock["now"] = NOW + timedelta(hours=2)
    as_(project, ENGINEER)
    project.set_item("1.2.1", status="done")
    request_gate(project, "1", [LEAD])
    waiver = request_waiver(project, "1.3.4", "Lineage tooling comes in phase 6", "2026-11-30")
    as_(project, LEAD)
    clock["now"] = NOW + timedelta(hours=3)
    day = day_view(project)
    assert day.returning and day.last_session == "2026-11-27T09:30:00Z"
    assert [i.id for i, _ in day.items] == ["1.1.1", "1.1.2", "1.3.1"]
    assert [d.id for d, _ in day.deliverables] == ["D1.1"]
    assert [i.id for i, _ in day.due_this_week] == ["1.1.1"]
    assert [i.id for i, _ in day.overdue] == ["1.3.1"]
    assert [i.id for i, _ in day.team_overdue] == ["1.2.2"]  # 1.2.1 got done
    assert {e.subject for e in day.changes} == {"1.2.1", "gate:1", "waiver:1.3.4"}
    assert [r.phase for r in day.reviews] == ["1"]
    assert [(w.id, what) for w, what in day.waivers] == [(waiver.id, "awaiting approval")]
    save_standup(project, yesterday="BRD review", today="Gate 1", blockers=None)
    save_standup(project, yesterday=None, today=None, blockers="Waiting for the SLA numbers")
    text = render_day(project, day_view(project))
    assert text.startswith("# Ana Ruiz's day — 2026-11-27")
    assert "- Blockers: Waiting for the SLA numbers" in text and "- Yesterday: BRD review" in text
    assert "phase 1, requested" in text
    with pytest.raises(TrackerError, match="at least one"):
        save_standup(project, yesterday="", today="", blockers="")


def test_cli_gate_and_waiver_commands(repo, capsys):
    from cli.main import main

    root = str(repo.root)
    assert main(["-C", root, "gate", "status", "1"]) == 1  # the gate does not pass: exit 1, for CI
    out = capsys.readouterr().out
    assert out.startswith("Gate of phase 1 (Discovery & Requirements): failed")
    assert "✘ G1.1" in out and "Blocked by:" in out
    assert main(["-C", root, "gate", "request", "1"]) == 1
    assert "name at least one reviewer" in capsys.readouterr().err
    assert main(["-C", root, "gate", "request", "1", "--reviewer", REVIEWER]) == 0
    assert (
        main(["-C", root, "waiver", "request", "1.1.1", "--reason", "r", "--expires", "soon"]) == 1
    )
    assert "--expires 'soon' is not YYYY-MM-DD" in capsys.readouterr().err
    assert main(["-C", root, "gate", "review", "1", "--commit"]) == 1  # failed outcome: exit 1
    out = capsys.readouterr().out
    assert "Gate review 1 of phase 1: failed" in out and "committed" in out
    assert main(["-C", root, "gate", "history"]) == 0
    assert "phase 1" in capsys.readouterr().out
    assert main(["-C", root, "today"]) == 0
    assert "'s day — " in capsys.readouterr().out


def test_every_criterion_kind_of_the_process_model_has_an_evaluator():
    from deliverables.gates import CRITERIA
    from phases.model import GATE_KINDS

    assert set(CRITERIA) == set(GATE_KINDS)
