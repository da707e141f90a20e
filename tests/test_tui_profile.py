"""The Profile screen (F), driven by Pilot: the profiled sources, a column's chart, the drift, and
the suggested rules accepted or rejected before the spec is written (through the same domain
function as `phasegate profile`). The profiles are tests/fixtures/profile-orders.json's: no JVM,
but for profiling from the screen: one real profile through the profiling subprocess (its own
Spark), one left as the app quits, and bad sources refused before Spark starts."""

from __future__ import annotations

import json
import time

from textual.widgets import ProgressBar

from deliverables import Project
from deliverables.profiles import profile_history
from pipelines.profiling.outputs import write_outputs
from pipelines.spec import load_spec
from tests.conftest import fixed_clock
from tests.helpers.profiles import drifted, orders
from tests.helpers.unmeasured import COVERAGE_VARIABLES
from tests.test_profile import orders_csv
from tui.app import PhasegateApp
from tui.dialogs import ChoicePrompt, TextPrompt
from tui.widgets import VimTable

SIZE = (150, 42)
KEYS = [
    *("space", "a", "x", "W", "j", "k", "g", "G", "enter", "tab", "space", "x", "W", "tab"),
    *("u", "c"),
]


def _text(app, selector: str) -> str:
    return str(app.screen.query_one(selector).render())


async def test_with_nothing_profiled_every_key_is_a_message_not_a_traceback(project):
    app = PhasegateApp(project)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("F")
        await pilot.pause()
        assert app.current_mode == "profile"
        assert "No source profiled yet" in _text(app, "#profile-chart")
        for key in KEYS:
            await pilot.press(key)
            await pilot.pause()
        messages = [n.message for n in app._notifications]
        assert any("profile a source first" in m for m in messages)
        assert any("No source to write a spec for" in m for m in messages)
        assert any("No source to profile again: n profiles a new one" in m for m in messages)
        assert "No profile in progress." in messages
        assert app.current_mode == "profile" and app.return_code is None
    assert not (project.root / "pipelines").exists()


async def test_columns_chart_drift_and_rules_rejected_before_the_spec_is_written(project):
    write_outputs(project, orders())
    write_outputs(project, drifted())
    spec = project.root / "pipelines/orders.yaml"
    assert "rule: in_set, column: status" in spec.read_text()
    app = PhasegateApp(project)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("F")
        await pilot.pause()
        sources = app.screen.query_one("#profile-sources", VimTable)
        assert sources.current_key == "orders"
        assert "3 finding(s)" in str(sources.get_row("orders")[-1])
        columns = app.screen.query_one("#profile-columns", VimTable)
        columns.focus()
        await pilot.press("j", "j", "j", "j")  # order_id, store_id, ordered_at, amount, quantity
        await pilot.pause()
        assert columns.current_key == "quantity"
        chart = _text(app, "#profile-chart")
        assert "Histogram" in chart and "█" in chart and "ends at 10" in chart
        await pilot.press("j")  # status: a category column
        await pilot.pause()
        chart = _text(app, "#profile-chart")
        assert "Most frequent values" in chart and "paid" in chart
        assert "categories" in chart and "1 new value(s): lost" in chart  # its drift
        await pilot.press("j")  # email: sensitive
        await pilot.pause()
        chart = _text(app, "#profile-chart")
        assert "withheld" in chart and "example.com" not in chart
        rules = app.screen.query_one("#profile-rules", VimTable)
        rules.focus()
        rules.select_key("in_set_status")
        await pilot.press("x")
        rules.select_key("between_quantity")
        await pilot.press("space", "space", "space")  # reject, accept, reject
        rules.select_key("unique_order_id")
        await pilot.press("x", "a")  # changed their mind
        await pilot.pause()
        assert "reject" in str(rules.get_row("in_set_status")[0])
        assert "accept" in str(rules.get_row("unique_order_id")[0])
        assert rules.border_subtitle == "2 rejected"
        await pilot.press("W")
        await pilot.pause()
        assert any("pipelines/orders.yaml" in n.message for n in app._notifications)
    text = spec.read_text()
    assert "# rejected at review: between_quantity, in_set_status" in text
    loaded = load_spec(spec, project.root)
    ids = {rule.id for rule in loaded.quality}
    assert "unique_order_id" in ids and not {"in_set_status", "between_quantity"} & ids


async def test_a_spec_not_drafted_by_the_profiler_is_left_as_it_is(project):
    spec = project.root / "pipelines/orders.yaml"
    spec.parent.mkdir()
    spec.write_text("name: orders  # written by hand\n")
    assert write_outputs(project, orders()).spec_state == "kept"
    app = PhasegateApp(project)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("F")
        await pilot.pause()
        await pilot.press("W")
        await pilot.pause()
        assert any("left as it is" in n.message for n in app._notifications)
    assert spec.read_text() == "name: orders  # written by hand\n"


# --- profiling from the screen -------------------------------------------------------------------


async def _until(pilot, condition, timeout: float = 600.0) -> None:
    """Lets the app run (it stays responsive) until `condition()` holds. `timeout` only catches a
    hang (generous for 2 loaded cores): how fast profiling is belongs to bench/profile.py."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the profile did not get there in time"
        await pilot.pause(0.2)


def _messages(app) -> list[str]:
    return [n.message for n in app._notifications]


def _history(project) -> list:
    """The stored profiles of orders, newest first, read as another process would (the app
    closed its connection)."""
    reopened = Project.open(project.root, clock=fixed_clock)
    try:
        return profile_history(reopened.tracker, "orders")
    finally:
        reopened.close()


def _unmeasured(monkeypatch) -> None:
    """The profiling child unmeasured (tests/helpers/unmeasured.py): test_profile.py's CLI test
    measures that code; these are about the screen."""
    for variable in COVERAGE_VARIABLES:
        monkeypatch.delenv(variable, raising=False)


def _landing(project, text: str) -> None:
    (project.root / "landing").mkdir(exist_ok=True)
    (project.root / "landing/orders.csv").write_text(text)


async def test_u_profiles_the_source_again_with_a_bar_per_pass_and_shows_the_drift(
    project, monkeypatch
):
    """The one real profile here: the stored orders profile's source (landing/orders.csv, as it
    was profiled) read again by the profiling subprocess, now with 40 rows and a new status."""
    _unmeasured(monkeypatch)
    write_outputs(project, orders())
    _landing(project, orders_csv(40).replace(",void,", ",lost,"))
    app = PhasegateApp(project)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("F")
        await pilot.pause()
        screen = app.screen
        sources = screen.query_one("#profile-sources", VimTable)
        assert str(sources.get_row("orders")[1]) == "60"
        assert not screen.query_one("#profile-status-row").display  # at rest: no status line
        await pilot.press("u")
        await pilot.pause()
        assert [(w.name, w.node) for w in app.workers] == [("profile", screen)]
        # a second press while it runs starts nothing, and says so
        await pilot.press("u", "n")
        await pilot.pause()
        refused = [m for m in _messages(app) if "one profile at a time" in m]
        assert len(refused) == 2 and refused[0].startswith("orders is being profiled")
        assert not isinstance(app.screen, TextPrompt)
        # leaving the screen while it runs, and coming back
        await _until(pilot, lambda: screen.active.passes)
        await pilot.press("d")
        await pilot.pause()
        assert app.current_mode == "dashboard"
        await pilot.press("F")
        await _until(pilot, lambda: not screen.running)
        await app.workers.wait_for_complete()  # its end comes after every event it posted
        await pilot.pause(0.3)
        assert [w for w in app.workers if w.name == "profile"] == []
        # a bar per pass: the subprocess's five passes reached the screen in order, and the bar
        # is full
        passes = [(e["name"], e["index"], e["total"]) for e in screen.active.passes]
        assert passes == [
            ("read", 1, 5),
            ("scan", 2, 5),
            ("types", 3, 5),
            ("values", 4, 5),
            ("keys", 5, 5),
        ]
        bar = screen.query_one("#profile-bar", ProgressBar)
        assert (bar.progress, bar.total) == (5, 5)
        # the screen shows the new profile and the drift found against the stored one
        status = str(screen.query_one("#profile-status").render())
        assert status.startswith("orders profiled: 40 rows (all rows) · ")
        assert "drift finding(s) since 2026-11-27 09:30 · " in status
        assert status.endswith("pipelines/orders.yaml exists: W merges the accepted rules")
        assert str(sources.get_row("orders")[1]) == "40"
        assert "finding(s)" in str(sources.get_row("orders")[-1])
        columns = screen.query_one("#profile-columns", VimTable)
        columns.focus()
        columns.select_key("status")
        await pilot.pause()
        chart = str(screen.query_one("#profile-chart").render())
        assert "new value(s): lost" in chart
        assert any(m.startswith("orders profiled: 40 rows") for m in _messages(app))
        assert not any("ticked by the profiler" in m for m in _messages(app))  # done before
        assert app.return_code is None
    # as `phasegate profile` leaves it: the tracker's profile op, the stored JSON, the report
    history = _history(project)
    assert len(history) == 2 and history[0].summary["rows_profiled"] == 40
    assert history[0].summary["source"]["location"] == "landing/orders.csv"
    assert any(f["kind"] == "categories" for f in history[0].drift)
    stored = json.loads((project.root / ".phasegate/profiles/orders.json").read_text())
    assert stored["rows_profiled"] == 40 and stored["drift"]["findings"]
    assert "lost" in (project.root / "docs/phase-1/data-profiling-report.md").read_text()


async def test_a_bad_source_is_one_line_and_nothing_stored_changes(project):
    """Refused before Spark starts: a missing file typed into n's dialog (and one whose format
    is asked for: its name does not tell it), and `u` on a stored profile whose file is gone."""
    write_outputs(project, orders())
    stored = (project.root / ".phasegate/profiles/orders.json").read_text()
    app = PhasegateApp(project)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("F")
        await pilot.pause()
        screen = app.screen
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, TextPrompt)
        await pilot.press("enter")  # nothing typed: the dialog says what it needs
        await pilot.pause()
        error = str(app.screen.query_one("#prompt-error").render())
        assert error.startswith("Name the source: a file, folder or glob")
        await pilot.press(*"landing/missing.csv", "enter")
        await _until(pilot, lambda: screen.active is not None and not screen.running)
        await app.workers.wait_for_complete()
        await pilot.pause()
        status = str(screen.query_one("#profile-status").render())
        assert status == "Not profiled: landing/missing.csv: no such file"
        assert not screen.query_one("#profile-bar").display
        await pilot.press("n")
        await pilot.pause()
        await pilot.press(*"landing/daily", "enter")
        await pilot.pause()
        assert isinstance(app.screen, ChoicePrompt)  # csv, json, parquet
        await pilot.press("j", "enter")
        await _until(pilot, lambda: screen.active.what == "landing/daily" and not screen.running)
        await app.workers.wait_for_complete()
        await pilot.pause()
        status = str(screen.query_one("#profile-status").render())
        # the chosen format was passed: without it, "cannot tell the format from the name"
        assert status == "Not profiled: landing/daily: no such file"
        await pilot.press("u")  # the stored orders profile: landing/orders.csv is not there
        await _until(pilot, lambda: screen.active.what == "orders" and not screen.running)
        await app.workers.wait_for_complete()
        await pilot.pause()
        status = str(screen.query_one("#profile-status").render())
        assert status == "Not profiled: landing/orders.csv: no such file"
        assert screen.active.passes == []  # no subprocess was started
        messages = _messages(app)
        assert "landing/missing.csv: no such file" in messages
        assert not any("Traceback" in m or "Error:" in m for m in messages)
        assert screen.query_one("#profile-sources", VimTable).row_count == 1
    assert len(_history(project)) == 1
    assert (project.root / ".phasegate/profiles/orders.json").read_text() == stored
    assert not (project.root / ".phasegate/profiles/missing.json").exists()


async def test_c_and_quitting_while_a_profile_runs_end_it_and_store_nothing(project, monkeypatch):
    _unmeasured(monkeypatch)
    write_outputs(project, orders())
    _landing(project, orders_csv(20))
    app = PhasegateApp(project)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("F")
        await pilot.pause()
        screen = app.screen
        await pilot.press("u")
        await pilot.pause()
        assert screen.running
        await pilot.press("c")
        await _until(pilot, lambda: not screen.running)
        await app.workers.wait_for_complete()
        await pilot.pause()
        status = str(screen.query_one("#profile-status").render())
        assert status == "Not profiled: profiling cancelled: nothing was stored"
        await pilot.press("u")  # again, and quit while it runs
        await pilot.pause()
        assert screen.running
        await pilot.press("q")
    # the screen cancelled the run and waited for its thread: the subprocess was ended
    assert not screen.running
    history = _history(project)
    assert len(history) == 1 and history[0].summary["rows_profiled"] == 60
