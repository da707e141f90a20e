"""Profiling speed (issue 15): `pipelines.profiling.compute.profile` on a CSV of N rows x 20
columns, interleaved (bench/_interleave.py) with its floor in the same Spark session: Spark's own
`df.summary()` plus approximate distinct counts of every column, on the same DataFrame read the
same way (every column as text, as the profiler reads CSV). Goal: <= 1.5x.

    python bench/profiling.py [--rows 1000000] [--rounds 3]

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


if __name__ == "__main__":
    sys.exit(main())
