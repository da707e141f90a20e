"""`?`: every key that works on the screen it was opened from, read from the live bindings."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Label

from tui.widgets import VimTable


def binding_rows(screen: Screen) -> list[tuple[str, str, str]]:
    """(keys, what it does, where) for every binding active on `screen`, app-wide ones included.

    Walks the same chain Textual uses to dispatch keys, so the list cannot drift from behaviour.
    """
    app = screen.app
    rows: dict[tuple[str, str], list[str]] = {}
    for node, bindings in screen._modal_binding_chain:
        for key, binding in bindings:
            description = binding.description or binding.action.replace("_", " ")
            where = (
                "everywhere"
                if node is app
                else ("this screen" if node is screen else type(node).__name__)
            )
            display = app.get_key_display(binding)
            entry = rows.setdefault((description, where), [])
            if display not in entry:
                entry.append(display)
            del key
    return [(" / ".join(keys), description, where) for (description, where), keys in rows.items()]


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("question_mark", "close", "Close", show=False),
        Binding("q", "close", "Close", show=False),
    ]

    def __init__(self, rows: list[tuple[str, str, str]]) -> None:
        super().__init__()
        self.rows = rows

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog help"):
            yield Label(
                "Keys  ·  ctrl+p opens the command palette with every action",
                classes="dialog-title",
            )
            yield VimTable(id="help-keys")
            yield Label(
                "Escape closes · the mouse works too: click rows, filters and footer keys",
                classes="dim",
            )

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Key", "Action", "Where")
        for row in self.rows:
            table.add_row(*row)
        table.focus()

    def action_close(self) -> None:
        self.dismiss(None)
