"""Cold start of the TUI until the dashboard is ready, against a minimal Textual app.

    .venv/bin/python bench/startup.py [--runs N]

Both are started the same way (a fresh interpreter, headless, until the first screen is ready,
checked to be populated), interleaved, in this one invocation. The phasegate run opens the demo
project grown to 10,000 activity events. Goal: median at most 1.3x the minimal app (Header +
DataTable + Footer).

`--instructions` counts instead the CPU instructions of one start of each under valgrind
(callgrind): slow (~1 min) but the same on a busy machine, where wall and CPU times of a
half-second start move by +-30 % between runs.

phasegate's own modules are byte-compiled first, as an installed tool's are (pip and uv compile
them; Textual's already are): with PYTHONDONTWRITEBYTECODE set, as on this machine, every start
would otherwise compile ~20 modules from source, a cost no user pays.
"""

from __future__ import annotations

import argparse
import compileall
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
GOAL = 1.3
RETURNING = False


def make_project(folder: Path, events: int) -> Path:
    from deliverables.demo import create_demo

    project = create_demo(folder / "retail-events")
    items = [item.id for item in project.model.items]
    missing = events - project.tracker.activity_count()
    for n in range(missing):
        project.set_item(items[n % len(items)], note=f"bench note {n}")
    assert project.tracker.activity_count() == events
    project.close()
    return folder / "retail-events"


def launch(kind: str, project: Path | None) -> tuple[float, float]:
    """(wall seconds until `ready`, CPU seconds of the whole process)."""
    args = [sys.executable, str(ROOT / "bench" / "_launch.py"), kind] + (
        [str(project)] if project else []
    )
    # a new user each launch: their first session opens the dashboard, the screen measured here
    # (a returning user opens on their day; bench/startup.py --returning measures that)
    launch.count = getattr(launch, "count", 0) + 1
    user = (
        "Ben Okafor <ben.okafor@example.com>"
        if RETURNING
        else f"Bench {launch.count} <b{launch.count}@example.com>"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PHASEGATE_USER": user}
    started = time.perf_counter()
    process = subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT
    )
    line = process.stdout.readline()
    elapsed = time.perf_counter() - started
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if line.strip() != "ready":
        raise SystemExit(f"{kind} did not start: {process.stderr.read()}")
    return elapsed, usage.ru_utime + usage.ru_stime


def instructions(kind: str, project: Path | None) -> int:
    """CPU instructions of one cold start until `ready`, counted by valgrind's callgrind."""
    args = [sys.executable, str(ROOT / "bench" / "_launch.py"), kind] + (
        [str(project)] if project else []
    )
    launch.count = getattr(launch, "count", 0) + 1
    user = "Ben Okafor <ben.okafor@example.com>" if RETURNING else f"Bench {launch.count} <b@x.org>"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PHASEGATE_USER": user}
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
    )
    found = re.search(r"Collected : (\d+)", done.stderr)
    if "ready" not in done.stdout or not found:
        raise SystemExit(f"{kind} did not start under valgrind: {done.stderr[-2000:]}")
    return int(found.group(1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument(
        "--returning", action="store_true", help="start as a returning user: on their day"
    )
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument(
        "--instructions", action="store_true", help="count instructions under valgrind instead"
    )
    args = parser.parse_args()
    global RETURNING
    RETURNING = args.returning
    for package in ("phases", "deliverables", "pipelines", "tui", "cli"):
        if (ROOT / package).is_dir():
            compileall.compile_dir(ROOT / package, quiet=1)
    if args.instructions and not shutil.which("valgrind"):
        raise SystemExit("--instructions needs valgrind (apt-get install valgrind)")
    with tempfile.TemporaryDirectory() as tmp:
        project = make_project(Path(tmp), args.events)
        launch("minimal", None), launch("phasegate", project)  # warm the OS file cache once
        if args.instructions:
            base, ours = instructions("minimal", None), instructions("phasegate", project)
            screen = "day" if RETURNING else "dashboard"
            print("CPU instructions until ready (valgrind callgrind, one start each):")
            print(f"  minimal Textual app (Header+DataTable+Footer): {base / 1e6:,.0f} M")
            print(f"  phasegate to a ready {screen}: {ours / 1e6:,.0f} M")
            print(
                f"  ratio: {ours / base:.2f}x (goal <= {GOAL}x): "
                f"{'met' if ours / base <= GOAL else 'NOT met'}"
            )
            return 0
        ours, baseline = [], []
        for _ in range(args.runs):
            baseline.append(launch("minimal", None))
            ours.append(launch("phasegate", project))
    print(
        f"runs: {args.runs} each, interleaved; project: demo + activity grown to {args.events} events"
    )
    for label, index in (("wall time until ready", 0), ("CPU time of the process", 1)):
        base = [run[index] for run in baseline]
        mine = [run[index] for run in ours]
        m_base, m_ours = statistics.median(base), statistics.median(mine)
        print(f"{label}:")
        print(
            f"  minimal Textual app (Header+DataTable+Footer): median {m_base * 1000:.0f} ms "
            f"(min {min(base) * 1000:.0f}, max {max(base) * 1000:.0f})"
        )
        print(
            f"  phasegate to a ready {'day' if RETURNING else 'dashboard'}:{' ' * (19 if RETURNING else 13)}median {m_ours * 1000:.0f} ms "
            f"(min {min(mine) * 1000:.0f}, max {max(mine) * 1000:.0f})"
        )
        print(
            f"  ratio: {m_ours / m_base:.2f}x (goal <= {GOAL}x): {'met' if m_ours / m_base <= GOAL else 'NOT met'}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
