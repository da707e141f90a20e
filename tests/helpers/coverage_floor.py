"""Prints the total coverage and the modules under the floor, from `coverage json`'s output;
with --check, exits 1 when the total is under the goal or a module under the floor.

    coverage json -q -o .coverage.json && python -m tests.helpers.coverage_floor .coverage.json
"""

from __future__ import annotations

import argparse
import json
import sys

GOAL = 90.0  # % of phasegate's own lines, all processes together
FLOOR = 75.0  # % of each module


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("report", help="the JSON written by `coverage json`")
    parser.add_argument("--check", action="store_true", help="exit 1 under the goal or a floor")
    parser.add_argument("--list-under", type=float, default=FLOOR, metavar="PCT")
    args = parser.parse_args(argv)
    with open(args.report, encoding="utf-8") as handle:
        data = json.load(handle)
    total = data["totals"]["percent_covered"]
    modules = sorted(
        (info["summary"]["percent_covered"], name, info["summary"]["missing_lines"])
        for name, info in data["files"].items()
    )
    under = [m for m in modules if m[0] < args.list_under]
    print(f"coverage: {total:.1f}% of phasegate's lines (goal {GOAL:g}%, each module {FLOOR:g}%)")
    if under:
        print(f"modules under {args.list_under:g}%:")
        for percent, name, missing in under:
            print(f"  {percent:5.1f}%  {name}  ({missing} lines not run)")
    if not args.check:
        return 0
    failing = total < GOAL or any(m[0] < FLOOR for m in modules)
    if failing:
        print("coverage check: FAILED", file=sys.stderr)
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main())
