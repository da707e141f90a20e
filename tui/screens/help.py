"""`?`: every key that works on the screen it was opened from, grouped, read from the live
bindings (so a key remapped in the config file shows as remapped), with each binding's id for
the keymap.

The keys that open screens come in lower/upper-case pairs (d Dashboard, D Deliverables): the
"Go to a screen" group shows each pair on adjacent rows and says that shift opens the other one.
"""

from __future__ import annotations

from typing import NamedTuple

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable

from tui.widgets import Label, VimTable

SCREEN, TABLES, GO, EVERYWHERE = "This screen", "Tables", "Go to a screen", "Everywhere"
SECTIONS = (SCREEN, GO, TABLES, EVERYWHERE)


class HelpRow(NamedTuple):
    keys: str
    action: str
    binding_id: str
    note: str
    section: str


def help_rows(screen: Screen) -> list[HelpRow]:
    """The rows of the help for `screen`, section by section (see SECTIONS).

    Reads `screen.active_bindings`, the map Textual dispatches keys with: what it lists is what
    the keys do, remapped or not.
    """
    app = screen.app
    merged: dict[tuple[str, str], tuple[list[str], Binding]] = {}
    phase_keys: list[str] = []
    for active in screen.active_bindings.values():
        node, binding = active.node, active.binding
        display = app.get_key_display(binding)
        if (binding.id or "").startswith("go.phase_"):
            phase_keys.append(display)
            continue
        section = (
            (GO if (binding.id or "").startswith("go.") else EVERYWHERE)
            if node is app
            else SCREEN
            if node is screen
            else TABLES
            if isinstance(node, DataTable)
            else type(node).__name__
        )
        description = binding.description or binding.action.replace("_", " ")
        keys, _ = merged.setdefault((section, description), ([], binding))
        if display not in keys:
            keys.append(display)
    rows = [
        HelpRow(" / ".join(keys), description, binding.id or "", "", section)
        for (section, description), (keys, binding) in merged.items()
    ]
    if phase_keys:
        rows.append(
            HelpRow(f"{phase_keys[0]}…{phase_keys[-1]}", "Open phase N", "go.phase_N", "", GO)
        )
    return _with_pairs_explained(sorted(rows, key=_order))


def _order(row: HelpRow) -> tuple[int, str, bool]:
    section = SECTIONS.index(row.section) if row.section in SECTIONS else len(SECTIONS)
    # in "Go to a screen", d sits above D: sorted by the letter, lower case first
    return (section, row.keys.lower() if row.section == GO else "", row.keys.isupper())


def _with_pairs_explained(rows: list[HelpRow]) -> list[HelpRow]:
    """Notes, on each upper-case screen key, which lower-case key opens the other screen."""
    lower = {row.keys: row for row in rows if row.section == GO and row.keys.islower()}
    explained = []
    for row in rows:
        pair = lower.get(row.keys.lower()) if row.section == GO and row.keys.isupper() else None
        if pair is not None:
            row = row._replace(note=f"shift+{pair.keys} ({pair.keys} alone: {pair.action})")
        explained.append(row)
    return explained


def pairs_note(rows: list[HelpRow]) -> str:
    """What the "Go to a screen" title says of the case pairs, e.g. "d/D, p/P: two screens..."."""
    pairs = [f"{row.keys.lower()}/{row.keys}" for row in rows if row.note.startswith("shift+")]
    if not pairs:
        return ""
    return f"{', '.join(pairs)}: two screens each, shift opens the second"


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,question_mark,q", "close", "Close", id="help.close")]

    def __init__(self, rows: list[HelpRow]) -> None:
        super().__init__()
        self.rows = rows

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog help"):
            yield Label(
                "Keys  ·  / filters the table in focus  ·  ctrl+p lists every action  ·  "
                "remap a key by its id in config.toml",
                classes="dialog-title",
            )
            yield VimTable(id="help-keys")
            yield Label(
                "Escape closes · the mouse works too: click rows, filters and footer keys",
                classes="dim",
            )

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Key", "Action", "Id", "Note")
        section = None
        for n, row in enumerate(self.rows):
            if row.section != section:
                section = row.section
                note = pairs_note(self.rows) if section == GO else ""
                table.add_row("", Text(section, style="bold"), "", Text(note, style="dim"))
            table.add_row(
                row.keys, row.action, Text(row.binding_id, style="dim"), row.note, key=str(n)
            )
        table.move_cursor(row=1)  # the first key, below its section's title
        table.focus()

    def action_close(self) -> None:
        self.dismiss(None)
