"""The engineer's day: `today` (assigned, due, changed by others, the stand-up note)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cli.common import open_project


def register(commands: argparse._SubParsersAction) -> None:
    """Adds the today command."""
    cmd = commands.add_parser("today", help="my day: assigned, due, changed by others, stand-up")
    cmd.add_argument("--yesterday", help="stand-up: what I did yesterday")
    cmd.add_argument("--today", dest="plan", help="stand-up: what I do today")
    cmd.add_argument("--blockers", help="stand-up: what blocks me")
    cmd.add_argument("-o", "--output", metavar="FILE", help="write the day (markdown) to FILE")
    cmd.set_defaults(run=_today)


def _today(args: argparse.Namespace) -> int:
    from deliverables.day import day_view, last_session, record_session, render_day, save_standup
    from deliverables.templating import write_atomically

    project = open_project(args)
    if any(v is not None for v in (args.yesterday, args.plan, args.blockers)):
        save_standup(project, yesterday=args.yesterday, today=args.plan, blockers=args.blockers)
    since = last_session(project)
    text = render_day(project, day_view(project, since=since))
    record_session(project)
    if args.output:
        write_atomically(Path(args.output), text)
        print(f"Wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0
