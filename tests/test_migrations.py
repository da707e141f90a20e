"""A tracker made by any earlier schema opens with every row it held: one committed fixture per
schema version (tests/fixtures/tracker-vN.sql, made by tests/fixtures/make_trackers.py), read
back through the project's own readers and `phasegate status --json`, not through table
internals, so the checks hold whatever the store becomes."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from deliverables import Project
from deliverables.day import standups
from deliverables.gates import decisions, evaluate, requests, reviews, waivers
from tests.conftest import ROOT, fixed_clock

FIXTURES = ROOT / "tests" / "fixtures"
VERSIONS = sorted(int(p.stem.split("-v")[1]) for p in FIXTURES.glob("tracker-v*.sql"))


def fixture_rows(version: int) -> dict[str, list[dict]]:
    """The rows the fixture holds, per table (reading the input, not the store under test)."""
    conn = sqlite3.connect(":memory:")
    conn.row_factory = sqlite3.Row
    conn.executescript((FIXTURES / f"tracker-v{version}.sql").read_text())
    tables = [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    rows = {
        t: [dict(r) for r in conn.execute(f'SELECT * FROM "{t}" ORDER BY {_order(conn, t)}')]
        for t in tables
    }
    conn.close()
    return rows


def _order(conn: sqlite3.Connection, table: str) -> str:
    """rowid, or the primary key of a WITHOUT ROWID table (the op log, version 5 on)."""
    try:
        conn.execute(f'SELECT rowid FROM "{table}" LIMIT 1')
        return "rowid"
    except sqlite3.OperationalError:
        keys = [
            r[1]
            for r in sorted(conn.execute(f'PRAGMA table_info("{table}")'), key=lambda r: r[5])
            if r[5]
        ]
        return ", ".join(keys)


def open_old(tmp_path: Path, version: int) -> Path:
    """A project folder whose tracker is the fixture of `version`, as an old phasegate left it."""
    root = tmp_path / f"solution-v{version}"
    (root / ".phasegate").mkdir(parents=True)
    conn = sqlite3.connect(root / ".phasegate" / "tracker.db")
    conn.executescript((FIXTURES / f"tracker-v{version}.sql").read_text())
    conn.close()
    return root


# from version 5 on, the op log's own bookkeeping in the view: which op made a row, which op set
# each field; no reader shows them (the log is checked by tests/test_sync.py)
OP_LOG_COLUMNS = ("op", "winners")


def same(row: dict, thing: object, *, skip: tuple[str, ...] = ()) -> None:
    for column, value in row.items():
        if column in skip or column in OP_LOG_COLUMNS:
            continue
        assert getattr(thing, column) == value, (column, row, thing)


def test_there_is_a_fixture_for_every_schema_version():
    from deliverables.migrations import SCHEMA_VERSION

    assert list(range(1, SCHEMA_VERSION + 1)) == VERSIONS


@pytest.mark.parametrize("version", VERSIONS)
def test_every_row_of_an_old_tracker_survives_the_migration(tmp_path, version):
    rows = fixture_rows(version)
    root = open_old(tmp_path, version)
    project = Project.open(root, clock=fixed_clock)
    tracker = project.tracker
    for row in rows["items"]:
        same(row, tracker.item_state(row["id"]))
    for row in rows["deliverables"]:
        same(row, tracker.deliverable_state(row["id"]))
    events = [
        (e.at, e.actor, e.action, e.subject, e.field, e.before, e.after)
        for e in tracker.activity(None)
    ]
    assert sorted(events) == sorted(
        (
            r["at"],
            r["actor"],
            r["action"],
            r["subject"],
            r.get("field", ""),
            r["before"],
            r["after"],
        )
        for r in rows["activity"]
    )
    runs = {run.id: run for run in tracker.runs(None)}
    assert set(runs) == {row["id"] for row in rows.get("validation_runs", [])}
    for row in rows.get("validation_runs", []):
        same(row, runs[row["id"]])
    for row in rows.get("validation_results", []):
        checks = tracker.run_checks(row["run_id"])
        assert any(all(getattr(c, k) == v for k, v in row.items() if k != "id") for c in checks), (
            row
        )
    if version >= 3:
        assert sum(len(tracker.run_checks(i)) for i in runs) == len(rows["validation_results"])
    gate_requests = {r.id: r for r in requests(project)}
    assert set(gate_requests) == {row["id"] for row in rows.get("gate_requests", [])}
    for row in rows.get("gate_requests", []):
        same({**row, "reviewers": tuple(json.loads(row["reviewers"]))}, gate_requests[row["id"]])
        made = {d.id: d for d in decisions(project, row["id"])}
        expected = [d for d in rows["gate_decisions"] if d["request_id"] == row["id"]]
        assert set(made) == {d["id"] for d in expected}
        for decision in expected:
            same(decision, made[decision["id"]])
    recorded = {r.id: r for r in reviews(project)}
    assert set(recorded) == {row["id"] for row in rows.get("gate_reviews", [])}
    for row in rows.get("gate_reviews", []):
        same(row, recorded[row["id"]])
    stored_waivers = {w.id: w for w in waivers(project)}
    assert set(stored_waivers) == {row["id"] for row in rows.get("waivers", [])}
    for row in rows.get("waivers", []):
        same(row, stored_waivers[row["id"]])
    for day in {row["day"] for row in rows.get("standups", [])}:
        notes = dict(standups(project, date.fromisoformat(day)))
        expected = [r for r in rows["standups"] if r["day"] == day]
        assert set(notes) == {r["actor"] for r in expected}
        for row in expected:
            same(row, notes[row["actor"]], skip=("actor", "at"))
    for actor in {row["actor"] for row in rows.get("sessions", [])}:
        tracker.actor = actor
        assert tracker.last_session() == max(
            r["at"] for r in rows["sessions"] if r["actor"] == actor
        )
    if version >= 4:
        # what the rows mean survives too: phase 1's gate was reviewed and passed
        assert project.phase_status(project.model.phase("1")) == "passed"
        assert evaluate(project, "2").criteria[0].id == "G2.0"
    # and the migrated tracker takes new writes of every kind
    project.set_item("1.1.4", status="done", due="2026-12-01", note="after the upgrade")
    assert tracker.item_state("1.1.4").note == "after the upgrade"
    project.close()


@pytest.mark.parametrize("version", VERSIONS)
def test_status_json_reads_an_old_tracker(tmp_path, version):
    rows = fixture_rows(version)
    root = open_old(tmp_path, version)
    result = subprocess.run(
        [sys.executable, "-m", "cli", "-C", str(root), "status", "--json"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,  # a hang limit, not a speed budget
    )
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    items = {
        item["id"]: item
        for phase in doc["phases"]
        for sub in phase["sub_phases"]
        for item in sub["items"]
    }
    for row in rows["items"]:
        assert items[row["id"]]["status"] == row["status"]
        assert items[row["id"]]["owner"] == row["owner"]
        assert items[row["id"]]["due"] == row.get("due")
    delivs = {d["id"]: d for phase in doc["phases"] for d in phase["deliverables"]}
    for row in rows["deliverables"]:
        assert (delivs[row["id"]]["status"], delivs[row["id"]]["owner"]) == (
            row["status"],
            row["owner"],
        )
    latest = {}
    for row in rows.get("validation_runs", []):
        for name in json.loads(row["pipelines"]):
            latest[name] = max(latest.get(name, 0), row["id"])
    assert {v["pipeline"]: v["run"] for v in doc["validations"]} == latest
    if version >= 4:
        assert doc["phases"][0]["status"] == "passed"


@pytest.mark.parametrize("version", [v for v in VERSIONS if v >= 5])
def test_the_outbox_of_an_old_tracker_keeps_exactly_the_ops_not_yet_in_git(tmp_path, version):
    """Schemas 5 and 6 flagged each op of the log (`pushed`); 7 keeps the outbox as a table of
    its own. The ops waiting to go into git are the same ones after the migration, and the
    log keeps every op."""
    rows = fixture_rows(version)
    root = open_old(tmp_path, version)
    if version < 7:  # their fixtures were flushed: the two newest ops wait, as after a write
        newest = sorted(rows["ops"], key=lambda r: (r["lamport"], r["replica"], r["id"]))[-2:]
        conn = sqlite3.connect(root / ".phasegate" / "tracker.db")
        with conn:
            conn.executemany(
                "UPDATE ops SET pushed = 0 WHERE id = ?", [(row["id"],) for row in newest]
            )
        conn.close()
        waiting = {row["id"] for row in newest}
    else:
        waiting = {row["id"] for row in rows["outbox"]}
    assert waiting and len(waiting) < len(rows["ops"])  # both kinds
    project = Project.open(root, clock=fixed_clock)
    assert {op.id for op in project.tracker.outbox()} == waiting
    assert {op.id for op in project.tracker.ops()} == {row["id"] for row in rows["ops"]}
    # and a new write waits in the outbox with them
    project.set_item("1.1.4", note="after the upgrade")
    assert len(project.tracker.outbox()) == len(waiting) + 1
    project.close()


@pytest.mark.parametrize("version", [v for v in VERSIONS if v >= 8])
def test_the_profiles_of_an_old_tracker_are_read_back(tmp_path, version):
    from deliverables.profiles import latest_profile, profile_history

    rows = fixture_rows(version)
    project = Project.open(open_old(tmp_path, version), clock=fixed_clock)
    history = profile_history(project.tracker, "orders")
    assert [(p.profiled_at, p.actor) for p in history] == [
        (row["profiled_at"], row["actor"]) for row in reversed(rows["profiles"])
    ]
    newest = latest_profile(project.tracker, "orders")
    assert [(f["kind"], f["column"]) for f in newest.drift] == [("nulls", "note")]
    project.close()


def test_profile_ops_a_newer_teammate_synced_into_a_v7_log_are_folded_by_the_migration(tmp_path):
    """A schema-7 phasegate keeps ops of kinds it does not know in the log and skips them in the
    view; the migration that teaches it `profile` folds them, numbered as a rebuild numbers them."""
    from deliverables.oplog import Op
    from deliverables.profiles import latest_profile
    from deliverables.view import op_row

    root = open_old(tmp_path, 7)
    conn = sqlite3.connect(root / ".phasegate" / "tracker.db")
    (top,) = conn.execute("SELECT max(lamport) FROM ops").fetchone()
    summary = {"name": "orders", "profiled_at": "2026-11-27T09:30:00+00:00", "columns": []}
    op = Op.create(
        lamport=top + 1,
        replica="f" * 32,
        author="Chen Li <chen@example.com>",
        at="2026-11-27T10:00:00Z",
        kind="profile",
        subject="profile:orders",
        payload={"profile": summary, "action": "profiled orders: 60 rows (all rows)"},
    )
    with conn:
        conn.execute(
            "INSERT INTO ops (lamport, replica, id, author, at, kind, subject, line) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            op_row(op),
        )
        conn.execute("INSERT INTO arrivals (id) VALUES (?)", (op.id,))
    conn.close()
    project = Project.open(root, clock=fixed_clock)
    stored = latest_profile(project.tracker, "orders")
    assert (stored.actor, stored.summary) == ("Chen Li <chen@example.com>", summary)
    assert "profiled orders" in project.tracker.activity(1)[0].action
    before = project.tracker.query("SELECT * FROM activity ORDER BY id")
    project.tracker.rebuild()
    assert project.tracker.query("SELECT * FROM activity ORDER BY id") == before
    project.close()
