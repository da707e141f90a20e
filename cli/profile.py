"""`phasegate profile`: profile a source (process 1.3), write the Data Profiling Report (D1.3)
and draft `pipelines/<name>.yaml` with suggested quality rules."""

from __future__ import annotations

import argparse
import sys

from cli.common import open_project, positive_int, print_json


def register(commands: argparse._SubParsersAction) -> None:
    """Adds the profile command."""
    cmd = commands.add_parser(
        "profile",
        help="profile a source (1.3): the Data Profiling Report and a drafted pipeline spec",
    )
    cmd.add_argument(
        "source", metavar="SOURCE", help="a file, folder or glob inside the repository, or s3://…"
    )
    cmd.add_argument("--name", help="the pipeline's name (default: from the file name)")
    cmd.add_argument(
        "--format", choices=("csv", "json", "parquet"), help="default: from the file name"
    )
    cmd.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a reader option, as in a spec's source.options (repeatable): --option delimiter=;",
    )
    cmd.add_argument(
        "--sample",
        type=positive_int,
        metavar="ROWS",
        help="profile a sample of about ROWS rows: blocks of whole lines of a large CSV or "
        "JSON-lines source, else random rows (every figure is labelled sampled)",
    )
    cmd.add_argument(
        "--update",
        action="store_true",
        help="merge the new draft into a pipelines/<name>.yaml the profiler drafted before",
    )
    cmd.add_argument("--json", action="store_true", help="the profile as JSON")
    cmd.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    cmd.set_defaults(run=_profile)


def _profile(args: argparse.Namespace) -> int:
    from pipelines.profiling.run import profile_and_write

    project = open_project(args)
    quiet = args.quiet or args.json
    tty = sys.stderr.isatty()

    def progress(event: dict) -> None:
        if quiet:
            return
        done, total = event["index"], event["total"]
        bar = "█" * done + "░" * (total - done)
        line = f"profiling {bar} {done}/{total} {event['name']}"
        print(("\r" + line.ljust(60)) if tty else line, end="" if tty else "\n", file=sys.stderr)

    outcome = profile_and_write(
        project,
        args.source,
        name=args.name,
        fmt=args.format,
        options=args.option,
        sample_rows=args.sample,
        update=args.update,
        listener=progress,
    )
    if not quiet and tty:
        print(file=sys.stderr)
    profile = outcome.profile  # with the drift found against the profile before
    if args.json:
        print_json(profile)
        return 0
    rows = profile["rows_profiled"]
    sensitive = [c["name"] for c in profile["columns"] if c["sensitive"]]
    print(
        f"{profile['name']}: {rows:,} rows ({profile['basis']}), {len(profile['columns'])} "
        f"columns, {profile['duplicate_rows']:,} duplicate rows"
    )
    if sensitive:
        print(f"sensitive-data candidates (values withheld): {', '.join(sensitive)}")
    drift = profile.get("drift")
    if drift:
        findings = drift["findings"]
        print(f"drift since {drift['since']}: {len(findings) or 'none'}")
        for f in findings:
            print(f"  {f['kind']:<12} {f['column']}: {f['detail']}")
    print(f"report   {outcome.report_state:<9} {outcome.report}")
    print(f"spec     {outcome.spec_state:<9} {outcome.spec}")
    if outcome.spec_problem:
        print(f"  {outcome.spec_problem}")
    print(f"profile  stored    {outcome.stored}, and in the tracker (`phasegate sync` shares it)")
    if outcome.drafted:
        print("D1.3 is now a draft")
    if outcome.ticked:
        print(f"ticked by the profiler: {', '.join(outcome.ticked)}")
    return 0
