"""The TUI's conventions, driven by Pilot: the config file (keymap and theme, good and bad), the
theme's colours, the `/` filter, the help's grouping of the case-pair keys."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from rich.style import Style
from textual.binding import Binding
from textual.color import Color

from deliverables import Project
from tests.conftest import fixed_clock
from tui import format
from tui.app import SCREENS, PhasegateApp, binding_ids
from tui.config import config_path, load_settings
from tui.screens.help import GO, HelpScreen
from tui.widgets import LogPanel, VimTable

SIZE = (150, 45)


@pytest.fixture
def config(tmp_path, monkeypatch) -> Path:
    """The user's config.toml, in a config home of this test's own."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config-home"))
    path = config_path()
    assert path == tmp_path / "config-home" / "phasegate" / "config.toml"
    path.parent.mkdir(parents=True)
    return path


def _messages(app) -> list[str]:
    return [n.message for n in app._notifications]


# --- binding ids and the keymap ---------------------------------------------------------------


def test_every_binding_has_an_id_for_the_keymap():
    from tui.dialogs import ChoicePrompt, TextPrompt
    from tui.screens.dashboard import DashboardScreen

    classes = [PhasegateApp, DashboardScreen, VimTable, TextPrompt, ChoicePrompt, HelpScreen]
    classes += [getattr(importlib.import_module(m), n) for m, n in SCREENS.values()]
    missing = [
        f"{cls.__name__}: {binding.key}"
        for cls in classes
        for binding in cls.__dict__.get("BINDINGS", [])
        if not (isinstance(binding, Binding) and binding.id)
    ]
    assert missing == []
    assert {"go.deliverables", "phase.toggle", "table.cursor_down", "screen.filter"} <= (
        binding_ids()
    )


async def test_a_keymap_in_the_config_file_remaps_keys(config, demo):
    config.write_text(
        '[keymap]\n"go.deliverables" = "ctrl+d"\n"phase.toggle" = "t, space"\n', encoding="utf-8"
    )
    app = PhasegateApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert _messages(app) == []
        await pilot.press("D")  # no longer bound
        await pilot.pause()
        assert app.current_mode == "dashboard"
        await pilot.press("ctrl+d")
        await pilot.pause()
        assert app.current_mode == "deliverables"
        await pilot.press("2")
        await pilot.pause()
        app.screen.query_one("#checklist", VimTable).select_key("2.3.3")
        await pilot.press("t")  # t toggles here: the screen's binding comes before My day's
        await pilot.pause()
        assert demo.item_state("2.3.3").status == "done"
        await pilot.press("question_mark")
        await pilot.pause()
        rows = {row.binding_id: row.keys for row in app.screen.rows}
        assert rows["go.deliverables"] == "^d"
        assert rows["phase.toggle"] == "t / space"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("theme = 'textual-light\n", 'not valid TOML (Expected "\'"'),
        ("[keymap\n", "not valid TOML"),
        ("theme = 3\n", "theme must be the name of a theme"),
        ('theme = "no-such-theme"\n', "theme 'no-such-theme' is not a theme; choose one of"),
        ('colour = "red"\n', "unknown key 'colour'"),
        ('keymap = "ctrl+d"\n', "keymap must be a table"),
        ('[keymap]\n"go.report" = 3\n', 'keymap."go.report" must be keys'),
        ('[keymap]\n"go.report" = "r,,x"\n', 'keymap."go.report" must be keys'),
        ('[keymap]\n"go.reprot" = "ctrl+r"\n', 'keymap."go.reprot" is not a binding id'),
        (b"theme = \xff\n", "not valid TOML"),
    ],
)
async def test_a_bad_config_file_is_a_message_naming_file_and_key(config, demo, text, expected):
    if isinstance(text, bytes):
        config.write_bytes(text)
    else:
        config.write_text(text, encoding="utf-8")
    app = PhasegateApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.pause()
        messages = _messages(app)
        assert any(m.startswith(f"{config}: ") and expected in m for m in messages), messages
        assert app.theme == "textual-dark"  # the defaults stand for what the file got wrong
        await pilot.press("D")
        await pilot.pause()
        assert app.current_mode == "deliverables" and app.is_running


def test_a_config_that_cannot_be_read_is_a_message(config):
    config.mkdir()  # a folder where the file should be: reading it fails, even for root
    problems = load_settings().problems
    assert len(problems) == 1 and problems[0].startswith(f"{config}: cannot be read")


# --- the theme --------------------------------------------------------------------------------


async def test_the_chosen_theme_is_remembered_in_the_config_file(config, demo):
    config.write_text('# my settings\n\n[keymap]\n"go.report" = "ctrl+r"\n', encoding="utf-8")
    app = PhasegateApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.theme = "textual-light"  # what the command palette's "Change theme" does
        await pilot.pause()
        await pilot.pause()
    text = config.read_text(encoding="utf-8")
    assert text.startswith('theme = "textual-light"\n')
    assert '# my settings\n\n[keymap]\n"go.report" = "ctrl+r"\n' in text  # the rest is kept
    app = PhasegateApp(Project.open(demo.root, clock=fixed_clock))  # the next start
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.theme == "textual-light"
        assert _messages(app) == []


def _contrast(one: Color, other: Color) -> float:
    """WCAG contrast ratio of two colours."""

    def luminance(c: Color) -> float:
        def channel(v: int) -> float:
            v /= 255
            return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

        return 0.2126 * channel(c.r) + 0.7152 * channel(c.g) + 0.0722 * channel(c.b)

    high, low = sorted((luminance(one), luminance(other)), reverse=True)
    return (high + 0.05) / (low + 0.05)


async def _status_colour(app, pilot) -> tuple[str, str]:
    """The colour of the dashboard's "passed" status cell, and the theme's $text-success."""
    await pilot.pause()
    cell = app.screen.query_one("#phases", VimTable).get_row("1")[5]
    assert str(cell) == "passed"
    colour = Style.parse(str(cell.style)).color.triplet.hex.upper()
    return colour, app.get_css_variables()["text-success"].upper()


@pytest.mark.parametrize("theme", ["textual-dark", "textual-light"])
async def test_colours_come_from_the_theme_and_read_well_on_it(config, demo, theme):
    config.write_text(f'theme = "{theme}"\n', encoding="utf-8")
    app = PhasegateApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        colour, success = await _status_colour(app, pilot)
        assert colour == success
        variables = app.get_css_variables()
        background = Color.parse(variables["background"])
        for tone in format.TONE_VARIABLES:
            value = format.tone(tone)
            assert value == variables[format.TONE_VARIABLES[tone]]
            assert _contrast(Color.parse(value), background) >= 3.0, (theme, tone, value)


async def test_switching_the_theme_recolours_the_screen_on_view(config, demo):
    app = PhasegateApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        dark, _ = await _status_colour(app, pilot)
        app.theme = "textual-light"
        await pilot.pause()
        await pilot.pause()
        light, success = await _status_colour(app, pilot)
        assert light == success != dark


# --- `/` filters the table in focus -----------------------------------------------------------


async def test_slash_filters_the_checklist_and_escape_clears(demo):
    app = PhasegateApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3")
        await pilot.pause()
        checklist = app.screen.query_one("#checklist", VimTable)
        total = checklist.row_count
        await pilot.press("slash", *"linting")
        await pilot.pause()
        assert [checklist.get_row_at(i)[1].plain for i in range(checklist.row_count)] == ["3.2.2"]
        assert "1 of" in str(app.screen.query_one("#filter-label").render())
        await pilot.press("enter")  # keeps the filter, back on the table
        await pilot.pause()
        assert app.screen.focused is checklist
        await pilot.press("space")  # a change reloads the table: the filter stays
        await pilot.pause()
        assert demo.item_state("3.2.2").status == "done"
        assert checklist.row_count == 1
        await pilot.press("escape")
        await pilot.pause()
        assert checklist.row_count == total
        assert not app.screen.query_one("FilterBar").has_class("-shown")


async def test_slash_filters_the_deliverables_register_and_the_activity_log(demo):
    app = PhasegateApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("tab", "tab")  # phases -> due -> activity
        await pilot.pause()
        log = app.screen.query_one("#activity-log", LogPanel)
        assert app.screen.focused.id == "activity"
        await pilot.press("slash", *"dana w.")
        await pilot.pause()
        lines = str(log.render()).splitlines()
        assert lines and all("Dana W." in line for line in lines)
        await pilot.press(*"xyz")
        await pilot.pause()
        assert "No line matches" in str(log.render())
        await pilot.press("escape")
        await pilot.pause()
        assert len(str(log.render()).splitlines()) == 30
        # the register: escape clears the `/` text and the choices above the table at once
        await pilot.press("D")
        await pilot.pause()
        register = app.screen.query_one("#register", VimTable)
        await pilot.press("slash", *"d2.", "enter")
        await pilot.pause()
        assert register.row_count == len(demo.model.phase("2").deliverables)
        await pilot.press("escape")
        await pilot.pause()
        assert register.row_count == 39


async def test_slash_filters_the_validation_runs(demo):
    tracker = demo.tracker
    for tier, status in (("static", "failed"), ("full", "passed"), ("static", "passed")):
        run_id = tracker.start_run(tier, ["pos_orders"], "0" * 40, False)
        tracker.finish_run(run_id, status, f"1 pipeline, {status}", {})
    app = PhasegateApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("V")
        await pilot.pause()
        runs = app.screen.query_one("#val-runs", VimTable)
        runs.focus()
        await pilot.pause()
        assert runs.row_count == 3
        await pilot.press("slash", *"full", "enter")
        await pilot.pause()
        assert [str(runs.get_row_at(i)[2]) for i in range(runs.row_count)] == ["full"]
        await pilot.press("escape")
        await pilot.pause()
        assert runs.row_count == 3


async def test_slash_without_a_table_in_focus_explains(demo):
    app = PhasegateApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("r")  # the report: markdown, no table
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.current_mode == "report"
        await pilot.press("slash")
        await pilot.pause()
        assert any("/ filters a table or a log" in m for m in _messages(app))


# --- the help groups the case-pair keys -------------------------------------------------------


async def test_help_groups_and_explains_the_case_pairs(demo):
    app = PhasegateApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        go = [row for row in app.screen.rows if row.section == GO]
        keys = [row.keys for row in go]
        for lower, upper, first, second in (
            ("d", "D", "Dashboard", "Deliverables"),
            ("p", "P", "Phase", "Pipelines"),
            ("r", "R", "Report", "Gates"),
            ("t", "T", "My day", "Prompts"),
        ):
            at = keys.index(lower)
            assert keys[at + 1] == upper  # side by side
            assert (go[at].action, go[at + 1].action) == (first, second)
            assert go[at + 1].note == f"shift+{lower} ({lower} alone: {first})"
        table = app.screen.query_one(VimTable)
        titles = [str(table.get_row_at(i)[1]) for i in range(table.row_count)]
        at = titles.index(GO)
        assert "d/D, p/P, r/R, t/T: two screens each" in str(table.get_row_at(at)[3])


def test_the_tui_uses_no_private_textual_binding_api():
    root = Path(__file__).resolve().parents[1] / "tui"
    offenders = [
        str(path)
        for path in root.rglob("*.py")
        if "_modal_binding_chain" in path.read_text(encoding="utf-8")
    ]
    assert offenders == []
