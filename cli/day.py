"""The engineer's day: `today` (assigned, due, changed by others, the stand-up note)."""

from __future__ import annotations

import argparse

from cli.common import add_output, emit_document, open_project, print_json


def register(commands: argparse._SubParsersAction) -> None:
    """Adds the today command."""
    cmd = commands.add_parser("today", help="my day: assigned, due, changed by others, stand-up")
    cmd.add_argument("--yesterday", help="stand-up: what I did yesterday")
    cmd.add_argument("--today", dest="plan", help="stand-up: what I do today")
    cmd.add_argument("--blockers", help="stand-up: what blocks me")
    add_output(cmd, "docs/standups/DATE.md")
    cmd.add_argument("--json", action="store_true", help="the day as JSON")
    cmd.set_defaults(run=_today)


def _today(args: argparse.Namespace) -> int:
    from deliverables.day import (
        day_view,
        last_session,
        record_session,
        render_day,
        save_standup,
        standup_path,
    )

    project = open_project(args)
    if any(v is not None for v in (args.yesterday, args.plan, args.blockers)):
        save_standup(project, yesterday=args.yesterday, today=args.plan, blockers=args.blockers)
    since = last_session(project)
    day = day_view(project, since=since)
    if args.json:
        from deliverables.json_documents import day_document

        print_json(day_document(project, day))
        record_session(project)
        return 0
    text = render_day(project, day)
    emit_document(project, args.output, text, lambda: standup_path(project, day.today))
    record_session(project)  # after the output: a day that could not be written was not seen
    return 0
