"""The tracker's view: the SQLite tables every screen reads, folded from the operation log.

One function applies an op to the view (`Fold.apply`); a local write, the integration of a
teammate's ops and a rebuild from nothing all go through it, so the view is the same however it
was reached. Ops are applied in the total order `(lamport, replica, id)` (deliverables.oplog):
a batch that sorts after everything applied so far is folded onto the tables as they are
(incremental); anything else rebuilds the view from all ops.

Rows a user names by number (waiver 3, gate review 2, run 5) are numbered in the total order of
the ops that made them, so once two clones hold the same ops they number them the same.

The fold works on Python dicts and writes each table once with `executemany` when the batch is
done (`Fold.finish`): a cold rebuild of 100,000 ops stays well under two seconds.
"""

from __future__ import annotations

import gc
import json
import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from deliverables.identity import same_person
from deliverables.oplog import IMPORT_REPLICA, Op, canonical, decode, new_replica_id

FIELDS = {
    "item": ("status", "reason", "owner", "due", "note"),
    "deliverable": ("status", "reason", "owner", "path"),
}
REASONED = ("blocked", "not_applicable")  # the statuses that carry a reason
DEFAULT_STATUS = {"item": "todo", "deliverable": "missing"}
STATE_TABLE = {"item": "items", "deliverable": "deliverables"}
_WITH_OP = {"activity", "gate_requests", "gate_decisions", "gate_reviews", "waivers"}
# every table the fold writes, children before parents for deletion
VIEW_TABLES = (
    "validation_results",
    "validation_runs",
    "items",
    "deliverables",
    "activity",
    "gate_decisions",
    "gate_reviews",
    "gate_requests",
    "waivers",
    "sessions",
    "standups",
    "conflicts",
    "profiles",
)
# (table, column naming who, column naming when) of a tracker made before the op log
_IMPORTED = (
    ("items", "updated_by", "updated_at"),
    ("deliverables", "updated_by", "updated_at"),
    ("activity", "actor", "at"),
    ("gate_requests", "actor", "at"),
    ("gate_decisions", "reviewer", "at"),
    ("gate_reviews", "actor", "at"),
    ("waivers", "requester", "requested_at"),
    ("sessions", "actor", "at"),
    ("standups", "actor", "at"),
    ("validation_runs", "actor", "started_at"),
    ("validation_results", None, None),
)
_EPOCH = "1970-01-01T00:00:00Z"
ACTIVITY_COLUMNS = ("id", "at", "actor", "action", "subject", "field", "before", "after", "op")


class Applied:
    """What applying one op added: the row it made (if any) and its activity rows. A plain
    class: a dataclass costs ~3 M instructions to define at start-up (bench/startup.py)."""

    __slots__ = ("events", "row_id")

    def __init__(self, row_id: int | None = None, events: list[tuple] | None = None) -> None:
        self.row_id = row_id
        self.events: list[tuple] = [] if events is None else events  # activity rows, as stored


class Fold:
    """Applies ops to the view; `finish()` writes what they changed."""

    def __init__(self, conn: sqlite3.Connection, *, empty: bool = False) -> None:
        self.conn, self.empty = conn, empty
        self.states: dict[tuple[str, str], dict] = {}
        self.touched: set[tuple[str, str]] = set()
        self.next_ids: dict[str, int] = {}
        self.rows: dict[str, list[dict]] = defaultdict(list)
        self.events: list[tuple] = []  # activity rows made by the ops (ACTIVITY_COLUMNS)
        self.by_op: dict[tuple[str, str], int] = {}
        self.batch_waivers: dict[str, dict] = {}  # op id -> row, waivers made in this batch
        self.approvals: list[tuple[str, str, str]] = []  # (approver, at, waiver op) of older rows
        self.standups: dict[tuple[str, str], dict] = {}
        self.open_conflicts: dict[tuple[str, str], list[dict]] = defaultdict(list)
        self.resolutions: dict[tuple[str, str], str] = {}  # (subject, field) -> settling op
        self.conflict_floor: int | None = None
        self.used: dict[str, set[int]] = defaultdict(set)

    # --- state look-ups (lazy: a local write touches one subject) ------------------------------

    def state(self, kind: str, subject: str) -> dict:
        """The subject's row, with `winners`: per field, [the op whose value it holds, whether
        a conflict on it is unsettled, that op's author]."""
        key = (kind, subject)
        if key not in self.states:
            row = None
            if not self.empty:
                columns = ("id", *FIELDS[kind], "updated_at", "updated_by", "winners")
                found = self.conn.execute(
                    f"SELECT {', '.join(columns)} FROM {STATE_TABLE[kind]} WHERE id = ?",
                    (subject,),
                ).fetchone()
                if found:
                    row = dict(zip(columns, found, strict=True))
                    row["winners"] = json.loads(row["winners"] or "{}")
            self.states[key] = row or {
                "id": subject,
                "status": DEFAULT_STATUS[kind],
                "winners": {},
            }
        return self.states[key]

    def field_winners(self, kind: str, subject: str) -> dict[str, str]:
        """Per field, the op whose value it holds (what a new write names as `prev`)."""
        return {name: won[0] for name, won in self.state(kind, subject)["winners"].items()}

    def _next(self, table: str, wanted: int | None = None) -> int:
        """The next row number of `table`; `wanted` when it is free (imported rows keep their
        numbers; a run that finishes keeps the number it had while running)."""
        if table not in self.next_ids:
            top = 0
            if not self.empty:
                top = self.conn.execute(f"SELECT coalesce(max(id), 0) FROM {table}").fetchone()[0]
            self.next_ids[table] = top + 1
        used = self.used[table]
        if wanted is not None and wanted not in used and self._free(table, wanted):
            self.next_ids[table] = max(self.next_ids[table], wanted + 1)
            used.add(wanted)
            return wanted
        number = self.next_ids[table]
        self.next_ids[table] = number + 1
        used.add(number)
        return number

    def _free(self, table: str, number: int) -> bool:
        if self.empty:
            return True
        return (
            self.conn.execute(f"SELECT 1 FROM {table} WHERE id = ?", (number,)).fetchone() is None
        )

    def _row_of(self, table: str, op_id: str | None) -> int | None:
        if op_id is None:
            return None
        found = self.by_op.get((table, op_id))
        if found is None and not self.empty:
            row = self.conn.execute(f"SELECT id FROM {table} WHERE op = ?", (op_id,)).fetchone()
            found = row[0] if row else None
        return found

    def _activity(
        self,
        op: Op,
        action: str,
        subject: str,
        name: str = "",
        before: str | None = None,
        after: str | None = None,
    ) -> tuple:
        row_id = self._next("activity")
        self.events.append((row_id, op.at, op.author, action, subject, name, before, after, op.id))
        return (row_id, op.at, op.author, action, subject, name, before, after)

    def _insert(self, table: str, row: dict, op: Op, wanted: int | None = None) -> int:
        row_id = self._next(table, wanted)
        row = {"id": row_id, **row, "op": op.id}
        self.rows[table].append(row)
        self.by_op[(table, op.id)] = row_id
        return row_id

    # --- applying -------------------------------------------------------------------------------

    def apply(self, op: Op, *, run_id: int | None = None) -> Applied:
        """Folds one op in. Ops of a kind this phasegate does not know (a newer teammate's) are
        kept in the log and skipped here."""
        handler = _HANDLERS.get(op.kind)
        return handler(self, op, run_id) if handler else Applied()

    def _set(self, op: Op, _run_id: int | None) -> Applied:
        # the hot path of a sync and a rebuild (one call per op): no call per field but the
        # conflict rule's rare branches
        kind = op.kind[:-4]  # "item.set" -> "item", "deliverable.set" -> "deliverable"
        subject = op.subject
        state = self.states.get((kind, subject)) or self.state(kind, subject)
        winners = state["winners"]
        names = FIELDS[kind]
        applied = Applied()
        events, next_ids = applied.events, self.next_ids
        for name, value, prev in op.payload.get("fields", []):
            if name not in names:
                continue
            current = state.get(name)
            winner, unsettled, winner_by = winners.get(name, (None, 0, None))
            if winner is not None and winner != prev:
                if current != value:  # written without seeing the value it replaces
                    self._conflict(op, f"{kind}:{subject}", name, value, current, winner, winner_by)
                    unsettled = 1
            elif unsettled:
                self._resolve(op, f"{kind}:{subject}", name)
                unsettled = 0
            winners[name] = [op.id, unsettled, op.author]
            if current != value:
                state[name] = value
                if "activity" in next_ids:  # self._next("activity"), inline
                    number = next_ids["activity"]
                    next_ids["activity"] = number + 1
                    self.used["activity"].add(number)
                else:
                    number = self._next("activity")
                row = (number, op.at, op.author, f"{kind}.{name}", subject, name, current, value)
                self.events.append((*row, op.id))
                events.append(row)
        if state.get("reason") is not None and state.get("status") not in REASONED:
            # a status that needs no reason keeps none, also when the reason and the status came
            # from two concurrent writers (the local workflow, project._reason_rule, says so too)
            state["reason"] = None
        if events:
            state["updated_at"], state["updated_by"] = op.at, op.author
        self.touched.add((kind, subject))
        return applied

    def _conflict(
        self, op: Op, key: str, name: str, value, current, winner: str, winner_by: str | None
    ) -> None:
        row = {
            "id": self._next("conflicts"),
            "at": op.at,
            "subject": key,
            "field": name,
            "kept": value,
            "kept_by": op.author,
            "kept_op": op.id,
            "lost": current,
            "lost_by": winner_by or "someone",
            "lost_op": winner,
            "resolved_by": None,
        }
        if self.conflict_floor is None:
            self.conflict_floor = row["id"]
        self.rows["conflicts"].append(row)
        self.open_conflicts[(key, name)].append(row)

    def _resolve(self, op: Op, key: str, name: str) -> None:
        """A write made after seeing the field's value settles the conflicts on it."""
        for row in self.open_conflicts.pop((key, name), []):
            row["resolved_by"] = op.id
        if not self.empty:
            self.resolutions[(key, name)] = op.id

    def _gate_request(self, op: Op, _run_id: int | None) -> Applied:
        p = op.payload
        row_id = self._insert(
            "gate_requests",
            {
                "phase": p["phase"],
                "at": op.at,
                "actor": op.author,
                "reviewers": json.dumps(p["reviewers"]),
            },
            op,
        )
        return Applied(row_id, [self._activity(op, p["action"], op.subject)])

    def _gate_decision(self, op: Op, _run_id: int | None) -> Applied:
        p = op.payload
        request = self._row_of("gate_requests", p["request"])
        if request is None:  # its request never arrived: nothing to attach the decision to
            return Applied()
        row_id = self._insert(
            "gate_decisions",
            {
                "request_id": request,
                "reviewer": op.author,
                "decision": p["decision"],
                "comment": p["comment"],
                "at": op.at,
            },
            op,
        )
        return Applied(row_id, [self._activity(op, p["action"], op.subject)])

    def _gate_review(self, op: Op, _run_id: int | None) -> Applied:
        p = op.payload
        row_id = self._insert(
            "gate_reviews",
            {
                "phase": p["phase"],
                "request_id": self._row_of("gate_requests", p.get("request")),
                "outcome": p["outcome"],
                "at": op.at,
                "actor": op.author,
                "git_commit": p.get("git_commit"),
                "git_dirty": p.get("git_dirty"),
                "record": p["record"],
                "corrects": self._row_of("gate_reviews", p.get("corrects")),
                "follows": p.get("follows"),
            },
            op,
        )
        return Applied(row_id, [self._activity(op, p["action"], op.subject)])

    def _waiver_request(self, op: Op, _run_id: int | None) -> Applied:
        p = op.payload
        row = {
            "target": p["target"],
            "reason": p["reason"],
            "requester": op.author,
            "requested_at": op.at,
            "expires": p["expires"],
            "approver": None,
            "approved_at": None,
        }
        row_id = self._insert("waivers", row, op)
        self.batch_waivers[op.id] = self.rows["waivers"][-1]
        return Applied(row_id, [self._activity(op, p["action"], op.subject)])

    def _waiver_approve(self, op: Op, _run_id: int | None) -> Applied:
        p = op.payload
        fresh = self.batch_waivers.get(p["waiver"])
        # an approval by the waiver's requester never counts (deliverables.gates refuses to
        # write one; a forged or replayed one received by sync is ignored on every clone alike)
        if fresh is not None:
            if fresh["approver"] is not None:  # a concurrent second approval: the first counts
                return Applied()
            if same_person(op.author, fresh["requester"]):
                return Applied()
            fresh["approver"], fresh["approved_at"] = op.author, op.at
        else:
            if self._row_of("waivers", p["waiver"]) is None:
                return Applied()
            found = self.conn.execute(
                "SELECT requester FROM waivers WHERE op = ?", (p["waiver"],)
            ).fetchone()
            if found is None or same_person(op.author, found[0]):
                return Applied()
            self.approvals.append((op.author, op.at, p["waiver"]))
        return Applied(None, [self._activity(op, p["action"], op.subject)])

    def _standup(self, op: Op, _run_id: int | None) -> Applied:
        p = op.payload
        self.standups[(op.author, p["day"])] = {
            "actor": op.author,
            "day": p["day"],
            "yesterday": p.get("yesterday", ""),
            "today": p.get("today", ""),
            "blockers": p.get("blockers", ""),
            "at": op.at,
        }
        return Applied(None, [self._activity(op, p["action"], op.subject)])

    def _session(self, op: Op, _run_id: int | None) -> Applied:
        self.rows["sessions"].append({"actor": op.author, "at": op.at})
        return Applied()

    def _run(self, op: Op, run_id: int | None) -> Applied:
        p = op.payload
        row_id = self._insert(
            "validation_runs",
            {
                "tier": p["tier"],
                "status": p["status"],
                "started_at": p["started_at"],
                "finished_at": p["finished_at"],
                "actor": op.author,
                "git_commit": p.get("git_commit"),
                "git_dirty": p.get("git_dirty"),
                "pipelines": p["pipelines"],
                "versions": p.get("versions"),
                "summary": p.get("summary"),
                "pid": None,
            },
            op,
            run_id,
        )
        for check in p.get("checks", []):
            self.rows["validation_results"].append(
                {"id": self._next("validation_results"), **check, "run_id": row_id}
            )
        subject = f"run:{row_id}"  # the number this clone gives it
        return Applied(row_id, [self._activity(op, p["action"], subject, "", None, p["status"])])

    def _profile(self, op: Op, _run_id: int | None) -> Applied:
        p = op.payload
        summary = p["profile"]
        row_id = self._insert(
            "profiles",
            {
                "name": summary["name"],
                "profiled_at": summary["profiled_at"],
                "at": op.at,
                "actor": op.author,
                "summary": canonical(summary),  # the same text however the op was read
            },
            op,
        )
        return Applied(row_id, [self._activity(op, p["action"], op.subject)])

    def _import(self, op: Op, _run_id: int | None) -> Applied:
        table, row = op.payload["table"], dict(op.payload["row"])
        kind = {"items": "item", "deliverables": "deliverable"}.get(table)
        if kind is not None:
            state = self.state(kind, row["id"])
            for name in (*FIELDS[kind], "updated_at", "updated_by"):
                if name in row:
                    state[name] = row[name]
                    if name in FIELDS[kind]:
                        state["winners"][name] = [op.id, 0, op.author]
            self.touched.add((kind, row["id"]))
            return Applied()
        if table == "standups":
            self.standups[(row["actor"], row["day"])] = row
            return Applied()
        if table == "sessions":
            self.rows["sessions"].append(row)
            return Applied()
        wanted = row.pop("id", None)
        row_id = self._next(table, wanted)
        if table in _WITH_OP or table == "validation_runs":
            row["op"] = op.id
            self.by_op[(table, op.id)] = row_id
        self.rows[table].append({"id": row_id, **row})
        return Applied(row_id)

    # --- writing --------------------------------------------------------------------------------

    def finish(self) -> None:
        """Writes every change of the batch: one statement per table and shape of row."""
        execute, many = self.conn.execute, self.conn.executemany
        dumps = json.dumps
        for kind, table in STATE_TABLE.items():
            columns = ("id", *FIELDS[kind], "updated_at", "updated_by")
            rows = [self.states[k] for k in self.touched if k[0] == kind]
            if rows:
                values = [
                    [*(row.get(c) for c in columns), dumps(row["winners"], separators=(",", ":"))]
                    for row in rows
                ]
                # an upsert changes the row in place (REPLACE would delete it, insert it anew
                # under another rowid and rewrite its index entry: three pages instead of one)
                updates = ", ".join(f"{c} = excluded.{c}" for c in (*columns[1:], "winners"))
                (execute if len(values) == 1 else many)(
                    f"INSERT INTO {table} ({', '.join(columns)}, winners) "
                    f"VALUES ({', '.join('?' * (len(columns) + 1))}) "
                    f"ON CONFLICT (id) DO UPDATE SET {updates}",
                    values[0] if len(values) == 1 else values,
                )
        if self.events:  # one event per changed field: thousands in a sync, as tuples
            many(
                f"INSERT INTO activity ({', '.join(ACTIVITY_COLUMNS)}) "
                f"VALUES ({', '.join('?' * len(ACTIVITY_COLUMNS))})",
                self.events,
            )
        for table, rows in self.rows.items():
            shapes: dict[tuple, list] = defaultdict(list)
            for row in rows:
                shapes[tuple(row)].append(tuple(row.values()))
            for columns, values in shapes.items():
                (execute if len(values) == 1 else many)(
                    f"INSERT INTO {table} ({', '.join(columns)}) "
                    f"VALUES ({', '.join('?' * len(columns))})",
                    values[0] if len(values) == 1 else values,
                )
        for approver, at, waiver_op in self.approvals:
            execute(
                "UPDATE waivers SET approver = ?, approved_at = ? WHERE op = ? AND approver IS NULL",
                (approver, at, waiver_op),
            )
        if self.standups:
            columns = ("actor", "day", "yesterday", "today", "blockers", "at")
            many(
                f"INSERT OR REPLACE INTO standups ({', '.join(columns)}) VALUES (?, ?, ?, ?, ?, ?)",
                [[row.get(c) for c in columns] for row in self.standups.values()],
            )
        floor = self.conflict_floor
        for (key, name), op_id in self.resolutions.items():
            execute(
                "UPDATE conflicts SET resolved_by = ? WHERE subject = ? AND field = ? AND "
                "resolved_by IS NULL AND id < ?",
                (op_id, key, name, floor if floor is not None else 1 << 62),
            )


_HANDLERS = {
    "item.set": Fold._set,
    "deliverable.set": Fold._set,
    "gate.request": Fold._gate_request,
    "gate.decision": Fold._gate_decision,
    "gate.review": Fold._gate_review,
    "waiver.request": Fold._waiver_request,
    "waiver.approve": Fold._waiver_approve,
    "standup": Fold._standup,
    "session": Fold._session,
    "run": Fold._run,
    "profile": Fold._profile,
    "import": Fold._import,
}


# --- the append-only records (issue 9 §4) -----------------------------------------------------


APPEND_ONLY = ("gate_requests", "gate_decisions", "gate_reviews", "waivers")


def append_only_triggers(conn: sqlite3.Connection) -> None:
    """The records of a gate cannot be rewritten in the view (issue 9 §4): no UPDATE, no DELETE,
    and no INSERT on an existing id, which is what `INSERT OR REPLACE`, `REPLACE` and
    `INSERT ... ON CONFLICT DO UPDATE` (an UPSERT) all start with (REPLACE would delete the old row
    without firing a DELETE trigger). A waiver gets one change, its approval, once."""
    execute = conn.execute
    for table in APPEND_ONLY:
        execute(
            f"CREATE TRIGGER IF NOT EXISTS {table}_no_rewrite BEFORE INSERT ON {table} "
            f"WHEN EXISTS (SELECT 1 FROM {table} WHERE id = NEW.id) "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: that id is taken'); END"
        )
        execute(
            f"CREATE TRIGGER IF NOT EXISTS {table}_no_delete BEFORE DELETE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
        )
        if table != "waivers":
            execute(
                f"CREATE TRIGGER IF NOT EXISTS {table}_no_update BEFORE UPDATE ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
            )
    execute(
        "CREATE TRIGGER IF NOT EXISTS waivers_approved_once BEFORE UPDATE ON waivers "
        "WHEN OLD.approver IS NOT NULL OR NEW.id IS NOT OLD.id OR NEW.target IS NOT OLD.target "
        "OR NEW.reason IS NOT OLD.reason OR NEW.requester IS NOT OLD.requester "
        "OR NEW.requested_at IS NOT OLD.requested_at OR NEW.expires IS NOT OLD.expires "
        "OR NEW.op IS NOT OLD.op "
        "BEGIN SELECT RAISE(ABORT, 'a waiver is approved once and never edited'); END"
    )


def drop_append_only_triggers(conn: sqlite3.Connection) -> None:
    """Only the view's rebuild (deliverables.view) drops them, inside its own transaction."""
    for (name,) in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN "
        f"({', '.join('?' * len(APPEND_ONLY))})",
        APPEND_ONLY,
    ).fetchall():
        conn.execute(f"DROP TRIGGER {name}")


# --- the log in SQLite ------------------------------------------------------------------------------


def op_row(op: Op) -> tuple:
    return (op.lamport, op.replica, op.id, op.author, op.at, op.kind, op.subject, op.line())


def store_ops(conn: sqlite3.Connection, ops: Iterable[Op], *, outbox: bool) -> None:
    """Adds ops to the log as their pack lines (the columns beside them are for queries), notes
    their arrival here, and with `outbox` puts them in the outbox (not in git yet). The one
    place that adds ops to a log."""
    # the tuple of op_row, built inline (a call per op is a tenth of storing 10,000 of them)
    rows = [
        (op.lamport, op.replica, op.id, op.author, op.at, op.kind, op.subject, op.raw or op.line())
        for op in ops
    ]
    conn.executemany(
        "INSERT INTO ops (lamport, replica, id, author, at, kind, subject, line) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    conn.executemany("INSERT INTO arrivals (id) VALUES (?)", [(row[2],) for row in rows])
    if outbox:
        conn.executemany(
            "INSERT INTO outbox (lamport, replica, id) VALUES (?, ?, ?)",
            [row[:3] for row in rows],
        )


def read_ops(conn: sqlite3.Connection, where: str = "", args: tuple = ()) -> list[Op]:
    """Ops of the log in the total order (optionally filtered). The stored lines are canonical
    (oplog.from_line keeps them so): the payload is cut out of the line and decoded alone, the
    rest comes from the columns beside it."""
    loads, stored = decode, Op.stored
    out = []
    sql = (
        "SELECT lamport, replica, id, author, at, kind, subject, line FROM ops "
        f"{where} ORDER BY lamport, replica, id"
    )
    for lamport, replica, op_id, author, at, kind, subject, line in conn.execute(sql, args):
        # keys sorted: ..."lamport":N,"payload":{...},"replica":"...","subject":"..."}; the
        # first `,"payload":` and the last `,"replica":"` are the top-level ones (an unescaped
        # quote cannot occur inside a string)
        start, end = line.find(',"payload":') + 11, line.rfind(',"replica":"')
        out.append(
            stored(lamport, replica, author, at, kind, subject, loads(line[start:end]), op_id, line)
        )
    return out


def known_keys(conn: sqlite3.Connection, keys: list[tuple]) -> list[tuple]:
    """Which of these (lamport, replica, id) keys the log holds (by its primary key)."""
    found = []
    for start in range(0, len(keys), 300):
        chunk = keys[start : start + 300]
        rows = ", ".join(["(?, ?, ?)"] * len(chunk))
        found += conn.execute(  # a join, so each key is a primary-key search (IN would scan)
            f"WITH k (l, r, i) AS (VALUES {rows}) SELECT ops.lamport, ops.replica, ops.id "
            "FROM k JOIN ops ON ops.lamport = k.l AND ops.replica = k.r AND ops.id = k.i",
            [value for key in chunk for value in key],
        ).fetchall()
    return [tuple(row) for row in found]


def mark_in_git(conn: sqlite3.Connection, keys: list[tuple]) -> None:
    """The ops of these (lamport, replica, id) keys are in git now: the outbox forgets them
    (those it holds). Inside the caller's write transaction."""
    if keys:
        conn.executemany("DELETE FROM outbox WHERE lamport = ? AND replica = ? AND id = ?", keys)


def last_key(conn: sqlite3.Connection) -> tuple | None:
    row = conn.execute(
        "SELECT lamport, replica, id FROM ops ORDER BY lamport DESC, replica DESC, id DESC LIMIT 1"
    ).fetchone()
    return tuple(row) if row else None


@contextmanager
def _no_gc_pauses() -> Iterator[None]:
    """Folding allocates a few small objects per op and frees none of them until the end: the
    cyclic collector would walk the growing heap again and again (it doubled a rebuild's time)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def rebuild(conn: sqlite3.Connection, *, keep_live: bool = True) -> int:
    """Folds the whole log into empty view tables (the caller holds the write transaction).
    Runs in progress on this clone (not in the log until they finish) are kept, numbered after
    the logged ones. Returns the number of ops folded."""
    live_columns = [r[1] for r in conn.execute("PRAGMA table_info(validation_runs)")]
    live = (
        conn.execute("SELECT * FROM validation_runs WHERE op IS NULL ORDER BY id").fetchall()
        if keep_live
        else []
    )
    check_columns = [r[1] for r in conn.execute("PRAGMA table_info(validation_results)")]
    live_checks = {
        run[0]: conn.execute(
            "SELECT * FROM validation_results WHERE run_id = ? ORDER BY id", (run[0],)
        ).fetchall()
        for run in live
    }
    drop_append_only_triggers(conn)
    # an earlier migration step (5) rebuilds before the tables of later steps exist
    present = {
        row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    }
    for table in VIEW_TABLES:
        if table in present:
            conn.execute(f"DELETE FROM {table}")
    fold = Fold(conn, empty=True)
    # finish() inside the pause too: its row tuples, allocated with 100,000 ops on the heap,
    # set off full collections that took longer than the inserts themselves
    with _no_gc_pauses():
        ops = read_ops(conn)
        for op in ops:
            fold.apply(op)
        for run in live:
            row = dict(zip(live_columns, run, strict=True))
            old_id = row.pop("id")
            new_id = fold._next("validation_runs")
            fold.rows["validation_runs"].append({"id": new_id, **row})
            for check in live_checks[old_id]:
                values = dict(zip(check_columns, check, strict=True))
                values.pop("id")
                fold.rows["validation_results"].append(
                    {"id": fold._next("validation_results"), **values, "run_id": new_id}
                )
        fold.finish()
    append_only_triggers(conn)
    return len(ops)


def integrate(conn: sqlite3.Connection, ops: list[Op]) -> tuple[list[Op], list[tuple]]:
    """Adds ops from git (already verified) to the log (as in git) and the view; returns those
    that were new and the keys of those the log held already (an outbox op may be among them).
    Incremental when the new ops all sort after the newest op applied, else a rebuild."""
    with _no_gc_pauses():  # every step allocates a few objects per op and frees none
        fresh: dict[tuple, Op] = {}
        for op in ops:
            fresh.setdefault((op.lamport, op.replica, op.id), op)  # op.key, without a call
        if not fresh:
            return [], []
        newest = last_key(conn)
        # the log holds no key above its newest: a batch that sorts after it (most syncs) is new
        # without a look-up
        if newest is None or min(fresh) > newest:
            known = []
        else:
            known = known_keys(conn, list(fresh))
            for key in known:
                fresh.pop(key, None)
        if not fresh:
            return [], known
        new = [fresh[key] for key in sorted(fresh)]
        store_ops(conn, new, outbox=False)
        if newest is None or new[0].key > newest:
            fold = Fold(conn)
            for op in new:
                fold.apply(op)
            fold.finish()
        else:
            rebuild(conn)
        return new, known


def import_existing(conn: sqlite3.Connection) -> int:
    """Turns a tracker made before the op log into `import` ops, one per row, authored and
    dated as the row says, then folds the view from them. The ops are the same on every clone
    that migrates the same file (the pseudo-replica `import`, the row's id as Lamport clock), so
    a tracker.db that was committed and then migrated on two clones does not count twice."""
    conn.execute(
        "INSERT OR IGNORE INTO meta (key, value) VALUES ('replica', ?)", (new_replica_id(),)
    )
    ops: list[Op] = []
    for table, who, when in _IMPORTED:
        columns = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
        for values in conn.execute(f"SELECT rowid, * FROM {table} ORDER BY rowid").fetchall():
            row = dict(zip(columns, values[1:], strict=True))
            row.pop("op", None)
            if table == "gate_reviews":
                row.pop("follows", None)
            lamport = 0 if table in ("items", "deliverables") else values[0]
            ops.append(
                Op.create(
                    lamport=lamport,
                    replica=IMPORT_REPLICA,
                    author=(row.get(who) if who else None) or "unknown",
                    at=(row.get(when) if when else None) or _EPOCH,
                    kind="import",
                    subject=f"{table}:{row.get('id', values[0])}",
                    payload={"table": table, "row": row},
                )
            )
    if not ops:
        return 0
    # the log as schema 5 made it (migration 5 runs this): the later steps move the ops with
    # `pushed = 0` into the outbox table and note their arrival
    conn.executemany(
        "INSERT INTO ops (lamport, replica, id, author, at, kind, subject, line, pushed) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0)",
        [op_row(op) for op in ops],
    )
    return rebuild(conn, keep_live=False)  # every run, running or not, is an import op now
