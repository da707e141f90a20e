"""Generation speed: the scaffold plus 50 pipelines from scratch, then a re-run with no change.

    .venv/bin/python bench/generate.py [--pipelines N] [--rounds 5]

Baseline, interleaved with the measured runs (baseline, ours, baseline, ours…; one warm-up of
each first, bench/_interleave.py): writing the same files' final text with plain Python into a
fresh folder (no templates, no planning, no ruff), i.e. the floor of producing that many files.
Goals, as ratios to that floor: from scratch <= 6x plain writes, the no-change re-run <= 1.5x
(the absolute goals, <= 2 s and <= 0.5 s, were set where the plain writes took ~0.34 s; both are
printed).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).parent))

from _interleave import interleave, verdict  # noqa: E402

from deliverables import Project  # noqa: E402
from pipelines.codegen import generate_pipelines  # noqa: E402
from pipelines.scaffold import generate_scaffold  # noqa: E402

SPEC = """\
name: {name}
description: Pipeline number {n}
source: {{path: landing/{name}/*.csv, format: csv, options: {{header: true}}{sample}}}
schema:
  - {{name: id, type: string, nullable: false}}
  - {{name: happened_at, type: timestamp}}
  - {{name: amount, type: "decimal(12,2)"}}
  - {{name: quantity, type: int}}
  - {{name: status, type: string}}
target:
  table: bench.{name}
  partition_by: [{{column: happened_at, transform: day}}]
transformations:
  - cast: {{column: quantity, to: long}}
  - derive: {{column: unit_price, expr: "amount / quantity", type: double}}
  - filter: {{expr: "quantity > 0"}}
  - dedupe: {{keys: [id]}}
quality:
  - {{rule: not_null, column: id}}
  - {{rule: unique, column: id}}
  - {{rule: between, column: quantity, min: 1, max: 1000}}
  - {{rule: in_set, column: status, values: [new, done]}}
  - {{rule: row_count, min: 1}}
  - {{rule: freshness, column: happened_at, max_age_hours: 24}}
schedule: "0 5 * * *"
{depends}
"""


def make_project(folder: Path, count: int, sample: str = "") -> Project:
    """`count` specs p000…; every fifth starts a chain of depends_on. `sample`: extra source
    keys, e.g. ", sample: samples/big.csv" (bench/validate.py)."""
    project, _ = Project.init(folder / "bench-solution", actor="Bench <bench@example.com>")
    (project.root / "pipelines").mkdir()
    for n in range(count):
        depends = f"depends_on: [p{n - 1:03d}]" if n % 5 else ""
        (project.root / "pipelines" / f"p{n:03d}.yaml").write_text(
            SPEC.format(name=f"p{n:03d}", n=n, depends=depends, sample=sample)
        )
    return project


def run(project: Project) -> tuple[float, int]:
    started = time.perf_counter()
    scaffold = generate_scaffold(project)
    pipelines = generate_pipelines(project)
    return time.perf_counter() - started, len(scaffold.plan.files) + len(pipelines.files)


SCRATCH_RATIO_GOAL = 6.0
RERUN_RATIO_GOAL = 1.5


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pipelines", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        tmp = Path(scratch)
        # the texts the baseline writes: one generation's output, read once
        project = make_project(tmp / "reference", args.pipelines)
        run(project)
        texts = {
            p.relative_to(project.root): p.read_text()
            for p in project.root.rglob("*")
            if p.is_file()
            and not {".git", ".phasegate", "pipelines"} & set(p.relative_to(project.root).parts)
        }
        project.close()
        counter = iter(range(10**6))
        reruns: list[float] = []
        files = 0

        def plain() -> float:
            out = tmp / f"plain-{next(counter)}"
            started = time.perf_counter()
            for path, text in texts.items():
                target = out / path
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text)
            return time.perf_counter() - started

        def ours() -> tuple[float, int]:
            nonlocal files
            project = make_project(tmp / f"ours-{next(counter)}", args.pipelines)
            first, files = run(project)
            rerun, _ = run(project)
            reruns.append(rerun)
            project.close()
            return first, files

        pair = interleave(plain, ours, args.rounds)
    rerun = statistics.median(reruns[1:])  # without the warm-up's
    print(
        f"scaffold + {args.pipelines} pipelines: {files} files; {args.rounds} rounds interleaved "
        "with the baseline (+1 warm-up each)"
    )
    print(
        f"  baseline, writing the same {len(texts)} final texts with plain Python: "
        f"{pair.base_median:.2f} s median"
    )
    print(
        f"  from scratch: {pair.ours_median:.2f} s median = {files / pair.ours_median:,.0f} files/s; "
        f"ratio {pair.ratio:.1f}x (rounds {pair.spread()}; goal <= {SCRATCH_RATIO_GOAL:g}x: "
        f"{verdict(pair.ratio <= SCRATCH_RATIO_GOAL)}; absolute <= 2 s: {verdict(pair.ours_median <= 2)})"
    )
    ratio = rerun / pair.base_median
    print(
        f"  re-run, no change: {rerun:.2f} s median = {files / rerun:,.0f} files/s; ratio "
        f"{ratio:.1f}x (goal <= {RERUN_RATIO_GOAL:g}x: {verdict(ratio <= RERUN_RATIO_GOAL)}; "
        f"absolute <= 0.5 s: {verdict(rerun <= 0.5)})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
