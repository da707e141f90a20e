"""The tracker: checklist-item and deliverable state plus the activity log, in SQLite.

One file per clone, `<repo>/.phasegate/tracker.db` (never committed), in WAL mode with a busy
timeout, so an engineer's TUI and their scripts can write at once. Every write is one
`BEGIN IMMEDIATE` transaction that appends one op to the operation log (deliverables.oplog; the
op waits in the outbox until deliverables.sync moves it into this clone's git ref) and folds it
into the view tables (deliverables.view): a write is either wholly there or not at all, even if
the process is killed mid-burst, and the view can always be rebuilt from the ops.

Reads and writes are short SQL statements on `sqlite3`; sqlite-utils builds and migrates the
schema (`deliverables.migrations`), and is imported only when a migration has to run.
"""

from __future__ import annotations

import functools
import json
import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

from deliverables.errors import TrackerError
from deliverables.migrations import SCHEMA_VERSION, migrate
from deliverables.oplog import Op
from deliverables.view import (
    Applied,
    Fold,
    integrate,
    last_key,
    mark_in_git,
    read_ops,
    rebuild,
    store_ops,
)
from phases.text import control_problem

BUSY_TIMEOUT_MS = 30_000
BULK_CACHE_KIB = 64 * 1024  # the page cache of a transaction that stores thousands of ops
Clock = Callable[[], datetime]


class ItemState(NamedTuple):
    id: str
    status: str = "todo"
    reason: str | None = None
    owner: str | None = None
    due: str | None = None
    note: str | None = None
    updated_at: str | None = None
    updated_by: str | None = None


class DeliverableState(NamedTuple):
    id: str
    status: str = "missing"
    reason: str | None = None
    owner: str | None = None
    path: str | None = None
    updated_at: str | None = None
    updated_by: str | None = None


class Event(NamedTuple):
    """One entry of the activity log: who changed which field of what, from what to what."""

    id: int
    at: str
    actor: str
    action: str
    subject: str
    field: str
    before: str | None
    after: str | None

    @property
    def when(self) -> datetime:
        return parse_time(self.at)


_TABLES = {"item": ("items", ItemState), "deliverable": ("deliverables", DeliverableState)}


class RunRecord(NamedTuple):
    """One validation run (pipelines.validation) as stored."""

    id: int
    tier: str
    status: str  # running | passed | failed | cancelled
    started_at: str
    finished_at: str | None
    actor: str
    git_commit: str | None
    git_dirty: int | None
    pipelines: str  # JSON list
    versions: str | None  # JSON object
    summary: str | None
    pid: int | None = None

    @property
    def pipeline_names(self) -> list[str]:
        return json.loads(self.pipelines or "[]")

    @property
    def version_map(self) -> dict[str, str]:
        return json.loads(self.versions or "{}")


class CheckRecord(NamedTuple):
    """One check of one pipeline in a validation run."""

    run_id: int
    pipeline: str
    step: str
    check_name: str
    outcome: str  # passed | failed | warning | error | skipped | timeout | cancelled
    detail: str = ""
    data: str = "{}"  # JSON
    duration: float | None = None

    @property
    def payload(self) -> dict:
        return json.loads(self.data or "{}")


def utc_now() -> datetime:
    return datetime.now(UTC)


def format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text)  # 3.11 reads the trailing Z as UTC


def _reading(method: Callable) -> Callable:
    """A read that fails (a locked or damaged file) raises TrackerError, which the UI shows."""

    @functools.wraps(method)
    def wrapper(self: Tracker, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except sqlite3.DatabaseError as exc:
            raise TrackerError(_explain(self.path, exc)) from None

    return wrapper


class Tracker:
    """The open tracker database of one project."""

    def __init__(
        self, path: Path, conn: sqlite3.Connection, actor: str | Callable[[], str], clock: Clock
    ) -> None:
        self.path, self._conn, self.clock = path, conn, clock
        self._actor = actor
        self._replica: str | None = None

    @property
    def actor(self) -> str:
        """Who writes: resolved on first use (asking git costs a process), then kept."""
        if callable(self._actor):
            self._actor = self._actor()
        return self._actor

    @actor.setter
    def actor(self, value: str) -> None:
        self._actor = value

    @classmethod
    def open(cls, path: Path, *, actor: str | Callable[[], str], clock: Clock = utc_now) -> Tracker:
        """Opens (creating and migrating as needed) the tracker at `path`.

        A database written by a newer phasegate is refused before anything touches it.
        """
        path = Path(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise TrackerError(f"cannot create {path.parent}: a file is in the way") from None
        except OSError as exc:
            raise TrackerError(f"cannot create {path.parent}: {exc.strerror}") from None
        if path.exists():
            _refuse_newer(path)
        try:
            conn = sqlite3.connect(
                path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False
            )
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                conn.execute("PRAGMA journal_mode = WAL")
            # NORMAL in WAL mode: a commit survives a killed process; only power loss may drop the last ones
            conn.execute("PRAGMA synchronous = NORMAL")
            tracker = cls(path, conn, actor, clock)
            if conn.execute("PRAGMA user_version").fetchone()[0] < SCHEMA_VERSION:
                with tracker._write():
                    migrate(conn)
        except sqlite3.DatabaseError as exc:
            raise TrackerError(_explain(path, exc)) from None
        return tracker

    def close(self) -> None:
        self._conn.close()
        cleanup = getattr(self, "_cleanup", None)
        if cleanup is not None:
            cleanup()

    # --- reads ---------------------------------------------------------------------------------

    @_reading
    def item_states(self) -> dict[str, ItemState]:
        return {row[0]: ItemState(*row) for row in self._select("items", ItemState)}

    @_reading
    def deliverable_states(self) -> dict[str, DeliverableState]:
        return {
            row[0]: DeliverableState(*row) for row in self._select("deliverables", DeliverableState)
        }

    @_reading
    def item_state(self, item_id: str) -> ItemState:
        return self._one("item", item_id)

    @_reading
    def deliverable_state(self, deliverable_id: str) -> DeliverableState:
        return self._one("deliverable", deliverable_id)

    @_reading
    def activity(
        self, limit: int | None = 50, *, subject: str | None = None, since: datetime | None = None
    ) -> list[Event]:
        """Newest first."""
        where, args = [], []
        if subject is not None:
            where.append("subject = ?")
            args.append(subject)
        if since is not None:
            where.append("at >= ?")
            args.append(format_time(since))
        sql = "SELECT id, at, actor, action, subject, field, before, after FROM activity"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY id DESC"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [Event(*row) for row in self._conn.execute(sql, args)]

    @_reading
    def data_version(self) -> int:
        """Changes whenever another connection (a CLI run, a teammate's TUI) commits."""
        return self._conn.execute("PRAGMA data_version").fetchone()[0]

    @_reading
    def news_since_session(self, since: str) -> list[Event]:
        """Newest first: the activity that reached this clone after the acting user's session
        at `since` (written here since then, or brought in by a sync since then, however old).
        A session from before the op log (an import) has no arrival: its wall time decides."""
        (seq,) = self._conn.execute(
            "SELECT max(seq) FROM arrivals WHERE id IN "
            "(SELECT id FROM ops WHERE kind = 'session' AND author = ? AND at = ?)",
            (self.actor, since),
        ).fetchone()
        if seq is None:
            return [e for e in self.activity(None, since=parse_time(since)) if e.at >= since]
        sql = (
            "SELECT id, at, actor, action, subject, field, before, after FROM activity "
            "WHERE op IN (SELECT id FROM arrivals WHERE seq > ?) ORDER BY id DESC"
        )
        return [Event(*row) for row in self._conn.execute(sql, (seq,))]

    @_reading
    def activity_count(self) -> int:
        return self._conn.execute("SELECT count(*) FROM activity").fetchone()[0]

    # --- validation runs ------------------------------------------------------------------------

    @_reading
    def runs(self, limit: int | None = 50, *, tier: str | None = None) -> list[RunRecord]:
        """Newest first."""
        sql = f"SELECT {_RUN_COLUMNS} FROM validation_runs"
        args: list = []
        if tier is not None:
            sql += " WHERE tier = ?"
            args.append(tier)
        sql += " ORDER BY id DESC"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [RunRecord(*row) for row in self._conn.execute(sql, args)]

    @_reading
    def run(self, run_id: int) -> RunRecord | None:
        row = self._conn.execute(
            f"SELECT {_RUN_COLUMNS} FROM validation_runs WHERE id = ?", (run_id,)
        ).fetchone()
        return RunRecord(*row) if row else None

    @_reading
    def run_checks(self, run_id: int) -> list[CheckRecord]:
        return [
            CheckRecord(*row)
            for row in self._conn.execute(
                f"SELECT {_CHECK_COLUMNS} FROM validation_results WHERE run_id = ? ORDER BY id",
                (run_id,),
            )
        ]

    @_reading
    def latest_checks(
        self, tier: str | None = None
    ) -> dict[str, tuple[RunRecord, list[CheckRecord]]]:
        """Per pipeline: the newest finished run (of `tier`, if given) that covered it, and that
        run's checks of it."""
        newest = (
            "SELECT c2.pipeline, max(c2.run_id) AS run_id FROM validation_results c2 "
            "JOIN validation_runs r2 ON r2.id = c2.run_id WHERE r2.finished_at IS NOT NULL"
            + (" AND r2.tier = ?" if tier else "")
            + " GROUP BY c2.pipeline"
        )
        run_cols = ", ".join("r." + c for c in _RUN_COLUMNS.split(", "))
        check_cols = ", ".join("c." + c for c in _CHECK_COLUMNS.split(", "))
        sql = (
            f"SELECT {run_cols}, {check_cols} FROM ({newest}) n "
            "JOIN validation_results c ON c.pipeline = n.pipeline AND c.run_id = n.run_id "
            "JOIN validation_runs r ON r.id = c.run_id ORDER BY c.id"
        )
        width = len(RunRecord._fields)
        latest: dict[str, tuple[RunRecord, list[CheckRecord]]] = {}
        for row in self._conn.execute(sql, [tier] if tier else []):
            run, check = RunRecord(*row[:width]), CheckRecord(*row[width:])
            latest.setdefault(check.pipeline, (run, []))[1].append(check)
        return latest

    def start_run(
        self, tier: str, pipelines: list[str], git_commit: str | None, git_dirty: bool | None
    ) -> int:
        with self._write():
            # runs left "running" by a process that is gone (killed, power cut) were interrupted
            for run_id, pid in self._conn.execute(
                "SELECT id, pid FROM validation_runs WHERE status = 'running'"
            ).fetchall():
                if not _alive(pid):
                    self._conn.execute(
                        "UPDATE validation_runs SET status = 'interrupted', summary = "
                        "'the process running it ended before it finished' WHERE id = ?",
                        (run_id,),
                    )
            cursor = self._conn.execute(
                "INSERT INTO validation_runs (tier, status, started_at, actor, git_commit, "
                "git_dirty, pipelines, pid) VALUES (?, 'running', ?, ?, ?, ?, ?, ?)",
                (
                    tier,
                    format_time(self.clock()),
                    self.actor,
                    git_commit,
                    None if git_dirty is None else int(git_dirty),
                    json.dumps(pipelines),
                    os.getpid(),
                ),
            )
            return cursor.lastrowid

    def add_checks(self, checks: list[CheckRecord]) -> None:
        if not checks:
            return
        columns = list(CheckRecord._fields)
        with self._write():
            self._conn.executemany(
                f"INSERT INTO validation_results ({_CHECK_COLUMNS}) "
                f"VALUES ({', '.join('?' * len(columns))})",
                [[getattr(c, name) for name in columns] for c in checks],
            )

    def finish_run(
        self, run_id: int, status: str, summary: str, versions: dict[str, str] | None = None
    ) -> Event:
        """Closes the run: it becomes one `run` op (its summary and every check), so a teammate's
        clone sees it once synced; it keeps its number here. Logged as subject `run:N`."""
        at = format_time(self.clock())
        with self._write():
            found = self._conn.execute(
                f"SELECT {_RUN_COLUMNS} FROM validation_runs WHERE id = ? AND op IS NULL",
                (run_id,),
            ).fetchone()
            if found is None:
                raise TrackerError(f"run {run_id} is not running here: it cannot finish")
            run = RunRecord(*found)
            check_columns = [c for c in CheckRecord._fields if c != "run_id"]
            checks = [
                dict(zip(check_columns, row, strict=True))
                for row in self._conn.execute(
                    f"SELECT {', '.join(check_columns)} FROM validation_results "
                    "WHERE run_id = ? ORDER BY id",
                    (run_id,),
                )
            ]
            payload = {
                "tier": run.tier,
                "status": status,
                "started_at": run.started_at,
                "finished_at": at,
                "git_commit": run.git_commit,
                "git_dirty": run.git_dirty,
                "pipelines": run.pipelines,
                "versions": json.dumps(versions) if versions else run.versions,
                "summary": summary,
                "checks": checks,
                "action": f"{run.tier} validation {status}: {summary}",
            }
            self._conn.execute("DELETE FROM validation_results WHERE run_id = ?", (run_id,))
            self._conn.execute("DELETE FROM validation_runs WHERE id = ?", (run_id,))
            applied = self._apply_new(Fold(self._conn), "run", "run", payload, run_id)
            return Event(*applied.events[0])

    # --- sessions and gate states: read at start-up, so plain SQL here ------------------------

    @_reading
    def last_session(self) -> str | None:
        """When the acting user last opened phasegate (None: never)."""
        row = self._conn.execute(
            "SELECT max(at) FROM sessions WHERE actor = ?", (self.actor,)
        ).fetchone()
        return row[0] if row else None

    def start_session(self) -> str | None:
        """Notes a session of the acting user now; returns when their previous one was."""
        previous = self.last_session()
        self.record("session", "", {})
        return previous

    @_reading
    def gate_states(self, passing: tuple[str, ...]) -> dict[str, str]:
        """Per phase with gate activity: "in_review" while its newest request has no review
        after it, else "passed" when its newest review's outcome is in `passing`."""
        rows = self._conn.execute(
            "SELECT p.phase, "
            "(SELECT outcome FROM gate_reviews r WHERE r.phase = p.phase ORDER BY id DESC LIMIT 1), "
            "(SELECT request_id FROM gate_reviews r WHERE r.phase = p.phase ORDER BY id DESC LIMIT 1), "
            "(SELECT count(*) FROM gate_reviews r WHERE r.phase = p.phase), "
            "(SELECT max(id) FROM gate_requests q WHERE q.phase = p.phase) "
            "FROM (SELECT phase FROM gate_requests UNION SELECT phase FROM gate_reviews) p"
        ).fetchall()
        states = {}
        for phase, outcome, reviewed_request, reviewed, request in rows:
            if request is not None and not (
                reviewed and reviewed_request is not None and reviewed_request >= request
            ):
                states[phase] = "in_review"
            elif reviewed and outcome in passing:
                states[phase] = "passed"
        return states

    # --- writes --------------------------------------------------------------------------------

    @_reading
    def query(self, sql: str, args: tuple | list = ()) -> list[tuple]:
        """A read for the modules that own the other tables (gates, waivers, days)."""
        return self._conn.execute(sql, args).fetchall()

    def append(
        self, table: str, row: dict, *, action: str | None = None, subject: str = ""
    ) -> tuple[int, Event | None]:
        """Inserts `row` (and, given `action`, one activity event) into the view alone, in one
        transaction: no op, so a rebuild drops it. For tests and repairs; phasegate's own
        writes go through `update` and `record`."""
        at, actor = format_time(self.clock()), self.actor
        check_user_text({**row, "actor": actor, "action": action or ""})
        columns = list(row)
        with self._write():
            cursor = self._conn.execute(
                f"INSERT INTO {table} ({', '.join(columns)}) "
                f"VALUES ({', '.join('?' * len(columns))})",
                [row[c] for c in columns],
            )
            row_id = cursor.lastrowid
            event = None
            if action:
                event = self._log(at, actor, action, subject)
            return row_id, event

    def execute(self, sql: str, args: tuple | list = (), *, action: str, subject: str) -> Event:
        """One raw write statement on the view and its activity event, in one transaction: no
        op (see `append`); the append-only triggers still refuse what they refuse."""
        at, actor = format_time(self.clock()), self.actor
        check_user_text({"actor": actor, "action": action})
        for value in args:
            check_user_text({"text": value})
        with self._write():
            self._conn.execute(sql, args)
            return self._log(at, actor, action, subject)

    def _log(self, at: str, actor: str, action: str, subject: str) -> Event:
        cursor = self._conn.execute(
            "INSERT INTO activity (at, actor, action, subject, field, before, after) "
            "VALUES (?, ?, ?, ?, '', NULL, NULL)",
            (at, actor, action, subject),
        )
        return Event(cursor.lastrowid, at, actor, action, subject, "", None, None)

    def update(self, kind: str, subject_id: str, changes: dict[str, str | None]) -> list[Event]:
        """Sets fields of an item or deliverable: one `item.set` / `deliverable.set` op naming,
        per field that really changed, the new value and the op whose value it replaces; one
        activity event per changed field."""
        fields = _TABLES[kind][1]._fields
        for name in changes:
            if name not in fields or name in ("id", "updated_at", "updated_by"):
                raise TrackerError(f"{kind} has no field '{name}'")
        check_user_text({**changes, "actor": self.actor})
        with self._write():
            fold = Fold(self._conn)
            current = fold.state(kind, subject_id)
            changed = {k: v for k, v in changes.items() if current.get(k) != v}
            if not changed:
                return []
            winners = fold.field_winners(kind, subject_id)
            payload = {"fields": [[k, v, winners.get(k)] for k, v in changed.items()]}
            applied = self._apply_new(fold, f"{kind}.set", subject_id, payload)
            return [Event(*row) for row in applied.events]

    def record(self, kind: str, subject: str, payload: dict) -> tuple[int | None, Event | None]:
        """Appends one op of `kind` (a gate request, a decision, a waiver, a stand-up, ...) and
        folds it into the view; returns the row it made and its activity event."""
        check_user_text({"actor": self.actor, "subject": subject})
        _check_payload(payload)
        with self._write():
            applied = self._apply_new(Fold(self._conn), kind, subject, payload)
            return applied.row_id, (Event(*applied.events[0]) if applied.events else None)

    def op_of(self, table: str, row_id: int) -> str | None:
        """The id of the op that made a row of the view (what other ops refer to)."""
        row = self._conn.execute(f"SELECT op FROM {table} WHERE id = ?", (row_id,)).fetchone()
        return row[0] if row else None

    @_reading
    def newest_op(self) -> str | None:
        """The last op in the total order: what a gate review says it follows."""
        key = last_key(self._conn)
        return key[2] if key else None

    @property
    def replica(self) -> str:
        """This clone's replica id (made by the migration that introduced the op log)."""
        if self._replica is None:
            row = self._conn.execute("SELECT value FROM meta WHERE key = 'replica'").fetchone()
            self._replica = row[0]
        return self._replica

    # --- the log: outbox, git heads, integration (deliverables.sync) -----------------------------

    @_reading
    def outbox(self) -> list[Op]:
        """Ops written here and not yet in git, oldest first."""
        return read_ops(self._conn, "WHERE (lamport, replica, id) IN (SELECT * FROM outbox)")

    def move_outbox(self, ref: str, commit: Callable[[bytes, int, str | None], str]) -> int:
        """Moves the outbox into git: in one write transaction, the outbox's pack lines (in the
        total order) go to `commit(pack, count, parent)`, with `parent` the head of `ref`
        integrated here; it returns the new head, and the outbox is emptied and the head
        recorded. Holding the write lock from reading the outbox to emptying it means no write
        slips in between (it waits: the busy timeout), so the rows deleted are the ops
        committed. Killed before the commit: nothing here changed; `commit` raising: the same.
        Returns how many ops moved."""
        with self._write():
            lines = [
                row[0]
                for row in self._conn.execute(
                    "SELECT line FROM outbox JOIN ops USING (lamport, replica, id) "
                    "ORDER BY lamport, replica, id"
                )
            ]
            if not lines:
                return 0
            found = self._conn.execute(
                "SELECT commit_id FROM heads WHERE ref = ?", (ref,)
            ).fetchone()
            pack = ("\n".join(lines) + "\n").encode()
            head = commit(pack, len(lines), found[0] if found else None)
            self._conn.execute("DELETE FROM outbox")
            self._conn.execute(
                "INSERT OR REPLACE INTO heads (ref, commit_id) VALUES (?, ?)", (ref, head)
            )
            return len(lines)

    @_reading
    def meta(self, key: str) -> str | None:
        """A value of this clone's local state (never synced, never committed)."""
        row = self._conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        """Sets a value of this clone's local state (e.g. when it last published)."""
        with self._write():
            self._conn.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    @_reading
    def heads(self) -> dict[str, str]:
        """Per git ref, the commit whose ops were integrated last."""
        return dict(self._conn.execute("SELECT ref, commit_id FROM heads").fetchall())

    @_reading
    def ops(self, until: str | None = None) -> list[Op]:
        """The whole log in the total order (up to a wall time, inclusive)."""
        if until is None:
            return read_ops(self._conn)
        return read_ops(self._conn, "WHERE at <= ?", (until,))

    @_reading
    def op_count(self) -> int:
        return self._conn.execute("SELECT count(*) FROM ops").fetchone()[0]

    def integrate(self, ops: list[Op], heads: dict[str, str], *, in_git: bool = True) -> list[Op]:
        """Adds ops read from git refs to the log and the view, marks every one of them as in
        git (the outbox forgets them) and records the refs' heads: one transaction, so a killed
        sync either integrated a ref's commits or not at all. Returns the ops that were new."""
        with self._write(bulk=len(ops) > 100):
            new, known = integrate(self._conn, ops)
            if not in_git:  # ops made here for another replica (the demo): in the outbox
                self._conn.executemany(
                    "INSERT INTO outbox (lamport, replica, id) VALUES (?, ?, ?)",
                    [op.key for op in new],
                )
                return new
            mark_in_git(self._conn, known)  # the new ones were stored as in git
            self._conn.executemany(
                "INSERT OR REPLACE INTO heads (ref, commit_id) VALUES (?, ?)", heads.items()
            )
            return new

    def snapshot(self, until: str) -> Tracker:
        """A read-only tracker of the state at wall time `until`: the ops up to then folded
        into a temporary database, which goes away when it is closed."""
        import atexit
        import shutil
        import tempfile

        folder = Path(tempfile.mkdtemp(prefix="phasegate-at-"))
        past = Tracker.open(folder / "tracker.db", actor=self._actor, clock=self.clock)
        past._cleanup = lambda: shutil.rmtree(folder, ignore_errors=True)  # type: ignore[attr-defined]
        atexit.register(past._cleanup)  # a command that never closes it leaves nothing behind
        with past._write():
            past._conn.execute("DELETE FROM ops")
            store_ops(past._conn, self.ops(until), outbox=False)
            rebuild(past._conn, keep_live=False)
        return past

    def rebuild(self) -> int:
        """Folds the view again from the whole log; returns the number of ops."""
        with self._write():
            return rebuild(self._conn)

    def _apply_new(
        self, fold: Fold, kind: str, subject: str, payload: dict, run_id: int | None = None
    ) -> Applied:
        """Inside a write: makes the op (Lamport = the highest seen + 1), puts it in the outbox
        and folds it; it sorts after every op applied, so the fold is incremental."""
        lamport, top = self._conn.execute(  # one statement: a write is a handful of them
            "SELECT (SELECT coalesce(max(lamport), 0) FROM ops), "
            "(SELECT coalesce(max(id), 0) FROM activity)"
        ).fetchone()
        fold.next_ids.setdefault("activity", top + 1)
        op = Op.create(
            lamport=lamport + 1,
            replica=self.replica,
            author=self.actor,
            at=format_time(self.clock()),
            kind=kind,
            subject=subject,
            payload=payload,
        )
        store_ops(self._conn, [op], outbox=True)
        applied = fold.apply(op, run_id=run_id)
        fold.finish()
        return applied

    @contextmanager
    def _write(self, *, bulk: bool = False) -> Iterator[None]:
        """One IMMEDIATE transaction: takes the write lock up front, so a busy database waits
        (busy timeout) instead of failing half-way with "database is locked".

        `bulk` (a sync's thousands of ops): a page cache that holds the whole transaction
        (SQLite's default 2 MiB spills the pages of 10,000 ops to the WAL before the commit
        writes them again: half the time of storing them), back to the default afterwards."""
        if bulk:
            self._conn.execute(f"PRAGMA cache_size = -{BULK_CACHE_KIB}")
        try:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
            except sqlite3.DatabaseError as exc:
                raise TrackerError(_explain(self.path, exc)) from None
            try:
                yield
                self._conn.execute("COMMIT")
            except sqlite3.DatabaseError as exc:
                self._rollback()
                raise TrackerError(_explain(self.path, exc)) from None
            except BaseException:
                self._rollback()
                raise
        finally:
            if bulk:
                self._conn.execute("PRAGMA cache_size = -2000")  # SQLite's default

    def _rollback(self) -> None:
        if self._conn.in_transaction:
            self._conn.execute("ROLLBACK")

    def _select(self, table: str, state_type: type) -> Iterator[tuple]:
        columns = ", ".join(state_type._fields)
        return self._conn.execute(f"SELECT {columns} FROM {table}")

    def _one(self, kind: str, subject_id: str):  # -> ItemState | DeliverableState
        table, state_type = _TABLES[kind]
        columns = ", ".join(state_type._fields)
        row = self._conn.execute(
            f"SELECT {columns} FROM {table} WHERE id = ?", (subject_id,)
        ).fetchone()
        return state_type(*row) if row else state_type(subject_id)


_RUN_COLUMNS = ", ".join(RunRecord._fields)


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True


_CHECK_COLUMNS = ", ".join(CheckRecord._fields)


def _refuse_newer(path: Path) -> None:
    """Reads the schema version without writing a byte (read-only, no WAL switch)."""
    try:
        probe = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            version = probe.execute("PRAGMA user_version").fetchone()[0]
            probe.execute("SELECT count(*) FROM sqlite_master").fetchone()
        finally:
            probe.close()
    except sqlite3.DatabaseError as exc:
        raise TrackerError(_explain(path, exc)) from None
    if version > SCHEMA_VERSION:
        raise TrackerError(
            f"{path} was written by a newer phasegate (schema {version}; this one knows up to "
            f"{SCHEMA_VERSION}): upgrade phasegate to open it; the file was left untouched"
        )


def _explain(path: Path, exc: sqlite3.DatabaseError) -> str:
    message = str(exc)
    if "readonly" in message or "unable to open" in message or "disk I/O" in message:
        return f"cannot write to {path}: {message} (check the permissions of {path.parent})"
    if "not a database" in message:
        return f"{path} is not a phasegate tracker (not an SQLite database)"
    if "locked" in message or "busy" in message:
        return f"{path} stayed locked by another process for {BUSY_TIMEOUT_MS // 1000} s: {message}"
    return f"{path}: {message}"


# Stored text that may span lines (a note, a comment); everything else is one line.
MULTILINE_FIELDS = frozenset(
    (
        "note",
        "comment",
        "reason",
        "record",
        "text",
        "action",
        "detail",
        "yesterday",
        "today",
        "blockers",
    )
)


def _check_payload(value, name: str = "text") -> None:
    """Every string an op carries, however deep, passes `check_user_text`."""
    if isinstance(value, dict):
        for key, inner in value.items():
            _check_payload(inner, key)
    elif isinstance(value, list | tuple):
        for inner in value:
            _check_payload(inner, name)
    elif isinstance(value, str):
        check_user_text({name: value})


# Kinds whose payload the write side does not check (a run's check output, a migrated row of a
# tracker made before the check): their text is escaped where it is shown instead.
_UNCHECKED_PAYLOADS = frozenset(("run", "import"))


def op_text_problem(op: Op) -> str | None:
    """Why an op received from git could not have been written here (`note holds the
    control character U+001B (ESCAPE) at position 3`), or None: its author and subject, and
    every string of its payload, pass the same check as a local write (`record`, `update`)."""
    if op.raw and plain_text(op.raw):
        return None  # every string of the op is a part of this line, which holds no control
    try:
        check_user_text({"author": op.author, "subject": op.subject})
        if op.kind in _UNCHECKED_PAYLOADS:
            return None
        fields = op.payload.get("fields") if op.kind.endswith(".set") else None
        if isinstance(fields, list):  # [[name, value, prev op], ...]: checked per field name
            for entry in fields:
                if isinstance(entry, list | tuple) and entry and isinstance(entry[0], str):
                    check_user_text({"field name": entry[0]})
                    _check_payload(list(entry[1:]), entry[0])
                else:
                    _check_payload(entry, "fields")
            rest = {k: v for k, v in op.payload.items() if k != "fields"}
            _check_payload(rest)
        else:
            _check_payload(op.payload)
    except TrackerError as exc:
        return str(exc)
    return None


def plain_text(text: str, encoded: bytes | None = None) -> bool:
    """Whether JSON text (a pack line, or a pack: lines joined by `\\n`) holds no character
    `check_user_text` refuses in any of its strings. True when, newlines between lines aside,
    it is printable (in C: every refused character is a control, a separator or a format
    character, none of them printable) and escapes nothing but quotes and backslashes (an
    escape is how JSON spells a control character inside a string: `\\n`, `\\u001b`; taking
    out the escaped backslashes, then the escaped quotes, leaves a backslash exactly where
    another escape began, as escapes pair from the left and a line begins with `{`). Every
    string decoded from such text is made of its characters, so it passes too; otherwise each
    string is checked (`op_text_problem`). `encoded`: the text's UTF-8 bytes, when the caller
    has them."""
    # in C on the UTF-8 bytes: deleting printable ASCII and the newlines leaves the other
    # characters (ASCII bytes are never part of a longer UTF-8 sequence), few in a pack, which
    # `isprintable` then judges: ten times faster than `isprintable` over the whole text
    data = text.encode(errors="surrogatepass") if encoded is None else encoded
    rest = data.translate(None, _PRINTABLE_ASCII)
    if rest and not rest.decode(errors="surrogatepass").isprintable():
        return False
    if "\\" not in text:
        return True
    flat = text.replace("\n", "")
    return "\\" not in flat or "\\" not in flat.replace("\\\\", "").replace('\\"', "")


_PRINTABLE_ASCII = bytes(range(0x20, 0x7F)) + b"\n"  # what `plain_text` lets through in ASCII


def check_user_text(row: dict) -> None:
    """Refuses a row whose text holds a control character (ESC, BEL, CR, NUL, a bidi override, a
    byte that is not UTF-8): every write of the tracker goes through here, so neither the CLI
    nor the TUI nor a script can store what would later drive a terminal."""
    for name, value in row.items():
        if isinstance(value, str):
            problem = control_problem(value, multiline=name in MULTILINE_FIELDS)
            if problem:
                raise TrackerError(f"{name.replace('_', ' ')} {problem}")
