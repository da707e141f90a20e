"""The README's keys, pressed: each one's effect read back from the tracker (or the clipboard,
or the focused widget), and the dialogs' refusals. Text is typed key by key with `pilot.press`,
as a user types it; the assertions hold whatever the screens look like."""

from __future__ import annotations

import time

from textual.widgets import Select

from deliverables import Project
from deliverables.day import standup
from deliverables.gates import request_gate, request_waiver, waivers
from tests.conftest import NOW, fixed_clock
from tui.app import PhasegateApp
from tui.dialogs import ChoicePrompt, TextPrompt
from tui.widgets import VimTable

SIZE = (150, 45)
ME = "Test Engineer <test@example.com>"
BEN = "Ben Okafor <ben@example.com>"


def _reopen(project: Project, actor: str | None = None) -> Project:
    """A second connection, as another process (or another person) would have."""
    return Project.open(project.root, clock=fixed_clock, actor=actor)


async def type_text(pilot, text: str) -> None:
    """Types `text` into the focused input key by key, then Enter."""
    await pilot.pause()
    if text:
        await pilot.press(*text)
    await pilot.press("enter")
    await pilot.pause()


def _messages(app) -> list[str]:
    return [n.message for n in app._notifications]


# --- the phase screen --------------------------------------------------------------------------


async def test_phase_keys_e_and_o_write_a_note_and_an_owner(demo):
    app = PhasegateApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3")
        await pilot.pause()
        app.screen.query_one("#checklist", VimTable).select_key("3.1.9")
        await pilot.press("e")
        await pilot.pause()
        assert isinstance(app.screen, TextPrompt)
        await type_text(pilot, "see the wiki, page 4")
        await pilot.press("o")
        await pilot.pause()
        assert isinstance(app.screen, TextPrompt)
        await type_text(pilot, "Dana Weiss")
        state = _reopen(demo).item_state("3.1.9")
        assert (state.note, state.owner) == ("see the wiki, page 4", "Dana Weiss")


async def test_copying_an_item_and_a_deliverable_path(demo):
    app = PhasegateApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await pilot.pause()
        app.screen.query_one("#checklist", VimTable).select_key("2.3.3")
        await pilot.press("c")
        await pilot.pause()
        assert app.clipboard == f"2.3.3 {demo.model.item('2.3.3').text}"
        await pilot.press("D")
        await pilot.pause()
        app.screen.query_one("#register", VimTable).select_key("D2.5")
        await pilot.press("c")
        await pilot.pause()
        assert app.clipboard == demo.deliverable_path(demo.model.deliverable("D2.5"))
        assert app.clipboard.startswith("docs/")


async def test_f_focuses_the_filters_and_escape_clears_them(demo):
    app = PhasegateApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("D")
        await pilot.pause()
        await pilot.press("f")
        await pilot.pause()
        assert isinstance(app.focused, Select)
        # choose a phase with the keyboard: open the list, move down, enter
        await pilot.press("enter", "down", "down", "down", "enter")
        await pilot.pause()
        chosen = app.screen.query_one("#filter-phase", Select).value
        assert chosen in {p.id for p in demo.model.phases}
        table = app.screen.query_one("#register", VimTable)
        assert table.row_count == len(demo.model.phase(chosen).deliverables) < 39
        await pilot.press("escape")
        await pilot.pause()
        assert table.row_count == 39


async def test_the_reports_c_copies_its_markdown(demo):
    app = PhasegateApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("r")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("c")
        await pilot.pause()
        assert app.clipboard == app.screen.markdown_text
        assert app.clipboard.startswith("# retail-events — status report")


async def test_G_goes_to_the_last_row_and_h_l_scroll_a_wide_table(demo):
    app = PhasegateApp(demo)
    async with app.run_test(size=(60, 30)) as pilot:  # narrower than the register's columns
        await pilot.press("D")
        await pilot.pause()
        table = app.screen.query_one("#register", VimTable)
        await pilot.press("G")
        await pilot.pause()
        assert table.cursor_row == table.row_count - 1 == 38
        await pilot.press("g")
        assert table.cursor_row == 0
        assert table.max_scroll_x > 0 and table.scroll_x == 0
        await pilot.press("l", "l", "l")
        await pilot.pause(0.3)  # the scroll animates
        assert table.scroll_x > 0
        await pilot.press(*"hhhhhhhhhhhh")
        await pilot.pause(0.3)
        assert table.scroll_x == 0


# --- validation: a stored run ------------------------------------------------------------------


def store_run(project: Project) -> int:
    """A finished static run with a failed check, stored as the engine stores one, and its log."""
    from deliverables.store import CheckRecord

    tracker = project.tracker
    run_id = tracker.start_run("static", ["pos_orders"], "0" * 40, False)
    tracker.add_checks(
        [
            CheckRecord(run_id, "pos_orders", "parse", "python parses", "passed", "", "{}", 0.1),
            CheckRecord(
                run_id,
                "pos_orders",
                "lint",
                "ruff",
                "failed",
                "src/ingestion/pos_orders.py:1: F401 `shutil` imported but unused",
                "{}",
                0.3,
            ),
        ]
    )
    tracker.finish_run(run_id, "failed", "1 pipeline, failed", {"ruff": "0.1"})
    log = project.root / ".phasegate" / "runs" / f"{run_id}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text("ruff check src/ingestion/pos_orders.py\nF401 `shutil` imported but unused\n")
    return run_id


async def test_enter_on_a_stored_run_shows_its_checks_and_log(demo):
    run_id = store_run(demo)
    app = PhasegateApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("V")
        await pilot.pause()
        runs = app.screen.query_one("#val-runs", VimTable)
        runs.focus()
        runs.select_key(str(run_id))
        await pilot.press("enter")
        await pilot.pause()
        checks = app.screen.query_one("#val-checks", VimTable)
        assert checks.border_title == f"Checks of run {run_id} (static, failed)"
        rows = [[str(cell) for cell in checks.get_row_at(i)] for i in range(checks.row_count)]
        assert rows[1][:4] == ["pos_orders", "lint", "ruff", "failed"]
        log = app.screen.query_one("#val-log")
        assert log.border_title == f"Log of run {run_id}"
        assert any("F401" in str(line.text) for line in log.lines)


# --- gates: the dialogs' refusals and a successful approval -------------------------------------


async def test_a_waiver_someone_else_asked_for_is_approved_with_A(demo):
    ben = _reopen(demo, BEN)
    asked = request_waiver(ben, "G4.3", "the CI runners arrive next week", "2026-12-20")
    ben.close()
    app = PhasegateApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("R")
        await pilot.pause()
        table = app.screen.query_one("#gate-waivers", VimTable)
        table.focus()
        table.select_key(str(asked.id))
        await pilot.press("A")
        await pilot.pause()
    approved = next(w for w in waivers(_reopen(demo)) if w.id == asked.id)
    assert approved.approver == ME and approved.approved_at


async def test_empty_reviewers_an_empty_comment_and_a_bad_date_are_refused(project):
    for item in project.model.phase("1").items:
        project.set_item(item.id, status="done")
    app = PhasegateApp(project)
    before = project.tracker.activity_count()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("R")
        await pilot.pause()
        phases = app.screen.query_one("#gate-phases", VimTable)
        phases.focus()
        phases.select_key("1")
        # o: the reviewers may not be empty
        await pilot.press("o")
        await type_text(pilot, "   ")
        assert isinstance(app.screen, TextPrompt)
        assert "at least one reviewer" in str(app.screen.query_one("#prompt-error").render())
        await pilot.press("escape")
        await pilot.pause()
        assert project.tracker.activity_count() == before
        # W: a date that is no date is refused with the reason, nothing stored
        await pilot.press("W")
        await type_text(pilot, "G1.2")
        await type_text(pilot, "the BRD is late")
        await type_text(pilot, "soon")
        assert not isinstance(app.screen, TextPrompt)
        assert any("soon" in m for m in _messages(app))
        assert waivers(project) == []
    # v: a decision needs a comment (the phase in review, with me as a reviewer)
    other = _reopen(project, BEN)
    request_gate(other, "1", [ME])
    other.close()
    app = PhasegateApp(_reopen(project))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("R")
        await pilot.pause()
        phases = app.screen.query_one("#gate-phases", VimTable)
        phases.focus()
        phases.select_key("1")
        await pilot.press("v")
        await pilot.pause()
        assert isinstance(app.screen, ChoicePrompt)
        await pilot.press("enter")  # approve
        await type_text(pilot, "")
        assert isinstance(app.screen, TextPrompt)
        assert "A comment is required." in str(app.screen.query_one("#prompt-error").render())
        await pilot.press("escape")
        await pilot.pause()
    reread = _reopen(project)
    assert reread.tracker.query("SELECT count(*) FROM gate_decisions") == [(0,)]


# --- my day: the stand-up keys -------------------------------------------------------------------


async def test_y_saves_yesterday_and_an_empty_stand_up_is_refused(demo):
    app = PhasegateApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("t")
        await pilot.pause()
        await pilot.press("B")
        await type_text(pilot, "")  # nothing at all: no note to save
        assert any("at least one of yesterday, today, blockers" in m for m in _messages(app))
        assert standup(_reopen(demo), NOW.date()) is None
        await pilot.press("y")
        await type_text(pilot, "Reviewed the DAG tests")
        note = standup(_reopen(demo), NOW.date())
        assert note is not None and note.yesterday == "Reviewed the DAG tests"
        assert "Yesterday: Reviewed the DAG tests" in str(
            app.screen.query_one("#day-standup").render()
        )


# --- changes made elsewhere ---------------------------------------------------------------------


async def test_a_change_from_another_process_shows_within_two_seconds(demo):
    """The README's promise at the default interval (nothing patched): the app looks at the
    tracker once per WATCH_SECONDS (at most 2 s), and a change written by another process shows
    with no key pressed. How fast it shows is a matter of the interval, not of this machine's
    load: the wait below is only a hang limit."""
    import tui.app

    assert tui.app.WATCH_SECONDS <= 2.0
    app = PhasegateApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3")
        await pilot.pause()
        checklist = app.screen.query_one("#checklist", VimTable)
        assert str(checklist.get_row("3.1.9")[0]) == "☐"
        other = _reopen(demo)
        other.set_item("3.1.9", status="done")
        other.close()
        written = time.monotonic()
        while str(checklist.get_row("3.1.9")[0]) != "☑" and time.monotonic() - written < 30:
            await pilot.pause(0.05)  # a hang limit, not a speed budget
        assert str(checklist.get_row("3.1.9")[0]) == "☑"
