"""`phasegate publish` (issue 16): the tracker's facts to PostgreSQL.

    .venv/bin/python bench/publish.py [--runs 3] [--server postgresql://postgres@127.0.0.1:5432/]

A project with 10,000 activity events (9,800 item changes and 200 validation runs of 5 checks
each), published to a PostgreSQL server (a fresh database per run, created and dropped here):

1. First publish (the schema created, every row sent). Goal: <= 2 s. Baseline: a bare COPY of
   the same activity rows and checks into two plain tables in one transaction (no facts
   computed, no merge): the floor of moving those rows.
2. Incremental publish after 100 new events. Goal: <= 0.2 s. Baseline: one `executemany`
   INSERT of 100 rows in a transaction on a fresh connection (the connection is part of both).

Ours and the baseline alternate (ours, baseline, ours, ...); medians are printed with the ratio.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

from deliverables import Project  # noqa: E402
from deliverables.publish import publish, resolve_dsn  # noqa: E402
from deliverables.store import CheckRecord  # noqa: E402

EVENTS = 10_000
RUNS = 200
CHECKS_PER_RUN = 5
NEW_EVENTS = 100


def build(folder: Path) -> Project:
    project, _ = Project.init(folder, actor="Ana Ruiz <ana@example.com>")
    items = [item.id for item in project.model.items]
    changes = EVENTS - RUNS
    every = changes // RUNS
    for n in range(changes):
        project.set_item(items[n % len(items)], note=f"change {n}")
        if n % every == every - 1:
            _run(project, n)
    return project


def _run(project: Project, n: int) -> None:
    tracker = project.tracker
    run = tracker.start_run("full", ["orders"], None, None)
    tracker.add_checks(
        [
            CheckRecord(
                run,
                "orders",
                "quality",
                f"rule {k}",
                "passed" if (n + k) % 7 else "failed",
                "",
                '{"rows": 1000, "unexpected_count": 3, "unexpected_percent": 0.3}',
                0.01,
            )
            for k in range(CHECKS_PER_RUN)
        ]
    )
    tracker.finish_run(run, "passed", f"run {n}")


def _database(server: str) -> str:
    name = f"phasegate_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server + "postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    return name


def _drop(server: str, name: str) -> None:
    with psycopg.connect(server + "postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def baseline_first(dsn: str, project: Project) -> float:
    activity = project.tracker.query("SELECT * FROM activity")
    checks = project.tracker.query("SELECT * FROM validation_results")
    started = time.perf_counter()
    with psycopg.connect(dsn) as conn, conn.transaction():
        conn.execute(
            "CREATE TABLE a (id bigint, at text, actor text, action text, subject text, "
            "before text, after text, field text, op text)"
        )
        conn.execute(
            "CREATE TABLE c (id bigint, run_id bigint, pipeline text, step text, "
            "check_name text, outcome text, detail text, data text, duration float8)"
        )
        with conn.cursor() as cur:
            for table, found in (("a", activity), ("c", checks)):
                with cur.copy(f"COPY {table} FROM STDIN") as copy:
                    for row in found:
                        copy.write_row(row)
    return time.perf_counter() - started


def baseline_incremental(dsn: str) -> float:
    values = [
        (n, "2026-11-27T10:00:00Z", "Ana", "item.note", "1.1.1", "x") for n in range(NEW_EVENTS)
    ]
    with psycopg.connect(dsn) as conn:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS b (id bigint, at text, actor text, action text, "
            "subject text, after text)"
        )
        conn.commit()
    started = time.perf_counter()
    with psycopg.connect(dsn) as conn, conn.transaction(), conn.cursor() as cur:
        cur.executemany("INSERT INTO b VALUES (%s, %s, %s, %s, %s, %s)", values)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432/")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="phasegate-bench-publish-"))
    started = time.perf_counter()
    project = build(folder / "big")
    print(
        f"project: {project.tracker.activity_count():,} activity events, "
        f"{len(project.tracker.runs(None)):,} validation runs "
        f"(built in {time.perf_counter() - started:.1f} s)"
    )
    first, first_base, incremental, incremental_base = [], [], [], []
    items = [item.id for item in project.model.items]
    for run in range(args.runs):
        name = _database(args.server)
        try:
            dsn = args.server + name
            target = resolve_dsn(project.root, dsn)
            outcome = publish(project, target)
            assert outcome.mode == "first", outcome
            first.append(outcome.seconds)
            first_base.append(baseline_first(dsn, project))
            for n in range(NEW_EVENTS):
                project.set_item(items[n % len(items)], note=f"run {run} new {n}")
            outcome = publish(project, target)
            assert outcome.mode == "incremental" and outcome.sent["activity"] == NEW_EVENTS
            incremental.append(outcome.seconds)
            incremental_base.append(baseline_incremental(dsn))
            again = publish(project, target)
            assert again.total_changed == 0, again.changed
        finally:
            _drop(args.server, name)
    for label, ours, base, goal in (
        ("first publish (10,000 events, 200 runs)", first, first_base, 2.0),
        (f"incremental publish ({NEW_EVENTS} new events)", incremental, incremental_base, 0.2),
    ):
        o, b = statistics.median(ours), statistics.median(base)
        verdict = "met" if o <= goal else "NOT met"
        print(
            f"{label}: {o:.3f} s (runs {', '.join(f'{x:.3f}' for x in ours)}); baseline "
            f"{b:.3f} s; {o / b:.1f}x; goal <= {goal} s: {verdict}"
        )
    project.close()


if __name__ == "__main__":
    main()
