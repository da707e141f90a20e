"""The project as a whole: `open` (the TUI), `init`, `demo`, `status`, `export`."""

from __future__ import annotations

import argparse
import gc
import sys
from pathlib import Path

from cli.common import AT_HELP, add_output, emit_document, fail, open_project, print_json
from deliverables import Project

DEFAULT_DEMO = "phasegate-demo"


def register(commands: argparse._SubParsersAction) -> None:
    """Adds the project commands."""
    cmd = commands.add_parser("open", help="open the TUI (the default)")
    cmd.add_argument("path", nargs="?", help="project folder (default: -C or .)")
    cmd.set_defaults(run=open_tui)

    cmd = commands.add_parser(
        "init", help="make a folder a phasegate project (and a git repository)"
    )
    cmd.add_argument("path", nargs="?", help="folder (default: -C or .)")
    cmd.set_defaults(run=_init)

    cmd = commands.add_parser("demo", help="create a demo project with realistic partial progress")
    cmd.add_argument(
        "path", nargs="?", default=DEFAULT_DEMO, help=f"folder (default: {DEFAULT_DEMO})"
    )
    cmd.set_defaults(run=_demo)

    cmd = commands.add_parser("status", help="progress of every phase")
    cmd.add_argument(
        "--json", action="store_true", help="the whole state as JSON, for scripts and CI"
    )
    cmd.add_argument("--at", metavar="WHEN", help=AT_HELP)
    cmd.set_defaults(run=_status)

    cmd = commands.add_parser("export", help="the markdown status report")
    cmd.add_argument("--phase", metavar="N", help="only phase N")
    cmd.add_argument("--at", metavar="WHEN", help=AT_HELP)
    add_output(cmd, "docs/reports/status-DATE.md")
    cmd.set_defaults(run=_export)


def open_tui(args: argparse.Namespace) -> int:
    """`phasegate [open]`: the TUI on the project, when there is a terminal to show it."""
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        return fail(
            "the TUI needs a terminal; without one use a command such as `phasegate status` (see --help)"
        )
    project = open_project(args)
    # no cyclic garbage collection while the TUI starts: what it allocates lives as long as the
    # app; PhasegateApp freezes it and collects again once its first screen is ready
    gc.disable()
    from tui.app import PhasegateApp  # Textual only when the TUI really starts

    PhasegateApp(project).run()
    return 0


def _init(args: argparse.Namespace) -> int:
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


def _demo(args: argparse.Namespace) -> int:
    from deliverables.demo import create_demo

    project = create_demo(Path(args.path))
    print(f"Created the demo project in {project.root}. Open it with `phasegate open {args.path}`.")
    return 0


def _status(args: argparse.Namespace) -> int:
    from deliverables.templating import progress_bar

    project = open_project(args)
    if args.json:
        from deliverables.json_documents import status_document

        print_json(status_document(project))
        return 0
    items, delivs = project.item_states(), project.deliverable_states()
    gates = project.gate_states()
    current = project.current_phase(items, delivs, gates)
    as_of = f" (as of {project.as_of})" if project.as_of else ""
    print(f"{project.name}{as_of} — current phase: {current.id}. {current.title}")
    for phase in project.model.phases:
        progress = project.progress(phase, items, delivs)
        marker = "▶" if phase is current else " "
        print(
            f"{marker} {phase.id}. {phase.title:<32} {progress_bar(progress.fraction)} {progress.fraction:4.0%}"
            f"  items {progress.items_done}/{progress.items_total}"
            f"  deliverables {progress.deliverables_done}/{progress.deliverables_total}"
            f"  {project.phase_status(phase, items, delivs, gates).replace('_', ' ')}"
        )
    return 0


def _export(args: argparse.Namespace) -> int:
    from deliverables.report import render_status_report, status_report_path

    project = open_project(args)
    text = render_status_report(project, phase=args.phase)
    emit_document(project, args.output, text, lambda: status_report_path(project, args.phase))
    return 0
