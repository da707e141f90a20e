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
