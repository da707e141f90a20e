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


def test_day_screen_with_drift(snap_compare, demo):
    """My day when a source I answer for (I own D1.3) drifted since its last profile."""
    from pipelines.profiling.outputs import write_outputs
    from tests.helpers.profiles import drifted, orders

    me = "Test Engineer <test@example.com>"
    demo.tracker.actor = me
    demo.set_deliverable("D1.3", owner=me)
    write_outputs(demo, orders())
    write_outputs(demo, drifted())
    demo.tracker.append("sessions", {"actor": me, "at": "2026-11-24T00:00:00Z"})
    assert snap_compare(PhasegateApp(demo), terminal_size=SIZE, run_before=_settle)


def test_profile_screen(snap_compare, demo):
    """Profiles (F): the drifted orders source, the chart of `quantity`, a rule rejected."""
    from pipelines.profiling.outputs import write_outputs
    from tests.helpers.profiles import drifted, orders

    write_outputs(demo, orders())
    write_outputs(demo, drifted())

    async def open_profiles(pilot) -> None:
        await pilot.press("F")
        await _settle(pilot)
        pilot.app.screen.query_one("#profile-columns").focus()
        await pilot.press("j", "j", "j", "j")
        rules = pilot.app.screen.query_one("#profile-rules")
        rules.focus()
        rules.select_key("in_set_status")
        await pilot.press("x")
        await _settle(pilot)

    assert snap_compare(PhasegateApp(demo), terminal_size=SIZE, run_before=open_profiles)
