"""The project's pipelines: `pipelines` lists each one with its table, when it runs in words (the
TUI's Pipelines screen says the same: pipelines.overview) and what it depends on."""

from __future__ import annotations

import argparse

from cli.common import open_project, print_json


def register(commands: argparse._SubParsersAction) -> None:
    """Adds the pipelines command."""
    cmd = commands.add_parser(
        "pipelines", help="the pipelines of pipelines/*.yaml: table, when each runs, dependencies"
    )
    cmd.add_argument("--json", action="store_true", help="as JSON")
    cmd.set_defaults(run=_list)


def _list(args: argparse.Namespace) -> int:
    from pipelines.overview import pipeline_lines, pipelines_document
    from pipelines.spec import load_specs

    lines = pipeline_lines(load_specs(open_project(args).root))
    if args.json:
        print_json(pipelines_document(lines))
        return 0
    if not lines:
        print("no pipelines yet: add pipelines/<name>.yaml (docs/pipeline-spec.md)")
        return 0
    rows = [("PIPELINE", "TABLE", "RUNS", "DEPENDS ON")] + [
        (line.name, line.table, line.runs, ", ".join(line.depends_on) or "—") for line in lines
    ]
    widths = [max(len(row[n]) for row in rows) for n in range(3)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row[:3], widths, strict=True)]
        print("  ".join([*cells, row[3]]))
    return 0
