"""The Validation screen driven by Pilot: a real static run in its subprocess, progress and log
while it runs, the stored history, a cancelled full run, the markdown report; the gate criterion
and the evidence on the phase screen."""

from __future__ import annotations

import time

from textual.widgets import RichLog, Static

from deliverables import Project
from tests.test_validation_static import PLAIN, make_solution
from tui.app import PhasegateApp
from tui.widgets import VimTable

SIZE = (160, 44)


async def _until(pilot, condition, timeout: float = 900.0) -> None:
    """Lets the app run (it stays responsive) until `condition()` holds. `timeout` only catches a
    hang (generous for 2 loaded cores): how fast a run is belongs to bench/validate.py."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the run did not get there in time"
        await pilot.pause(0.2)


async def test_a_static_run_shows_progress_log_checks_and_history(tmp_path):
    project = make_solution(
        tmp_path / "ops", {name: PLAIN.format(name=name) for name in ("alpha", "beta")}
    )
    app = PhasegateApp(project)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("V")
        await pilot.pause()
        screen = app.screen
        pipelines = screen.query_one("#val-pipelines", VimTable)
        assert [str(pipelines.get_row(k)[1]) for k in ("alpha", "beta")] == ["not validated"] * 2
        await pilot.press("s")
        # the run is a Textual thread worker of the screen, not a thread of its own on the app
        assert [(w.name, w.node) for w in app.workers] == [("validation", screen)]
        assert not hasattr(app, "validation_run")
        seen_progress = []

        def finished() -> bool:
            bar = str(pipelines.get_row("alpha")[3]) if pipelines.row_count else ""
            if bar.strip():
                seen_progress.append(bar)
            return screen.active is not None and not screen.running

        await _until(pilot, finished)
        await app.workers.wait_for_complete()  # its end comes after every event it posted
        await pilot.pause(0.3)
        assert any("█" in bar for bar in seen_progress)  # the per-pipeline bar moved
        assert [str(pipelines.get_row(k)[1]) for k in ("alpha", "beta")] == ["passed"] * 2
        checks = screen.query_one("#val-checks", VimTable)
        assert checks.row_count >= 14
        assert "passed" in str(screen.query_one("#val-status", Static).render())
        runs = screen.query_one("#val-runs", VimTable)
        assert runs.row_count == 1
        # the log pane showed the subprocess's output (Airflow fills the DagBag)
        assert screen.query_one("#val-log", RichLog).lines
        # w writes the shown run as markdown into the repository
        await pilot.press("w")
        await pilot.pause()
        report = project.root / "docs" / "validation" / "run-1.md"
        assert report.read_text().startswith("# ops — static validation run 1")
        # the phase 4 gate criterion now reads green, with the evidence
        await pilot.press("4")
        await pilot.pause()
        gate = str(app.screen.query_one("#gate", Static).render())
        assert "✔ G4.3" in gate and "alpha: passed (run 1, static" in gate


async def test_cancel_during_a_full_run_records_cancelled_and_the_ui_stays_responsive(tmp_path):
    project = make_solution(tmp_path / "ops", {"alpha": PLAIN.format(name="alpha")})
    app = PhasegateApp(project)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("V")
        await pilot.pause()
        screen = app.screen
        await pilot.press("f")
        await _until(
            pilot, lambda: "alpha" in screen._progress and screen._progress["alpha"][1] != "waiting"
        )
        # while it runs, the keys work: the dashboard and back
        await pilot.press("d")
        await pilot.pause()
        assert app.current_mode == "dashboard"
        await pilot.press("V")
        await pilot.pause()
        await pilot.press("c")
        await _until(pilot, lambda: not screen.running, timeout=300)
        await app.workers.wait_for_complete()
        await pilot.pause(0.3)
        run = project.tracker.runs(1)[0]
        assert run.status == "cancelled"
        assert any(c.outcome == "cancelled" for c in project.tracker.run_checks(run.id))
        assert "cancelled" in str(screen.query_one("#val-status", Static).render())


async def test_leaving_the_app_during_a_run_ends_it_as_cancelled(tmp_path):
    project = make_solution(tmp_path / "ops", {"alpha": PLAIN.format(name="alpha")})
    app = PhasegateApp(project)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("V")
        await pilot.pause()
        screen = app.screen
        await pilot.press("s")
        await _until(pilot, lambda: screen._shown_run is not None)  # the run is stored
        await pilot.press("q")
    # the screen waited for the run's thread: the subprocess is gone, the run is recorded
    assert not screen.running
    reopened = Project.open(project.root)
    try:
        run = reopened.tracker.runs(1)[0]
        assert run.status == "cancelled"
    finally:
        reopened.close()


async def test_keys_on_an_empty_project_explain_instead_of_failing(project):
    app = PhasegateApp(project)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("V")
        await pilot.pause()
        for key in ("s", "c", "w", "enter", "j"):
            await pilot.press(key)
            await pilot.pause()
        messages = [n.message for n in app._notifications]
        assert any("No pipeline specs to validate" in m for m in messages)
        assert "No run in progress." in messages
        assert any("No run to write" in m for m in messages)
