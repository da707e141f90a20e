"""Issue 9 §4: the phase-order criterion G<N>.0 honours corrections. A phase's newest review is
its verdict, for its status and for the gates after it alike."""

from __future__ import annotations

import pytest

from deliverables.gates import decide, evaluate, record_review, request_gate
from tests.test_gates import LEAD, REVIEWER, as_, finish_phase_1


def _order(project) -> str:
    return next(c for c in evaluate(project, "2").criteria if c.id == "G2.0").status


@pytest.mark.parametrize(
    ("outcomes", "phase_1", "g2_0"),
    [
        (["passed"], "passed", "met"),
        (["failed"], "in_progress", "unmet"),
        (["passed", "failed"], "in_progress", "unmet"),  # the case
        (["failed", "passed"], "passed", "met"),
        (["passed", "failed", "passed"], "passed", "met"),
        (["passed", "passed", "failed"], "in_progress", "unmet"),
        (["failed", "failed"], "in_progress", "unmet"),
    ],
)
def test_the_newest_review_of_a_phase_decides_the_order_criterion(project, outcomes, phase_1, g2_0):
    as_(project, LEAD)
    finish_phase_1(project)
    request_gate(project, "1", [REVIEWER])
    as_(project, REVIEWER)
    decide(project, "1", "approve", "fine")
    as_(project, LEAD)
    previous = None
    for outcome in outcomes:
        # a failed review: one checklist item is back to todo when it is recorded
        project.set_item("1.1.1", status="done" if outcome == "passed" else "todo")
        previous = record_review(project, "1", corrects=previous.id if previous else None)
        assert previous.outcome == outcome
    assert project.phase_status(project.model.phase("1")) == phase_1
    assert _order(project) == g2_0
    evidence = next(c for c in evaluate(project, "2").criteria if c.id == "G2.0")
    if g2_0 == "met":
        assert evidence.evidence == ["phase 1 passed"]
    else:
        assert evidence.blockers == ["phase 1 (Discovery & Requirements) has not passed its gate"]
