"""The PostgreSQL side of a publish: the versioned schema, its forward migrations, and the
merge of the collected rows (deliverables.publish.facts) in one transaction.

Each table's rows go to a temporary table with one COPY, then one INSERT … ON CONFLICT DO
UPDATE … WHERE the row IS DISTINCT FROM what is stored: an unchanged row is not written at all
(publishing twice changes nothing, not even a row version), and a whole table of a project is
one statement, never a round trip per row. A table sent whole also loses the project's rows
that are no longer there. Imported only when a publish runs: psycopg costs start-up time.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from deliverables.publish.dashboards import views
from deliverables.publish.dsn import PublishError, libpq_dsn, redact
from deliverables.publish.facts import TABLES, Facts, Mark

SQL_DIR = Path(__file__).with_name("sql")
# Forward-only: step N takes the schema from version N-1 to N and is never edited afterwards. A
# step that changes what a table holds also empties publish_state.digests (its rows are sent again).
MIGRATIONS = ("v1.sql",)
SCHEMA_VERSION = len(MIGRATIONS)
CONNECT_TIMEOUT = 10
_SCHEMA = re.compile(r"[a-z_][a-z0-9_]{0,62}\Z")
Listener = Callable[[str, float], None]  # a step, and the fraction of the publish done


def check_schema_name(schema: str) -> str:
    """`schema`, or a PublishError saying why it cannot be one: only names that need no quoting
    in a dashboard's SQL, and none of PostgreSQL's own (pg_*, information_schema)."""
    if not _SCHEMA.match(schema):
        lower = schema.lower()
        hint = (
            f" (PostgreSQL reads an unquoted {schema} as {lower})" if _SCHEMA.match(lower) else ""
        )
        raise PublishError(
            f"--schema {schema!r}: a schema name is a-z, 0-9 and _, starting with a letter or _ "
            f"(at most 63){hint}"
        )
    if schema.startswith("pg_") or schema == "information_schema":
        raise PublishError(
            f"--schema {schema}: that schema is PostgreSQL's own; publish into one of the team's "
            "(default: phasegate)"
        )
    return schema


def connect(dsn: str) -> psycopg.Connection:
    """A connection, or a PublishError of one line that names the target without its password."""
    try:
        return psycopg.connect(
            libpq_dsn(dsn),
            connect_timeout=CONNECT_TIMEOUT,
            application_name="phasegate publish",
        )
    except psycopg.Error as exc:
        raise PublishError(
            f"cannot connect to {redact(dsn, dsn)}: {first_line(exc, dsn)}"
        ) from None


# what libpq says when something other than PostgreSQL answers on the port (a web server, SSH)
_NOT_POSTGRES = (
    "invalid response to SSL negotiation",
    "SSL error",
    "server closed the connection unexpectedly",
    "expected authentication request",
    "unexpected message from server",
    "received invalid protocol negotiation",
)


def first_line(exc: BaseException, dsn: str) -> str:
    """The first line of a database error, redacted, with what to do about it when the error
    says: a missing privilege, or something other than PostgreSQL on the port."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    text = lines[0] if lines else type(exc).__name__
    text = text.removeprefix("connection failed: ").rstrip(":")
    if isinstance(exc, psycopg.errors.InsufficientPrivilege):
        text += (
            " (the user needs CREATE on the database, or a schema made for it with USAGE and "
            "CREATE on it, and to write the tables there)"
        )
    elif any(words in text for words in _NOT_POSTGRES):
        text += " (is it a PostgreSQL server on that host and port?)"
    return redact(text, dsn)


def prepare(conn: psycopg.Connection, schema: str, listener: Listener) -> int:
    """Inside the caller's transaction: the schema at this phasegate's version (created or
    migrated forward, its views made again), refusing one made by a newer phasegate. Returns
    the version it was at (0: new)."""
    # one round trip: the lock (publishes into one schema take turns), whether the schema is
    # there, this transaction's search path (a schema that does not exist yet is skipped), and
    # whether this server's SQL reads the name unquoted (not a reserved word such as `user`)
    _, found, _, plain = conn.execute(
        "SELECT pg_advisory_xact_lock(hashtext(%s)), "
        "to_regclass(format('%%I.schema_version', %s::text)), "
        "set_config('search_path', quote_ident(%s), true), quote_ident(%s) = %s",
        (f"phasegate publish {schema}", schema, schema, schema, schema),
    ).fetchone()
    if not plain:
        raise PublishError(
            f"--schema {schema}: a reserved word of PostgreSQL's SQL (every dashboard query would "
            "have to quote it): choose another name"
        )
    version = 0
    # statements of their own, after the lock: the one above read tables with the snapshot it
    # took before waiting for it, and would miss what the publish it waited for made
    if found is not None:
        version = _version(conn, schema)
    else:
        _check_empty(conn, schema)
    if version > SCHEMA_VERSION:
        raise PublishError(
            f"the schema {schema} was written by a newer phasegate (schema version {version}; "
            f"this one knows up to {SCHEMA_VERSION}): upgrade phasegate to publish there; "
            "nothing was changed"
        )
    if version < SCHEMA_VERSION:
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
        listener(f"migrating schema {schema} to version {SCHEMA_VERSION}", 0.05)
        for view in views():
            conn.execute(sql.SQL("DROP VIEW IF EXISTS {}").format(sql.Identifier(view.name)))
        for number in range(version + 1, SCHEMA_VERSION + 1):
            conn.execute((SQL_DIR / MIGRATIONS[number - 1]).read_text(encoding="utf-8"))
            conn.execute("DELETE FROM schema_version")
            conn.execute(
                "INSERT INTO schema_version (version, written_by) VALUES (%s, %s)",
                (number, "phasegate"),
            )
        for view in views():
            conn.execute(view.sql)
    return version


def _version(conn: psycopg.Connection, schema: str) -> int:
    """The version of a schema phasegate made; refuses one whose schema_version table is
    another tool's."""
    columns = {
        row[0]
        for row in conn.execute(
            "SELECT attname FROM pg_attribute WHERE attrelid = to_regclass('schema_version') "
            "AND attnum > 0 AND NOT attisdropped"
        )
    }
    if not {"version", "written_by"} <= columns:
        raise PublishError(
            f"the schema {schema} holds a schema_version table that phasegate did not make: "
            "publish into a schema of its own (--schema); nothing was changed"
        )
    return conn.execute("SELECT max(version) FROM schema_version").fetchone()[0] or 0


def _check_empty(conn: psycopg.Connection, schema: str) -> None:
    """A schema phasegate is to make its tables in holds none of another's: of the names it
    would create, only quality_results (the generated quality runners make it first) may be
    there already."""
    ours = set(TABLES) | {"schema_version", "publish_state"} | {v.name for v in views()}
    taken = [
        row[0]
        for row in conn.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relname = ANY(%s) ORDER BY 1",
            (schema, sorted(ours)),
        )
    ]
    if taken:
        raise PublishError(
            f"the schema {schema} already holds {', '.join(taken[:3])}"
            + (f" and {len(taken) - 3} more" if len(taken) > 3 else "")
            + " that phasegate did not make: publish into a schema of its own (--schema); "
            "nothing was changed"
        )


def published_mark(conn: psycopg.Connection, project: str) -> tuple[Mark | None, dict[str, str]]:
    """The high-water mark of the project's last publish, and its tables' digests."""
    row = conn.execute(
        "SELECT replica, arrival_seq, activity_max, activity_last_op, activity_count, digests "
        "FROM publish_state WHERE project = %s",
        (project,),
    ).fetchone()
    if row is None:
        return None, {}
    return Mark(*row[:5]), dict(row[5] or {})


def merge(
    conn: psycopg.Connection, facts: Facts, digests: dict[str, str], listener: Listener
) -> tuple[dict[str, int], dict[str, str]]:
    """Sends the tables of `facts` that differ from the last publish (a table sent whole whose
    digest is the one stored is skipped: its rows are there); returns the rows changed
    (inserted, updated or deleted) per table and the digests to store."""
    changed = dict.fromkeys(TABLES, 0)
    new_digests: dict[str, str] = {}
    sending: list[tuple[str, bool]] = []
    for name, table in TABLES.items():
        rows = facts.rows[name]
        whole = not table.growing or name in facts.whole
        if not table.growing:
            new_digests[name] = _digest(rows)
            if digests.get(name) == new_digests[name]:
                continue
        if rows or whole:
            sending.append((name, whole))
    staged = [name for name, _ in sending if facts.rows[name]]
    if staged:  # every temporary table in one round trip
        conn.execute(
            sql.SQL("; ").join(
                sql.SQL("CREATE TEMP TABLE {} (LIKE {}) ON COMMIT DROP").format(
                    sql.Identifier(f"stage_{name}"), sql.Identifier(name)
                )
                for name in staged
            )
        )
    for number, (name, whole) in enumerate(sending, start=1):
        rows = facts.rows[name]
        listener(f"sending {name} ({len(rows)} rows)", 0.2 + 0.75 * (number - 1) / len(sending))
        table = TABLES[name]
        changed[name] = _merge_table(
            conn, name, table.columns, table.key, rows, whole, facts.project
        )
    return changed, new_digests


def save_mark(
    conn: psycopg.Connection,
    project: str,
    mark: Mark,
    digests: dict[str, str],
    old: tuple[Mark | None, dict[str, str]],
) -> bool:
    """Records the high-water mark and the digests when they moved; returns whether they did."""
    if old == (mark, digests):
        return False
    conn.execute(
        "INSERT INTO publish_state (project, replica, arrival_seq, activity_max, "
        "activity_last_op, activity_count, digests, published_at) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, now()) "
        "ON CONFLICT (project) DO UPDATE SET replica = excluded.replica, "
        "arrival_seq = excluded.arrival_seq, activity_max = excluded.activity_max, "
        "activity_last_op = excluded.activity_last_op, activity_count = excluded.activity_count, "
        "digests = excluded.digests, published_at = excluded.published_at",
        (project, *mark, Jsonb(digests)),
    )
    return True


def _digest(rows: list[tuple[Any, ...]]) -> str:
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def _merge_table(
    conn: psycopg.Connection,
    name: str,
    columns: tuple[str, ...],
    key: tuple[str, ...],
    rows: list[tuple[Any, ...]],
    whole: bool,
    project: str,
) -> int:
    """One COPY into the staged table, then one statement: the upsert of the changed rows and,
    for a table sent whole, the deletion of the project's rows no longer there (they touch
    disjoint rows, so one statement holds both)."""
    table = sql.Identifier(name)
    if not rows:
        return conn.execute(
            sql.SQL("DELETE FROM {} WHERE project = %s").format(table), (project,)
        ).rowcount
    ident = sql.Identifier
    stage = ident(f"stage_{name}")
    cols = sql.SQL(", ").join(map(ident, columns))
    with (
        conn.cursor() as cursor,
        cursor.copy(sql.SQL("COPY {} ({}) FROM STDIN").format(stage, cols)) as copy,
    ):
        for row in rows:
            copy.write_row(row)
    rest = [c for c in columns if c not in key]
    upsert = sql.SQL(
        "INSERT INTO {table} AS t ({cols}) SELECT {cols} FROM {stage} "
        "ON CONFLICT ({key}) DO UPDATE SET {sets} WHERE ({old}) IS DISTINCT FROM ({new}) "
        "RETURNING 1"
    ).format(
        table=table,
        cols=cols,
        stage=stage,
        key=sql.SQL(", ").join(map(ident, key)),
        sets=sql.SQL(", ").join(
            sql.SQL("{} = excluded.{}").format(ident(c), ident(c)) for c in rest
        ),
        old=sql.SQL(", ").join(sql.SQL("t.{}").format(ident(c)) for c in rest),
        new=sql.SQL(", ").join(sql.SQL("excluded.{}").format(ident(c)) for c in rest),
    )
    if not whole:
        return conn.execute(
            sql.SQL("WITH up AS ({}) SELECT count(*) FROM up").format(upsert)
        ).fetchone()[0]
    gone = sql.SQL(
        "DELETE FROM {table} t WHERE t.project = %s AND NOT EXISTS "
        "(SELECT 1 FROM {stage} s WHERE {match}) RETURNING 1"
    ).format(
        table=table,
        stage=stage,
        match=sql.SQL(" AND ").join(sql.SQL("s.{} = t.{}").format(ident(c), ident(c)) for c in key),
    )
    statement = sql.SQL(
        "WITH up AS ({}), gone AS ({}) SELECT (SELECT count(*) FROM up) + (SELECT count(*) FROM gone)"
    ).format(upsert, gone)
    return conn.execute(statement, (project,)).fetchone()[0]
