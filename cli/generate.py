"""Generation into the repository and the prompt audit trail: `generate`, `prompt`."""

from __future__ import annotations

import argparse
import sys

from cli.common import open_project, print_json


def register(commands: argparse._SubParsersAction) -> None:
    """Adds the generate and prompt commands."""
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
    cmd.add_argument("--json", action="store_true", help="every file and its state as JSON")
    cmd.set_defaults(run=_scaffold)
    cmd = targets.add_parser(
        "pipelines", help="every pipeline of pipelines/*.yaml: job, DDL, suite, DAGs, tests"
    )
    cmd.add_argument(
        "--dry-run", action="store_true", help="show what would change, with diffs; write nothing"
    )
    cmd.add_argument("--json", action="store_true", help="every file and its state as JSON")
    cmd.set_defaults(run=_pipelines)

    prompt = commands.add_parser(
        "prompt", help="the prompt audit trail (process 4.2)"
    ).add_subparsers(metavar="ACTION", required=True)
    cmd = prompt.add_parser("new", help="compose the explicit-context prompt of a task file")
    cmd.add_argument("task", help="task name or path, e.g. ingestion/pos_orders")
    cmd.set_defaults(run=_prompt_new)
    cmd = prompt.add_parser(
        "log", help="record an executed prompt in agent-prompts/executed_prompts/"
    )
    cmd.add_argument("task", help="task name or path")
    cmd.add_argument("--model", default="claude", help="the model that ran it")
    cmd.add_argument("--text", help="the exact prompt, when it differs from the composed one")
    cmd.set_defaults(run=_prompt_log)
    cmd = prompt.add_parser(
        "outcome", help="fill a record's OUTCOME from git (the newest record by default)"
    )
    cmd.add_argument("record", nargs="?", help="file name of the record")
    cmd.add_argument(
        "--status",
        default="SUCCESS",
        type=_outcome_status,
        help="SUCCESS (the default), PARTIAL or FAILED",
    )
    cmd.add_argument("--notes", default="", help="anything worth keeping")
    cmd.set_defaults(run=_prompt_outcome)


def _scaffold(args: argparse.Namespace) -> int:
    from pipelines.scaffold import generate_scaffold

    result = generate_scaffold(open_project(args), dry_run=args.dry_run)
    if args.json:
        _print_plan("scaffold", result.plan, args.dry_run, result.ticked, result.drafted)
        return 0
    _report_plan("scaffold", result.plan, args.dry_run)
    if result.ticked:
        print(f"ticked: {', '.join(result.ticked)}")
    if result.drafted:
        print(f"deliverables now draft: {', '.join(result.drafted)}")
    return 0


def _pipelines(args: argparse.Namespace) -> int:
    from pipelines.codegen import generate_pipelines

    result = generate_pipelines(open_project(args), dry_run=args.dry_run)
    if args.json:
        _print_plan("pipelines", result, args.dry_run)
        return 0
    _report_plan("pipelines", result, args.dry_run)
    return 0


def _prompt_new(args: argparse.Namespace) -> int:
    from pipelines.prompt_trail import compose

    print(compose(open_project(args).root, args.task).text)
    return 0


def _prompt_log(args: argparse.Namespace) -> int:
    from deliverables.identity import display_name
    from pipelines.prompt_trail import compose, log_prompt

    project = open_project(args)
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


def _prompt_outcome(args: argparse.Namespace) -> int:
    from pipelines.prompt_trail import record_outcome

    project = open_project(args)
    record, lines = record_outcome(project.root, args.record, status=args.status, notes=args.notes)
    print(f"{record.relative_to(project.root)}:")
    print("\n".join(lines))
    return 0


def _print_plan(what: str, plan, dry_run: bool, ticked=(), drafted=()) -> None:
    from pipelines.generate import generation_document

    print_json(generation_document(what, plan, dry_run=dry_run, ticked=ticked, drafted=drafted))


def _outcome_status(text: str) -> str:
    """An argparse type: a prompt's outcome, any case; another value is a usage error (exit 2).
    The list is the prompt trail's, read only when --status is given (it costs an import)."""
    from pipelines.prompt_trail import STATUSES

    value = text.upper()
    if value not in STATUSES:
        raise argparse.ArgumentTypeError(
            f"invalid choice: {value!r} (choose from {', '.join(STATUSES)})"
        )
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
