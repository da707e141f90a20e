"""Tracker throughput and export speed, each against a plain baseline in the same process.

    .venv/bin/python bench/store.py

1. 10,000 item toggles through `Project.toggle_item`, each its own committed transaction (state
   row + activity event), against the bare minimum: one `UPDATE` + `COMMIT` per toggle on the
   same kind of database (WAL, synchronous=NORMAL). Goal: >= 2,000 toggles/s.
2. `phasegate export` of a project with 5,000 checklist items (the default process plus items
   added by a process overlay), against writing the same rows with plain f-strings. Goal <= 0.3 s.
"""

from __future__ import annotations

import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from deliverables import Project  # noqa: E402
from deliverables.report import render_status_report  # noqa: E402

TOGGLES = 10_000
EXPORT_ITEMS = 5_000


def bench_toggles(folder: Path) -> None:
    project, _ = Project.init(folder / "toggles", actor="Bench <bench@example.com>")
    items = [item.id for item in project.model.items]
    started = time.perf_counter()
    for n in range(TOGGLES):
        project.toggle_item(items[n % len(items)])
    ours = time.perf_counter() - started
    assert project.tracker.activity_count() == TOGGLES
    project.close()

    conn = sqlite3.connect(folder / "baseline.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("CREATE TABLE items (id TEXT PRIMARY KEY, status TEXT)")
    conn.executemany("INSERT INTO items VALUES (?, 'todo')", [(i,) for i in items])
    started = time.perf_counter()
    for n in range(TOGGLES):
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(
            "UPDATE items SET status = CASE status WHEN 'done' THEN 'todo' ELSE 'done' END WHERE id = ?",
            (items[n % len(items)],),
        )
        conn.execute("COMMIT")
    baseline = time.perf_counter() - started
    conn.close()
    rate = TOGGLES / ours
    print(
        f"toggles: {TOGGLES} committed through Project.toggle_item in {ours:.2f} s = {rate:,.0f}/s "
        f"(goal >= 2,000/s: {'met' if rate >= 2000 else 'NOT met'})"
    )
    print(
        f"  baseline, bare UPDATE + COMMIT: {TOGGLES / baseline:,.0f}/s; ours takes {ours / baseline:.1f}x "
        "(it also reads the row, writes the event and checks the id and workflow)"
    )


def bench_export(folder: Path) -> None:
    root = folder / "export"
    project, _ = Project.init(root, actor="Bench <bench@example.com>")
    project.close()
    extra = EXPORT_ITEMS - 80
    lines = ["items:"]
    subs = ["1.1", "2.2", "3.2", "4.3", "5.2", "6.3", "7.1"]
    for n in range(extra):
        lines.append(
            f"  X{n}: {{sub_phase: '{subs[n % len(subs)]}', text: 'Extra checklist item number {n}'}}"
        )
    (root / ".phasegate" / "process.yaml").write_text("\n".join(lines) + "\n")
    project = Project.open(root, actor="Bench <bench@example.com>")
    assert len(project.model.items) == EXPORT_ITEMS
    for n, item in enumerate(project.model.items[::3]):
        project.set_item(
            item.id, status="done" if n % 2 else "todo", owner=f"owner {n % 7}", note=f"note {n}"
        )

    times = []
    for _ in range(5):
        started = time.perf_counter()
        text = render_status_report(project)
        times.append(time.perf_counter() - started)
    ours = statistics.median(times)

    def plain() -> str:
        states = project.item_states()
        out = []
        for item in project.model.items:
            state = states.get(item.id)
            out.append(
                f"| {item.id} | {item.text} | {state.status if state else 'todo'} | "
                f"{state.owner if state else ''} | {state.due if state else ''} | {state.note if state else ''} |"
            )
        return "\n".join(out)

    base_times = []
    for _ in range(5):
        started = time.perf_counter()
        plain()
        base_times.append(time.perf_counter() - started)
    baseline = statistics.median(base_times)
    print(
        f"export: {EXPORT_ITEMS} items, {len(text) / 1024:.0f} KiB of markdown in {ours:.3f} s median of 5 "
        f"(goal <= 0.3 s: {'met' if ours <= 0.3 else 'NOT met'})"
    )
    print(
        f"  baseline, the item rows alone with f-strings: {baseline:.3f} s; ours takes {ours / baseline:.1f}x "
        "(it also escapes, derives progress, renders deliverables and activity)"
    )
    project.close()


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        bench_toggles(Path(tmp))
        bench_export(Path(tmp))
    return 0


if __name__ == "__main__":
    sys.exit(main())
