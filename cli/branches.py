"""Audit branches of the solution's Iceberg tables: `branches` lists them, `branches drop` drops
them (a named one, those whose check failed, those older than some days).

Each run of a generated job writes to an audit branch (write-audit-publish); publishing removes
it, so a branch left is a run not published: its check failed (the reason is recorded), or it
never finished. See pipelines/lake.py.
"""

from __future__ import annotations

import argparse

from cli.common import open_project, print_json


def register(commands: argparse._SubParsersAction) -> None:
    """Adds the branches command."""
    cmd = commands.add_parser(
        "branches", help="audit branches of the pipelines' Iceberg tables (runs not published)"
    )
    _pipelines(cmd)
    cmd.add_argument("--json", action="store_true", help="as JSON")
    cmd.set_defaults(run=_list)
    actions = cmd.add_subparsers(metavar="ACTION")
    drop = actions.add_parser(
        "drop", help="drop audit branches (their snapshots go with the next snapshot expiry)"
    )
    drop.add_argument("names", nargs="*", metavar="NAME", help="the branches to drop")
    drop.add_argument("--failed", action="store_true", help="every branch whose check failed")
    drop.add_argument(
        "--older-than",
        type=days,
        metavar="DAYS",
        help="every branch written more than DAYS days ago (with --failed: failed and older)",
    )
    _pipelines(drop)
    drop.set_defaults(run=_drop)


def _pipelines(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-p",
        "--pipeline",
        action="append",
        metavar="PIPELINE",
        help="only this pipeline's table (repeatable; default: every spec)",
    )


def days(text: str) -> float:
    """An argparse type: a number of days, 0 or more."""
    import math

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of days") from None
    if not math.isfinite(value) or not 0 <= value <= 36500:
        raise argparse.ArgumentTypeError(f"{text} must be a number of days from 0 to 36500")
    return value


def _specs(root, chosen: list[str] | None):
    from pipelines.errors import LakeError
    from pipelines.spec import load_specs

    specs = load_specs(root)
    if not chosen:
        return specs
    known = [s.name for s in specs]
    unknown = [name for name in chosen if name not in known]
    if unknown:
        raise LakeError(
            f"unknown pipeline(s) {', '.join(unknown)}; the specs are: "
            + (", ".join(known) or "none (pipelines/ has no specs)")
        )
    return [s for s in specs if s.name in chosen]


def _list(args: argparse.Namespace) -> int:
    from pipelines.lake import audit_branches, branches_document, catalog_name

    project = open_project(args)
    branches = audit_branches(project.root, _specs(project.root, args.pipeline))
    if args.json:
        print_json(branches_document(catalog_name(project.root), branches))
        return 0
    if not branches:
        print("no audit branches: every run was published (or none ran yet)")
        return 0
    for b in branches:
        status = f"failed: {b.failed}" if b.failed is not None else "not published"
        rows = "?" if b.rows is None else str(b.rows)
        print(
            f"{b.name}  {b.pipeline}  {b.table}  run date {b.run_date}  {rows} rows  "
            f"written {b.written_at:%Y-%m-%d %H:%M} UTC  {status}"
        )
    return 0


def _drop(args: argparse.Namespace) -> int:
    from pipelines.errors import LakeError
    from pipelines.lake import drop_branches

    if args.names and (args.failed or args.older_than is not None):
        raise LakeError("name branches, or use --failed / --older-than: not both")
    project = open_project(args)
    dropped = drop_branches(
        project.root,
        _specs(project.root, args.pipeline),
        args.names,
        failed=args.failed,
        older_than=args.older_than,
    )
    if not dropped:
        print("no audit branch matched: nothing dropped")
    for b in dropped:
        print(f"dropped {b.name} ({b.pipeline}, {b.table})")
    return 0
