"""Validation speed and memory, with baselines run in the same invocation.

    .venv/bin/python bench/validate.py [--only static|session|overhead] [--pipelines 50]
        [--session-pipelines 10] [--rows 100000] [--big-rows 1000000] [--rounds 3]

Baselines run interleaved with the measured runs (baseline, ours, baseline, ours…, after one
warm-up of each; bench/_interleave.py), and goals are judged on the ratio of the medians.

1. static: the static tier on 50 generated pipelines. Baseline: a bare Python that only imports
   Airflow's DagBag and GX's ExpectationConfiguration (the floor of the tier). Goal <= 5 s,
   printed with the ratio to the floor.
2. session: the full tier on 10 pipelines x 100k synthesized rows in one run (one subprocess,
   one warm Spark session) vs 10 separate runs of one pipeline each. Goal: >= 4x faster. (One
   round: the separate runs take minutes; the comparison is within the round.)
3. overhead: one pipeline on a 1M-row sample file, end to end, vs a minimal hand-written script
   doing the same Spark -> Arrow -> PyIceberg -> read back -> GX steps. Goal: <= 1.2x, the DAG run
   included: the full tier runs the job and GX once, as the tasks of the ingestion DAG's
   dag.test(). Peak memory (RSS of the whole process tree, the JVM included) of both, and the time
   Airflow adds (the dag.test() step minus the steps its tasks ran).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PHASEGATE_USER", "Bench <bench@example.com>")

from deliverables import Project  # noqa: E402
from pipelines.codegen import generate_pipelines  # noqa: E402
from pipelines.validation.engine import validate  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from _interleave import interleave, verdict  # noqa: E402
from generate import make_project as write_specs  # noqa: E402  (the same specs)


def make_project(folder: Path, count: int, sample: str = "") -> Project:
    """bench/generate.py's specs, generated and committed."""
    project = write_specs(folder, count, sample)
    generate_pipelines(project)
    subprocess.run(["git", "add", "-A"], cwd=project.root, check=True, capture_output=True)
    subprocess.run(
        ["git", "commit", "-qm", "bench"], cwd=project.root, check=True, capture_output=True
    )
    return project


class PeakMemory:
    """Samples the RSS of this process's children (and theirs: the JVM) every 0.1 s."""

    def __init__(self) -> None:
        import psutil

        self._me = psutil.Process()
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        import psutil

        while not self._stop.wait(0.1):
            total = 0
            for child in self._me.children(recursive=True):
                try:
                    total += child.memory_info().rss
                except psutil.Error:
                    continue
            self.peak = max(self.peak, total)


def timed(call) -> tuple[float, object]:
    start = time.perf_counter()
    result = call()
    return time.perf_counter() - start, result


def bench_static(tmp: Path, count: int, rounds: int) -> None:
    project = make_project(tmp / "static", count)
    checks = 0

    def floor() -> float:
        took, _ = timed(
            lambda: subprocess.run(
                [sys.executable, str(Path(__file__).with_name("_static_floor.py"))],
                check=True,
                env={**os.environ, "AIRFLOW_HOME": str(tmp / "airflow-floor")},
                capture_output=True,
            )
        )
        return took

    def ours() -> tuple[float, object]:
        nonlocal checks
        took, outcome = timed(lambda: validate(project, tier="static"))
        assert outcome.status == "passed", outcome.summary
        checks = len(outcome.checks)
        return took, None

    pair = interleave(floor, ours, rounds)
    print(
        f"static tier, {count} pipelines ({checks} checks), {rounds} rounds interleaved with the floor:"
    )
    print(
        f"  {pair.ours_median:.2f} s median (goal <= 5 s: {verdict(pair.ours_median <= 5)}); floor "
        f"(import DagBag + GX's ExpectationConfiguration) {pair.base_median:.2f} s median; ratio "
        f"{pair.ratio:.2f}x (rounds {pair.spread()})"
    )
    project.close()


def bench_session(tmp: Path, count: int, rows: int) -> None:
    project = make_project(tmp / "session", count)
    names = [f"p{n:03d}" for n in range(count)]
    one, outcome = timed(lambda: validate(project, names, tier="full", rows=rows))
    assert outcome.status == "passed", outcome.summary
    separate = 0.0
    for name in names:
        took, single = timed(lambda name=name: validate(project, [name], tier="full", rows=rows))
        assert single.status == "passed", single.summary
        separate += took
    print(
        f"full tier, {count} pipelines x {rows:,} rows: one run {one:.1f} s, "
        f"{count} separate runs {separate:.1f} s: {separate / one:.2f}x faster (goal >= 4x)"
    )
    steps: dict[str, float] = {}
    for check in outcome.checks:
        steps[check.step] = steps.get(check.step, 0.0) + (check.duration or 0.0)
    print(
        "  time per step in the one run: "
        + ", ".join(f"{step} {seconds:.1f} s" for step, seconds in steps.items())
    )
    project.close()


OVERHEAD_GOAL = 1.2


def bench_overhead(tmp: Path, rows: int, rounds: int) -> None:
    project = make_project(tmp / "overhead", 1, sample=", sample: samples/big.csv")
    sample = project.root / "samples" / "big.csv"
    subprocess.run(
        [sys.executable, str(Path(__file__).with_name("_big_sample.py")), str(sample), str(rows)],
        check=True,
    )
    lakes = iter(range(10**6))
    peaks = {"baseline": 0, "ours": 0}

    def minimal() -> float:
        lake = tmp / f"baseline-lake-{next(lakes)}"  # a fresh catalog: the script creates its table
        lake.mkdir()
        with PeakMemory() as memory:
            took, _ = timed(
                lambda: subprocess.run(
                    [
                        sys.executable,
                        str(Path(__file__).with_name("_minimal_full.py")),
                        str(sample),
                        str(project.root / "great_expectations/expectations/p000.json"),
                        f"sqlite:///{lake / 'catalog.db'}",
                        lake.as_uri(),
                    ],
                    check=True,
                    stdout=subprocess.DEVNULL,  # its errors reach the terminal
                )
            )
        peaks["baseline"] = max(peaks["baseline"], memory.peak)
        return took

    def ours() -> tuple[float, object]:
        with PeakMemory() as memory:
            took, outcome = timed(lambda: validate(project, tier="full"))
        assert outcome.status == "passed", (
            outcome.summary
            + ": "
            + "; ".join(
                f"{c.step} {c.check_name}: {c.detail}"
                for c in outcome.checks
                if c.outcome != "passed"
            )
        )
        peaks["ours"] = max(peaks["ours"], memory.peak)
        steps: dict[str, float] = {}
        for check in outcome.checks:
            steps[check.step] = steps.get(check.step, 0.0) + (check.duration or 0.0)
        inside = sum(steps.get(s, 0.0) for s in ("job", "iceberg", "quality", "publish"))
        per_round.append((took, steps, steps.get("dag_test", 0.0) - inside))
        return took, None

    per_round: list[tuple[float, dict[str, float], float]] = []
    pair = interleave(minimal, ours, rounds)
    measured = per_round[1:]  # after the warm-up
    airflow = statistics.median(extra for _, _, extra in measured)
    print(
        f"one pipeline, {rows:,}-row sample, end to end (the DAG run included), {rounds} rounds "
        "interleaved with the minimal script (+1 warm-up each):"
    )
    print(
        f"  phasegate {pair.ours_median:.1f} s median; minimal script {pair.base_median:.1f} s "
        f"median; ratio {pair.ratio:.2f}x (rounds {pair.spread()}; goal <= {OVERHEAD_GOAL:g}x: "
        f"{verdict(pair.ratio <= OVERHEAD_GOAL)})"
    )
    _, steps, _ = measured[len(measured) // 2] if measured else (0, {}, 0)
    print(
        "  time per step (a middle round): "
        + ", ".join(f"{step} {seconds:.1f} s" for step, seconds in steps.items())
        + f"; Airflow's own share of dag.test() {airflow:.1f} s median (dag.test() minus the "
        "steps its tasks ran)"
    )
    print(
        f"  peak memory (process tree, the highest of the rounds): phasegate "
        f"{peaks['ours'] / 2**20:,.0f} MiB, minimal script {peaks['baseline'] / 2**20:,.0f} MiB"
    )
    project.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("static", "session", "overhead"))
    parser.add_argument("--pipelines", type=int, default=50)
    parser.add_argument("--session-pipelines", type=int, default=10)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--big-rows", type=int, default=1_000_000)
    parser.add_argument(
        "--rounds", type=int, default=3, help="interleaved rounds (static, overhead)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="phasegate-bench-") as scratch:
        tmp = Path(scratch)
        os.environ.setdefault("XDG_CACHE_HOME", str(tmp / "cache"))
        if args.only in (None, "static"):
            bench_static(tmp, args.pipelines, args.rounds)
        if args.only in (None, "session"):
            bench_session(tmp, args.session_pipelines, args.rows)
        if args.only in (None, "overhead"):
            bench_overhead(tmp, args.big_rows, args.rounds)


if __name__ == "__main__":
    main()
