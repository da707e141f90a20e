"""The tracker on real SQLite files: writes, the activity log, migrations, refusals."""

from __future__ import annotations

import hashlib
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from deliverables import TrackerError
from deliverables.migrations import SCHEMA_VERSION
from deliverables.store import Tracker
from tests.conftest import ROOT

ACTOR = "Ana Ruiz <ana@example.com>"


def _clock() -> datetime:
    return datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


@pytest.fixture
def tracker(tmp_path: Path):
    opened = Tracker.open(tmp_path / ".phasegate" / "tracker.db", actor=ACTOR, clock=_clock)
    yield opened
    opened.close()


def test_a_new_tracker_is_a_wal_database_at_the_current_schema(tracker):
    conn = sqlite3.connect(tracker.path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert tracker._conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 5000


def test_an_update_writes_state_and_one_event_per_changed_field(tracker):
    events = tracker.update("item", "1.1.1", {"status": "done", "owner": "Ana Ruiz", "due": None})
    assert [(e.field, e.before, e.after) for e in events] == [
        ("status", "todo", "done"),
        ("owner", None, "Ana Ruiz"),
    ]
    state = tracker.item_state("1.1.1")
    assert (state.status, state.owner, state.updated_by, state.updated_at) == (
        "done",
        "Ana Ruiz",
        ACTOR,
        "2026-11-27T09:00:00Z",
    )
    assert tracker.update("item", "1.1.1", {"status": "done"}) == []  # no change, no event
    logged = tracker.activity()
    assert [(e.actor, e.action, e.subject, e.before, e.after) for e in logged] == [
        (ACTOR, "item.owner", "1.1.1", None, "Ana Ruiz"),
        (ACTOR, "item.status", "1.1.1", "todo", "done"),
    ]


def test_state_survives_reopening(tmp_path):
    path = tmp_path / "t.db"
    first = Tracker.open(path, actor=ACTOR, clock=_clock)
    first.update("deliverable", "D1.1", {"status": "draft", "owner": "Ben"})
    first.close()
    again = Tracker.open(path, actor="someone else", clock=_clock)
    assert again.deliverable_state("D1.1").status == "draft"
    assert again.activity_count() == 2
    again.close()


def test_unknown_fields_are_refused(tracker):
    with pytest.raises(TrackerError, match="no field 'colour'"):
        tracker.update("item", "1.1.1", {"colour": "red"})
    assert tracker.activity_count() == 0


def test_activity_filters_by_subject_and_time(tracker):
    tracker.update("item", "1.1.1", {"status": "done"})
    tracker.update("item", "1.1.2", {"status": "done"})
    assert [e.subject for e in tracker.activity(subject="1.1.2")] == ["1.1.2"]
    assert tracker.activity(since=datetime(2027, 1, 1, tzinfo=UTC)) == []


def test_a_tracker_made_by_schema_1_is_migrated_with_its_data(tmp_path):
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.executescript((ROOT / "tests" / "fixtures" / "tracker-v1.sql").read_text())
    conn.close()
    tracker = Tracker.open(path, actor=ACTOR, clock=_clock)
    assert tracker._conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    item = tracker.item_state("1.1.1")
    assert (item.status, item.owner, item.due, item.note) == ("done", "Ana Ruiz", None, None)
    assert tracker.item_state("2.2.3").reason == "Append-only sources"
    assert tracker.deliverable_state("D1.1").status == "in_review"
    old_events = tracker.activity()
    assert [(e.subject, e.field) for e in old_events] == [("D1.1", ""), ("1.1.1", "")]
    # the new columns work
    tracker.update("item", "1.1.1", {"due": "2026-12-01", "note": "moved"})
    assert tracker.item_state("1.1.1").due == "2026-12-01"
    tracker.close()


def test_a_tracker_from_a_newer_phasegate_is_refused_and_left_untouched(tmp_path):
    path = tmp_path / "new.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE future (x)")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    conn.commit()
    conn.close()
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(TrackerError, match="newer phasegate") as caught:
        Tracker.open(path, actor=ACTOR)
    assert "left untouched" in str(caught.value)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new.db"]  # no -wal or -shm appeared


def test_a_file_that_is_not_a_database_is_refused(tmp_path):
    path = tmp_path / "tracker.db"
    path.write_text("hello, I am a text file\n" * 100)
    with pytest.raises(TrackerError, match="not a phasegate tracker"):
        Tracker.open(path, actor=ACTOR)
    assert path.read_text().startswith("hello")


def test_a_file_in_place_of_the_folder_is_reported(tmp_path):
    (tmp_path / ".phasegate").write_text("oops")
    with pytest.raises(TrackerError, match="a file is in the way"):
        Tracker.open(tmp_path / ".phasegate" / "tracker.db", actor=ACTOR)


def test_a_failed_write_leaves_no_half_change(tracker, monkeypatch):
    tracker.update("item", "1.1.1", {"status": "done"})
    original = tracker._conn

    class Exploding:
        """Fails the activity insert, after the state row was written in the same transaction."""

        def __init__(self, conn):
            self.conn = conn

        def execute(self, sql, *args):
            if sql.startswith("INSERT INTO activity"):
                raise sqlite3.OperationalError("disk I/O error")
            return self.conn.execute(sql, *args)

        def executemany(self, sql, *args):
            if sql.startswith("INSERT INTO activity"):
                raise sqlite3.OperationalError("disk I/O error")
            return self.conn.executemany(sql, *args)

        def __getattr__(self, name):
            return getattr(self.conn, name)

    monkeypatch.setattr(tracker, "_conn", Exploding(original))
    with pytest.raises(TrackerError, match="disk I/O"):
        tracker.update("item", "1.1.1", {"status": "todo", "owner": "Ben"})
    monkeypatch.setattr(tracker, "_conn", original)
    assert tracker.item_state("1.1.1").status == "done"
    assert tracker.item_state("1.1.1").owner is None
    assert tracker.activity_count() == 1


def test_a_run_left_running_by_a_dead_process_is_marked_interrupted(tmp_path):
    import subprocess
    import sys

    tracker = Tracker.open(tmp_path / "t.db", actor="A <a@example.com>")
    first = tracker.start_run("static", ["alpha"], None, None)
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    tracker._conn.execute(
        "UPDATE validation_runs SET pid = ? WHERE id = ?", (int(gone.stdout), first)
    )
    alive = tracker.start_run("static", ["alpha"], None, None)  # this process: alive
    third = tracker.start_run("full", ["alpha"], None, None)
    assert tracker.run(first).status == "interrupted"
    assert tracker.run(alive).status == "running" and tracker.run(third).status == "running"
    tracker.finish_run(alive, "passed", "1 of 1 pipeline(s) passed", {"python": "3.11"})
    done = tracker.run(alive)
    assert done.status == "passed" and done.finished_at and done.version_map == {"python": "3.11"}
    assert [r.id for r in tracker.runs(tier="full")] == [third]
    tracker.close()


# --- the operation log underneath (issue 12) and the append-only records (issue 9 §4) -------------


def _tables(conn: sqlite3.Connection, columns_of: dict[str, list[str]] | None = None) -> dict:
    """Every table's rows (sorted), restricted to the columns given per table."""
    names = [
        r[0]
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    out = {}
    for name in names:
        columns = [r[1] for r in conn.execute(f"PRAGMA table_info({name})")]
        if columns_of is not None:
            if name not in columns_of:
                continue
            columns = columns_of[name]
        rows = conn.execute(f"SELECT {', '.join(columns)} FROM {name}").fetchall()
        out[name] = sorted(rows, key=repr)
    return out


def _schema_4_tracker(path: Path) -> None:
    """A tracker as phasegate wrote it before the op log, with a row in every table."""
    from deliverables.migrations import migrate

    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, upto=4)
    rows = [
        "INSERT INTO items VALUES ('1.1.1', 'done', NULL, 'Ana', '2026-01-10T09:00:00Z', 'Ana <a@x>', '2026-02-01', 'a note')",
        "INSERT INTO items (id, status, reason, updated_at, updated_by) VALUES ('2.2.3', 'not_applicable', 'why', '2026-01-11T09:00:00Z', 'Chen <c@x>')",
        "INSERT INTO deliverables VALUES ('D1.1', 'approved', NULL, 'Ana', 'docs/brd.md', '2026-01-12T09:00:00Z', 'Ana <a@x>')",
        "INSERT INTO activity VALUES (1, '2026-01-10T09:00:00Z', 'Ana <a@x>', 'item.status', '1.1.1', 'todo', 'done', 'status')",
        "INSERT INTO activity VALUES (2, '2026-01-12T09:00:00Z', 'Ben <b@x>', 'gate review requested from Ben', 'gate:1', NULL, NULL, '')",
        "INSERT INTO validation_runs VALUES (1, 'static', 'passed', '2026-01-13T09:00:00Z', '2026-01-13T09:01:00Z', 'Ana <a@x>', 'abc', 0, '[\"alpha\"]', '{\"python\": \"3.11\"}', '1 of 1 passed', 42)",
        "INSERT INTO validation_results VALUES (1, 1, 'alpha', 'static', 'sql parses', 'passed', '', '{}', 0.5)",
        "INSERT INTO gate_requests VALUES (1, '1', '2026-01-12T09:00:00Z', 'Ana <a@x>', '[\"Ben <b@x>\"]')",
        "INSERT INTO gate_decisions VALUES (1, 1, 'Ben <b@x>', 'approve', 'fine', '2026-01-12T10:00:00Z')",
        "INSERT INTO gate_reviews VALUES (1, '1', 1, 'passed', '2026-01-12T11:00:00Z', 'Ana <a@x>', 'abc', 0, '{}', NULL)",
        "INSERT INTO gate_reviews VALUES (2, '1', 1, 'failed', '2026-01-12T12:00:00Z', 'Ana <a@x>', 'abd', 1, '{}', 1)",
        "INSERT INTO waivers VALUES (1, '1.2.4', 'later', 'Chen <c@x>', '2026-01-12T09:00:00Z', '2026-03-01', 'Ana <a@x>', '2026-01-12T10:00:00Z')",
        "INSERT INTO waivers VALUES (2, 'G2.0', 'pending', 'Chen <c@x>', '2026-01-13T09:00:00Z', '2026-03-01', NULL, NULL)",
        "INSERT INTO sessions VALUES ('Ana <a@x>', '2026-01-12T08:00:00Z')",
        "INSERT INTO standups VALUES ('Ana <a@x>', '2026-01-12', 'y', 't', 'b', '2026-01-12T08:05:00Z')",
    ]
    for sql in rows:
        conn.execute(sql)
    conn.close()


@pytest.mark.parametrize("made_by", ["schema 1 (fixture)", "schema 4"])
def test_an_older_tracker_becomes_ops_with_nothing_lost(tmp_path, made_by):
    path = tmp_path / "old.db"
    if made_by == "schema 4":
        _schema_4_tracker(path)
    else:
        conn = sqlite3.connect(path)
        conn.executescript((ROOT / "tests" / "fixtures" / "tracker-v1.sql").read_text())
        conn.close()
    conn = sqlite3.connect(path)
    before = _tables(conn)
    conn.close()
    columns = {name: [c for c in _columns(path, name)] for name in before}
    tracker = Tracker.open(path, actor=ACTOR, clock=_clock)
    conn = sqlite3.connect(path)
    after_open = _tables(conn, {n: _columns_now(conn, n, c) for n, c in columns.items()})
    tracker.rebuild()  # the view folded from the ops alone
    after_rebuild = _tables(conn, {n: _columns_now(conn, n, c) for n, c in columns.items()})
    conn.close()
    expected = {
        n: _project(before[n], columns[n], _columns_now_path(path, n, columns[n])) for n in before
    }
    assert after_open == expected
    assert after_rebuild == expected
    kinds = {op.kind for op in tracker.ops()}
    assert kinds == {"import"} and len(tracker.outbox()) == sum(map(len, before.values()))
    # the history keeps its authors and times
    assert {(op.author, op.at) for op in tracker.ops() if op.subject.startswith("activity:")} == {
        (row[2], row[1]) for row in before["activity"]
    }
    tracker.close()


def _columns(path: Path, table: str) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
    finally:
        conn.close()


def _columns_now(conn, table: str, old: list[str]) -> list[str]:
    """The old columns that the migrated table still has (v2 added some: compare those)."""
    now = {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}
    return [c for c in old if c in now]


def _columns_now_path(path: Path, table: str, old: list[str]) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return _columns_now(conn, table, old)
    finally:
        conn.close()


def _project(rows: list, old: list[str], kept: list[str]) -> list:
    index = [old.index(c) for c in kept]
    return sorted((tuple(row[i] for i in index) for row in rows), key=repr)


def test_two_clones_migrating_the_same_committed_tracker_make_the_same_ops(tmp_path):
    for name in ("a.db", "b.db"):
        _schema_4_tracker(tmp_path / name)
    first = Tracker.open(tmp_path / "a.db", actor=ACTOR, clock=_clock)
    second = Tracker.open(tmp_path / "b.db", actor=ACTOR, clock=_clock)
    assert [op.id for op in first.ops()] == [op.id for op in second.ops()]
    assert first.replica != second.replica
    first.close()
    second.close()


def test_the_view_rebuilt_from_the_ops_is_the_view(tracker):
    tracker.update("item", "1.1.1", {"status": "done", "owner": "Ana"})
    tracker.update("item", "1.1.1", {"status": "todo"})
    tracker.update("deliverable", "D1.1", {"status": "draft", "path": "docs/x.md"})
    tracker.record("gate.request", "gate:1", {"phase": "1", "reviewers": ["B"], "action": "asked"})
    request = tracker.op_of("gate_requests", 1)
    tracker.record(
        "gate.decision",
        "gate:1",
        {"request": request, "decision": "approve", "comment": "ok", "action": "approved"},
    )
    tracker.record(
        "waiver.request",
        "waiver:1.2.4",
        {"target": "1.2.4", "reason": "r", "expires": "2027-01-01", "action": "w"},
    )
    tracker.start_session()
    run = tracker.start_run("static", ["alpha"], "abc", False)
    from deliverables.store import CheckRecord

    tracker.add_checks([CheckRecord(run, "alpha", "static", "parses", "passed")])
    tracker.finish_run(run, "passed", "1 of 1 passed")
    conn = sqlite3.connect(tracker.path)
    before = _tables(conn)
    assert tracker.rebuild() == len(tracker.ops())
    assert _tables(conn) == before
    conn.close()


def test_every_write_is_one_op_in_the_outbox_in_the_same_transaction(tracker):
    assert tracker.outbox() == []
    tracker.update("item", "1.1.1", {"status": "done", "owner": "Ana"})
    tracker.update("item", "1.1.1", {"status": "todo"})
    ops = tracker.outbox()
    assert [(op.kind, op.lamport, op.author) for op in ops] == [
        ("item.set", 1, ACTOR),
        ("item.set", 2, ACTOR),
    ]
    assert ops[0].payload == {"fields": [["status", "done", None], ["owner", "Ana", None]]}
    # the second names the op whose value it replaced: not concurrent
    assert ops[1].payload == {"fields": [["status", "todo", ops[0].id]]}
    assert all(op.id == op.content_id() for op in ops)


APPEND_ONLY_TABLES = {
    "gate_requests": "(id, phase, at, actor, reviewers) VALUES (1, '9', 'x', 'y', '[]')",
    "gate_decisions": "(id, request_id, reviewer, decision, comment, at) VALUES (1, 1, 'y', 'reject', 'c', 'x')",
    "gate_reviews": "(id, phase, outcome, at, actor, record) VALUES (1, '9', 'failed', 'x', 'y', '{}')",
    "waivers": "(id, target, reason, requester, requested_at, expires, approver, approved_at) VALUES (1, 'G9.9', 'r', 'y', 'x', '2030-01-01', 'z', 'x')",
}
VERBS = {
    "UPDATE": "UPDATE {t} SET id = id WHERE id = 1",
    "UPDATE OR REPLACE": "UPDATE OR REPLACE {t} SET id = id WHERE id = 1",
    "DELETE": "DELETE FROM {t} WHERE id = 1",
    "INSERT OR REPLACE": "INSERT OR REPLACE INTO {t} {values}",
    "REPLACE": "REPLACE INTO {t} {values}",
    "UPSERT": "INSERT INTO {t} {values} ON CONFLICT (id) DO UPDATE SET id = excluded.id",
    "INSERT OR IGNORE": "INSERT OR IGNORE INTO {t} {values}",
    "INSERT": "INSERT INTO {t} {values}",
}


@pytest.mark.parametrize("verb", list(VERBS))
@pytest.mark.parametrize("table", list(APPEND_ONLY_TABLES))
def test_a_recorded_gate_row_or_approved_waiver_cannot_be_rewritten(tracker, table, verb):
    tracker.record(
        "gate.request", "gate:1", {"phase": "1", "reviewers": ["Ben"], "action": "asked"}
    )
    request = tracker.op_of("gate_requests", 1)
    tracker.record(
        "gate.decision",
        "gate:1",
        {"request": request, "decision": "approve", "comment": "ok", "action": "ok"},
    )
    tracker.record(
        "gate.review",
        "gate:1",
        {"phase": "1", "request": request, "outcome": "passed", "record": "{}", "action": "r"},
    )
    waiver_op = tracker.record(
        "waiver.request",
        "waiver:1.2.4",
        {"target": "1.2.4", "reason": "r", "expires": "2030-01-01", "action": "w"},
    )
    requester, tracker.actor = tracker.actor, "Ben <ben@example.com>"  # never the requester
    tracker.record(
        "waiver.approve",
        "waiver:1.2.4",
        {"waiver": tracker.op_of("waivers", waiver_op[0]), "action": "a"},
    )
    tracker.actor = requester
    conn = sqlite3.connect(tracker.path)
    before = _tables(conn)
    statement = VERBS[verb].format(t=table, values=APPEND_ONLY_TABLES[table])
    # through the tracker (a TrackerError) and through a bare connection (the schema refuses)
    with pytest.raises(TrackerError, match=r"append-only|never edited"):
        tracker.execute(statement, action="tamper", subject="x")
    with pytest.raises(sqlite3.DatabaseError, match=r"append-only|never edited"):
        conn.execute(statement)
    conn.rollback()
    assert _tables(conn) == before
    conn.close()


def test_a_pending_waiver_is_approved_once(tracker):
    tracker.record(
        "waiver.request",
        "waiver:1.2.4",
        {"target": "1.2.4", "reason": "r", "expires": "2030-01-01", "action": "w"},
    )
    tracker.execute(
        "UPDATE waivers SET approver = 'Ben', approved_at = 'now' WHERE id = 1",
        action="approve",
        subject="w",
    )
    with pytest.raises(TrackerError, match="never edited"):
        tracker.execute("UPDATE waivers SET approver = 'Eve' WHERE id = 1", action="x", subject="w")


def test_the_table_driven_test_covers_every_append_only_table():
    from deliverables.view import APPEND_ONLY

    assert set(APPEND_ONLY_TABLES) == set(APPEND_ONLY)
