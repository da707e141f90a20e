"""Profiling speed (issue 15): `pipelines.profiling.compute.profile` on a CSV of N rows x 20
columns, interleaved (bench/_interleave.py) with its floor in the same Spark session: Spark's own
`df.summary()` plus approximate distinct counts of every column, on the same DataFrame read the
same way (every column as text, as the profiler reads CSV). Goal: <= 1.5x.

    python bench/profiling.py [--rows 1000000] [--rounds 3]

Sampled mode (issue 15: "sampled mode on 10M rows: <= 10 s"): `--sampled ROWS` times
`resolve(..., sample_rows=ROWS)` plus the profile (block sampling: pipelines.profiling.blocks),
the sampled mode before it (the whole file checked and parsed, then `df.sample`: `--before`),
and the exact mode (`--no-exact` leaves it out: minutes on 10M rows), in the same warm session,
each `--rounds` times (medians), and prints the ratio of sampled to exact:

    python bench/profiling.py --rows 10000000 --sampled 100000 [--rounds 3] [--before]

The CSV is generated once under $TMPDIR (reused while its row count matches).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

# named profiling.py, not profile.py: as bench/profile.py it shadowed the standard library's
# `profile` (cProfile imports it, pyspark imports cProfile) in every script run from bench/
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._interleave import interleave, verdict

GOAL = 1.5


def make_csv(path: Path, rows: int) -> None:
    rng = random.Random(7)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    statuses = ("paid", "refunded", "void", "pending")
    with path.open("w") as out:
        out.write("id,store,status,amount,qty,price,ts,day,email,code,a,b,c,d,e,f,g,h,note,flag\n")
        for i in range(rows):
            ts = (start + timedelta(seconds=i * 7)).strftime("%Y-%m-%d %H:%M:%S")
            out.write(
                f"{i},S{i % 50:02d},{statuses[i % 4]},{rng.randint(1, 99999) / 100:.2f},"
                f"{rng.randint(1, 20)},{rng.random() * 100:.4f},{ts},{ts[:10]},"
                f"u{i}@example.com,{i % 1000:04d},{rng.randint(0, 9)},{rng.randint(0, 999)},"
                f"{rng.random():.3f},x{i % 7},{rng.randint(-50, 50)},{i % 3},"
                f"{rng.randint(0, 10**6)},y{i % 11},{'NULL' if i % 9 == 0 else 'ok'},"
                f"{'true' if i % 2 else 'false'}\n"
            )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sampled", type=int, metavar="ROWS", help="time sampled mode")
    parser.add_argument("--no-exact", action="store_true", help="with --sampled: no exact run")
    parser.add_argument("--before", action="store_true", help="with --sampled: df.sample mode")
    args = parser.parse_args()
    folder = Path(tempfile.gettempdir()) / f"phasegate-bench-profile-{args.rows}"
    folder.mkdir(exist_ok=True)
    csv = folder / "data.csv"
    if not csv.exists():
        started = time.perf_counter()
        make_csv(csv, args.rows)
        print(
            f"generated {csv} ({csv.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - started:.0f} s"
        )

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import functions as F

    from pipelines.profiling.compute import profile, read_source
    from pipelines.profiling.source import resolve
    from pipelines.validation.full import spark_session

    spark = spark_session()
    spark.sparkContext.setLogLevel("ERROR")
    if args.sampled:
        sampled(spark, folder, csv, args)
        spark.stop()
        return 0
    source = resolve(folder, "data.csv", None, {})

    def baseline() -> float:
        started = time.perf_counter()
        df = read_source(spark, source)
        df.summary().collect()
        df.agg(*[F.approx_count_distinct(F.col(c)) for c in df.columns]).collect()
        return time.perf_counter() - started

    def ours() -> tuple[float, object]:
        started = time.perf_counter()
        result = profile(spark, source)
        return time.perf_counter() - started, result["timings"]

    pair = interleave(baseline, ours, args.rounds)
    load = os.getloadavg()[0]
    print(
        f"profile: {args.rows:,} rows x 20 columns (CSV, {csv.stat().st_size / 1e6:.0f} MB), load {load:.1f}"
    )
    print(f"  df.summary() + approx distinct: {pair.base_median:.1f} s median")
    print(
        f"  phasegate profile (exact mode): {pair.ours_median:.1f} s median; passes {pair.extra[-1]}"
    )
    print(
        f"  ratio {pair.ratio:.2f}x (rounds {pair.spread()}; goal <= {GOAL}x: "
        f"{verdict(pair.ratio <= GOAL)})"
    )
    spark.stop()
    return 0


def sampled(spark, folder: Path, csv: Path, args) -> None:
    """Sampled mode against exact mode on the same file (see the module)."""
    import statistics

    from pipelines.profiling.compute import profile
    from pipelines.profiling.source import resolve

    def run(sample_rows: int | None, blocks: bool) -> tuple[float, dict]:
        started = time.perf_counter()
        source = resolve(folder, "data.csv", None, {}, sample_rows if blocks else None)
        try:
            result = profile(spark, source, sample_rows=sample_rows)
        finally:
            source.discard()
        return time.perf_counter() - started, result

    run(args.sampled, True)  # warm-up: the session's first jobs
    modes = {"sampled (blocks)": (args.sampled, True)}
    if args.before:
        modes["sampled (before: whole file, df.sample)"] = (args.sampled, False)
    if not args.no_exact:
        modes["exact"] = (None, False)
    times: dict[str, list[float]] = {name: [] for name in modes}
    results: dict[str, dict] = {}
    for _ in range(args.rounds):
        for name, (rows, blocks) in modes.items():
            if name != "exact" or not times[name]:  # exact: once (minutes on 10M rows)
                seconds, results[name] = run(rows, blocks)
                times[name].append(seconds)
                print(f"    {name}: {seconds:.1f} s", flush=True)
    load = os.getloadavg()
    print(
        f"profile --sample {args.sampled:,}: {args.rows:,} rows x 20 columns "
        f"(CSV, {csv.stat().st_size / 1e6:.0f} MB), load {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}"
    )
    medians = {name: statistics.median(t) for name, t in times.items()}
    for name, t in times.items():
        r = results[name]
        print(
            f"  {name}: {medians[name]:.1f} s median of {', '.join(f'{x:.1f}' for x in t)}; "
            f"{r['rows_profiled']:,} rows profiled, rows {r['rows'] or r['rows_estimated']:,}"
            f"{' (estimated)' if r['rows'] is None else ''}; passes {r['timings']}"
        )
    if "exact" in medians:
        ratio = medians["sampled (blocks)"] / medians["exact"]
        print(f"  sampled / exact: {ratio:.3f}x")
    goal = 10.0
    print(
        f"  goal <= {goal:g} s in the warm session: {verdict(medians['sampled (blocks)'] <= goal)}"
    )


if __name__ == "__main__":
    sys.exit(main())
