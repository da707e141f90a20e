"""Phase gates: criteria evaluated live, waivers, reviewers' decisions, immutable gate reviews.

A gate review walks through four steps, each an append-only row in the tracker:
a request names the reviewers (the phase is then "in review"); each reviewer decides (approve,
reject, approve with conditions; always with a comment; a later decision of the same reviewer
supersedes theirs); the lead records the review, which freezes the criteria with their evidence,
the decisions, the waivers that counted and the repository's HEAD commit (and whether the tree
was dirty). A correction is a new review that names the one it corrects; SQLite triggers refuse
any edit or deletion of these rows.

A waiver covers a gate criterion (`G4.3`; `G<N>.0` is the implicit "the phases before have
passed") or a checklist item, with a reason, a requester, an approver who is not the requester,
and an expiry date: it counts from its approval through its expiry day, then stops counting.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from deliverables.errors import TrackerError
from deliverables.identity import display_name, same_person
from deliverables.paths import repo_file
from deliverables.statuses import GATE_OUTCOMES, PASSING
from phases.text import check_text

if TYPE_CHECKING:
    from deliverables.project import Project
    from phases import Phase
    from phases.model import GateCriterion

DECISIONS = ("approve", "reject", "approve_with_conditions")
DECISION_LABELS = {
    "approve": "approved",
    "reject": "rejected",
    "approve_with_conditions": "approved with conditions",
}
EXPIRING_DAYS = 7  # the day view warns this long before a waiver expires


# The records below are NamedTuples (Criterion, which an evaluation updates, a plain class):
# a frozen dataclass costs ~5 M instructions to define (Python compiles its generated methods
# with `exec`), a NamedTuple ~1 M, and this module is imported by the day a returning user's
# TUI opens on (bench/startup.py --returning).


class Waiver(NamedTuple):
    id: int
    target: str
    reason: str
    requester: str
    requested_at: str
    expires: str
    approver: str | None = None
    approved_at: str | None = None

    def state(self, today: date) -> str:
        """pending approval | active | expired."""
        if self.expires < today.isoformat():
            return "expired"
        return "active" if self.approver else "pending approval"

    def counts(self, today: date) -> bool:
        return self.state(today) == "active"


class Decision(NamedTuple):
    id: int
    request_id: int
    reviewer: str
    decision: str
    comment: str
    at: str


class GateRequest(NamedTuple):
    id: int
    phase: str
    at: str
    actor: str
    reviewers: tuple[str, ...]


class Criterion:
    """A gate criterion as judged now; a waiver that counts changes its status afterwards."""

    FIELDS = ("id", "kind", "text", "status", "evidence", "blockers", "waivers")
    __slots__ = ("blockers", "evidence", "id", "kind", "status", "text", "waivers")

    def __init__(
        self,
        *,
        id: str,
        kind: str,
        text: str,
        status: str,  # met | waived | unmet | pending
        evidence: list[str] | None = None,
        blockers: list[str] | None = None,
        waivers: list[int] | None = None,  # the waivers that made it count
    ) -> None:
        self.id, self.kind, self.text, self.status = id, kind, text, status
        self.evidence = [] if evidence is None else evidence
        self.blockers = [] if blockers is None else blockers
        self.waivers = [] if waivers is None else waivers

    def as_dict(self) -> dict:
        """The fields in their order (what a recorded review stores)."""
        return {name: getattr(self, name) for name in self.FIELDS}

    def _values(self) -> tuple:
        return tuple(getattr(self, name) for name in self.FIELDS)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Criterion):
            return NotImplemented
        return self._values() == other._values()

    __hash__ = None  # mutable, as the dataclass it was

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.FIELDS)
        return f"Criterion({fields})"


class Evaluation(NamedTuple):
    phase: str
    criteria: list[Criterion]
    request: GateRequest | None
    decisions: list[Decision]
    waivers: list[Waiver]  # every waiver that names this phase's criteria or items

    @property
    def outcome(self) -> str:
        """passed | passed_with_waivers | pending (decisions outstanding) | failed."""
        statuses = {c.status for c in self.criteria}
        if "unmet" in statuses:
            return "failed"
        if "pending" in statuses:
            return "pending"
        return "passed_with_waivers" if "waived" in statuses else "passed"

    @property
    def blockers(self) -> list[str]:
        return [
            f"{c.id}: {b}"
            for c in self.criteria
            if c.status in ("unmet", "pending")
            for b in (c.blockers or [c.text])
        ]


class Review(NamedTuple):
    id: int
    phase: str
    request_id: int | None
    outcome: str
    at: str
    actor: str
    git_commit: str | None
    git_dirty: int | None
    record: str
    corrects: int | None
    follows: str | None = None  # the op the review follows: the tracker's state it evaluated

    @property
    def data(self) -> dict:
        return json.loads(self.record)


# --- reading --------------------------------------------------------------------------------------


def waivers(project: Project) -> list[Waiver]:
    rows = project.tracker.query(f"SELECT {_columns(Waiver)} FROM waivers ORDER BY id")
    return [Waiver(*row) for row in rows]


def requests(project: Project, phase: str | None = None) -> list[GateRequest]:
    sql = "SELECT id, phase, at, actor, reviewers FROM gate_requests"
    rows = project.tracker.query(
        sql + (" WHERE phase = ?" if phase else "") + " ORDER BY id", [phase] if phase else []
    )
    return [GateRequest(r[0], r[1], r[2], r[3], tuple(json.loads(r[4]))) for r in rows]


def decisions(project: Project, request_id: int) -> list[Decision]:
    rows = project.tracker.query(
        f"SELECT {_columns(Decision)} FROM gate_decisions WHERE request_id = ? ORDER BY id",
        (request_id,),
    )
    return [Decision(*row) for row in rows]


def reviews(project: Project, phase: str | None = None) -> list[Review]:
    sql = f"SELECT {_columns(Review)} FROM gate_reviews"
    rows = project.tracker.query(
        sql + (" WHERE phase = ?" if phase else "") + " ORDER BY id", [phase] if phase else []
    )
    return [Review(*row) for row in rows]


def review(project: Project, review_id: int) -> Review:
    rows = project.tracker.query(
        f"SELECT {_columns(Review)} FROM gate_reviews WHERE id = ?", (review_id,)
    )
    if not rows:
        raise TrackerError(f"no gate review {review_id} (`phasegate gate history` lists them)")
    return Review(*rows[0])


def open_request(project: Project, phase: str) -> GateRequest | None:
    """The phase's latest request, unless a review was recorded after it."""
    asked = requests(project, phase)
    if not asked:
        return None
    done = reviews(project, phase)
    latest = asked[-1]
    if done and done[-1].request_id is not None and done[-1].request_id >= latest.id:
        return None
    return latest


def gate_states(project: Project) -> dict[str, str]:
    """Per phase with any gate activity: passed | in_review (what phase_status needs)."""
    return project.tracker.gate_states(PASSING)


def latest_decisions(items: list[Decision]) -> dict[str, Decision]:
    """Per reviewer (by identity), their newest decision."""
    latest: dict[str, Decision] = {}
    for d in items:
        key = next((k for k in latest if same_person(k, d.reviewer)), d.reviewer)
        latest[key] = d
    return latest


# --- evaluating -----------------------------------------------------------------------------------


def evaluate(project: Project, phase_id: str) -> Evaluation:
    """The gate of a phase as it stands now."""
    phase = _phase(project, phase_id)
    today = project.today()
    all_waivers = waivers(project)
    items, delivs = project.item_states(), project.deliverable_states()
    targets = {c.id for c in phase.gate} | {order_criterion(phase)} | {i.id for i in phase.items}
    relevant = [w for w in all_waivers if w.target in targets]
    counting = {w.target: w for w in relevant if w.counts(today)}
    request = open_request(project, phase.id) or _last_reviewed_request(project, phase.id)
    made = decisions(project, request.id) if request else []
    context = GateContext(project, phase, items, delivs, counting, request, made)
    criteria = [_order(project, phase)] if phase.number > 1 else []
    for criterion in phase.gate:
        # the process model admits only the kinds of phases.model.GATE_KINDS, each evaluated here
        criteria.append(CRITERIA[criterion.kind](criterion, context))
    for criterion in criteria:
        waiver = counting.get(criterion.id)
        if waiver is not None and criterion.status in ("unmet", "pending"):
            criterion.status = "waived"
            criterion.waivers.append(waiver.id)
            criterion.evidence.append(
                f"waived by waiver {waiver.id} until {waiver.expires}: {waiver.reason}"
            )
    return Evaluation(phase.id, criteria, request, made, relevant)


class GateContext(NamedTuple):
    """What a criterion's evaluator may look at."""

    project: Project
    phase: Phase
    items: dict
    deliverables: dict
    waivers: dict[str, Waiver]  # target -> the waiver that counts today
    request: GateRequest | None
    decisions: list[Decision]


def _validations(criterion, context: GateContext) -> Criterion:
    """Fed by the stored validation runs (pipelines.validation)."""
    from deliverables.validations import validations_green

    met, lines = validations_green(context.project, context.phase.id)
    blockers = [line for line in lines if ": passed" not in line]
    return _judged(criterion, "met" if met else "unmet", evidence=lines, blockers=blockers)


# Each gate-criterion kind of the process model (phases.model.GATE_KINDS) and the function that
# evaluates it; tests/test_gates.py checks that the two lists agree.
CRITERIA: dict[str, Callable[[object, GateContext], Criterion]] = {
    "checklist_complete": lambda c, ctx: _checklist(c, ctx.phase, ctx.items, ctx.waivers),
    "deliverables_approved": lambda c, ctx: _deliverables(c, ctx.phase, ctx.deliverables),
    "validations_green": _validations,
    "reviewer_approval": lambda c, ctx: _reviewers(c, ctx.request, ctx.decisions),
}


def order_criterion(phase: Phase) -> str:
    return f"G{phase.id}.0"


def _order(project: Project, phase: Phase) -> Criterion:
    """G<N>.0: every earlier phase has passed. A phase's newest review is its verdict, as for
    its status: a correction (a later review, failed) takes an earlier pass back."""
    earlier = [p for p in project.model.phases if p.number < phase.number]
    newest: dict[str, Review] = {}
    for recorded in reviews(project):  # by id: a later review supersedes the ones before
        newest[recorded.phase] = recorded
    passed = {p.id for p in earlier if p.id in newest and newest[p.id].outcome in PASSING}
    missing = [p for p in earlier if p.id not in passed]
    return Criterion(
        id=order_criterion(phase),
        kind="phase_order",
        text=f"The phases before phase {phase.id} have passed",
        status="unmet" if missing else "met",
        evidence=[f"phase {p.id} passed" for p in earlier if p.id in passed],
        blockers=[f"phase {p.id} ({p.title}) has not passed its gate" for p in missing],
    )


def _checklist(criterion, phase: Phase, items: dict, counting: dict[str, Waiver]) -> Criterion:
    open_items, waived, done = [], [], 0
    for item in phase.items:
        if item.optional:
            continue
        state = items.get(item.id)
        status = state.status if state else "todo"
        if status in ("done", "not_applicable"):
            done += 1
        elif item.id in counting:
            waived.append(counting[item.id])
        else:
            why = f": {state.reason}" if state and state.reason else ""
            open_items.append(f"{item.id} {item.text} ({status.replace('_', ' ')}{why})")
    required = done + len(waived) + len(open_items)
    evidence = [f"{done}/{required} required items done or not applicable"]
    evidence += [
        f"item {w.target} waived by waiver {w.id} until {w.expires}: {w.reason}" for w in waived
    ]
    status = "unmet" if open_items else ("waived" if waived else "met")
    return _judged(
        criterion, status, evidence=evidence, blockers=open_items, waivers=[w.id for w in waived]
    )


def _deliverables(criterion, phase: Phase, delivs: dict) -> Criterion:
    missing, done = [], 0
    for d in phase.deliverables:
        if d.optional:
            continue
        state = delivs.get(d.id)
        status = state.status if state else "missing"
        if status in ("approved", "not_applicable"):
            done += 1
        else:
            missing.append(f"{d.id} {d.title} ({status.replace('_', ' ')})")
    evidence = [f"{done}/{done + len(missing)} required deliverables approved or not applicable"]
    return _judged(criterion, "unmet" if missing else "met", evidence=evidence, blockers=missing)


def _reviewers(criterion, request: GateRequest | None, made: list[Decision]) -> Criterion:
    if request is None:
        return _judged(
            criterion, "pending", blockers=["no review requested yet (`phasegate gate request`)"]
        )
    latest = latest_decisions(made)
    evidence, blockers, rejected = [], [], False
    for reviewer in request.reviewers:
        decision = next((d for k, d in latest.items() if same_person(k, reviewer)), None)
        if decision is None:
            blockers.append(f"awaiting the decision of {display_name(reviewer)}")
            continue
        line = (
            f"{display_name(reviewer)}: {DECISION_LABELS[decision.decision]} — {decision.comment}"
        )
        evidence.append(line)
        if decision.decision == "reject":
            rejected = True
            blockers.append(line)
    status = "unmet" if rejected else ("pending" if blockers else "met")
    return _judged(criterion, status, evidence=evidence, blockers=blockers)


def _judged(
    criterion: GateCriterion,
    status: str,
    *,
    evidence: list[str] | None = None,
    blockers: list[str] | None = None,
    waivers: list[int] | None = None,
) -> Criterion:
    """A criterion of the process model as judged now."""
    return Criterion(
        id=criterion.id,
        kind=criterion.kind,
        text=criterion.text,
        status=status,
        evidence=evidence or [],
        blockers=blockers or [],
        waivers=waivers or [],
    )


def _last_reviewed_request(project: Project, phase: str) -> GateRequest | None:
    asked = requests(project, phase)
    return asked[-1] if asked else None


# --- changing -------------------------------------------------------------------------------------


def request_waiver(project: Project, target: str, reason: str, expires: str) -> Waiver:
    target = target.strip()
    if not _known_target(project, target):
        raise TrackerError(
            f"unknown waiver target '{target}': name a gate criterion (e.g. G4.3; G4.0 is "
            "'the phases before have passed') or a checklist item (e.g. 4.1.2)"
        )
    if not reason.strip():
        raise TrackerError("a waiver needs a reason (--reason)")
    until = _date(expires, "--expires")
    if until < project.today():
        raise TrackerError(f"--expires {expires} is in the past")
    waiver_id, _ = project.tracker.record(
        "waiver.request",
        f"waiver:{target}",
        {
            "target": target,
            "reason": reason.strip(),
            "expires": until.isoformat(),
            "action": f"waiver requested for {target} until {until}",
        },
    )
    return next(w for w in waivers(project) if w.id == waiver_id)


def approve_waiver(project: Project, waiver_id: int) -> Waiver:
    waiver = next((w for w in waivers(project) if w.id == waiver_id), None)
    if waiver is None:
        raise TrackerError(f"no waiver {waiver_id} (`phasegate waiver list` shows them)")
    me = project.tracker.actor
    if waiver.approver:
        raise TrackerError(
            f"waiver {waiver_id} was already approved by {display_name(waiver.approver)}"
        )
    if same_person(me, waiver.requester):
        raise TrackerError(
            f"waiver {waiver_id} was requested by you: another person must approve it"
        )
    if waiver.state(project.today()) == "expired":
        raise TrackerError(f"waiver {waiver_id} expired on {waiver.expires}: request a new one")
    project.tracker.record(
        "waiver.approve",
        f"waiver:{waiver.target}",
        {
            "waiver": project.tracker.op_of("waivers", waiver_id),
            "action": f"waiver {waiver_id} approved for {waiver.target}",
        },
    )
    return next(w for w in waivers(project) if w.id == waiver_id)


def request_gate(project: Project, phase_id: str, reviewers: list[str]) -> GateRequest:
    phase = _phase(project, phase_id)
    names = [
        check_text(r, "a reviewer", error=TrackerError).strip() for r in reviewers if r.strip()
    ]
    if not names:
        raise TrackerError("name at least one reviewer (--reviewer 'Name <email>')")
    if open_request(project, phase.id) is not None:
        raise TrackerError(
            f"phase {phase.id} is already in review: decisions go to `phasegate gate decide "
            f"{phase.id}`, and `phasegate gate review {phase.id}` records the outcome"
        )
    project.tracker.record(
        "gate.request",
        f"gate:{phase.id}",
        {
            "phase": phase.id,
            "reviewers": names,
            "action": f"gate review requested from {', '.join(map(display_name, names))}",
        },
    )
    return requests(project, phase.id)[-1]


def decide(project: Project, phase_id: str, decision: str, comment: str) -> Decision:
    phase = _phase(project, phase_id)
    choice = decision.strip().lower().replace("-", "_").replace(" ", "_")
    choice = {
        "conditions": "approve_with_conditions",
        "approved": "approve",
        "rejected": "reject",
    }.get(choice, choice)
    if choice not in DECISIONS:
        raise TrackerError(f"unknown decision '{decision}' (choose approve, reject, conditions)")
    if not comment.strip():
        raise TrackerError("a decision needs a comment (--comment)")
    request = open_request(project, phase.id)
    if request is None:
        raise TrackerError(
            f"phase {phase.id} has no open gate review (`phasegate gate request {phase.id}`)"
        )
    me = project.tracker.actor
    if not any(same_person(me, r) for r in request.reviewers):
        raise TrackerError(
            f"you ({display_name(me)}) are not a reviewer of phase {phase.id}'s gate; the "
            f"reviewers are {', '.join(map(display_name, request.reviewers))}"
        )
    project.tracker.record(
        "gate.decision",
        f"gate:{phase.id}",
        {
            "request": project.tracker.op_of("gate_requests", request.id),
            "decision": choice,
            "comment": comment.strip(),
            "action": f"gate {DECISION_LABELS[choice]}: {comment.strip()}",
        },
    )
    return decisions(project, request.id)[-1]


def record_review(project: Project, phase_id: str, corrects: int | None = None) -> Review:
    """Freezes the gate as it stands into an immutable review."""
    from deliverables.git import head

    evaluation = evaluate(project, phase_id)
    if corrects is not None:
        earlier = review(project, corrects)
        if earlier.phase != evaluation.phase:
            raise TrackerError(
                f"review {corrects} is of phase {earlier.phase}, not {evaluation.phase}"
            )
    outcome = evaluation.outcome if evaluation.outcome in GATE_OUTCOMES else "failed"
    commit, dirty = head(project.root)
    today = project.today()
    record = {
        "criteria": [c.as_dict() for c in evaluation.criteria],
        "blockers": evaluation.blockers,
        "reviewers": list(evaluation.request.reviewers) if evaluation.request else [],
        "decisions": [d._asdict() for d in evaluation.decisions],
        "waivers": [{**w._asdict(), "state": w.state(today)} for w in evaluation.waivers],
    }
    tracker = project.tracker
    label = outcome.replace("_", " ")
    review_id, _ = tracker.record(
        "gate.review",
        f"gate:{evaluation.phase}",
        {
            "phase": evaluation.phase,
            "request": tracker.op_of("gate_requests", evaluation.request.id)
            if evaluation.request
            else None,
            "outcome": outcome,
            "git_commit": commit,
            "git_dirty": None if dirty is None else int(dirty),
            "record": json.dumps(record, default=str),
            "corrects": tracker.op_of("gate_reviews", corrects) if corrects is not None else None,
            # the record says what was evaluated: the code at `git_commit`, the tracker as of
            # this op (every op up to it in the total order)
            "follows": tracker.newest_op(),
            "action": f"gate review recorded: {label}",
        },
    )
    return review(project, review_id)


# --- reports --------------------------------------------------------------------------------------


def report_path(project: Project, reviewed: Review) -> Path:
    day = reviewed.at[:10]
    base = project.root / "docs" / "gates" / f"phase-{reviewed.phase}-{day}.md"
    same_day = [r for r in reviews(project, reviewed.phase) if r.at[:10] == day]
    index = (
        [r.id for r in same_day].index(reviewed.id)
        if reviewed.id in [r.id for r in same_day]
        else 0
    )
    return base if index == 0 else base.with_name(f"phase-{reviewed.phase}-{day}-{index + 1}.md")


def render_report(project: Project, reviewed: Review) -> str:
    from deliverables.templating import render_template

    phase = _phase(project, reviewed.phase)
    data = reviewed.data
    return render_template(
        "gate_review.md.j2",
        {
            "project": project.name,
            "phase": phase,
            "review": reviewed,
            "outcome": reviewed.outcome.replace("_", " "),
            "criteria": data["criteria"],
            "blockers": data["blockers"],
            "reviewers": data["reviewers"],
            "decisions": data["decisions"],
            "labels": DECISION_LABELS,
            "waivers": data["waivers"],
            "all_waivers": [(w, w.state(project.today())) for w in waivers(project)],
        },
    )


def write_report(
    project: Project, reviewed: Review, *, commit: bool = False
) -> tuple[Path, str | None]:
    """Writes docs/gates/phase-N-<date>.md; with `commit`, commits that file alone (other staged
    changes stay staged, uncommitted). Returns the path and the new commit, if any."""
    from deliverables.git import commit_only
    from deliverables.templating import write_atomically

    path = report_path(project, reviewed)
    repo_file(project.root, path.relative_to(project.root), what="the gate report")
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, render_report(project, reviewed))
    if not commit:
        return path, None
    outcome = reviewed.outcome.replace("_", " ")
    message = (
        f"Gate review of phase {reviewed.phase} "
        f"({_phase(project, reviewed.phase).title}): {outcome}"
    )
    sha = commit_only(project.root, path, message, project.tracker.actor)
    return path, sha


# --- helpers --------------------------------------------------------------------------------------


def _phase(project: Project, phase_id: str) -> Phase:
    phase = project.model.phase(str(phase_id).strip())
    if phase is None:
        ids = ", ".join(p.id for p in project.model.phases)
        raise TrackerError(f"unknown phase '{phase_id}' (phases are {ids})")
    return phase


def _known_target(project: Project, target: str) -> bool:
    if project.model.item(target) is not None:
        return True
    for phase in project.model.phases:
        if target == order_criterion(phase) and phase.number > 1:
            return True
        if any(c.id == target for c in phase.gate):
            return True
    return False


def _date(text: str, what: str) -> date:
    from deliverables.statuses import parse_date

    return parse_date(text, what)


def _columns(kind: type) -> str:
    return ", ".join(kind._fields)


def expiring(project: Project, days: int = EXPIRING_DAYS) -> list[tuple[Waiver, str]]:
    """Waivers that expire within `days` or expired in the last `days`: (waiver, state)."""
    today = project.today()
    soon, recent = today + timedelta(days=days), today - timedelta(days=days)
    out = []
    for w in waivers(project):
        state = w.state(today)
        if state == "active" and w.expires <= soon.isoformat():
            out.append((w, f"expires {w.expires}"))
        elif state == "expired" and w.expires >= recent.isoformat():
            out.append((w, f"expired {w.expires}: no longer counts"))
        elif state == "pending approval":
            out.append((w, "awaiting approval"))
    return out
