"""The TUI driven by Textual's Pilot on a real project: each screen's main flow."""

from __future__ import annotations

import pytest
from textual.widgets import Markdown, OptionList, Select

from deliverables import Project
from tests.conftest import fixed_clock
from tui.app import PhasegateApp
from tui.dialogs import ChoicePrompt, TextPrompt
from tui.screens.help import HelpScreen
from tui.screens.phase import PhaseScreen
from tui.widgets import VimTable

SIZE = (150, 45)


def _app(project: Project) -> PhasegateApp:
    return PhasegateApp(project)


def _reopen(project: Project) -> Project:
    """A second connection, as another process would see the tracker."""
    return Project.open(project.root, clock=fixed_clock)


async def test_dashboard_shows_phases_due_items_and_activity(demo):
    app = _app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        phases = app.screen.query_one("#phases", VimTable)
        assert phases.row_count == 7
        assert phases.current_key == "2"  # the current phase is selected
        assert app.screen.query_one("#due", VimTable).row_count > 3
        log = str(app.screen.query_one("#activity-log").render())
        assert len(log.splitlines()) == 30
        assert "4.2.1 due: — → 2026-12-05" in log.splitlines()[0]
        await pilot.press("j", "enter")
        await pilot.pause()
        assert isinstance(app.screen, PhaseScreen) and app.screen.phase_id == "3"


async def test_phase_screen_toggles_items_and_writes_at_once(demo):
    app = _app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, PhaseScreen) and screen.phase_id == "2"
        checklist = screen.query_one("#checklist", VimTable)
        checklist.select_key("2.3.3")
        await pilot.press("space")
        await pilot.pause()
        assert _reopen(demo).item_state("2.3.3").status == "done"  # on disk, no save step
        await pilot.press("enter")
        await pilot.pause()
        assert _reopen(demo).item_state("2.3.3").status == "todo"
        # vim keys move the cursor
        await pilot.press("j")
        assert checklist.current_key == "2.3.4"
        await pilot.press("G")
        await pilot.press("g")
        assert checklist.cursor_row == 0


async def test_not_applicable_asks_for_a_reason(demo):
    app = _app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3")
        await pilot.pause()
        app.screen.query_one("#checklist", VimTable).select_key("3.1.9")
        await pilot.press("x")
        await pilot.pause()
        assert isinstance(app.screen, TextPrompt)
        await pilot.press("enter")  # empty reason: refused, the prompt stays
        await pilot.pause()
        assert isinstance(app.screen, TextPrompt)
        await pilot.press(*"docs live in the wiki", "enter")
        await pilot.pause()
        state = _reopen(demo).item_state("3.1.9")
        assert (state.status, state.reason) == ("not_applicable", "docs live in the wiki")


async def test_a_bad_due_date_is_explained_and_escape_keeps_the_old_one(demo):
    app = _app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3")
        await pilot.pause()
        app.screen.query_one("#checklist", VimTable).select_key("3.1.8")
        await pilot.press("u")
        await pilot.pause()
        prompt = app.screen
        await pilot.press("ctrl+u", *"soon", "enter")  # clear the current date, type another
        await pilot.pause()
        assert "not YYYY-MM-DD" in str(prompt.query_one("#prompt-error").render())
        await pilot.press("escape")
        await pilot.pause()
        assert _reopen(demo).item_state("3.1.8").due == "2026-11-30"


async def test_phase_screen_changes_a_deliverable_status_through_the_picker(demo):
    app = _app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await pilot.pause()
        table = app.screen.query_one("#phase-deliverables", VimTable)
        table.focus()
        table.select_key("D2.2")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ChoicePrompt)
        options = app.screen.query_one(OptionList)
        assert [options.get_option_at_index(i).id for i in range(options.option_count)] == [
            "approved",
            "draft",
            "not_applicable",
        ]
        await pilot.press("enter")
        await pilot.pause()
        assert _reopen(demo).deliverable_state("D2.2").status == "approved"


async def test_copying_an_assist_prompt(demo):
    app = _app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("1")
        await pilot.pause()
        app.screen.query_one("#checklist", VimTable).select_key("A1.2")
        await pilot.press("c")
        await pilot.pause()
        assert app.clipboard == demo.model.assist_prompt_for(demo.model.assist("A1.2"))


async def test_deliverables_screen_filters_and_steps(demo):
    app = _app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("D")
        await pilot.pause()
        table = app.screen.query_one("#register", VimTable)
        assert table.row_count == 39
        app.screen.query_one("#filter-status", Select).value = "draft"
        await pilot.pause()
        assert table.row_count == 4  # D2.4, D2.5, D3.1, D3.6
        app.screen.query_one("#filter-phase", Select).value = "2"
        await pilot.pause()
        assert [str(table.get_row_at(i)[0]) for i in range(table.row_count)] == ["D2.4", "D2.5"]
        table.select_key("D2.5")
        await pilot.press("s")
        await pilot.pause()
        assert _reopen(demo).deliverable_state("D2.5").status == "in_review"
        assert table.row_count == 1  # it left the "draft" filter
        await pilot.press("escape")
        await pilot.pause()
        assert table.row_count == 39


async def test_keys_on_an_empty_list_explain_instead_of_failing(demo):
    app = _app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("D")
        await pilot.pause()
        app.screen.query_one("#filter-owner", Select).value = "Chen Li"
        app.screen.query_one("#filter-status", Select).value = "draft"
        await pilot.pause()
        assert app.screen.query_one("#register", VimTable).row_count == 0
        before = demo.tracker.activity_count()
        await pilot.press("s", "b", "x", "o", "c", "enter", "j", "G")
        await pilot.pause()
        assert app.screen.query_one("#register", VimTable).row_count == 0
        assert _reopen(demo).tracker.activity_count() == before
        assert app.is_running


async def test_a_refused_change_is_a_message_not_a_crash(demo):
    app = _app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("D")
        await pilot.pause()
        app.screen.query_one("#register", VimTable).select_key("D1.1")
        await pilot.press("s")  # approved has no step forward
        await pilot.pause()
        assert any("already approved" in n.message for n in app._notifications)
        assert app.is_running


async def test_report_preview_and_write(demo):
    app = _app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("r")
        await pilot.pause()
        await app.workers.wait_for_complete()  # the report streams in section by section
        await pilot.pause()
        text = app.screen.markdown_text
        assert text.startswith("# retail-events — status report")
        markdown = app.screen.query_one(Markdown)
        assert "Phase 7: Maintenance & Evolution" in markdown.source
        await pilot.press("w")
        await pilot.pause()
        written = demo.root / "docs" / "reports" / "status-2026-11-27.md"
        assert written.read_text() == text


async def test_help_lists_every_binding_of_the_screen(demo):
    app = _app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("p")
        await pilot.pause()
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        actions = {row[1] for row in app.screen.rows}
        for expected in (
            "Done/undo",
            "N/A",
            "Owner",
            "Due",
            "Note",
            "Copy",
            "Prev phase",
            "Dashboard",
            "Report",
            "Quit",
            "Down",
        ):
            assert expected in actions
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, PhaseScreen)


async def test_command_palette_offers_every_bound_action(demo):
    app = _app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("p")
        await pilot.pause()
        titles = {command.title for command in app.get_system_commands(app.screen)}
        for expected in (
            "Done/undo",
            "N/A",
            "Owner",
            "Due",
            "Note",
            "Status ▶",
            "Dashboard",
            "Deliverables",
            "Report",
            "Help",
        ):
            assert expected in titles
        assert "Open phase 5: Integration & Testing" in titles
        command = next(c for c in app.get_system_commands(app.screen) if c.title == "Deliverables")
        app.call_later(command.callback)
        await pilot.pause()
        assert app.current_mode == "deliverables"


@pytest.mark.parametrize("key", ["h", "l", "left_square_bracket", "right_square_bracket"])
async def test_phase_switching_keys(demo, key):
    app = _app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4")
        await pilot.pause()
        await pilot.press(key)
        await pilot.pause()
        expected = {"h": "4", "l": "4", "left_square_bracket": "3", "right_square_bracket": "5"}[
            key
        ]
        assert app.screen.phase_id == expected


async def test_a_tracker_that_cannot_be_read_is_a_message_not_a_crash(demo, monkeypatch):
    import sqlite3

    app = _app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        real = demo.tracker._conn

        class Broken:
            def execute(self, *args):
                raise sqlite3.DatabaseError("database disk image is malformed")

            def __getattr__(self, name):
                return getattr(real, name)

        monkeypatch.setattr(demo.tracker, "_conn", Broken())
        await pilot.press("D")
        await pilot.pause()
        assert app.is_running
        messages = [n.message for n in app._notifications]
        assert any("tracker.db: database disk image is malformed" in m for m in messages)


async def test_user_text_is_shown_literally_not_as_markup(project):
    project.set_item("1.1.1", owner="[bold]Ann[/]", note="[/unbalanced] and [red]")
    project.set_deliverable("D1.1", owner="[/oops]")
    app = _app(project)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("1")
        await pilot.pause()
        checklist = app.screen.query_one("#checklist", VimTable)
        row = checklist.get_row("1.1.1")
        assert str(row[3]) == "[bold]Ann[/]"
        await pilot.press("D")
        await pilot.pause()
        register = app.screen.query_one("#register", VimTable)
        assert str(register.get_row("D1.1")[4]) == "[/oops]"
        assert app.is_running


async def test_the_key_bar_shows_the_screens_keys_and_runs_a_clicked_one(demo):
    from tui.keybar import KeyBar

    app = _app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await pilot.pause()
        bar = app.screen.query_one(KeyBar)
        text = str(bar.render())
        for label in (
            "space Done/undo",
            "x N/A",
            "d Dashboard",
            "r Report",
            "? Help",
            "^p Commands",
        ):
            assert label in text
        x = text.index(" r Report") + 2
        await pilot.click(KeyBar, offset=(x, 0))
        await pilot.pause()
        assert app.current_mode == "report"


async def test_changes_from_another_process_show_up_without_a_key_press(demo, monkeypatch):
    import tui.app

    monkeypatch.setattr(tui.app, "WATCH_SECONDS", 0.1)
    app = _app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3")
        await pilot.pause()
        checklist = app.screen.query_one("#checklist", VimTable)
        assert str(checklist.get_row("3.1.9")[0]) == "☐"
        other = _reopen(demo)  # a second connection, as `phasegate item set` would use
        other.set_item("3.1.9", status="done")
        other.close()
        await pilot.pause(0.5)
        assert str(checklist.get_row("3.1.9")[0]) == "☑"
