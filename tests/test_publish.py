"""Issue 16: `phasegate publish` on the real PostgreSQL at 127.0.0.1:5432 (trust auth, user
postgres). One throwaway database per module (CREATE DATABASE with a unique name, dropped at
teardown); each test publishes into a schema of its own, so tests share the database's cost
but never its rows."""

from __future__ import annotations

import json
import os
import uuid
from datetime import date, timedelta
from pathlib import Path

import psycopg
import pytest

from cli.main import main
from deliverables import Project, TrackerError
from deliverables.demo import create_demo
from deliverables.metrics import metrics
from deliverables.publish import last_published, publish, resolve_dsn
from deliverables.publish.dashboards import DOCUMENT, render, views
from deliverables.publish.dsn import ENV, PublishError, redact, secrets
from deliverables.publish.facts import TABLES
from deliverables.store import CheckRecord
from tests.conftest import NOW, ROOT, fixed_clock
from tests.test_json_documents import valid

SERVER = "postgresql://postgres@127.0.0.1:5432/"


@pytest.fixture(scope="module")
def database():
    """A throwaway database for the module: its DSN."""
    name = f"phasegate_publish_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(SERVER + "postgres", autocommit=True, connect_timeout=10) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield SERVER + name
    with psycopg.connect(SERVER + "postgres", autocommit=True, connect_timeout=10) as admin:
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.fixture
def schema(request) -> str:
    return "t_" + uuid.uuid4().hex[:10]


def _with_runs(project: Project) -> Project:
    """Two finished validation runs with checks, recorded as the engine records them."""
    tracker = project.tracker
    run = tracker.start_run("static", ["pos_orders"], "0" * 40, False)
    tracker.add_checks(
        [
            CheckRecord(run, "pos_orders", "parse", "python parses", "passed", "", "{}", 0.2),
            CheckRecord(run, "pos_orders", "suite", "rules", "failed", "bad", '{"rows": 3}'),
        ]
    )
    tracker.finish_run(run, "failed", "1 failed")
    run = tracker.start_run("full", ["pos_orders", "web_events"], None, None)
    data = '{"rows": 200, "unexpected_count": 4, "unexpected_percent": 2.0, "severity": "warning"}'
    tracker.add_checks(
        [
            CheckRecord(run, "pos_orders", "quality", "store_id not null", "warning", "", data),
            CheckRecord(run, "pos_orders", "quality", "amount >= 0", "passed", "", "{}"),
            CheckRecord(run, "web_events", "quality", "unique ids", "failed", "dupes", "{}"),
        ]
    )
    tracker.finish_run(run, "failed", "1 failed")
    return project


@pytest.fixture
def demo_runs(tmp_path: Path):
    created = _with_runs(create_demo(tmp_path / "retail-events", clock=fixed_clock))
    yield created
    created.close()


def cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def rows(dsn: str, sql: str, args: tuple = ()) -> list[tuple]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(sql, args).fetchall()


def snapshot(dsn: str, schema: str) -> dict[str, dict[tuple, tuple]]:
    """Every row of every table, with its row version (xmin): a row rewritten with the same
    values shows up too."""
    found: dict[str, dict[tuple, tuple]] = {}
    with psycopg.connect(dsn) as conn:
        for name, table in TABLES.items():
            keys = ", ".join(table.key)
            result = conn.execute(
                f"SELECT {keys}, xmin::text, {', '.join(table.columns)} FROM {schema}.{name}"
            ).fetchall()
            found[name] = {row[: len(table.key)]: row[len(table.key) :] for row in result}
    return found


def changed_keys(before: dict, after: dict) -> dict[str, set[tuple]]:
    return {
        name: {
            k
            for k in before[name].keys() | after[name].keys()
            if before[name].get(k) != after[name].get(k)
        }
        for name in before
    }


# --- the views say what the tracker says ------------------------------------------------------


def test_publishing_the_demo_makes_the_schema_and_views_that_say_what_the_tracker_says(
    demo_runs, database, schema, capsys
):
    demo = demo_runs
    root = str(demo.root)
    code, out, err = cli(
        capsys, "-C", root, "publish", "--dsn", database, "--schema", schema, "--json"
    )
    assert code == 0, err
    document = json.loads(out)
    valid("publish", document)  # docs/schemas/publish.schema.json
    assert (document["document"], document["mode"], document["project"]) == (
        "publish",
        "first",
        "retail-events",
    )
    names = {
        r[0]
        for r in rows(
            database,
            "SELECT table_name FROM information_schema.views WHERE table_schema = %s",
            (schema,),
        )
    }
    assert names == {v.name for v in views()}
    assert rows(database, f"SELECT version FROM {schema}.schema_version") == [(1,)]

    _, out, _ = cli(capsys, "-C", root, "status", "--json")
    status = json.loads(out)
    _, out, _ = cli(capsys, "-C", root, "runs", "--json")
    runs = json.loads(out)["runs"]
    # the demo's records were made at NOW, but the CLI runs on the real clock: its today is the
    # published as_of, the same date `status` and `day` use when they run now
    ((today,),) = rows(database, f"SELECT as_of FROM {schema}.projects")
    opened = Project.open(root)  # on the clock the CLI runs on
    assert today in {opened.today(), opened.today() - timedelta(days=1)}  # (across midnight)
    opened.close()

    # phases: status and gate outcome as `status --json` says
    published = rows(
        database,
        f"SELECT phase, title, status, gate_outcome FROM {schema}.phases ORDER BY position",
    )
    assert published == [
        (p["id"], p["title"], p["status"], p["gate"]["outcome"]) for p in status["phases"]
    ]
    # what blocks each gate: the same lines, in the same order
    blockers = rows(
        database,
        f"SELECT phase, criterion || ': ' || blocker FROM {schema}.gate_blockers_now ORDER BY phase, position",
    )
    assert blockers == [(p["id"], b) for p in status["phases"] for b in p["gate"]["blockers"]]
    # items and deliverables, row by row
    items = {
        r[0]: r[1:] for r in rows(database, f"SELECT item, status, owner, due FROM {schema}.items")
    }
    expected_items = {
        i["id"]: (
            i["status"],
            i["owner"],
            None if i["due"] is None else __import__("datetime").date.fromisoformat(i["due"]),
        )
        for p in status["phases"]
        for s in p["sub_phases"]
        for i in s["items"]
    }
    assert items == expected_items
    delivs = {
        r[0]: r[1:]
        for r in rows(
            database, f"SELECT deliverable, status, owner, path FROM {schema}.deliverables"
        )
    }
    assert delivs == {
        d["id"]: (d["status"], d["owner"], d["path"])
        for p in status["phases"]
        for d in p["deliverables"]
    }
    # where is the project: the current phase as `phasegate status` prints it
    _, text, _ = cli(capsys, "-C", root, "status")
    (where,) = rows(
        database,
        f"SELECT project, current_phase, current_phase_status, phases_passed FROM {schema}.project_status",
    )
    assert f"current phase: {where[1]}." in text.splitlines()[0]
    by_id = {p["id"]: p for p in status["phases"]}
    assert where[2] == by_id[where[1]]["status"]
    assert where[3] == sum(1 for p in status["phases"] if p["status"] == "passed")
    # overdue work per person: open items due before today, from the same JSON
    overdue: dict[str, list[str]] = {}
    for p in status["phases"]:
        for s in p["sub_phases"]:
            for i in s["items"]:
                if (
                    i["due"]
                    and i["due"] < today.isoformat()
                    and i["status"] not in ("done", "not_applicable")
                ):
                    overdue.setdefault(i["owner"] or "(nobody)", []).append(i["id"])
    published_overdue = {
        r[0]: (r[1], r[2])
        for r in rows(database, f"SELECT owner, overdue_items, items FROM {schema}.overdue_work")
    }
    assert overdue  # the demo has overdue work
    assert published_overdue == {o: (len(ids), ", ".join(ids)) for o, ids in overdue.items()}
    # validation runs: as `runs --json`, with their checks as `runs show N --json`
    published_runs = rows(
        database,
        f"SELECT id, tier, status, finished_at, summary, checks, passed, failed FROM {schema}.validation_runs ORDER BY id DESC",
    )
    assert [(r[0], r[1], r[2], r[4]) for r in published_runs] == [
        (r["id"], r["tier"], r["status"], r["summary"]) for r in runs
    ]
    per_pipeline_day: dict[tuple, list[int]] = {}
    for run in runs:
        _, out, _ = cli(capsys, "-C", root, "runs", "show", str(run["id"]), "--json")
        checks = json.loads(out)["checks"]
        published_checks = rows(
            database,
            f"SELECT pipeline, step, check_name, outcome, detail FROM {schema}.validation_checks WHERE run_id = %s ORDER BY position",
            (run["id"],),
        )
        assert published_checks == [
            (c["pipeline"], c["step"], c["check"], c["outcome"], c["detail"]) for c in checks
        ]
        for c in checks:
            counts = per_pipeline_day.setdefault(
                (c["pipeline"], run["tier"], run["finished_at"][:10]), [0, 0]
            )
            counts[0] += 1
            counts[1] += c["outcome"] in ("passed", "warning", "skipped")
    rates = rows(
        database,
        f"SELECT pipeline, tier, day::text, checks, passed FROM {schema}.validation_pass_rate",
    )
    assert {(r[0], r[1], r[2]): [r[3], r[4]] for r in rates} == per_pipeline_day
    assert rows(
        database,
        f"SELECT unexpected_count, unexpected_percent, severity, element_count FROM {schema}.validation_checks WHERE check_name = 'store_id not null'",
    ) == [(4, 2.0, "warning", 200)]
    # burn-up, time to deployment, first-review pass rate: the metrics the Metrics screen shows
    found = metrics(Project.open(demo.root))  # on the clock the CLI published with
    burnup = rows(
        database, f"SELECT phase, day, closed FROM {schema}.phase_burnup ORDER BY phase, day"
    )
    assert burnup == [
        (p.phase_id, d, c) for p in found.phases for d, c in zip(p.days, p.burnup, strict=True)
    ]
    (deployment,) = rows(database, f"SELECT days, days_so_far FROM {schema}.time_to_deployment")
    assert deployment == (found.velocity_days, found.elapsed_days)
    _, out, _ = cli(capsys, "-C", root, "gate", "history", "--json")
    history = json.loads(out)["reviews"]
    first: dict[str, str] = {}
    for review in history:
        first.setdefault(review["phase"], review["outcome"])
    (rate,) = rows(
        database,
        f"SELECT phases_reviewed, passed_first, pass_rate::float FROM {schema}.gate_first_review",
    )
    passed_first = sum(1 for o in first.values() if o in ("passed", "passed_with_waivers"))
    assert rate == (len(first), passed_first, round(100 * passed_first / len(first), 1))
    assert found.first_time_pass_rate == passed_first / len(first)
    # the success metrics, one row per metric per day; today's say what the Metrics screen says
    daily = dict(
        rows(database, f"SELECT metric, value FROM {schema}.metrics_daily WHERE day = %s", (today,))
    )
    assert daily["validation_pass_rate"] == pytest.approx(found.validation_pass_rate)
    assert daily["first_time_pass_rate"] == pytest.approx(found.first_time_pass_rate)
    assert daily["days_since_phase_1"] == found.elapsed_days
    timeline = rows(
        database, f"SELECT phase, entered, passed FROM {schema}.phase_timeline ORDER BY position"
    )
    assert timeline == [(p.phase_id, p.entered, p.passed) for p in found.phases if p.entered]
    # the activity log, every event
    (count,) = rows(database, f"SELECT count(*) FROM {schema}.activity")[0]
    assert count == demo.tracker.activity_count()
    # this clone notes where and when it last published
    assert last_published(demo)["schema"] == schema
    # the status report's pictures are drawn from the same data as the views
    _, report, _ = cli(capsys, "-C", root, "export")
    gantt = report.split("```mermaid\ngantt\n", 1)[1].split("```", 1)[0]
    bars = [
        line.strip() for line in gantt.splitlines() if line.strip().startswith(tuple("1234567"))
    ]
    spans = rows(
        database,
        f"SELECT phase, title, passed, entered, until FROM {schema}.phase_timeline ORDER BY position",
    )
    assert bars == [
        f"{phase}. {title} :{'done' if passed else 'active'}, p{phase}, {entered}, {until + timedelta(days=1)}"
        for phase, title, passed, entered, until in spans
    ]
    charts = [c.split("```", 1)[0] for c in report.split("```mermaid\nxychart-beta\n")[1:]]
    series = {}
    for phase, closed in rows(
        database, f"SELECT phase, closed FROM {schema}.phase_burnup ORDER BY phase, day"
    ):
        series.setdefault(phase, []).append(closed)
    assert [
        (c.split('"Phase ', 1)[1].split(" ", 1)[0], c.split("line [", 1)[1].split("]", 1)[0])
        for c in charts
    ] == [(phase, ", ".join(map(str, values))) for phase, values in series.items()]


def test_publishing_twice_changes_nothing_and_new_events_change_exactly_their_rows(
    demo_runs, database, schema
):
    demo = demo_runs
    target = resolve_dsn(demo.root, database)
    first = publish(demo, target, schema)
    before = snapshot(database, schema)
    again = publish(demo, target, schema)
    assert again.total_changed == 0 and again.mode == "incremental"
    assert snapshot(database, schema) == before  # not one row rewritten (same xmin)

    newest = demo.tracker.activity(1)[0].id
    todo = [i.id for i in demo.model.phase("3").items if demo.item_state(i.id).status == "todo"][:3]
    assert len(todo) == 3
    for item in todo:
        demo.set_item(item, status="done")
    demo.set_item(todo[0], owner="Chen Li")
    events = [e for e in demo.tracker.activity(None) if e.id > newest]
    assert len(events) == 4
    later = publish(demo, target, schema)
    assert later.mode == "incremental" and later.sent["activity"] == 4
    diff = changed_keys(before, snapshot(database, schema))
    key = first.project
    assert diff["activity"] == {(key, e.id) for e in events}
    assert diff["items"] == {(key, i) for i in todo}
    for unchanged in (
        "deliverables",
        "gate_requests",
        "gate_decisions",
        "gate_reviews",
        "waivers",
        "validation_runs",
        "validation_checks",
        "profiles",
        "profile_columns",
    ):
        assert diff[unchanged] == set(), unchanged
    # what is derived from those items changes with them, and nothing else
    assert diff["projects"] == {(key,)}
    assert diff["phases"] == {(key, "3")}
    assert {k[:2] for k in diff["phase_days"]} == {(key, "3")}
    assert {k[1] for k in diff["metrics_daily"]} == {NOW.date()}
    assert {k[1] for k in diff["gate_blockers"]} <= {"3"}


def test_two_projects_share_a_schema_without_mixing(demo_runs, tmp_path, database, schema):
    other, _ = Project.init(tmp_path / "billing-platform", clock=fixed_clock)
    other.set_item("1.1.1", status="done")
    other.set_item("1.1.2", owner="Ana Ruiz", due=(NOW.date() - timedelta(days=3)).isoformat())
    target = resolve_dsn(demo_runs.root, database)
    publish(demo_runs, target, schema)
    before = snapshot(database, schema)
    publish(other, target, schema)
    after = snapshot(database, schema)
    for name, table in before.items():  # the demo's rows are as they were, to the row version
        assert {k: v for k, v in after[name].items() if k[0] == "retail-events"} == table, name
    assert rows(
        database, f"SELECT project, overdue_items FROM {schema}.overdue_work ORDER BY project"
    ) == [
        ("billing-platform", 1),
        *[
            ("retail-events", n)
            for (n,) in rows(
                database,
                f"SELECT overdue_items FROM {schema}.overdue_work WHERE project = 'retail-events'",
            )
        ],
    ]
    counts = dict(
        rows(database, f"SELECT project, count(*) FROM {schema}.activity GROUP BY project")
    )
    assert counts == {
        "retail-events": demo_runs.tracker.activity_count(),
        "billing-platform": other.tracker.activity_count(),
    }
    assert rows(
        database, f"SELECT project, current_phase FROM {schema}.project_status ORDER BY project"
    ) == [
        ("billing-platform", "1"),
        ("retail-events", demo_runs.current_phase().id),
    ]
    assert publish(other, target, schema).total_changed == 0
    other.close()


# --- the database down or refusing ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("dsn", "says"),
    [
        (
            "postgresql://postgres:Pa55-w0rd@127.0.0.1:1/{db}",
            "Connection refused",
        ),  # nothing listens
        ("postgresql://postgres:Pa55-w0rd@127.0.0.1:5432/no_such_db_{db}", "does not exist"),
        (
            "host=127.0.0.1 port=5432 user=nobody_{db} password='Pa55 w0rd' dbname={db}",
            'role "nobody_',
        ),
        ("postgresql://127.0.0.1:5432/{db}?user=nobody_x&password=Pa55%2Dw0rd", 'role "nobody_x"'),
    ],
)
def test_the_database_down_or_refusing_is_one_line_exit_1_and_the_next_publish_catches_up(
    demo, database, schema, capsys, dsn, says
):
    db = database.rsplit("/", 1)[1]
    ops, meta = demo.tracker.op_count(), demo.tracker.meta("last_publish")
    code, out, err = cli(
        capsys,
        "-C",
        str(demo.root),
        "publish",
        "-q",
        "--schema",
        schema,
        "--dsn",
        dsn.format(db=db),
    )
    assert code == 1 and out == ""
    assert len(err.strip().splitlines()) == 1 and says in err, err
    assert "Pa55" not in err and "w0rd" not in err
    # nothing local touched: no op, no record of a publish
    assert (demo.tracker.op_count(), demo.tracker.meta("last_publish")) == (ops, meta)
    demo.set_item("3.1.1", status="done")  # work goes on while the database is away
    code, out, err = cli(
        capsys, "-C", str(demo.root), "publish", "--json", "--schema", schema, "--dsn", database
    )
    assert code == 0, err
    assert json.loads(out)["mode"] == "first"
    assert rows(database, f"SELECT count(*) FROM {schema}.activity") == [
        (demo.tracker.activity_count(),)
    ]
    assert rows(database, f"SELECT status FROM {schema}.items WHERE item = '3.1.1'") == [("done",)]


def test_a_schema_of_a_newer_phasegate_is_refused_untouched(demo, database, schema):
    target = resolve_dsn(demo.root, database)
    publish(demo, target, schema)
    with psycopg.connect(database) as conn:
        conn.execute(f"UPDATE {schema}.schema_version SET version = 99")
    before = snapshot(database, schema)
    demo.set_item("3.1.1", status="done")
    with pytest.raises(PublishError) as refused:
        publish(demo, target, schema)
    assert str(refused.value) == (
        f"the schema {schema} was written by a newer phasegate (schema version 99; this one knows "
        "up to 1): upgrade phasegate to publish there; nothing was changed"
    )
    assert snapshot(database, schema) == before


def test_a_bad_schema_name_and_a_missing_dsn_are_one_clear_line(demo, capsys, monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    code, _, err = cli(capsys, "-C", str(demo.root), "publish")
    assert code == 1 and err.strip() == (
        "phasegate: no database to publish to: give --dsn, set PHASEGATE_PUBLISH_DSN, or "
        "tech_stack.serving.publish_dsn in agent-prompts/context.yaml"
    )
    code, _, err = cli(
        capsys, "-C", str(demo.root), "publish", "--dsn", SERVER + "x", "--schema", "Robert'); DROP"
    )
    assert code == 1 and "a schema name is a-z, 0-9 and _" in err


# --- the DSN: where it comes from, and its password never shows ------------------------------------


def test_the_dsn_comes_from_the_option_then_the_variable_then_context_yaml(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    (tmp_path / "agent-prompts").mkdir()
    (tmp_path / "agent-prompts" / "context.yaml").write_text(
        "project: retail\ntech_stack:\n  serving:\n    tool: Metabase\n    publish_dsn: postgresql://ctx@db/dash\n"
    )
    assert resolve_dsn(tmp_path).source == "agent-prompts/context.yaml"
    monkeypatch.setenv(ENV, "postgresql://env@db/dash")
    assert resolve_dsn(tmp_path) == ("postgresql://env@db/dash", ENV)
    assert resolve_dsn(tmp_path, "postgresql://opt@db/dash") == (
        "postgresql://opt@db/dash",
        "--dsn",
    )
    (tmp_path / "agent-prompts" / "context.yaml").write_text(
        "tech_stack: {serving: {publish_dsn: 3}}\n"
    )
    monkeypatch.delenv(ENV)
    with pytest.raises(TrackerError, match="publish_dsn must be a PostgreSQL DSN"):
        resolve_dsn(tmp_path)


SECRET = "Sup3r+S3cr@t/pw"


@pytest.mark.parametrize(
    ("dsn", "spellings"),
    [
        ("postgresql://ana:hunter22@db.example.com:5432/dash", ["hunter22"]),
        ("postgres://ana:hunter22@db/dash?sslmode=require", ["hunter22"]),
        ("postgresql+psycopg://ana:hunter22@db/dash", ["hunter22"]),
        ("postgresql://ana:Sup3r%2BS3cr%40t%2Fpw@db/dash", ["Sup3r%2BS3cr%40t%2Fpw", SECRET]),
        (
            "postgresql://db/dash?user=ana&password=Sup3r%2BS3cr%40t%2Fpw",
            ["Sup3r%2BS3cr%40t%2Fpw", SECRET],
        ),
        ("postgresql://db/dash?sslmode=require&password=hunter22&user=ana", ["hunter22"]),
        ("postgresql://ana@db/dash?sslpassword=keypass99", ["keypass99"]),
        ("postgresql://ana:hunter22@h1:5432,h2:5433/dash", ["hunter22"]),
        ("postgresql://ana:hunter22@db?connect_timeout=3", ["hunter22"]),
        ("host=db user=ana password=hunter22 dbname=dash", ["hunter22"]),
        ("host=db user=ana password = hunter22 dbname=dash", ["hunter22"]),
        ("host=db user=ana password='hunter 22' dbname=dash", ["hunter 22"]),
        (r"host=db password='it\'s a secret' dbname=dash", ["it's a secret", r"it\'s a secret"]),
        ("dbname=dash PASSWORD=hunter22", ["hunter22"]),
        # libpq takes double quotes literally; the keys it refuses are shown as written
        ('host=db password="hunter22" dbname=dash', ['"hunter22"', "hunter22"]),
        ("host=db passwd=hunter22 dbname=dash", ["hunter22"]),
        ("host=db pass\\word=hunter22 dbname=dash", ["hunter22"]),
        ("POSTGRESQL://ana:hunter22@db/dash", ["hunter22"]),
        ("postgresql://ana:hunter22@db/dash?password=hunter33", ["hunter22", "hunter33"]),
    ],
)
def test_a_password_never_shows_in_any_spelling_of_the_dsn(dsn, spellings):
    found = secrets(dsn)
    for spelling in spellings:
        assert spelling in found
        # an error message that quotes the DSN, or the password alone, or decoded
        message = f"cannot connect to {dsn}: auth failed for {spelling!s} ({spelling})"
        shown = redact(message, dsn)
        assert spelling not in shown
        assert "***" in shown
    assert not any(s in redact(dsn, dsn) for s in spellings)


@pytest.mark.parametrize(
    "dsn",
    [
        "postgresql://ana@db/dash",
        "host=db user=ana dbname=dash",
        "postgresql://db:5432/dash?sslmode=require",
        # where libpq finds the password is no password
        "postgresql://ana@db/dash?passfile=/home/ana/.pgpass",
        "host=db user=ana passfile=/home/ana/.pgpass dbname=dash",
        "host=db user=ana PASSFILE = /home/ana/.pgpass dbname=dash",
    ],
)
def test_a_dsn_without_a_password_is_shown_as_it_is(dsn, monkeypatch):
    monkeypatch.delenv("PGPASSWORD", raising=False)
    assert secrets(dsn) == ()
    assert redact(dsn, dsn) == dsn


def test_a_password_never_reaches_output_or_the_stored_record(
    demo, database, schema, capsys, monkeypatch
):
    password = "N0t-Needed-" + uuid.uuid4().hex[:6]  # trust auth ignores it; it must not show
    dsn = database.replace("postgres@", f"postgres:{password}@")
    monkeypatch.setenv(ENV, dsn)
    code, out, err = cli(capsys, "-C", str(demo.root), "publish", "--schema", schema)
    assert code == 0, err
    assert password not in out + err and "postgres:***@" in out
    code, out, err = cli(capsys, "-C", str(demo.root), "publish", "--json", "--schema", schema)
    assert password not in out + err
    assert password not in json.dumps(last_published(demo))
    assert password not in (demo.root / ".phasegate" / "tracker.db").read_bytes().decode("latin-1")
    stored = rows(database, f"SELECT * FROM {schema}.publish_state")
    assert password not in repr(stored)


# --- the generated dashboard guide ---------------------------------------------------------


def test_the_committed_metabase_guide_is_the_generated_one():
    assert (ROOT / DOCUMENT).read_text(encoding="utf-8") == render()
    assert len(views()) == 8


def test_the_cli_starts_without_psycopg():
    import subprocess
    import sys

    code = "import sys, cli.main; print('psycopg' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.strip() == "False", result.stderr


# --- the Metrics screen ---------------------------------------------------------------------


async def test_the_metrics_screen_publishes_in_a_worker_and_says_when_it_last_did(
    demo, database, monkeypatch
):
    from tui.app import PhasegateApp

    monkeypatch.setenv(ENV, "postgresql://postgres:Pa55-w0rd@127.0.0.1:1/x")  # nothing listens
    app = PhasegateApp(demo)
    async with app.run_test(size=(150, 42)) as pilot:
        await pilot.press("M")
        await pilot.pause()
        status = app.screen.query_one("#metric-publish")
        assert str(status.render()).startswith("Not published yet: u publishes")
        await pilot.press("u")
        await app.workers.wait_for_complete()
        await pilot.pause()
        shown = str(status.render())
        assert shown.startswith("Not published: cannot connect to postgresql://postgres:***@")
        assert "Pa55" not in shown and demo.tracker.meta("last_publish") is None
        monkeypatch.setenv(ENV, database)
        await pilot.press("u")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert str(status.render()) == (
            f"Last published 2026-11-27 09:30 to {database} (schema phasegate): u publishes again"
        )
        assert not app.screen.query_one("#metric-publish-bar").display
        assert rows(database, "SELECT count(*) FROM phasegate.activity") == [
            (demo.tracker.activity_count(),)
        ]


def test_a_teammates_older_op_renumbers_the_log_and_the_next_publish_sends_it_whole(
    demo, database, schema
):
    """A sync that folds in an op sorting before ours renumbers the activity rows: the high-water
    mark sees it, the publish is full, and the published log is the tracker's again, row by row."""
    from deliverables.oplog import Op

    target = resolve_dsn(demo.root, database)
    publish(demo, target, schema)
    older = Op.create(
        lamport=2,  # early in the total order: everything after it moves up one number
        replica="0" * 32,
        author="Ben Okafor <ben.okafor@example.com>",
        at="2026-11-13T10:00:00Z",
        kind="item.set",
        subject="1.1.1",
        payload={"fields": [["note", "from Ben's clone", None]]},
    )
    demo.tracker.integrate([older], {}, in_git=False)
    outcome = publish(demo, target, schema)
    assert outcome.mode == "full" and outcome.changed["activity"] > 1
    published = rows(
        database,
        f"SELECT id, at, actor, action, subject, field, before, after FROM {schema}.activity "
        "ORDER BY id",
    )
    local = sorted(tuple(e) for e in demo.tracker.activity(None))
    assert [(r[0], r[1].strftime("%Y-%m-%dT%H:%M:%SZ"), *r[2:]) for r in published] == local
    assert publish(demo, target, schema).total_changed == 0


def test_stored_profiles_are_published_with_their_columns(demo, database, schema):
    """`.phasegate/profiles/<name>.json` as `phasegate profile` stores it (its fields here are
    the profiler's, pipelines.profiling.run.assemble); a broken file is skipped."""
    folder = demo.root / ".phasegate" / "profiles"
    folder.mkdir(parents=True)
    profile = {
        "version": 1,
        "name": "pos_orders",
        "profiled_at": "2026-11-27T09:00:00+00:00",
        "source": {"location": "landing/pos_orders.csv", "format": "csv", "files": 1},
        "rows": 1000,
        "rows_profiled": 1000,
        "basis": "all rows",
        "duplicate_rows": 3,
        "columns": [
            {
                "name": "order_id",
                "type": "integer",
                "nulls": 0,
                "distinct": 997,
                "sensitive": False,
            },
            {"name": "email", "type": "string", "nulls": 12, "distinct": 640, "sensitive": True},
        ],
    }
    (folder / "pos_orders.json").write_text(json.dumps(profile))
    (folder / "broken.json").write_text("{not json")
    publish(demo, resolve_dsn(demo.root, database), schema)
    assert rows(
        database,
        f"SELECT name, source, rows_profiled, duplicate_rows, basis, columns FROM {schema}.profiles",
    ) == [("pos_orders", "landing/pos_orders.csv", 1000, 3, "all rows", 2)]
    assert rows(
        database,
        f"SELECT column_name, type, nulls, distinct_count, sensitive FROM {schema}.profile_columns ORDER BY position",
    ) == [
        ("order_id", "integer", 0, 997, False),
        ("email", "string", 12, 640, True),
    ]
    (folder / "pos_orders.json").unlink()  # a profile removed: its rows go
    publish(demo, resolve_dsn(demo.root, database), schema)
    assert rows(database, f"SELECT count(*) FROM {schema}.profile_columns") == [(0,)]


# --- hostile input: every refusal is one line, exit 1, no traceback, no password ------------------

PASSWORD = "Pa55-w0rd"


@pytest.fixture(scope="module")
def bystander(tmp_path_factory):
    """A project the refused publishes must leave as it was (shared: none of them may write)."""
    created, _ = Project.init(tmp_path_factory.mktemp("bystander") / "bystander", clock=fixed_clock)
    created.set_item("1.1.1", status="done")
    yield created
    created.close()


@pytest.fixture(scope="module")
def not_postgres():
    """A real TCP server that answers as a web server does (a DSN with the wrong port): its port."""
    import socket
    import threading

    server = socket.create_server(("127.0.0.1", 0))

    def answer() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with conn:
                conn.recv(1024)
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")

    threading.Thread(target=answer, daemon=True).start()
    yield server.getsockname()[1]
    server.close()


def refused(capsys, project: Project, *args: str) -> str:
    """Runs a publish that must be refused: exit 1, one line on stderr, nothing on stdout,
    nothing stored locally changed. Returns the line."""
    ops, meta = project.tracker.op_count(), project.tracker.meta("last_publish")
    code, out, err = cli(capsys, "-C", str(project.root), "publish", "-q", *args)
    assert (code, out) == (1, ""), err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("phasegate: "), err
    assert "Traceback" not in err
    assert (project.tracker.op_count(), project.tracker.meta("last_publish")) == (ops, meta)
    return lines[0]


@pytest.mark.parametrize(
    ("dsn", "says"),
    [
        ("", "--dsn is empty"),
        ("   ", "--dsn is empty"),
        # libpq reads up to the NUL: the rest (another database) would be published to
        ("postgresql://postgres:Pa55-w0rd@127.0.0.1:5432/{db}\x00x", "U+0000"),
        ("postgresql://postgres:Pa55-w0rd@127.0.0.1/{db}\x1b[2J", "U+001B (ESCAPE)"),
        ("host=127.0.0.1 password=Pa55-w0rd\ndbname={db}", "U+000A"),
        ("mysql://root:Pa55-w0rd@127.0.0.1/{db}", "is a mysql:// URL"),
        ("https://user:Pa55-w0rd@metabase.example.com/", "is a https:// URL"),
        ("not a dsn", 'missing "=" after "not"'),
        ("postgresql://postgres:Pa55-w0rd@127.0.0.1:99999/{db}", 'invalid port number: "99999"'),
        ("postgresql://postgres:Pa55-w0rd@127.0.0.1:abc/{db}", 'invalid integer value "abc"'),
        ("postgresql://postgres:Pa55-w0rd@[::1/{db}", 'matching "]" in IPv6 host address'),
        ("postgresql://postgres:Pa55%zzw0rd@127.0.0.1/{db}", "invalid percent-encoded token"),
        ("postgresql://postgres:Pa55 w0rd@127.0.0.1/{db}", "unexpected spaces found"),
        (
            "postgresql://127.0.0.1/{db}?password=Pa55-w0rd&bogus=1",
            'invalid URI query parameter: "bogus"',
        ),
        ("host=127.0.0.1 password='Pa55 w0rd dbname={db}", "unterminated quoted string"),
        ("host=127.0.0.1 passwd=Pa55-w0rd dbname={db}", 'invalid connection option "passwd"'),
        ('host=127.0.0.1 port=1 password="Pa55-w0rd" dbname={db}', "Connection refused"),
        ("host=127.0.0.1 sslmode=bogus password=Pa55-w0rd dbname={db}", "invalid sslmode value"),
        ("postgresql://postgres:Pa55-w0rd@no-such-host.invalid/{db}", "failed to resolve host"),
        # something other than PostgreSQL on the port
        ("postgresql://postgres:Pa55-w0rd@127.0.0.1:{other}/{db}", "is it a PostgreSQL server"),
        ("POSTGRESQL://nobody_x:Pa55-w0rd@127.0.0.1:5432/{db}", 'role "nobody_x" does not exist'),
    ],
)
def test_a_dsn_that_cannot_be_used_is_one_line_without_its_password(
    bystander, database, not_postgres, capsys, monkeypatch, dsn, says
):
    monkeypatch.delenv("PGPASSWORD", raising=False)
    db = database.rsplit("/", 1)[1]
    line = refused(capsys, bystander, "--dsn", dsn.format(db=db, other=not_postgres))
    assert says in line, line
    assert "Pa55" not in line and "w0rd" not in line, line


def test_a_dsn_from_the_variable_or_context_yaml_is_checked_the_same_way(
    bystander, capsys, monkeypatch
):
    monkeypatch.setenv(ENV, "mysql://root:Pa55-w0rd@db/x")
    assert refused(capsys, bystander) == (
        "phasegate: PHASEGATE_PUBLISH_DSN is a mysql:// URL: phasegate publishes to PostgreSQL "
        "(postgresql://user@host:5432/db, or key=value pairs)"
    )
    monkeypatch.delenv(ENV)
    context = bystander.root / "agent-prompts" / "context.yaml"
    context.parent.mkdir(exist_ok=True)
    dsn = 'tech_stack:\n  serving:\n    publish_dsn: "{}"\n'
    try:
        context.write_text(dsn.format("postgresql://a@db/x\\x07"))
        line = refused(capsys, bystander)
        assert "tech_stack.serving.publish_dsn holds the control character U+0007 (BEL)" in line
        # a committed file holding a password: refused, whatever its spelling
        for written in (
            "postgresql://a:Pa55-w0rd@db/x",
            "postgresql://a@db/x?password=Pa55-w0rd",
            "host=db user=a password='Pa55 w0rd'",
        ):
            context.write_text(dsn.format(written))
            line = refused(capsys, bystander)
            assert line == (
                f"phasegate: {context}: tech_stack.serving.publish_dsn holds a password, and the "
                "file is committed: remove it and keep it in ~/.pgpass or PGPASSWORD (or give "
                "the whole DSN in PHASEGATE_PUBLISH_DSN)"
            )
    finally:
        context.unlink()


@pytest.mark.parametrize(
    ("schema", "says"),
    [
        ("Dashboards", "(PostgreSQL reads an unquoted Dashboards as dashboards)"),
        ("PHASEGATE", "a schema name is a-z, 0-9 and _"),
        ("my schema", "a schema name is a-z, 0-9 and _"),
        ('x"; DROP SCHEMA public CASCADE; --', "a schema name is a-z, 0-9 and _"),
        ("Robert'); DROP TABLE items;--", "a schema name is a-z, 0-9 and _"),
        ("1st", "starting with a letter or _"),
        ("a" * 64, "(at most 63)"),
        ("", "a schema name is a-z"),
        ("ph\x1bgate", "a schema name is a-z"),
        ("phäsegate", "a schema name is a-z"),
        ("information_schema", "that schema is PostgreSQL's own"),
        ("pg_catalog", "that schema is PostgreSQL's own"),
        ("pg_temp", "that schema is PostgreSQL's own"),
        ("pg_toast", "that schema is PostgreSQL's own"),
        # the server's own SQL says which words need quoting
        ("select", "a reserved word of PostgreSQL's SQL"),
        ("user", "a reserved word of PostgreSQL's SQL"),
        ("left", "a reserved word of PostgreSQL's SQL"),
    ],
)
def test_a_schema_name_that_cannot_be_one_is_refused_before_anything_is_written(
    bystander, database, capsys, schema, says
):
    namespaces = "SELECT nspname, nspowner FROM pg_namespace ORDER BY 1"
    before = rows(database, namespaces)
    line = refused(capsys, bystander, "--dsn", database, "--schema", schema)
    assert says in line and "\x1b" not in line, line
    assert rows(database, namespaces) == before


@pytest.mark.parametrize(
    ("tables", "says"),
    [
        (
            "CREATE TABLE {s}.schema_version (id int, applied_on date)",
            "holds a schema_version table that phasegate did not make",
        ),
        (
            "CREATE TABLE {s}.items (sku text); CREATE TABLE {s}.activity (x int); "
            "CREATE VIEW {s}.overdue_work AS SELECT 1 AS x; CREATE TABLE {s}.phases (p int)",
            "already holds activity, items, overdue_work and 1 more that phasegate did not make",
        ),
    ],
)
def test_a_schema_holding_another_tools_tables_is_refused_untouched(
    bystander, database, schema, capsys, tables, says
):
    with psycopg.connect(database) as conn:
        conn.execute(f"CREATE SCHEMA {schema}; " + tables.format(s=schema))
    before = rows(
        database,
        "SELECT relname, relkind FROM pg_class WHERE relnamespace = %s::regnamespace ORDER BY 1",
        (schema,),
    )
    line = refused(capsys, bystander, "--dsn", database, "--schema", schema)
    assert line == (
        f"phasegate: the schema {schema} {says}: publish into a schema of its own (--schema); "
        "nothing was changed"
    )
    assert (
        rows(
            database,
            "SELECT relname, relkind FROM pg_class WHERE relnamespace = %s::regnamespace ORDER BY 1",
            (schema,),
        )
        == before
    )


def test_a_user_without_create_is_told_what_it_needs(bystander, database, schema, capsys):
    """A role that may connect but not create a schema, nor write one made by another."""
    role = "t_reader_" + uuid.uuid4().hex[:8]
    db = database.rsplit("/", 1)[1]
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute(f'CREATE ROLE "{role}" LOGIN')
    try:
        dsn = f"postgresql://{role}:{PASSWORD}@127.0.0.1:5432/{db}"
        with psycopg.connect(database, autocommit=True) as conn:
            conn.execute(f'REVOKE CREATE ON DATABASE "{db}" FROM PUBLIC')
        line = refused(capsys, bystander, "--dsn", dsn, "--schema", schema)
        assert f"failed: permission denied for database {db} (the user needs CREATE" in line
        assert line.endswith("; nothing was changed there") and "Pa55" not in line
        assert rows(
            database, "SELECT count(*) FROM pg_namespace WHERE nspname = %s", (schema,)
        ) == [(0,)]
        # a schema made by another, which the role may read but not write
        publish(bystander, resolve_dsn(bystander.root, database), schema)
        bystander.set_item("1.1.2", status="done")
        with psycopg.connect(database, autocommit=True) as conn:
            conn.execute(f'GRANT USAGE ON SCHEMA {schema} TO "{role}"')
            conn.execute(f'GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO "{role}"')
        line = refused(capsys, bystander, "--dsn", dsn, "--schema", schema)
        assert "permission denied for table" in line and "(the user needs CREATE" in line
    finally:
        with psycopg.connect(database, autocommit=True) as conn:
            conn.execute(f'DROP OWNED BY "{role}"')
            conn.execute(f'DROP ROLE "{role}"')


def test_concurrent_publishes_of_two_projects_into_a_new_schema_take_turns(
    demo_runs, tmp_path, database, schema
):
    """The first publish holds the schema's lock (inside its transaction) until the second is
    seen waiting for it in pg_stat_activity; the second then finds the schema made (version 1)
    and both projects land whole, side by side."""
    import threading
    import time

    other, _ = Project.init(tmp_path / "billing-platform", clock=fixed_clock)
    other.set_item("1.1.1", status="done")
    other.close()
    target = resolve_dsn(demo_runs.root, database)
    outcomes: list = []

    def publish_the_other() -> None:
        project = Project.open(tmp_path / "billing-platform", clock=fixed_clock)
        try:
            outcomes.append(publish(project, target, schema))
        except Exception as exc:  # asserted on below
            outcomes.append(exc)
        finally:
            project.close()

    second = threading.Thread(target=publish_the_other)

    def hold_the_lock(text: str, done: float) -> None:
        if text != "reading the tracker":  # from here on the first holds the schema's lock
            return
        second.start()
        deadline = time.monotonic() + 30
        while rows(
            database,
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND wait_event = 'advisory'",
        ) != [(1,)]:
            assert time.monotonic() < deadline, "the second publish never waited for the lock"
            time.sleep(0.02)

    try:
        first = publish(demo_runs, target, schema, listener=hold_the_lock)
    finally:
        second.join(60)
    assert (first.mode, first.migrated_from) == ("first", 0)
    (outcome,) = outcomes
    assert not isinstance(outcome, Exception), outcome
    assert (outcome.mode, outcome.migrated_from) == ("first", 1)
    counts = dict(
        rows(database, f"SELECT project, count(*) FROM {schema}.activity GROUP BY project")
    )
    reopened = Project.open(tmp_path / "billing-platform", clock=fixed_clock)
    assert counts == {
        "retail-events": demo_runs.tracker.activity_count(),
        "billing-platform": reopened.tracker.activity_count(),
    }
    reopened.close()


def test_a_project_with_no_activity_publishes_its_plan(project, database, schema, capsys):
    assert project.tracker.activity_count() == 0
    code, out, err = cli(
        capsys, "-C", str(project.root), "publish", "--json", "--dsn", database, "--schema", schema
    )
    assert code == 0, err
    document = json.loads(out)
    assert document["sent"]["activity"] == 0 and document["changed"]["phases"] == 7
    assert rows(
        database, f"SELECT project, current_phase, phases_passed FROM {schema}.project_status"
    ) == [(project.name, "1", 0)]
    assert rows(database, f"SELECT count(*) FROM {schema}.activity") == [(0,)]
    assert rows(database, f"SELECT first_activity, last_activity FROM {schema}.projects") == [
        (None, None)
    ]
    # again, on the same (real) clock the CLI ran on: nothing changes
    again = Project.open(project.root)
    assert again.today() == date.fromisoformat(
        rows(database, f"SELECT as_of::text FROM {schema}.projects")[0][0]
    )
    assert publish(again, resolve_dsn(project.root, database), schema).total_changed == 0
