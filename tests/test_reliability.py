"""Nothing acknowledged is lost: killed writers, concurrent writers."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from deliverables import Project
from tests.conftest import ROOT

WRITER = [sys.executable, "-m", "tests.helpers.writer"]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def _start(project: Path, name: str, count: int) -> subprocess.Popen:
    return subprocess.Popen(
        [*WRITER, str(project), name, str(count)],
        cwd=ROOT,
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _events(db: Path) -> dict[int, tuple[str, str]]:
    conn = sqlite3.connect(db)
    try:
        return {
            row[0]: (row[1], row[2])
            for row in conn.execute("SELECT id, subject, after FROM activity")
        }
    finally:
        conn.close()


@pytest.mark.slow
def test_sigkill_mid_burst_loses_no_acknowledged_write(project):
    db = project.tracker.path
    project.close()
    rng = random.Random(20261127)
    acknowledged: list[tuple[int, str, str]] = []
    for _ in range(20):
        writer = _start(project.root, "burst", 100_000)
        stop_after = rng.randint(20, 400)
        for _ in range(stop_after):
            line = writer.stdout.readline()
            assert line.startswith("ack "), (
                writer.stderr.read() if writer.poll() is not None else line
            )
            _, event_id, item, after = line.split()
            acknowledged.append((int(event_id), item, after))
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        assert writer.returncode == -signal.SIGKILL
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    stored = _events(db)
    for event_id, item, after in acknowledged:
        assert stored.get(event_id) == (item, after)
    # and the tracker opens and writes normally afterwards
    reopened = Project.open(project.root)
    assert reopened.set_item("1.1.1", status="done")
    reopened.close()


@pytest.mark.slow
def test_two_processes_writing_at_once_lose_nothing(project):
    db = project.tracker.path
    project.close()
    writers = [_start(project.root, name, 1000) for name in ("alpha", "beta")]
    outputs = [w.communicate(timeout=300) for w in writers]
    for writer, (out, err) in zip(writers, outputs, strict=True):
        assert writer.returncode == 0, err
        assert "locked" not in err
        assert len(out.splitlines()) == 1000
    conn = sqlite3.connect(db)
    counts = dict(conn.execute("SELECT actor, count(*) FROM activity GROUP BY actor"))
    conn.close()
    assert counts == {"alpha <alpha@example.com>": 1000, "beta <beta@example.com>": 1000}
    stored = _events(db)
    for out, _ in outputs:
        for line in out.splitlines():
            _, event_id, item, after = line.split()
            assert stored[int(event_id)] == (item, after)
