"""Issue 14's scale-out goals, on a local Spark standalone cluster: a master and two workers of
one core each on 127.0.0.1, started from the pyspark package alone
(tests/helpers/spark_cluster.py); every run is a `spark-submit --master spark://...` of its own.

    .venv/bin/python bench/cluster.py [--rows 10000000] [--rounds 2] [--no-warm-up]
        [--memory-rows 1000000,3000000,10000000] [--only speed|memory] [--arrow-rows 1000000]

1. speed: the generated job (docs/pipeline-spec.md's example spec, Parquet source) on --rows rows
   with `--write-path distributed`: read, rejects, transformations, the executors write the
   table's data files (one partition value per file: day and a 16-bucket), the driver commits
   them to the audit branch; vs the same Spark job writing plain Parquet (the job's own
   `read_batch` and `quarantine`, then `df.write.parquet`: bench/_plain_parquet.py).
   Interleaved rounds (bench/_interleave.py); wall time of each spark-submit. Goal: <= 1.3x.
2. memory: the driver's peak RSS (the spark-submit JVM and the driver's Python, sampled every
   0.1 s; the executors run under the workers, not counted) of the distributed path at each of
   --memory-rows: goal flat in the row count. With --arrow-rows, the Arrow path once at that
   size, for contrast (the batch in the driver).
"""

from __future__ import annotations

import argparse
import importlib
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PHASEGATE_USER", "Bench <bench@example.com>")

import psutil  # noqa: E402

from deliverables import Project  # noqa: E402
from pipelines.codegen import generate_pipelines  # noqa: E402
from pipelines.lake import env_prefix  # noqa: E402
from pipelines.scaffold import generate_scaffold  # noqa: E402
from tests.helpers.spark_cluster import environment, standalone_cluster, submit_command  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from _interleave import interleave, verdict  # noqa: E402

HERE = Path(__file__).resolve().parent
# docs/pipeline-spec.md's example, a Parquet source, without its dependency and its rules
SPEC = """\
name: pos_orders
source: {path: landing/orders/*.parquet, format: parquet}
schema:
  - {name: order_id, type: string, nullable: false}
  - {name: store_id, type: string}
  - {name: ordered_at, type: timestamp, nullable: false}
  - {name: amount, type: "decimal(12,2)"}
  - {name: quantity, type: int}
  - {name: status, type: string}
  - {name: email, type: string}
target:
  table: sales.orders
  partition_by:
    - {column: ordered_on, transform: day}
    - {column: store_id, transform: bucket, buckets: 16}
transformations:
  - rename: {column: ordered_at, to: ordered_on}
  - cast: {column: quantity, to: long}
  - derive: {column: unit_price, expr: "amount / quantity", type: "decimal(12,4)"}
"""


def solution(folder: Path) -> tuple[Path, str]:
    """A scaffolded solution with the spec generated: (its folder, its catalog name)."""
    project, _ = Project.init(folder / "bench-lake")
    generate_scaffold(project)
    (project.root / "pipelines").mkdir()
    (project.root / "pipelines" / "pos_orders.yaml").write_text(SPEC)
    generate_pipelines(project)
    project.close()
    sys.path.insert(0, str(project.root))
    job = importlib.import_module("src.ingestion.pos_orders")
    return project.root, job.CATALOG


class Run:
    """One spark-submit, its wall time and the driver's peak RSS (JVM, Python)."""

    def __init__(self, command: list[str], cwd: Path, env: dict[str, str]) -> None:
        self.command, self.cwd, self.env = command, cwd, env
        self.jvm = self.python = 0

    def __call__(self) -> float:
        start = time.perf_counter()
        process = subprocess.Popen(
            self.command,
            cwd=self.cwd,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        done = threading.Event()
        watcher = threading.Thread(target=self._watch, args=(process.pid, done), daemon=True)
        watcher.start()
        output, _ = process.communicate()
        seconds = time.perf_counter() - start
        done.set()
        watcher.join()
        if process.returncode != 0:
            raise SystemExit(f"{' '.join(self.command[-6:])} failed:\n{output[-4000:]}")
        self.output = output
        return seconds

    def _watch(self, pid: int, done: threading.Event) -> None:
        try:
            top = psutil.Process(pid)
        except psutil.NoSuchProcess:
            return
        while not done.is_set():
            try:
                for process in [top, *top.children(recursive=True)]:
                    rss = process.memory_info().rss
                    if "java" in process.name():
                        self.jvm = max(self.jvm, rss)
                    elif "python" in process.name():
                        self.python = max(self.python, rss)
            except psutil.Error:
                pass
            time.sleep(0.1)


def make_source(cluster, folder: Path, rows: int, env: dict[str, str]) -> Path:
    out = folder / f"orders-{rows}"
    if not out.exists():
        command = submit_command(cluster, str(HERE / "_cluster_source.py"), str(out), str(rows))
        subprocess.run(command, env=env, check=True, capture_output=True)
    return out


def mib(n: int) -> str:
    return f"{n / 2**20:,.0f} MiB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--no-warm-up", action="store_true")
    parser.add_argument("--memory-rows", default="1000000,3000000,10000000")
    parser.add_argument("--arrow-rows", type=int, default=0)
    parser.add_argument("--only", choices=("speed", "memory"))
    args = parser.parse_args()
    print(f"load average at start: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory(prefix="bench-cluster-") as tmp:
        folder = Path(tmp)
        root, catalog = solution(folder)
        prefix = env_prefix(catalog)
        env = environment(
            PYTHONPATH=str(root),
            **{
                prefix + "TYPE": "sql",
                prefix + "URI": f"sqlite:///{folder / 'catalog.db'}",
                prefix + "WAREHOUSE": (folder / "warehouse").as_uri(),
            },
        )
        with standalone_cluster(folder / "cluster", workers=2, cores=1, memory="1500m") as cluster:
            print(f"cluster {cluster.url}: 2 workers x 1 core")
            job = str(root / "src" / "ingestion" / "pos_orders.py")
            days = iter(f"2026-02-{n:02d}" for n in range(1, 29))
            peaks: dict[int, list[tuple[int, int, float]]] = {}  # rows: (JVM, Python, seconds)

            def ours(rows: int, path: str = "distributed") -> Run:
                source = make_source(cluster, folder, rows, env)
                run_date = next(days)
                command = submit_command(
                    cluster, job, "--source", str(source), "--run-date", run_date,
                    "--write-path", path,
                )  # fmt: skip
                return Run(command, root, env)

            if args.only in (None, "speed"):
                source = make_source(cluster, folder, args.rows, env)
                plain = folder / "plain"

                def baseline() -> float:
                    command = submit_command(
                        cluster, str(HERE / "_plain_parquet.py"), str(source), str(plain)
                    )
                    return Run(command, root, env)()

                def distributed() -> tuple[float, str]:
                    run = ours(args.rows)
                    seconds = run()
                    peaks.setdefault(args.rows, []).append((run.jvm, run.python, seconds))
                    return seconds, run.output

                pair = interleave(baseline, distributed, args.rounds, warm_up=not args.no_warm_up)
                committed = [
                    line for line in pair.extra[-1].splitlines() if '"job finished"' in line
                ]
                print(f"speed: {args.rows:,} rows, {args.rounds} rounds")
                print(f"  same Spark job writing plain Parquet: {pair.base_median:.1f} s median")
                print(f"  distributed write path (audit branch): {pair.ours_median:.1f} s median")
                print(
                    f"  ratio {pair.ratio:.2f}x (rounds {pair.spread()}; goal <= 1.3x: "
                    f"{verdict(pair.ratio <= 1.3)})"
                )
                print(f"  {committed[-1][:300] if committed else 'no job finished line'}")
            if args.only in (None, "memory"):
                print("memory: driver peak RSS, distributed write path")
                for rows in [int(r) for r in args.memory_rows.split(",") if r]:
                    if rows not in peaks:  # the speed rounds measured --rows already
                        run = ours(rows)
                        seconds = run()
                        peaks[rows] = [(run.jvm, run.python, seconds)]
                    jvm, python, seconds = max(peaks[rows])
                    runs = len(peaks[rows])
                    print(
                        f"  {rows:>11,} rows: JVM {mib(jvm)}, Python {mib(python)} "
                        f"({seconds:.0f} s; the highest of {runs} run{'s' if runs > 1 else ''})"
                    )
                if args.arrow_rows:
                    run = ours(args.arrow_rows, "arrow")
                    seconds = run()
                    print(
                        f"  Arrow path, {args.arrow_rows:,} rows: JVM {mib(run.jvm)}, "
                        f"Python {mib(run.python)} ({seconds:.0f} s)"
                    )
    print(f"load average at end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
