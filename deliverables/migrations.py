"""Forward-only schema migrations of the tracker, numbered by `PRAGMA user_version`.

Each step takes the database from version N-1 to N and never edits an earlier step: a tracker
made by any earlier phasegate opens, and is migrated inside the caller's write transaction.
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Callable
from typing import Any


def _v1_core(db: Any) -> None:
    """States of items and deliverables, and the activity log."""
    db["items"].create(
        {
            "id": str,
            "status": str,
            "reason": str,
            "owner": str,
            "updated_at": str,
            "updated_by": str,
        },
        pk="id",
        not_null={"status"},
        defaults={"status": "todo"},
    )
    db["deliverables"].create(
        {
            "id": str,
            "status": str,
            "reason": str,
            "owner": str,
            "path": str,
            "updated_at": str,
            "updated_by": str,
        },
        pk="id",
        not_null={"status"},
        defaults={"status": "missing"},
    )
    db["activity"].create(
        {
            "id": int,
            "at": str,
            "actor": str,
            "action": str,
            "subject": str,
            "before": str,
            "after": str,
        },
        pk="id",
        not_null={"at", "actor", "action", "subject"},
    )


def _v2_due_notes_and_fields(db: Any) -> None:
    """Items get a due date and a note; events name the field they changed; activity is indexed
    for the dashboard's "recent" and per-subject views."""
    db["items"].add_column("due", str)
    db["items"].add_column("note", str)
    db["activity"].add_column("field", str, not_null_default="")
    db["activity"].create_index(["subject"], index_name="activity_subject")
    db["activity"].create_index(["at"], index_name="activity_at")


def _v3_validation_runs(db: Any) -> None:
    """Validation runs of the generated pipelines and each check's outcome (pipelines.validation)."""
    db["validation_runs"].create(
        {
            "id": int,
            "tier": str,
            "status": str,
            "started_at": str,
            "finished_at": str,
            "actor": str,
            "git_commit": str,
            "git_dirty": int,
            "pipelines": str,  # JSON list
            "versions": str,  # JSON object: python, pyspark, pyiceberg, great_expectations, ...
            "summary": str,
            "pid": int,  # the process that drives the run: a "running" run whose pid is gone was interrupted
        },
        pk="id",
        not_null={"tier", "status", "started_at", "actor"},
    )
    db["validation_results"].create(
        {
            "id": int,
            "run_id": int,
            "pipeline": str,
            "step": str,
            "check_name": str,
            "outcome": str,
            "detail": str,
            "data": str,  # JSON: counts, samples, task states
            "duration": float,
        },
        pk="id",
        not_null={"run_id", "pipeline", "step", "check_name", "outcome"},
        foreign_keys=[("run_id", "validation_runs", "id")],
    )
    db["validation_results"].create_index(["run_id"], index_name="validation_results_run")
    db["validation_results"].create_index(["pipeline"], index_name="validation_results_pipeline")


def _v4_gates_waivers_and_days(db: Any) -> None:
    """Gate requests, reviewers' decisions and immutable gate reviews; waivers; each user's
    sessions and daily stand-up notes (deliverables.gates, deliverables.day)."""
    db["gate_requests"].create(
        {"id": int, "phase": str, "at": str, "actor": str, "reviewers": str},  # reviewers: JSON
        pk="id",
        not_null={"phase", "at", "actor", "reviewers"},
    )
    db["gate_decisions"].create(
        {
            "id": int,
            "request_id": int,
            "reviewer": str,
            "decision": str,  # approve | reject | approve_with_conditions
            "comment": str,
            "at": str,
        },
        pk="id",
        not_null={"request_id", "reviewer", "decision", "comment", "at"},
        foreign_keys=[("request_id", "gate_requests", "id")],
    )
    db["gate_reviews"].create(
        {
            "id": int,
            "phase": str,
            "request_id": int,
            "outcome": str,  # passed | passed_with_waivers | failed
            "at": str,
            "actor": str,
            "git_commit": str,
            "git_dirty": int,
            "record": str,  # JSON: criteria with evidence, blockers, decisions, waivers
            "corrects": int,  # an earlier review this one corrects
        },
        pk="id",
        not_null={"phase", "outcome", "at", "actor", "record"},
    )
    db["waivers"].create(
        {
            "id": int,
            "target": str,  # a gate criterion id (G4.3, G5.0) or a checklist item id (4.1.2)
            "reason": str,
            "requester": str,
            "requested_at": str,
            "expires": str,  # YYYY-MM-DD: the last day it counts
            "approver": str,
            "approved_at": str,
        },
        pk="id",
        not_null={"target", "reason", "requester", "requested_at", "expires"},
    )
    for table in ("gate_requests", "gate_decisions", "gate_reviews"):
        # the record of a gate is append-only: a correction is a new row, never an edit
        for verb in ("UPDATE", "DELETE"):
            db.execute(
                f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
            )
    db.execute(
        "CREATE TRIGGER waivers_no_delete BEFORE DELETE ON waivers "
        "BEGIN SELECT RAISE(ABORT, 'waivers are kept'); END"
    )
    db.execute(  # the one change a waiver gets is its approval, once
        "CREATE TRIGGER waivers_approved_once BEFORE UPDATE ON waivers "
        "WHEN OLD.approver IS NOT NULL OR NEW.target IS NOT OLD.target OR NEW.reason IS NOT "
        "OLD.reason OR NEW.requester IS NOT OLD.requester OR NEW.expires IS NOT OLD.expires "
        "BEGIN SELECT RAISE(ABORT, 'a waiver is approved once and never edited'); END"
    )
    db["sessions"].create({"actor": str, "at": str}, not_null={"actor", "at"})
    db["sessions"].create_index(["actor", "at"], index_name="sessions_actor_at")
    db["standups"].create(
        {"actor": str, "day": str, "yesterday": str, "today": str, "blockers": str, "at": str},
        pk=("actor", "day"),
        not_null={"actor", "day", "at"},
    )


def _v5_operation_log(db: Any) -> None:
    """The tracker becomes a view of an operation log (deliverables.oplog): the ops (with the
    outbox: ops not yet in this replica's git ref), the git heads integrated so far, this
    replica's id, the winning op of every field (`winners` of items and deliverables), the conflicts; the view's rows name the op that
    made them; the append-only triggers also refuse REPLACE and UPSERT. Whatever the tracker
    held becomes `import` ops, so nothing is lost (deliverables.view.import_existing)."""
    from deliverables.view import append_only_triggers, drop_append_only_triggers, import_existing

    conn = db.conn
    # clustered in the total order: a local write appends to the last page, ordered reads and
    # max(lamport) are scans of the key, and an op is found by its key (lamport, replica, id).
    # No other index (not on the id, not on the outbox flag, which only a sync reads): each page
    # an index adds is written again at every commit
    conn.execute(
        "CREATE TABLE ops (lamport INTEGER NOT NULL, replica TEXT NOT NULL, id TEXT NOT NULL, "
        "author TEXT NOT NULL, at TEXT NOT NULL, kind TEXT NOT NULL, subject TEXT NOT NULL, "
        "line TEXT NOT NULL, pushed INTEGER NOT NULL DEFAULT 0, "
        "PRIMARY KEY (lamport, replica, id)) WITHOUT ROWID"
    )
    conn.execute("CREATE TABLE heads (ref TEXT PRIMARY KEY, commit_id TEXT NOT NULL)")
    conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
    for table in ("items", "deliverables"):  # per field: the op it holds, an unsettled conflict
        conn.execute(f"ALTER TABLE {table} ADD COLUMN winners TEXT")
    conn.execute(
        "CREATE TABLE conflicts (id INTEGER PRIMARY KEY, at TEXT NOT NULL, subject TEXT NOT NULL, "
        "field TEXT NOT NULL, kept TEXT, kept_by TEXT NOT NULL, kept_op TEXT NOT NULL, "
        "lost TEXT, lost_by TEXT NOT NULL, lost_op TEXT NOT NULL, resolved_by TEXT)"
    )
    for table in ("activity", "gate_requests", "gate_decisions", "gate_reviews", "waivers"):
        conn.execute(f"ALTER TABLE {table} ADD COLUMN op TEXT")
    conn.execute("ALTER TABLE validation_runs ADD COLUMN op TEXT")
    conn.execute("ALTER TABLE gate_reviews ADD COLUMN follows TEXT")  # the newest op it saw
    for table in ("gate_requests", "gate_decisions", "gate_reviews", "waivers", "validation_runs"):
        conn.execute(f"CREATE INDEX {table}_op ON {table} (op)")
    drop_append_only_triggers(conn)
    append_only_triggers(conn)
    import_existing(conn)


def _v6_arrivals(db: Any) -> None:
    """The order in which ops reached this clone (local, never synced). "What others changed
    since my last session" is what arrived after it: a teammate's edit from yesterday that
    today's sync brings in is news to me, whatever its wall time says. Ops already here arrived
    in their total order."""
    conn = db.conn
    conn.execute("CREATE TABLE arrivals (seq INTEGER PRIMARY KEY, id TEXT NOT NULL)")
    conn.execute("INSERT INTO arrivals (id) SELECT id FROM ops ORDER BY lamport, replica, id")
    conn.execute(
        "CREATE TRIGGER ops_arrival AFTER INSERT ON ops "
        "BEGIN INSERT INTO arrivals (id) VALUES (NEW.id); END"
    )


def _v7_outbox_table(db: Any) -> None:
    """The outbox becomes a table of its own: the keys of the ops written here and not yet in
    this replica's git ref. A flush forgets 10,000 ops by deleting 10,000 short rows, where the
    `pushed` flag of the log's rows made it rewrite every page of their lines (3.5 MB). The
    log's rows note their arrival as the log stores them (deliverables.view.store_ops, the one
    place that adds ops) instead of through a trigger per row."""
    conn = db.conn
    conn.execute(
        "CREATE TABLE outbox (lamport INTEGER NOT NULL, replica TEXT NOT NULL, id TEXT NOT NULL, "
        "PRIMARY KEY (lamport, replica, id)) WITHOUT ROWID"
    )
    conn.execute(
        "INSERT INTO outbox (lamport, replica, id) "
        "SELECT lamport, replica, id FROM ops WHERE pushed = 0 ORDER BY lamport, replica, id"
    )
    conn.execute("ALTER TABLE ops DROP COLUMN pushed")
    conn.execute("DROP TRIGGER ops_arrival")


def _v8_profiles(db: Any) -> None:
    """Profiles of sources (process 1.3), one row per `profile` op: the profile's summary as
    JSON (statistics, keys, drift found), so drift compares with the latest profile anyone on
    the team stored. A log that holds profile ops already (synced from a teammate's newer
    phasegate, skipped by the view until now) is folded again, so the view numbers them as a
    clone that always knew the kind does."""
    from deliverables.view import rebuild

    conn = db.conn
    conn.execute(
        "CREATE TABLE profiles (id INTEGER PRIMARY KEY, name TEXT NOT NULL, "
        "profiled_at TEXT NOT NULL, at TEXT NOT NULL, actor TEXT NOT NULL, "
        "summary TEXT NOT NULL, op TEXT)"
    )
    conn.execute("CREATE INDEX profiles_name ON profiles (name, id)")
    if conn.execute("SELECT 1 FROM ops WHERE kind = 'profile' LIMIT 1").fetchone():
        rebuild(conn)


MIGRATIONS: list[Callable[[Any], None]] = [
    _v1_core,
    _v2_due_notes_and_fields,
    _v3_validation_runs,
    _v4_gates_waivers_and_days,
    _v5_operation_log,
    _v6_arrivals,
    _v7_outbox_table,
    _v8_profiles,
]
SCHEMA_VERSION = len(MIGRATIONS)


def migrate(conn: sqlite3.Connection, upto: int = SCHEMA_VERSION) -> int:
    """Applies the missing steps up to `upto`; the caller holds the write transaction."""
    version = conn.execute("PRAGMA user_version").fetchone()[
        0
    ]  # re-read: another process may have won
    if version >= upto:
        return version
    db = _sqlite_utils().Database(conn)
    for number in range(version + 1, upto + 1):
        MIGRATIONS[number - 1](db)
        conn.execute(f"PRAGMA user_version = {number}")
    return upto


def _sqlite_utils() -> Any:
    """sqlite-utils imports pandas and numpy when they are installed (~0.3 s); the tracker never
    hands it a DataFrame, so hide them during its import and keep start-up fast."""
    if "sqlite_utils" in sys.modules:
        return sys.modules["sqlite_utils"]
    hidden = {name: sys.modules.get(name) for name in ("pandas", "numpy")}
    for name, module in hidden.items():
        if module is None:
            sys.modules[name] = None  # type: ignore[assignment]  # makes `import name` fail fast
    try:
        import sqlite_utils
    finally:
        for name, module in hidden.items():
            if module is None:
                del sys.modules[name]
    return sqlite_utils
