"""`phasegate`: the command line. Every sub-command calls the same functions as the TUI.

Exit codes: 0 ok, 1 an error explained in one line, 2 a usage error.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from deliverables import Project, TrackerError
from phases import ProcessError
from pipelines.errors import GenerationError, SpecError, ValidationError

DEFAULT_DEMO = "phasegate-demo"


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args) or 0
    except (TrackerError, ProcessError, GenerationError, SpecError, ValidationError) as exc:
        return _fail(str(exc))
    except OSError as exc:
        target = f"{exc.filename}: " if exc.filename else ""
        return _fail(f"{target}{exc.strerror or exc}")
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # the last guard: one line, and the traceback only on request
        if os.environ.get("PHASEGATE_DEBUG"):
            raise
        return _fail(
            f"internal error: {type(exc).__name__}: {exc} (set PHASEGATE_DEBUG=1 for details)"
        )


def _fail(message: str) -> int:
    print(f"phasegate: {message}", file=sys.stderr)
    return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="phasegate",
        description="Walk a data solution through the seven-phase delivery process.",
        epilog="Without a command, opens the TUI on the project that holds the current folder.",
    )
    parser.add_argument(
        "-C", "--project", metavar="PATH", default=".", help="the project folder (default: .)"
    )
    parser.set_defaults(run=_cmd_open, path=None)
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    cmd = commands.add_parser("open", help="open the TUI (the default)")
    cmd.add_argument("path", nargs="?", help="project folder (default: -C or .)")
    cmd.set_defaults(run=_cmd_open)

    cmd = commands.add_parser(
        "init", help="make a folder a phasegate project (and a git repository)"
    )
    cmd.add_argument("path", nargs="?", help="folder (default: -C or .)")
    cmd.set_defaults(run=_cmd_init)

    cmd = commands.add_parser("demo", help="create a demo project with realistic partial progress")
    cmd.add_argument(
        "path", nargs="?", default=DEFAULT_DEMO, help=f"folder (default: {DEFAULT_DEMO})"
    )
    cmd.set_defaults(run=_cmd_demo)

    cmd = commands.add_parser("status", help="progress of every phase")
    cmd.add_argument(
        "--json", action="store_true", help="the whole state as JSON, for scripts and CI"
    )
    cmd.set_defaults(run=_cmd_status)

    cmd = commands.add_parser("export", help="the markdown status report")
    cmd.add_argument("--phase", metavar="N", help="only phase N")
    cmd.add_argument(
        "-o", "--output", metavar="FILE", help="write to FILE instead of standard output"
    )
    cmd.set_defaults(run=_cmd_export)

    item = commands.add_parser("item", help="change a checklist item").add_subparsers(
        metavar="ACTION", required=True
    )
    cmd = item.add_parser("set", help="set status, owner, due date or note of an item")
    cmd.add_argument("id", help="item id, e.g. 1.1.1")
    cmd.add_argument("--status", help="todo | done | not_applicable | blocked (both need --reason)")
    cmd.add_argument("--reason", help="why the item does not apply, or what blocks it")
    cmd.add_argument("--owner", help="who owns it ('' clears)")
    cmd.add_argument("--due", help="YYYY-MM-DD ('' clears)")
    cmd.add_argument("--note", help="a note ('' clears)")
    cmd.set_defaults(run=_cmd_item_set)

    generate = commands.add_parser(
        "generate", help="generate code and documents into the repository"
    )
    targets = generate.add_subparsers(metavar="WHAT", required=True)
    cmd = targets.add_parser(
        "scaffold", help="the project structure of process 3.1 with starter content"
    )
    cmd.add_argument(
        "--dry-run", action="store_true", help="show what would change, with diffs; write nothing"
    )
    cmd.set_defaults(run=_cmd_generate_scaffold)
    cmd = targets.add_parser(
        "pipelines", help="every pipeline of pipelines/*.yaml: job, DDL, suite, DAGs, tests"
    )
    cmd.add_argument(
        "--dry-run", action="store_true", help="show what would change, with diffs; write nothing"
    )
    cmd.set_defaults(run=_cmd_generate_pipelines)

    prompt = commands.add_parser(
        "prompt", help="the prompt audit trail (process 4.2)"
    ).add_subparsers(metavar="ACTION", required=True)
    cmd = prompt.add_parser("new", help="compose the explicit-context prompt of a task file")
    cmd.add_argument("task", help="task name or path, e.g. ingestion/pos_orders")
    cmd.set_defaults(run=_cmd_prompt_new)
    cmd = prompt.add_parser(
        "log", help="record an executed prompt in agent-prompts/executed_prompts/"
    )
    cmd.add_argument("task", help="task name or path")
    cmd.add_argument("--model", default="claude", help="the model that ran it")
    cmd.add_argument("--text", help="the exact prompt, when it differs from the composed one")
    cmd.set_defaults(run=_cmd_prompt_log)
    cmd = prompt.add_parser(
        "outcome", help="fill a record's OUTCOME from git (the newest record by default)"
    )
    cmd.add_argument("record", nargs="?", help="file name of the record")
    cmd.add_argument("--status", default="SUCCESS", help="SUCCESS | PARTIAL | FAILED")
    cmd.add_argument("--notes", default="", help="anything worth keeping")
    cmd.set_defaults(run=_cmd_prompt_outcome)

    cmd = commands.add_parser(
        "validate", help="validate the generated pipelines (static checks, or real runs)"
    )
    cmd.add_argument("pipelines", nargs="*", metavar="PIPELINE", help="default: every spec")
    cmd.add_argument(
        "--tier",
        choices=("static", "full"),
        default="static",
        help="static: parse, lint, DagBag, suites, DDL (seconds); full: Spark → Iceberg → GX → "
        "dag.test() on sample data",
    )
    cmd.add_argument(
        "--rows",
        type=_positive_int,
        default=1000,
        help="rows to synthesize when a spec has no sample",
    )
    cmd.add_argument(
        "--catalog-uri",
        help="Iceberg SQL catalog for the full tier (default: ICEBERG_CATALOG_URI, else SQLite "
        "under .phasegate/lake/)",
    )
    cmd.add_argument(
        "--timeout", type=_positive_float, help="seconds per pipeline (static 300, full 900)"
    )
    cmd.add_argument("--json", action="store_true", help="the run and every check as JSON")
    cmd.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    cmd.set_defaults(run=_cmd_validate)

    runs = commands.add_parser("runs", help="stored validation runs")
    runs.add_argument("--json", action="store_true", help="as JSON")
    runs.add_argument("--limit", type=_positive_int, default=20)
    runs.set_defaults(run=_cmd_runs)
    actions = runs.add_subparsers(metavar="ACTION")
    cmd = actions.add_parser("show", help="one run with every check (markdown)")
    cmd.add_argument("id", type=_positive_int)
    cmd.add_argument("--json", action="store_true", help="as JSON")
    cmd.add_argument("-o", "--output", metavar="FILE", help="write the markdown to FILE")
    cmd.set_defaults(run=_cmd_run_show)

    gate = commands.add_parser("gate", help="phase-gate reviews").add_subparsers(
        metavar="ACTION", required=True
    )
    cmd = gate.add_parser("status", help="the gate's criteria as they stand, and what blocks it")
    cmd.add_argument("phase", nargs="?", help="phase number (default: the current phase)")
    cmd.add_argument("--json", action="store_true")
    cmd.set_defaults(run=_cmd_gate_status)
    cmd = gate.add_parser("request", help="open the gate review: the phase goes in review")
    cmd.add_argument("phase")
    cmd.add_argument(
        "--reviewer", action="append", default=[], help="'Name <email>' (repeat for several)"
    )
    cmd.set_defaults(run=_cmd_gate_request)
    cmd = gate.add_parser("decide", help="your decision as a reviewer, with a comment")
    cmd.add_argument("phase")
    cmd.add_argument("decision", help="approve | reject | conditions")
    cmd.add_argument("--comment", required=True)
    cmd.set_defaults(run=_cmd_gate_decide)
    cmd = gate.add_parser(
        "review", help="record the review (immutable) and write docs/gates/phase-N-DATE.md"
    )
    cmd.add_argument("phase")
    cmd.add_argument(
        "--corrects", type=_positive_int, metavar="REVIEW", help="a review it corrects"
    )
    cmd.add_argument("--commit", action="store_true", help="commit the report file alone")
    cmd.set_defaults(run=_cmd_gate_review)
    cmd = gate.add_parser("history", help="recorded gate reviews, oldest first")
    cmd.add_argument("phase", nargs="?")
    cmd.add_argument("--json", action="store_true")
    cmd.set_defaults(run=_cmd_gate_history)

    waiver = commands.add_parser("waiver", help="waivers of gate criteria or items").add_subparsers(
        metavar="ACTION", required=True
    )
    cmd = waiver.add_parser("request", help="ask to waive a criterion (G4.3) or an item (4.1.2)")
    cmd.add_argument("target")
    cmd.add_argument("--reason", required=True)
    cmd.add_argument("--expires", required=True, help="YYYY-MM-DD: the last day it counts")
    cmd.set_defaults(run=_cmd_waiver_request)
    cmd = waiver.add_parser("approve", help="approve a waiver someone else requested")
    cmd.add_argument("id", type=_positive_int)
    cmd.set_defaults(run=_cmd_waiver_approve)
    cmd = waiver.add_parser("list", help="every waiver with its state")
    cmd.add_argument("--json", action="store_true")
    cmd.set_defaults(run=_cmd_waiver_list)

    cmd = commands.add_parser("today", help="my day: assigned, due, changed by others, stand-up")
    cmd.add_argument("--yesterday", help="stand-up: what I did yesterday")
    cmd.add_argument("--today", dest="plan", help="stand-up: what I do today")
    cmd.add_argument("--blockers", help="stand-up: what blocks me")
    cmd.add_argument("-o", "--output", metavar="FILE", help="write the day (markdown) to FILE")
    cmd.set_defaults(run=_cmd_today)

    deliv = commands.add_parser("deliverable", help="change a deliverable").add_subparsers(
        metavar="ACTION", required=True
    )
    cmd = deliv.add_parser("set", help="set status or owner of a deliverable")
    cmd.add_argument("id", help="deliverable id, e.g. D1.1")
    cmd.add_argument("--status", help="missing | draft | in_review | approved | not_applicable")
    cmd.add_argument("--reason", help="why the deliverable does not apply")
    cmd.add_argument("--owner", help="who owns it ('' clears)")
    cmd.add_argument("--path", help="where it lives in the repository ('' resets)")
    cmd.set_defaults(run=_cmd_deliverable_set)
    cmd = deliv.add_parser("create", help="write the deliverable's document from its template")
    cmd.add_argument("id", help="deliverable id, e.g. D1.1")
    cmd.set_defaults(run=_cmd_deliverable_create)
    cmd = deliv.add_parser("facts", help="what git knows of each deliverable, and suggestions")
    cmd.add_argument("ids", nargs="*", metavar="ID", help="default: every deliverable")
    cmd.add_argument("--json", action="store_true")
    cmd.set_defaults(run=_cmd_deliverable_facts)

    adr = commands.add_parser(
        "adr", help="Technology Decision Records (MADR) in docs/adr/"
    ).add_subparsers(metavar="ACTION", required=True)
    cmd = adr.add_parser("new", help="a new record, status proposed")
    cmd.add_argument("title")
    cmd.set_defaults(run=_cmd_adr_new)
    cmd = adr.add_parser("list", help="every record with its status")
    cmd.set_defaults(run=_cmd_adr_list)
    cmd = adr.add_parser("status", help="set a record's status")
    cmd.add_argument("number", type=_positive_int)
    cmd.add_argument("status", help="proposed | accepted | rejected | deprecated | superseded")
    cmd.add_argument("--by", type=_positive_int, metavar="N", help="the ADR that supersedes it")
    cmd.set_defaults(run=_cmd_adr_status)
    return parser


def _project(args: argparse.Namespace) -> Project:
    return Project.open(args.path or args.project)


# --- commands ---------------------------------------------------------------------------------


def _cmd_open(args: argparse.Namespace) -> int:
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        return _fail(
            "the TUI needs a terminal; without one use a command such as `phasegate status` (see --help)"
        )
    project = _project(args)
    from tui.app import PhasegateApp  # Textual only when the TUI really starts

    PhasegateApp(project).run()
    return 0


def _cmd_init(args: argparse.Namespace) -> int:
    target = Path(args.path or args.project)
    already = (target / ".phasegate" / "tracker.db").is_file()
    project, created_git = Project.init(target)
    if created_git:
        print(f"Initialised an empty git repository in {project.root}")
    if already:
        print(f"{project.root} already is a phasegate project; nothing changed")
    else:
        print(
            f"Created a phasegate project in {project.root}: {len(project.model.items)} checklist items, "
            f"{len(project.model.deliverables)} deliverables. Open it with `phasegate -C {target}`."
        )
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from deliverables.demo import create_demo

    project = create_demo(Path(args.path))
    print(f"Created the demo project in {project.root}. Open it with `phasegate open {args.path}`.")
    return 0


def _cmd_status(args: argparse.Namespace) -> int:
    project = _project(args)
    if args.json:
        print(json.dumps(project.status_document(), indent=2, ensure_ascii=False))
        return 0
    items, delivs = project.item_states(), project.deliverable_states()
    gates = project.gate_states()
    current = project.current_phase(items, delivs, gates)
    print(f"{project.name} — current phase: {current.id}. {current.title}")
    for phase in project.model.phases:
        progress = project.progress(phase, items, delivs)
        filled = round(progress.fraction * 20)
        marker = "▶" if phase is current else " "
        print(
            f"{marker} {phase.id}. {phase.title:<32} {'█' * filled}{'░' * (20 - filled)} {progress.fraction:4.0%}"
            f"  items {progress.items_done}/{progress.items_total}"
            f"  deliverables {progress.deliverables_done}/{progress.deliverables_total}"
            f"  {project.phase_status(phase, items, delivs, gates).replace('_', ' ')}"
        )
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from deliverables.report import render_status_report, write_atomically

    project = _project(args)
    text = render_status_report(project, phase=args.phase)
    if not args.output:
        sys.stdout.write(text)
        return 0
    write_atomically(Path(args.output), text)
    print(f"Wrote {args.output}", file=sys.stderr)
    return 0


def _cmd_item_set(args: argparse.Namespace) -> int:
    fields = {k: getattr(args, k) for k in ("status", "reason", "owner", "due", "note")}
    if all(v is None for v in fields.values()):
        return _usage("item set: give at least one of --status, --reason, --owner, --due, --note")
    project = _project(args)
    events = project.set_item(args.id, **fields)
    _report_changes(project.item(args.id).id, events)
    return 0


def _cmd_deliverable_set(args: argparse.Namespace) -> int:
    fields = {k: getattr(args, k) for k in ("status", "reason", "owner", "path")}
    if all(v is None for v in fields.values()):
        return _usage("deliverable set: give at least one of --status, --reason, --owner, --path")
    project = _project(args)
    events = project.set_deliverable(args.id, **fields)
    _report_changes(project.deliverable(args.id).id, events)
    return 0


def _cmd_deliverable_create(args: argparse.Namespace) -> int:
    from deliverables.documents import create_document

    project = _project(args)
    path = create_document(project, args.id)
    deliverable = project.deliverable(args.id)
    status = project.deliverable_state(deliverable.id).status
    print(f"Wrote {path.relative_to(project.root)} ({deliverable.id} is {status})")
    return 0


def _cmd_deliverable_facts(args: argparse.Namespace) -> int:
    from deliverables.documents import ADR_DELIVERABLE, adrs, document_facts

    project = _project(args)
    ids = args.ids or [d.id for d in project.model.deliverables]
    facts = [document_facts(project, ident) for ident in ids]
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "id": f.deliverable.id,
                        "status": f.status,
                        "path": f.path,
                        "git": f.git.__dict__,
                        "suggestions": list(f.suggestions),
                    }
                    for f in facts
                ],
                indent=2,
            )
        )
        return 0
    for f in facts:
        git = f.git
        if git.last_commit:
            where = f"last commit {git.last_commit} {git.date} by {git.author}" + (
                ", uncommitted changes" if git.uncommitted else ""
            )
        else:
            where = "exists, not committed" if git.exists else "no file"
        print(f"{f.deliverable.id:<6} {f.status:<14} {f.path}: {where}")
        for suggestion in f.suggestions:
            print(f"       suggest: {suggestion}")
        if f.deliverable.id == ADR_DELIVERABLE:
            for record in adrs(project):
                print(f"       ADR {record.number:04d} {record.title} ({record.status})")
    return 0


def _cmd_adr_new(args: argparse.Namespace) -> int:
    from deliverables.documents import new_adr

    project = _project(args)
    path = new_adr(project, args.title)
    print(f"Wrote {path.relative_to(project.root)} (status: proposed)")
    return 0


def _cmd_adr_list(args: argparse.Namespace) -> int:
    from deliverables.documents import adrs

    found = adrs(_project(args))
    if not found:
        print('no decision records yet: phasegate adr new "title"')
    for a in found:
        print(f"{a.number:04d}  {a.status:<40} {a.title}")
    return 0


def _cmd_adr_status(args: argparse.Namespace) -> int:
    from deliverables.documents import set_adr_status

    record = set_adr_status(_project(args), args.number, args.status, args.by)
    print(f"ADR {record.number:04d}: {record.status}")
    return 0


def _cmd_generate_scaffold(args: argparse.Namespace) -> int:
    from pipelines.scaffold import generate_scaffold

    result = generate_scaffold(_project(args), dry_run=args.dry_run)
    _report_plan("scaffold", result.plan, args.dry_run)
    if result.ticked:
        print(f"ticked: {', '.join(result.ticked)}")
    if result.drafted:
        print(f"deliverables now draft: {', '.join(result.drafted)}")
    return 0


def _cmd_generate_pipelines(args: argparse.Namespace) -> int:
    from pipelines.codegen import generate_pipelines

    result = generate_pipelines(_project(args), dry_run=args.dry_run)
    _report_plan("pipelines", result, args.dry_run)
    return 0


def _cmd_prompt_new(args: argparse.Namespace) -> int:
    from pipelines.prompts import compose

    print(compose(_project(args).root, args.task).text)
    return 0


def _cmd_prompt_log(args: argparse.Namespace) -> int:
    from deliverables.identity import display_name
    from pipelines.prompts import compose, log_prompt

    project = _project(args)
    prompt = compose(project.root, args.task)
    record = log_prompt(
        project.root,
        prompt,
        developer=display_name(project.tracker.actor),
        model=args.model,
        now=project.now().astimezone(),
        text=args.text,
    )
    print(f"Logged {record.relative_to(project.root)}")
    return 0


def _cmd_prompt_outcome(args: argparse.Namespace) -> int:
    from pipelines.prompts import record_outcome

    project = _project(args)
    record, lines = record_outcome(
        project.root, args.record, status=args.status.upper(), notes=args.notes
    )
    print(f"{record.relative_to(project.root)}:")
    print("\n".join(lines))
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from pipelines.validation.engine import validate

    project = _project(args)
    quiet = args.quiet or args.json

    def progress(event: dict) -> None:
        if quiet:
            return
        kind = event["event"]
        if kind == "started":
            print(
                f"{event['tier']} validation run {event['run_id']}: "
                f"{', '.join(event['pipelines'])}",
                file=sys.stderr,
            )
        elif kind == "check" and event["outcome"] != "passed":
            print(
                f"  {event['pipeline']}: {event['step']}/{event['check']} "
                f"{event['outcome'].upper()}: {event['detail']}",
                file=sys.stderr,
            )
        elif kind == "pipeline":
            print(f"  {event['pipeline']}: done", file=sys.stderr)

    outcome = validate(
        project,
        args.pipelines,
        args.tier,
        rows=args.rows,
        catalog_uri=args.catalog_uri,
        timeout=args.timeout,
        listener=progress,
    )
    if args.json:
        print(json.dumps(_run_document(project, outcome.run_id), indent=2, default=str))
    else:
        for name, state in outcome.pipelines.items():
            print(f"{state:<10} {name}")
        print(f"run {outcome.run_id}: {outcome.status} — {outcome.summary}")
        print(
            f"details: phasegate runs show {outcome.run_id}; log: "
            f"{outcome.log_path.relative_to(project.root)}"
        )
    return 0 if outcome.ok else 1


def _cmd_runs(args: argparse.Namespace) -> int:
    project = _project(args)
    runs = project.tracker.runs(args.limit)
    if args.json:
        print(json.dumps([_run_fields(r) for r in runs], indent=2))
        return 0
    if not runs:
        print("no validation runs yet: `phasegate validate` runs the static tier")
    for r in runs:
        print(
            f"{r.id:>4}  {r.started_at[:16].replace('T', ' ')}  {r.tier:<6}  "
            f"{r.status:<9}  {r.summary or ''}"
        )
    return 0


def _cmd_run_show(args: argparse.Namespace) -> int:
    from deliverables.report import write_atomically
    from deliverables.validations import run_report

    project = _project(args)
    if args.json:
        print(json.dumps(_run_document(project, args.id), indent=2, default=str))
        return 0
    text = run_report(project, args.id)
    if args.output:
        write_atomically(Path(args.output), text)
        print(f"Wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def _cmd_gate_status(args: argparse.Namespace) -> int:
    from deliverables.gates import evaluate

    project = _project(args)
    phase = args.phase or project.current_phase().id
    evaluation = evaluate(project, phase)
    if args.json:
        print(
            json.dumps(
                {
                    "phase": evaluation.phase,
                    "outcome": evaluation.outcome,
                    "blockers": evaluation.blockers,
                    "criteria": [c.__dict__ for c in evaluation.criteria],
                },
                indent=2,
            )
        )
        return 0
    title = project.model.phase(evaluation.phase).title
    print(f"Gate of phase {evaluation.phase} ({title}): {evaluation.outcome.replace('_', ' ')}")
    marks = {"met": "✔", "waived": "≈", "unmet": "✘", "pending": "…"}
    for c in evaluation.criteria:
        print(f"{marks[c.status]} {c.id} {c.text} [{c.status}]")
        for line in c.evidence:
            print(f"    {line}")
    if evaluation.blockers:
        print("Blocked by:")
        for line in evaluation.blockers:
            print(f"  - {line}")
    return 0


def _cmd_gate_request(args: argparse.Namespace) -> int:
    from deliverables.gates import request_gate

    project = _project(args)
    request = request_gate(project, args.phase, args.reviewer)
    print(f"Phase {request.phase} is in review; reviewers: {', '.join(request.reviewers)}")
    return 0


def _cmd_gate_decide(args: argparse.Namespace) -> int:
    from deliverables.gates import DECISION_LABELS, decide

    project = _project(args)
    decision = decide(project, args.phase, args.decision, args.comment)
    print(f"Phase {args.phase}: {DECISION_LABELS[decision.decision]} by you — {decision.comment}")
    return 0


def _cmd_gate_review(args: argparse.Namespace) -> int:
    from deliverables.gates import record_review, write_report

    project = _project(args)
    review = record_review(project, args.phase, corrects=args.corrects)
    path, sha = write_report(project, review, commit=args.commit)
    print(f"Gate review {review.id} of phase {review.phase}: {review.outcome.replace('_', ' ')}")
    for blocker in review.data["blockers"]:
        print(f"  blocked by {blocker}")
    print(f"Wrote {path.relative_to(project.root)}" + (f"; committed {sha[:10]}" if sha else ""))
    return 0 if review.outcome != "failed" else 1


def _cmd_gate_history(args: argparse.Namespace) -> int:
    from deliverables.gates import reviews

    project = _project(args)
    found = reviews(project, args.phase)
    if args.json:
        print(json.dumps([{**r.__dict__, "record": r.data} for r in found], indent=2))
        return 0
    if not found:
        print("no gate reviews recorded yet")
    for r in found:
        corrects = f" (corrects {r.corrects})" if r.corrects else ""
        commit = (r.git_commit or "no commit")[:10] + (" dirty" if r.git_dirty else "")
        print(
            f"{r.id:>4}  phase {r.phase}  {r.at[:16].replace('T', ' ')}  "
            f"{r.outcome.replace('_', ' '):<20} {commit}{corrects}"
        )
    return 0


def _cmd_waiver_request(args: argparse.Namespace) -> int:
    from deliverables.gates import request_waiver

    waiver = request_waiver(_project(args), args.target, args.reason, args.expires)
    print(
        f"Waiver {waiver.id} for {waiver.target} until {waiver.expires}: awaiting approval "
        f"by someone else (`phasegate waiver approve {waiver.id}`)"
    )
    return 0


def _cmd_waiver_approve(args: argparse.Namespace) -> int:
    from deliverables.gates import approve_waiver

    waiver = approve_waiver(_project(args), args.id)
    print(f"Waiver {waiver.id} for {waiver.target} approved; it counts until {waiver.expires}")
    return 0


def _cmd_waiver_list(args: argparse.Namespace) -> int:
    from deliverables.gates import waivers
    from deliverables.identity import display_name

    project = _project(args)
    today = project.today()
    found = waivers(project)
    if args.json:
        print(json.dumps([{**w.__dict__, "state": w.state(today)} for w in found], indent=2))
        return 0
    if not found:
        print("no waivers")
    for w in found:
        print(
            f"{w.id:>4}  {w.target:<8} {w.state(today):<17} until {w.expires}  "
            f"by {display_name(w.requester)}, approved by {display_name(w.approver) or '—'}: "
            f"{w.reason}"
        )
    return 0


def _cmd_today(args: argparse.Namespace) -> int:
    from deliverables.day import day_view, last_session, record_session, render_day, save_standup
    from deliverables.report import write_atomically

    project = _project(args)
    if any(v is not None for v in (args.yesterday, args.plan, args.blockers)):
        save_standup(project, yesterday=args.yesterday, today=args.plan, blockers=args.blockers)
    since = last_session(project)
    text = render_day(project, day_view(project, since=since))
    if args.output:
        write_atomically(Path(args.output), text)
        print(f"Wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    record_session(project)  # after the output: a day that could not be written was not seen
    return 0


def _run_fields(run) -> dict:
    fields = dict(run.__dict__)
    fields["pipelines"], fields["versions"] = run.pipeline_names, run.version_map
    fields["git_dirty"] = None if run.git_dirty is None else bool(run.git_dirty)
    return fields


def _run_document(project: Project, run_id: int) -> dict:
    run = project.tracker.run(run_id)
    if run is None:
        raise TrackerError(f"no validation run {run_id}")
    checks = [
        {**{k: v for k, v in c.__dict__.items() if k not in ("run_id", "data")}, "data": c.payload}
        for c in project.tracker.run_checks(run_id)
    ]
    return {**_run_fields(run), "checks": checks}


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of seconds") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text} must be more than 0")
    return value


def _report_plan(what: str, plan, dry_run: bool) -> None:
    """One line per file that is not unchanged, a summary, and the diffs of a dry run."""
    for planned in plan.files:
        if planned.state != "unchanged":
            print(f"{planned.state:<10} {planned.path}")
    print(
        f"{what}{' (dry run, nothing written)' if dry_run else ''}: {plan.summary() or 'nothing to generate'}"
    )
    if dry_run:
        for planned in plan.writes:
            sys.stdout.write(planned.diff)
    conflicts = [f.path for f in plan.files if f.state == "conflict"]
    if conflicts:
        print(f"resolve the conflict markers in: {', '.join(conflicts)}", file=sys.stderr)


def _usage(message: str) -> int:
    print(f"phasegate: {message}", file=sys.stderr)
    return 2


def _report_changes(subject: str, events: list) -> None:
    if not events:
        print(f"{subject}: already so; nothing changed")
    for event in events:
        print(f"{subject}: {event.field} {event.before or '—'} → {event.after or '—'}")


if __name__ == "__main__":
    sys.exit(main())
