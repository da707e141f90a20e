"""Generation speed: the scaffold plus 50 pipelines from scratch, then a re-run with no change.

    .venv/bin/python bench/generate.py [--pipelines N]

Baseline in the same invocation: writing the same files' final text with plain Python (no
templates, no planning, no ruff), i.e. the floor of producing that many files.
Goals: full generation <= 2 s, the no-change re-run <= 0.5 s.
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pipelines", type=int, default=50)
    args = parser.parse_args()
    firsts, reruns = [], []
    for _ in range(3):
        with tempfile.TemporaryDirectory() as tmp:
            project = make_project(Path(tmp), args.pipelines)
            first, files = run(project)
            rerun, _ = run(project)
            firsts.append(first)
            reruns.append(rerun)
            texts = {
                p: p.read_text()
                for p in project.root.rglob("*")
                if p.is_file()
                and not {".git", ".phasegate", "pipelines"} & set(p.relative_to(project.root).parts)
            }
            started = time.perf_counter()
            out = Path(tmp) / "plain"
            for path, text in texts.items():
                target = out / path.relative_to(project.root)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text)
            baseline = time.perf_counter() - started
            project.close()
    first, rerun = statistics.median(firsts), statistics.median(reruns)
    print(f"scaffold + {args.pipelines} pipelines: {files} files, median of 3")
    print(
        f"  from scratch: {first:.2f} s = {files / first:,.0f} files/s (goal <= 2 s: {'met' if first <= 2 else 'NOT met'})"
    )
    print(
        f"  re-run, no change: {rerun:.2f} s = {files / rerun:,.0f} files/s (goal <= 0.5 s: {'met' if rerun <= 0.5 else 'NOT met'})"
    )
    print(
        f"  baseline, writing the same {len(texts)} final texts with plain Python: {baseline:.2f} s "
        f"(from scratch takes {first / baseline:.1f}x)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
