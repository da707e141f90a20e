"""My day and the Gates screen, driven by Pilot and snapshotted on the demo under a fixed clock."""

from __future__ import annotations

from deliverables.gates import reviews, waivers
from deliverables.metrics import metrics
from tests.conftest import NOW
from tui.app import PhasegateApp
from tui.widgets import VimTable

SIZE = (150, 42)
ME = "Test Engineer <test@example.com>"


def returning(project, since: str = "2026-11-24T00:00:00Z"):
    """The test user had a session before: the app opens on their day."""
    project.tracker.append("sessions", {"actor": ME, "at": since})
    return project


async def _type(pilot, text: str) -> None:
    """Types into the open prompt key by key, as a user does ("<", "@" and spaces included)."""
    await pilot.pause()
    await pilot.press(*text, "enter")
    await pilot.pause()


async def test_a_returning_user_starts_on_their_day_and_writes_a_standup(demo):
    demo.set_item("3.1.7", owner="Test Engineer", due="2026-11-28")
    app = PhasegateApp(returning(demo))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.current_mode == "today"
        mine = app.screen.query_one("#day-mine", VimTable)
        assert mine.current_key == "3.1.7"
        due = app.screen.query_one("#day-due", VimTable)
        keys = [due.coordinate_to_cell_key((row, 0)).row_key.value for row in range(due.row_count)]
        assert keys == ["week:3.1.7", "team:2.3.3"]  # Dana's overdue item shows as the team's
        changes = str(app.screen.query_one("#day-changes-log").render())
        assert "Ben Okafor" in changes and "Dana Weiss" in changes
        attention = str(app.screen.query_one("#day-attention").render())
        assert "waiver 1 for 2.3.3: expires 2026-12-01" in attention
        await pilot.press("n")
        await _type(pilot, "Finish the tests folder")
        await pilot.press("B")
        await _type(pilot, "Waiting for CI runners")
        standup = str(app.screen.query_one("#day-standup").render())
        assert "Today: Finish the tests folder" in standup
        assert "Blockers: Waiting for CI runners" in standup
        await pilot.press("w")
        await pilot.pause()
        written = (demo.root / "docs/standups/2026-11-27.md").read_text()
        assert "- Today: Finish the tests folder" in written
        # enter on my item opens its phase on it
        mine.focus()
        await pilot.press("enter")
        await pilot.pause()
        assert app.current_mode == "phase"
        assert app.screen.query_one("#checklist", VimTable).current_key == "3.1.7"


async def test_a_first_session_starts_on_the_dashboard(demo):
    app = PhasegateApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.current_mode == "dashboard"
        await pilot.press("t")
        await pilot.pause()
        assert "first session" in str(app.screen.query_one("#day-changes-log").render())


async def test_the_gates_screen_requests_decides_waives_and_records(project):
    for item in project.model.phase("1").items:
        project.set_item(item.id, status="done")
    for d in project.model.phase("1").deliverables:
        for status in ("draft", "in_review", "approved"):
            project.set_deliverable(d.id, status=status)
    app = PhasegateApp(project)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("R")
        await pilot.pause()
        assert app.current_mode == "gates"
        phases = app.screen.query_one("#gate-phases", VimTable)
        assert phases.current_key == "2"  # the current phase: phase 1 is all done
        await pilot.press("k")
        await pilot.press("o")
        await _type(pilot, ME)
        assert str(phases.get_row("1")[1]) == "in review"
        await pilot.press("v")
        await pilot.pause()
        await pilot.press("enter")  # approve
        await pilot.pause()
        await _type(pilot, "All good")
        assert str(phases.get_row("1")[2]) == "passed"
        # my own waiver: asked for, but I cannot approve it
        await pilot.press("W")
        await pilot.pause()
        await pilot.press("enter")  # the suggested target
        await _type(pilot, "Because")
        await _type(pilot, "2026-12-31")
        assert [w.reason for w in waivers(project)] == ["Because"]
        app.screen.query_one("#gate-waivers", VimTable).focus()
        await pilot.press("A")
        await pilot.pause()
        assert any("another person must approve" in n.message for n in app._notifications)
        await pilot.press("x")
        await pilot.pause()
        await pilot.press("enter")  # record and write
        await pilot.pause()
        assert [r.outcome for r in reviews(project)] == ["passed"]
        assert (project.root / "docs" / "gates" / f"phase-1-{NOW.date()}.md").is_file()
        history = app.screen.query_one("#gate-history", VimTable)
        assert history.row_count == 1


def test_today_snapshot(snap_compare, demo):
    async def settle(pilot) -> None:
        await pilot.pause()

    # "Assigned to me" with content: an item (one due this week) and a deliverable of mine
    demo.set_item("3.1.7", owner="Test Engineer", due="2026-11-28")
    demo.set_item("4.1.2", owner="test@example.com")
    demo.set_deliverable("D3.2", owner="Test Engineer")
    assert snap_compare(PhasegateApp(returning(demo)), terminal_size=SIZE, run_before=settle)


def test_gates_snapshot(snap_compare, demo):
    async def settle(pilot) -> None:
        await pilot.pause()

    assert snap_compare(PhasegateApp(demo), terminal_size=SIZE, press=["R", "j"], run_before=settle)


async def test_the_metrics_screen_shows_durations_burnups_and_gates(demo):
    app = PhasegateApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("M")
        await pilot.pause()
        table = app.screen.query_one("#metric-phases", VimTable)
        row = [str(c) for c in table.get_row("1")]
        assert row[1:] == ["2026-11-13", "2026-11-19", "6", "12/12"]
        burnups = [str(s.render()) for s in app.screen.query(".burnup")]
        assert (
            burnups[0].startswith("1. Discovery & Requirements")
            and "12/12 in 7 day(s)" in burnups[0]
        )
        # a plot per phase: its columns, read back, are the burn-up the metrics say, day by day
        found = metrics(demo)
        assert len(burnups) == sum(1 for p in found.phases if p.burnup)
        for shown, phase in zip(burnups, (p for p in found.phases if p.burnup), strict=False):
            assert _plotted(shown, phase.required, len(phase.burnup)) == phase.burnup, shown
            assert shown.splitlines()[-1].split() == [
                f"{phase.days[0]:%m-%d}",
                f"{phase.days[-1]:%m-%d}",
            ]
        bars = [str(s.render()) for s in app.screen.query(".timeline") if str(s.render())]
        assert bars[0].startswith("1. Discovery & Requirements") and "11-13 → 11-19" in bars[0]
        assert len(bars) == 4 and bars[1].endswith("(under way)")  # phases 1-4 have started
        assert app.screen.query_one("#metric-gates", VimTable).row_count == 1
        assert "Gates passed at the first review: 100%" in str(
            app.screen.query_one("#metric-success").render()
        )


def test_metrics_snapshot(snap_compare, demo):
    async def settle(pilot) -> None:
        await pilot.pause()

    assert snap_compare(PhasegateApp(demo), terminal_size=SIZE, press=["M"], run_before=settle)


def _plotted(plot: str, required: int, days: int) -> list[int]:
    """The values a burn-up plot of `days` days shows, read back from its block characters:
    each day's column (one to four cells wide) as its height in eighths of a cell, on the axis
    from 0 to `required` (its top label)."""
    from tui.screens.metrics import EIGHTHS, PLOT_ROWS

    lines = plot.splitlines()
    assert lines[1].split("┤")[0].strip() == str(required)
    rows = [line.split("┤" if "┤" in line else "│", 1)[1] for line in lines[1 : 1 + PLOT_ROWS]]
    width = len(lines[1 + PLOT_ROWS].split("└", 1)[1])  # the day axis
    per_day = width // days
    assert per_day * days == width and 1 <= per_day <= 4
    heights = [sum(EIGHTHS.index(r.ljust(width)[col]) for r in rows) for col in range(width)]
    assert all(len(set(heights[n : n + per_day])) == 1 for n in range(0, width, per_day))
    return [round(h / (PLOT_ROWS * 8) * required) for h in heights[::per_day]]
