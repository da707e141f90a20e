"""History and metrics from the activity log and gate records, under a controlled clock."""

from __future__ import annotations

from datetime import timedelta

from deliverables.gates import decide, record_review, request_gate
from deliverables.metrics import metrics
from deliverables.report import render_status_report
from tests.conftest import NOW

ME = "Test Engineer <test@example.com>"


def test_durations_burnup_and_gate_outcomes(project):
    clock = {"now": NOW - timedelta(days=3)}
    project.tracker.clock = lambda: clock["now"]
    phase1 = project.model.phase("1")
    items = [i.id for i in phase1.items]
    for item_id in items[:4]:  # day 1: four items
        project.set_item(item_id, status="done")
    clock["now"] += timedelta(days=1)
    for item_id in items[4:]:  # day 2: the rest, one undone again
        project.set_item(item_id, status="done")
    project.set_item(items[0], status="todo")
    clock["now"] += timedelta(days=1)  # day 3: redone, deliverables approved, gate
    project.set_item(items[0], status="done")
    for d in phase1.deliverables:
        for status in ("draft", "in_review", "approved"):
            project.set_deliverable(d.id, status=status)
    request_gate(project, "1", [ME])
    decide(project, "1", "reject", "not yet")
    record_review(project, "1")
    request_gate(project, "1", [ME])  # a review closes its request: the next round is new
    decide(project, "1", "approve", "now")
    record_review(project, "1")
    clock["now"] = NOW
    found = metrics(project)
    first = found.phases[0]
    assert first.entered == (NOW - timedelta(days=3)).date()
    assert first.passed == (NOW - timedelta(days=1)).date()
    assert first.duration_days == 2
    assert first.burnup == [4, 11, 12] and first.required == 12
    assert first.sparkline() == "▃▇█"
    assert [o for _, _, o in found.gates] == ["failed", "passed"]
    assert found.first_time_pass_rate == 0.0  # phase 1's first review failed
    assert found.phases[1].entered is None and found.phases[1].burnup == []
    assert found.elapsed_days == 3 and found.velocity_days is None
    report = render_status_report(project)
    assert "| 1. Discovery & Requirements | 2026-11-24 | 2026-11-26 | 2 | `▃▇█` 12/12 |" in report
    assert "- 2026-11-26: phase 1 failed" in report and "- 2026-11-26: phase 1 passed" in report
