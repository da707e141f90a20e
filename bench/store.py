"""Tracker throughput and export speed, each interleaved with a plain baseline in one process.

    .venv/bin/python bench/store.py [--rounds 9]

1. Item toggles through `Project.toggle_item`, each its own committed transaction (state row +
   activity event), against the bare minimum: one `UPDATE` + `COMMIT` per toggle on the same kind
   of database (WAL, synchronous=NORMAL). Rounds of 1,000 toggles alternate between the two
   (baseline, ours, baseline, ours…; bench/_interleave.py). Goal, as a ratio: a toggle costs
   <= 25x a bare UPDATE + COMMIT (the ">= 2,000 toggles/s" goal was set where the bare UPDATE did
   ~50,000/s); the absolute rate is printed beside it.
2. `phasegate export` of a project with 5,000 checklist items (the default process plus items
   added by a process overlay), interleaved with writing the same rows with plain f-strings.
   Goal <= 0.3 s (absolute: the baseline is a floor, not a like-for-like).
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).parent))

from _interleave import interleave, verdict  # noqa: E402

from deliverables import Project  # noqa: E402
from deliverables.report import render_status_report  # noqa: E402

ROUND = 1_000  # toggles per round
EXPORT_ITEMS = 5_000
TOGGLE_RATIO_GOAL = 25.0


def bench_toggles(folder: Path, rounds: int) -> None:
    project, _ = Project.init(folder / "toggles", actor="Bench <bench@example.com>")
    items = [item.id for item in project.model.items]
    conn = sqlite3.connect(folder / "baseline.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("CREATE TABLE items (id TEXT PRIMARY KEY, status TEXT)")
    conn.executemany("INSERT INTO items VALUES (?, 'todo')", [(i,) for i in items])

    def bare() -> float:
        started = time.perf_counter()
        for n in range(ROUND):
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(
                "UPDATE items SET status = CASE status WHEN 'done' THEN 'todo' ELSE 'done' END "
                "WHERE id = ?",
                (items[n % len(items)],),
            )
            conn.execute("COMMIT")
        return time.perf_counter() - started

    def ours() -> tuple[float, None]:
        started = time.perf_counter()
        for n in range(ROUND):
            project.toggle_item(items[n % len(items)])
        return time.perf_counter() - started, None

    pair = interleave(bare, ours, rounds)
    assert project.tracker.activity_count() == ROUND * (rounds + 1)  # every toggle was stored
    project.close()
    conn.close()
    rate, base_rate = ROUND / pair.ours_median, ROUND / pair.base_median
    print(f"toggles: {rounds} rounds of {ROUND:,} interleaved with the baseline (+1 warm-up each)")
    print(
        f"  Project.toggle_item: {rate:,.0f}/s median; bare UPDATE + COMMIT: {base_rate:,.0f}/s median"
    )
    print(
        f"  ratio {pair.ratio:.1f}x (rounds {pair.spread()}; goal <= {TOGGLE_RATIO_GOAL:g}x: "
        f"{verdict(pair.ratio <= TOGGLE_RATIO_GOAL)}); absolute {rate:,.0f}/s vs >= 2,000/s: "
        f"{verdict(rate >= 2000)}"
    )


def bench_export(folder: Path, rounds: int) -> None:
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

    def plain() -> float:
        started = time.perf_counter()
        states = project.item_states()
        out = []
        for item in project.model.items:
            state = states.get(item.id)
            out.append(
                f"| {item.id} | {item.text} | {state.status if state else 'todo'} | "
                f"{state.owner if state else ''} | {state.due if state else ''} | {state.note if state else ''} |"
            )
        "\n".join(out)
        return time.perf_counter() - started

    def ours() -> tuple[float, str]:
        started = time.perf_counter()
        text = render_status_report(project)
        return time.perf_counter() - started, text

    pair = interleave(plain, ours, rounds)
    text = pair.extra[-1]
    print(
        f"export: {EXPORT_ITEMS} items, {len(text) / 1024:.0f} KiB of markdown in "
        f"{pair.ours_median:.3f} s median of {rounds} (goal <= 0.3 s: {verdict(pair.ours_median <= 0.3)})"
    )
    print(
        f"  baseline, the item rows alone with f-strings: {pair.base_median:.3f} s median; ours "
        f"{pair.ratio:.1f}x (rounds {pair.spread()}; it also escapes, derives progress, renders "
        "deliverables and activity)"
    )
    project.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        bench_toggles(Path(tmp), args.rounds)
        bench_export(Path(tmp), args.rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
