"""The Profile screen (F), driven by Pilot: the profiled sources, a column's chart, the drift, and
the suggested rules accepted or rejected before the spec is written (through the same domain
function as `phasegate profile`). The profiles are tests/fixtures/profile-orders.json's: no JVM."""

from __future__ import annotations

from pipelines.profiling.outputs import write_outputs
from pipelines.spec import load_spec
from tests.helpers.profiles import drifted, orders
from tui.app import PhasegateApp
from tui.widgets import VimTable

SIZE = (150, 42)
KEYS = ["space", "a", "x", "W", "j", "k", "g", "G", "enter", "tab", "space", "x", "W", "tab"]


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
