"""The domain decides where each document goes: `phasegate … -o` (without a file name) and the
TUI's `w` write the same file, with the same content."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli.main import main
from deliverables import Project
from deliverables.day import standup_path
from deliverables.report import status_report_path
from deliverables.store import CheckRecord
from deliverables.validations import run_log_path, run_report_path
from tui.app import PhasegateApp

SIZE = (160, 44)


@pytest.fixture
def solution(tmp_path: Path):
    """A project on the real clock (the CLI opens it anew, with the real clock) and one stored
    validation run, recorded through the tracker as the engine records it."""
    project, _ = Project.init(tmp_path / "solution")
    tracker = project.tracker
    run = tracker.start_run("static", ["orders"], None, None)
    tracker.add_checks(
        [CheckRecord(run, "orders", "parse", "python parses", "passed", "", "{}", 0.1)]
    )
    tracker.finish_run(run, "passed", "1 passed")
    yield project
    project.close()


def test_each_document_has_its_own_place(solution):
    root, today = solution.root, solution.today().isoformat()
    places = {
        status_report_path(solution): f"docs/reports/status-{today}.md",
        status_report_path(solution, "3"): f"docs/reports/status-{today}-phase-3.md",
        standup_path(solution, solution.today()): f"docs/standups/{today}.md",
        run_report_path(solution, 12): "docs/validation/run-12.md",
        run_log_path(solution, 12): ".phasegate/runs/12.log",
    }
    assert {path.relative_to(root).as_posix(): want for path, want in places.items()} == {
        want: want for want in places.values()
    }


@pytest.mark.parametrize(
    ("keys", "command", "place"),
    [
        (("r",), ("export", "-o"), lambda p: status_report_path(p)),
        (("V",), ("runs", "show", "1", "-o"), lambda p: run_report_path(p, 1)),
        (("t",), ("today", "-o"), lambda p: standup_path(p, p.today())),
    ],
    ids=["status report", "validation run", "day"],
)
async def test_the_cli_and_the_tui_write_the_same_file(solution, capsys, keys, command, place):
    target = place(solution)
    assert main(["-C", str(solution.root), *command]) == 0
    assert capsys.readouterr().err.strip() == f"Wrote {target.relative_to(solution.root)}"
    from_cli = target.read_text()
    target.unlink()

    app = PhasegateApp(solution)
    async with app.run_test(size=SIZE) as pilot:
        for key in keys:
            await pilot.press(key)
            await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("w")
        await pilot.pause()
    written = sorted(p for p in (solution.root / "docs").rglob("*.md"))
    assert written == [target]
    from_tui = target.read_text()
    # the same document; the report's "generated" minute and the day's session may move on
    assert from_tui.splitlines()[0] == from_cli.splitlines()[0]
    if command[0] == "runs":
        assert from_tui == from_cli
