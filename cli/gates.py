"""Phase-gate reviews and waivers: `gate`, `waiver`."""

from __future__ import annotations

import argparse

from cli.common import open_project, positive_int, print_json
from deliverables.statuses import CRITERION_MARKS


def register(commands: argparse._SubParsersAction) -> None:
    """Adds the gate and waiver commands."""
    gate = commands.add_parser("gate", help="phase-gate reviews").add_subparsers(
        metavar="ACTION", required=True
    )
    cmd = gate.add_parser("status", help="the gate's criteria as they stand, and what blocks it")
    cmd.add_argument("phase", nargs="?", help="phase number (default: the current phase)")
    cmd.add_argument("--json", action="store_true")
    cmd.set_defaults(run=_gate_status)
    cmd = gate.add_parser("request", help="open the gate review: the phase goes in review")
    cmd.add_argument("phase")
    cmd.add_argument(
        "--reviewer", action="append", default=[], help="'Name <email>' (repeat for several)"
    )
    cmd.set_defaults(run=_gate_request)
    cmd = gate.add_parser("decide", help="your decision as a reviewer, with a comment")
    cmd.add_argument("phase")
    cmd.add_argument("decision", help="approve | reject | conditions")
    cmd.add_argument("--comment", required=True)
    cmd.set_defaults(run=_gate_decide)
    cmd = gate.add_parser(
        "review", help="record the review (immutable) and write docs/gates/phase-N-DATE.md"
    )
    cmd.add_argument("phase")
    cmd.add_argument("--corrects", type=positive_int, metavar="REVIEW", help="a review it corrects")
    cmd.add_argument("--commit", action="store_true", help="commit the report file alone")
    cmd.set_defaults(run=_gate_review)
    cmd = gate.add_parser("history", help="recorded gate reviews, oldest first")
    cmd.add_argument("phase", nargs="?")
    cmd.add_argument("--json", action="store_true")
    cmd.set_defaults(run=_gate_history)

    waiver = commands.add_parser("waiver", help="waivers of gate criteria or items").add_subparsers(
        metavar="ACTION", required=True
    )
    cmd = waiver.add_parser("request", help="ask to waive a criterion (G4.3) or an item (4.1.2)")
    cmd.add_argument("target")
    cmd.add_argument("--reason", required=True)
    cmd.add_argument("--expires", required=True, help="YYYY-MM-DD: the last day it counts")
    cmd.set_defaults(run=_waiver_request)
    cmd = waiver.add_parser("approve", help="approve a waiver someone else requested")
    cmd.add_argument("id", type=positive_int)
    cmd.set_defaults(run=_waiver_approve)
    cmd = waiver.add_parser("list", help="every waiver with its state")
    cmd.add_argument("--json", action="store_true")
    cmd.set_defaults(run=_waiver_list)


def _gate_status(args: argparse.Namespace) -> int:
    from deliverables.gates import evaluate
    from deliverables.json_documents import gate_document
    from deliverables.statuses import PASSING

    project = open_project(args)
    phase = args.phase or project.current_phase().id
    if args.json:
        document = gate_document(project, phase)
        print_json(document)
        return 0 if document["passes"] else 1
    evaluation = evaluate(project, phase)
    title = project.model.phase(evaluation.phase).title
    print(f"Gate of phase {evaluation.phase} ({title}): {evaluation.outcome.replace('_', ' ')}")
    for c in evaluation.criteria:
        print(f"{CRITERION_MARKS[c.status]} {c.id} {c.text} [{c.status}]")
        for line in c.evidence:
            print(f"    {line}")
    if evaluation.blockers:
        print("Blocked by:")
        for line in evaluation.blockers:
            print(f"  - {line}")
    # for CI, as `gate review`: 0 only when the gate passes as it stands
    return 0 if evaluation.outcome in PASSING else 1


def _gate_request(args: argparse.Namespace) -> int:
    from deliverables.gates import request_gate

    project = open_project(args)
    request = request_gate(project, args.phase, args.reviewer)
    print(f"Phase {request.phase} is in review; reviewers: {', '.join(request.reviewers)}")
    return 0


def _gate_decide(args: argparse.Namespace) -> int:
    from deliverables.gates import DECISION_LABELS, decide

    project = open_project(args)
    decision = decide(project, args.phase, args.decision, args.comment)
    print(f"Phase {args.phase}: {DECISION_LABELS[decision.decision]} by you — {decision.comment}")
    return 0


def _gate_review(args: argparse.Namespace) -> int:
    from deliverables.gates import record_review, write_report

    project = open_project(args)
    review = record_review(project, args.phase, corrects=args.corrects)
    path, sha = write_report(project, review, commit=args.commit)
    print(f"Gate review {review.id} of phase {review.phase}: {review.outcome.replace('_', ' ')}")
    for blocker in review.data["blockers"]:
        print(f"  blocked by {blocker}")
    print(f"Wrote {path.relative_to(project.root)}" + (f"; committed {sha[:10]}" if sha else ""))
    return 0 if review.outcome != "failed" else 1


def _gate_history(args: argparse.Namespace) -> int:
    from deliverables.gates import reviews
    from deliverables.templating import local_time

    project = open_project(args)
    if args.json:
        from deliverables.json_documents import gate_reviews_document

        print_json(gate_reviews_document(project, args.phase))
        return 0
    found = reviews(project, args.phase)
    if not found:
        print("no gate reviews recorded yet")
    for r in found:
        corrects = f" (corrects {r.corrects})" if r.corrects else ""
        commit = (r.git_commit or "no commit")[:10] + (" dirty" if r.git_dirty else "")
        print(
            f"{r.id:>4}  phase {r.phase}  {local_time(r.at)}  "
            f"{r.outcome.replace('_', ' '):<20} {commit}{corrects}"
        )
    return 0


def _waiver_request(args: argparse.Namespace) -> int:
    from deliverables.gates import request_waiver

    waiver = request_waiver(open_project(args), args.target, args.reason, args.expires)
    print(
        f"Waiver {waiver.id} for {waiver.target} until {waiver.expires}: awaiting approval "
        f"by someone else (`phasegate waiver approve {waiver.id}`)"
    )
    return 0


def _waiver_approve(args: argparse.Namespace) -> int:
    from deliverables.gates import approve_waiver

    waiver = approve_waiver(open_project(args), args.id)
    print(f"Waiver {waiver.id} for {waiver.target} approved; it counts until {waiver.expires}")
    return 0


def _waiver_list(args: argparse.Namespace) -> int:
    from deliverables.gates import waivers
    from deliverables.identity import display_name

    project = open_project(args)
    if args.json:
        from deliverables.json_documents import waivers_document

        print_json(waivers_document(project))
        return 0
    today = project.today()
    found = waivers(project)
    if not found:
        print("no waivers")
    for w in found:
        print(
            f"{w.id:>4}  {w.target:<8} {w.state(today):<17} until {w.expires}  "
            f"by {display_name(w.requester)}, approved by {display_name(w.approver) or '—'}: "
            f"{w.reason}"
        )
    return 0
