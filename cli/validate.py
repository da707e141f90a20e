"""Validation runs: `validate` (static or full tier) and `runs` (the stored results)."""

from __future__ import annotations

import argparse
import sys

from cli.common import (
    add_output,
    emit_document,
    open_project,
    positive_float,
    positive_int,
    print_json,
)


def register(commands: argparse._SubParsersAction) -> None:
    """Adds the validate and runs commands."""
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
        type=positive_int,
        default=1000,
        help="rows to synthesize when a spec has no sample",
    )
    cmd.add_argument(
        "--catalog-uri",
        help="Iceberg SQL catalog URI for the full tier (default: the solution's catalog as its "
        "jobs load it: .pyiceberg.yaml, PYICEBERG_CATALOG__<NAME>__URI; SQLite under "
        ".phasegate/lake/); with a password, prefer the variable: arguments show in `ps`",
    )
    cmd.add_argument(
        "--timeout", type=positive_float, help="seconds per pipeline (static 300, full 900)"
    )
    cmd.add_argument("--json", action="store_true", help="the run and every check as JSON")
    cmd.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    cmd.set_defaults(run=_validate)

    runs = commands.add_parser("runs", help="stored validation runs")
    runs.add_argument("--json", action="store_true", help="as JSON")
    runs.add_argument("--limit", type=positive_int, default=20)
    runs.set_defaults(run=_runs)
    actions = runs.add_subparsers(metavar="ACTION")
    cmd = actions.add_parser("show", help="one run with every check (markdown)")
    cmd.add_argument("id", type=positive_int)
    cmd.add_argument("--json", action="store_true", help="as JSON")
    add_output(cmd, "docs/validation/run-N.md")
    cmd.set_defaults(run=_run_show)


def _validate(args: argparse.Namespace) -> int:
    from pipelines.validation.engine import validate

    project = open_project(args)
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
        from deliverables.json_documents import run_document

        print_json(run_document(project, outcome.run_id))
    else:
        for name, state in outcome.pipelines.items():
            print(f"{state:<10} {name}")
        print(f"run {outcome.run_id}: {outcome.status} — {outcome.summary}")
        print(
            f"details: phasegate runs show {outcome.run_id}; log: "
            f"{outcome.log_path.relative_to(project.root)}"
        )
    return 0 if outcome.ok else 1


def _runs(args: argparse.Namespace) -> int:
    from deliverables.templating import local_time

    project = open_project(args)
    if args.json:
        from deliverables.json_documents import runs_document

        print_json(runs_document(project, args.limit))
        return 0
    runs = project.tracker.runs(args.limit)
    if not runs:
        print("no validation runs yet: `phasegate validate` runs the static tier")
    for r in runs:
        print(
            f"{r.id:>4}  {local_time(r.started_at)}  {r.tier:<6}  {r.status:<9}  {r.summary or ''}"
        )
    return 0


def _run_show(args: argparse.Namespace) -> int:
    from deliverables.validations import run_report, run_report_path

    project = open_project(args)
    if args.json:
        from deliverables.json_documents import run_document

        print_json(run_document(project, args.id))
        return 0
    text = run_report(project, args.id)
    emit_document(project, args.output, text, lambda: run_report_path(project, args.id))
    return 0
