"""`phasegate publish`: the tracker's delivery and data-quality facts to PostgreSQL, for the
team's Metabase dashboards (deliverables.publish)."""

from __future__ import annotations

import argparse
import sys

from cli.common import open_project, print_json


def register(commands: argparse._SubParsersAction) -> None:
    """Adds the publish command."""
    cmd = commands.add_parser(
        "publish",
        help="publish delivery and data-quality facts to PostgreSQL (dashboards in Metabase)",
        description="Writes the tracker's facts to a PostgreSQL schema shaped for Metabase "
        "(docs/dashboards/metabase.md): only what changed since the last publish.",
    )
    cmd.add_argument(
        "--dsn",
        metavar="URL",
        help="the database (postgresql://user@host:5432/db or key=value pairs); default: "
        "PHASEGATE_PUBLISH_DSN, else tech_stack.serving.publish_dsn in agent-prompts/context.yaml; "
        "with a password, prefer the variable: arguments show in `ps`",
    )
    cmd.add_argument(
        "--schema", default="phasegate", help="the schema to publish into (default: phasegate)"
    )
    cmd.add_argument("--json", action="store_true", help="what was sent and changed, as JSON")
    cmd.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    cmd.set_defaults(run=_publish)


def _publish(args: argparse.Namespace) -> int:
    from deliverables.publish import publish, resolve_dsn

    project = open_project(args)
    try:
        target = resolve_dsn(project.root, args.dsn)
        quiet = args.quiet or args.json

        def progress(text: str, done: float) -> None:
            if not quiet:
                print(f"  {text}", file=sys.stderr)

        outcome = publish(project, target, args.schema, listener=progress)
    finally:
        project.close()
    if args.json:
        print_json(outcome.document())
    else:
        print(outcome.line())
    return 0
