"""How each screen looks, on the demo project under a fixed clock (SVG snapshots).

After an intended change of the look: `make test PYTEST_ARGS="--snapshot-update"`, then review
the SVGs in tests/__snapshots__/ before committing them.
"""

from __future__ import annotations

from tui.app import PhasegateApp

SIZE = (150, 42)


async def _settle(pilot) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def test_dashboard(snap_compare, demo):
    assert snap_compare(PhasegateApp(demo), terminal_size=SIZE, run_before=_settle)


def test_phase_screen(snap_compare, demo):
    assert snap_compare(
        PhasegateApp(demo), terminal_size=SIZE, press=["2", "j", "j"], run_before=_settle
    )


def test_deliverables_screen(snap_compare, demo):
    assert snap_compare(
        PhasegateApp(demo), terminal_size=SIZE, press=["D", "j"], run_before=_settle
    )


def test_report_screen(snap_compare, demo):
    async def open_report(pilot) -> None:
        await pilot.press("r")
        await _settle(pilot)

    assert snap_compare(PhasegateApp(demo), terminal_size=SIZE, run_before=open_report)


def test_help_screen(snap_compare, demo):
    assert snap_compare(
        PhasegateApp(demo), terminal_size=SIZE, press=["question_mark"], run_before=_settle
    )


def test_pipelines_screen(snap_compare, demo):
    async def open_pipelines(pilot) -> None:
        await pilot.press("P")
        await _settle(pilot)  # the plan is computed in a worker

    assert snap_compare(PhasegateApp(demo), terminal_size=SIZE, run_before=open_pipelines)
