"""`phasegate publish`: the tracker's delivery and data-quality facts in PostgreSQL, shaped for
Metabase (issue 16).

    outcome = publish(project, resolve_dsn(project.root, dsn), schema="phasegate")

One transaction per publish: the schema is created or migrated forward (a newer one is refused
before anything is written), the project's rows are merged (facts.py says which, database.py
how) and the high-water mark moves; a publish that fails leaves the database as it was and the
tracker untouched, so the next one sends everything still missing. Only after the commit does
the tracker note, locally (its `meta` table, never synced or committed), when and where the
project last published. The CLI and the TUI both call `publish`; psycopg is imported only then.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

from deliverables.publish.dsn import PublishError, Target, redact, resolve_dsn
from deliverables.store import format_time

if TYPE_CHECKING:
    from deliverables.project import Project

DEFAULT_SCHEMA = "phasegate"
META_KEY = "last_publish"

__all__ = [
    "DEFAULT_SCHEMA",
    "PublishError",
    "PublishOutcome",
    "Target",
    "last_published",
    "publish",
    "redact",
    "resolve_dsn",
]


class PublishOutcome(NamedTuple):
    project: str
    target: str  # the DSN without its password
    schema: str
    mode: str  # first | full | incremental
    migrated_from: int  # the schema version found (0: created now)
    sent: dict[str, int]  # rows sent per table
    changed: dict[str, int]  # rows inserted, updated or deleted per table
    at: str
    seconds: float

    @property
    def total_changed(self) -> int:
        return sum(self.changed.values())

    def line(self) -> str:
        what = (
            f"{self.total_changed} row(s) changed"
            if self.total_changed
            else "nothing changed (already published)"
        )
        return (
            f"published {self.project} to {self.target} (schema {self.schema}, {self.mode}): "
            f"{what} in {self.seconds:.2f} s"
        )

    def document(self) -> dict[str, Any]:
        """`phasegate publish --json`."""
        from deliverables.json_documents import document_header

        return {
            **document_header("publish"),
            "project": self.project,
            "target": self.target,
            "schema": self.schema,
            "mode": self.mode,
            "migrated_from": self.migrated_from,
            "at": self.at,
            "seconds": round(self.seconds, 3),
            "sent": self.sent,
            "changed": self.changed,
        }


def publish(
    project: Project,
    target: Target,
    schema: str = DEFAULT_SCHEMA,
    *,
    listener: Callable[[str, float], None] | None = None,
) -> PublishOutcome:
    """Publishes the project's facts, telling `listener` each step and the fraction done
    before it (0 to 1); raises PublishError (one line, no password) when the
    database is unreachable or refuses, or the schema is newer than this phasegate."""
    from deliverables.publish import database
    from deliverables.publish.facts import collect, project_key

    say = listener or (lambda text, done: None)
    start = time.perf_counter()
    database.check_schema_name(schema)
    dsn = target.dsn
    say(f"connecting to {target.shown}", 0.0)
    conn = database.connect(dsn)
    try:
        with conn.transaction():
            migrated_from = database.prepare(conn, schema, say)
            say("reading the tracker", 0.1)
            old = database.published_mark(conn, project_key(project))
            facts = collect(project, old[0])
            changed, digests = database.merge(conn, facts, old[1], say)
            database.save_mark(conn, facts.project, facts.mark, digests, old)
            say("committing", 0.95)
    except PublishError:
        raise
    except database.psycopg.Error as exc:
        raise PublishError(
            f"publishing to {target.shown} failed: {database.first_line(exc, dsn)}; "
            "nothing was changed there"
        ) from None
    finally:
        conn.close()
    mode = "first" if old[0] is None else ("full" if facts.whole else "incremental")
    outcome = PublishOutcome(
        project=facts.project,
        target=target.shown,
        schema=schema,
        mode=mode,
        migrated_from=migrated_from,
        sent={name: len(rows) for name, rows in facts.rows.items()},
        changed=changed,
        at=format_time(project.now()),
        seconds=time.perf_counter() - start,
    )
    project.tracker.set_meta(
        META_KEY,
        json.dumps(
            {
                "at": outcome.at,
                "target": outcome.target,
                "schema": schema,
                "mode": mode,
                "changed": outcome.total_changed,
            }
        ),
    )
    return outcome


def last_published(project: Project) -> dict[str, Any] | None:
    """When and where this clone last published the project (None: never)."""
    text = project.tracker.meta(META_KEY)
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
