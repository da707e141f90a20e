"""Write-audit-publish and idempotent reruns of the generated job, with baselines run in the same
invocation (interleaved: baseline, ours, baseline, ours…, after one warm-up of each;
bench/_interleave.py).

    .venv/bin/python bench/wap.py [--rows 1000000] [--date-rows 100000] [--dates 30] [--rounds 5]
        [--only wap|rerun]

1. wap: the generated job's write path on a --rows batch: `write_batch` (the batch cast to the
   table's schema, then one overwrite of its logical date on a new audit branch) + `publish`
   (main fast-forwarded, the branch removed), vs a plain `append` of the same batch to a table of
   the same columns and the spec's partition spec (what the job did before write-audit-publish).
   Each round writes a new logical date on both sides. Goal: <= 1.1x.
2. rerun: in a table holding --dates logical dates of --date-rows rows each, a rerun of one date
   (write + publish: the date's files replaced) vs the first run of a new date (write + publish).
   Goal: <= 1.2x.

Spark is not involved: both sides start from the same Arrow batch (what `df.toArrow()` gives the
job), in a local SQLite catalog, as the generated project's default `.pyiceberg.yaml` sets it.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PHASEGATE_USER", "Bench <bench@example.com>")

import numpy as np  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.compute as pc  # noqa: E402

from deliverables import Project  # noqa: E402
from pipelines.codegen import generate_pipelines  # noqa: E402
from pipelines.lake import env_prefix  # noqa: E402
from pipelines.scaffold import generate_scaffold  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from _interleave import interleave, verdict  # noqa: E402

# docs/pipeline-spec.md's example, without its dependency and sample
SPEC = """\
name: pos_orders
source: {path: landing/pos/orders/*.csv, format: csv, options: {header: true, delimiter: ";"}}
schema:
  - {name: order_id, type: string, nullable: false, description: Order number from the till}
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
FIRST_DAY = date(2026, 1, 1)


def solution(folder: Path):
    """A scaffolded solution with the spec generated; its job module, imported."""
    project, _ = Project.init(folder / "bench-lake")
    generate_scaffold(project)
    (project.root / "pipelines").mkdir()
    (project.root / "pipelines" / "pos_orders.yaml").write_text(SPEC)
    generate_pipelines(project)
    project.close()
    sys.path.insert(0, str(project.root))
    return project.root, importlib.import_module("src.ingestion.pos_orders")


def arrow_batch(rows: int) -> pa.Table:
    """`rows` rows of the job's output columns, typed as Spark's toArrow() hands them over
    (every field nullable), the events spread over two days."""
    n = np.arange(rows)
    start = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp() * 1_000_000)
    strings = pa.array([f"o{i}" for i in range(rows)])
    stores = pc.binary_join_element_wise("s", pc.cast(pa.array(n % 500), pa.string()), "")
    return pa.table(
        {
            "order_id": strings,
            "store_id": stores,
            "ordered_on": pa.array(
                start + n * (172_800_000_000 // rows), pa.timestamp("us", "UTC")
            ),
            "amount": pc.cast(pa.array(n % 10_000, pa.int32()), pa.decimal128(12, 2)),
            "quantity": pa.array(1 + n % 50, pa.int64()),
            "status": pa.array(np.array(["paid", "refunded", "void"])[n % 3]),
            "email": pc.binary_join_element_wise(strings, "@example.com", ""),
            "unit_price": pc.cast(pa.array(n % 1_000, pa.int16()), pa.decimal128(12, 4)),
            "_ingested_at": pa.array([start] * rows, pa.timestamp("us", "UTC")),
            "_source_file": pa.array(["landing/pos/orders/day.csv"] * rows),
            "_correlation_id": pa.array([""] * rows),
            "_run_date": pa.array([FIRST_DAY] * rows, pa.date32()),
        }
    )


def for_run(data: pa.Table, day: date, correlation_id: str) -> pa.Table:
    """The batch as one run of `day` gives it."""
    names = data.column_names
    data = data.set_column(
        names.index("_correlation_id"),
        "_correlation_id",
        pa.array([correlation_id] * data.num_rows),
    )
    return data.set_column(
        names.index("_run_date"), "_run_date", pa.array([day] * data.num_rows, pa.date32())
    )


def wap_run(job, data: pa.Table, day: date) -> tuple[float, str]:
    cid = str(uuid.uuid4())
    batch = for_run(data, day, cid)
    start = time.perf_counter()
    written = job.write_batch(batch, day, cid)
    published = job.publish(written, {"success": True})
    return time.perf_counter() - start, published["how"]


def plain_table(job, data: pa.Table):
    """What the job wrote to before write-audit-publish: a table of the batch's Arrow schema with
    the spec's partition spec, appended to."""
    from pyiceberg.transforms import BucketTransform, DayTransform

    lake = job.catalog()
    lake.create_namespace_if_not_exists("plain")
    table = lake.create_table("plain.orders", schema=data.schema)
    with table.update_spec() as spec:
        spec.add_field("ordered_on", DayTransform(), "ordered_on_day")
        spec.add_field("store_id", BucketTransform(16), "store_id_bucket")
    return table


def bench_wap(job, rows: int, rounds: int) -> None:
    data = arrow_batch(rows)
    plain = plain_table(job, data)
    days = iter(FIRST_DAY + timedelta(days=n) for n in range(1000))

    def baseline() -> float:
        batch = for_run(data, next(days), str(uuid.uuid4()))
        start = time.perf_counter()
        plain.append(batch)
        return time.perf_counter() - start

    pair = interleave(baseline, lambda: wap_run(job, data, next(days)), rounds)
    print(f"wap: {rows:,} rows, {rounds} rounds")
    print(f"  plain append: {pair.base_median:.2f} s median")
    print(
        f"  write to audit branch + publish: {pair.ours_median:.2f} s median "
        f"({', '.join(sorted(set(pair.extra)))})"
    )
    print(
        f"  ratio {pair.ratio:.2f}x (rounds {pair.spread()}; goal <= 1.1x: "
        f"{verdict(pair.ratio <= 1.1)})"
    )


def bench_rerun(job, rows: int, dates: int, rounds: int) -> None:
    from pyiceberg.expressions import EqualTo

    data = arrow_batch(rows)
    for n in range(dates):
        wap_run(job, data, FIRST_DAY + timedelta(days=n))
    fresh = iter(FIRST_DAY + timedelta(days=dates + n) for n in range(1000))
    again = iter(FIRST_DAY + timedelta(days=n % dates) for n in range(1000))
    reran: list[date] = []

    def baseline() -> float:
        return wap_run(job, data, next(fresh))[0]

    def rerun() -> tuple[float, str]:
        day = next(again)
        reran.append(day)
        return wap_run(job, data, day)

    pair = interleave(baseline, rerun, rounds)
    table = job.catalog().load_table(job.TARGET_TABLE)
    count = table.scan(row_filter=EqualTo("_run_date", reran[-1].isoformat())).count()
    print(f"rerun: {dates} dates x {rows:,} rows, {rounds} rounds")
    print(f"  first run of a new date: {pair.base_median:.2f} s median")
    print(f"  rerun of a date (its files replaced): {pair.ours_median:.2f} s median")
    print(f"  rows of the last date rerun: {count:,} (= {rows:,}: replaced, not added)")
    print(
        f"  ratio {pair.ratio:.2f}x (rounds {pair.spread()}; goal <= 1.2x: "
        f"{verdict(pair.ratio <= 1.2)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--date-rows", type=int, default=100_000)
    parser.add_argument("--dates", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--only", choices=("wap", "rerun"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="phasegate-bench-wap-") as scratch:
        folder = Path(scratch)
        _, job = solution(folder)
        prefix = env_prefix(job.CATALOG)
        for which in ("wap", "rerun"):
            if args.only not in (None, which):
                continue
            os.environ[prefix + "URI"] = f"sqlite:///{folder / which}.db"
            os.environ[prefix + "WAREHOUSE"] = (folder / which / "warehouse").as_uri()
            if which == "wap":
                bench_wap(job, args.rows, args.rounds)
            else:
                bench_rerun(job, args.date_rows, args.dates, args.rounds)


if __name__ == "__main__":
    main()
