"""Modal dialogs: one line of text, or one of a few choices. Imported on first use."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList
from textual.widgets.option_list import Option

from tui.widgets import Label, shown


class TextPrompt(ModalScreen[str | None]):
    """Asks for one line of text. Enter submits, Escape cancels (returns None).

    `check` returns an error message for a bad value, shown without closing the prompt.
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="dialog.cancel")]

    def __init__(
        self,
        title: str,
        value: str = "",
        placeholder: str = "",
        check: Callable[[str], str | None] | None = None,
    ) -> None:
        super().__init__()
        self._title, self._value, self._placeholder, self._check = title, value, placeholder, check

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self._title, classes="dialog-title")
            # a value stored before the input checks is offered with its controls as escapes
            yield Input(value=shown(self._value), placeholder=self._placeholder, id="prompt-input")
            yield Label("", id="prompt-error", classes="error")
            yield Label("Enter to save · Escape to cancel", classes="dim")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        problem = self._check(event.value) if self._check else None
        if problem:
            self.query_one("#prompt-error", Label).update(problem)
            return
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ChoicePrompt(ModalScreen[str | None]):
    """Picks one of a few choices: [(value, label)]."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="dialog.cancel"),
        Binding("j", "down", show=False, id="dialog.down"),
        Binding("k", "up", show=False, id="dialog.up"),
    ]

    def __init__(self, title: str, choices: Iterable[tuple[str, str]]) -> None:
        super().__init__()
        self._title, self._choices = title, list(choices)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self._title, classes="dialog-title")
            yield OptionList(
                *(Option(label, id=value) for value, label in self._choices), id="choices"
            )
            yield Label("Enter to choose · Escape to cancel", classes="dim")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)

    def action_down(self) -> None:
        self.query_one(OptionList).action_cursor_down()

    def action_up(self) -> None:
        self.query_one(OptionList).action_cursor_up()

    def action_cancel(self) -> None:
        self.dismiss(None)
