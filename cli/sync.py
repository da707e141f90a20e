"""The team's tracker through git: `sync` and `verify` (deliverables.sync)."""

from __future__ import annotations

import argparse
import sys

from cli.common import open_project


def register(commands: argparse._SubParsersAction) -> None:
    """Adds the sync commands."""
    cmd = commands.add_parser(
        "sync", help="share the tracker through git: fetch everyone's ops, integrate, push ours"
    )
    cmd.add_argument(
        "remote",
        nargs="?",
        help="a git remote (default: the branch's remote, else origin; none: local only)",
    )
    cmd.set_defaults(run=_sync)
    cmd = commands.add_parser(
        "verify", help="check the op log in git: every op's hash, no rewritten or removed ops"
    )
    cmd.set_defaults(run=_verify)


def _sync(args: argparse.Namespace) -> int:
    from deliverables.sync import sync

    project = open_project(args)
    try:
        report = sync(project, args.remote)
    finally:
        project.close()
    print(report.line())
    for problem in report.problems:
        print(f"phasegate: {problem}", file=sys.stderr)
    return 0 if report.ok else 1


def _verify(args: argparse.Namespace) -> int:
    from deliverables.sync import verify

    project = open_project(args)
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
