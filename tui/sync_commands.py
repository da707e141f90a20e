"""`phasegate sync` and `phasegate verify`: the team's tracker through git (deliverables.sync)."""

from __future__ import annotations

import argparse
import sys


def add_commands(commands, project_of) -> None:
    """Adds the commands to the CLI's subparsers; `project_of(args)` opens the project."""
    cmd = commands.add_parser(
        "sync", help="share the tracker through git: fetch everyone's ops, integrate, push ours"
    )
    cmd.add_argument(
        "remote",
        nargs="?",
        help="a git remote (default: the branch's remote, else origin; none: local only)",
    )
    cmd.set_defaults(run=lambda args: _cmd_sync(args, project_of))
    cmd = commands.add_parser(
        "verify", help="check the op log in git: every op's hash, no rewritten or removed ops"
    )
    cmd.set_defaults(run=lambda args: _cmd_verify(args, project_of))


def _cmd_sync(args: argparse.Namespace, project_of) -> int:
    from deliverables.sync import sync

    project = project_of(args)
    try:
        report = sync(project, args.remote)
    finally:
        project.close()
    print(report.line())
    for problem in report.problems:
        print(f"phasegate: {problem}", file=sys.stderr)
    return 0 if report.ok else 1


def _cmd_verify(args: argparse.Namespace, project_of) -> int:
    from deliverables.sync import verify

    project = project_of(args)
    try:
        result = verify(project)
    finally:
        project.close()
    for problem in result.problems:
        print(f"phasegate: {problem}", file=sys.stderr)
    state = "intact" if result.ok else f"{len(result.problems)} problem(s)"
    print(
        f"verified {result.ops} op(s) in {result.commits} commit(s) of {result.refs} replica "
        f"ref(s): {state}"
    )
    return 0 if result.ok else 1
