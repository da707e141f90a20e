"""What every phasegate screen shares: the project, safe writes, prompts for values."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from textual.binding import Binding
from textual.screen import Screen
from textual.widget import Widget
from textual.worker import Worker, WorkerState

from deliverables import Project, TrackerError
from deliverables.project import parse_due
from deliverables.statuses import DELIVERABLE_FLOW, STATUS_LABELS
from tui.widgets import FilterBar, shown

if TYPE_CHECKING:
    from textual.widgets import Input

# each screen's own CSS, read when the screen is first shown (tui/phasegate.tcss: the shared part)
STYLES = Path(__file__).resolve().parents[1] / "styles"


class ProjectScreen(Screen):
    """A screen that shows part of the project and reloads it whenever it comes back into view,
    so changes made elsewhere (another screen, the CLI, a teammate's process) show up.

    `/` filters the table or log in focus (lazygit, gh-dash): the rows narrow as you type,
    enter keeps the filter and goes back to the table, escape clears it."""

    BINDINGS = [
        Binding("slash", "filter", "Filter rows", show=False, id="screen.filter"),
        Binding("escape", "clear_filter", "Clear filter", show=False, id="screen.clear_filter"),
    ]
    _filtered: Widget | None = None  # the table or log the filter bar is on

    @property
    def project(self) -> Project:
        return self.app.project  # type: ignore[attr-defined]

    def on_screen_resume(self) -> None:
        self.safe_reload()

    # the header shows these: the project's name, a phase's title, ... (Textual calls validate_*)
    def validate_title(self, title: str | None) -> str | None:
        return shown(title)

    def validate_sub_title(self, sub_title: str | None) -> str | None:
        return shown(sub_title)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one place a failed background job is shown: as a message, never a traceback.
        (Worker messages do not bubble, so every screen that starts workers needs this.)"""
        if event.state == WorkerState.ERROR:
            error = event.worker.error
            self.notify(
                f"{type(error).__name__}: {error}",
                title=f"{event.worker.name or 'background job'} failed",
                severity="error",
                timeout=10,
            )

    # --- `/`: filter the table in focus --------------------------------------------------------

    async def action_filter(self) -> None:
        target = _filterable(self.focused)
        if target is None:
            self.notify("/ filters a table or a log: move to one first (tab).", severity="warning")
            return
        self._filtered = target
        if not self.query(FilterBar):  # made on first use: start-up composes less
            await self.mount(FilterBar())
        from textual.widgets import Input

        bar = self._filter_bar()
        bar.add_class("-shown")
        field = bar.query_one(Input)
        with field.prevent(Input.Changed):
            field.value = target.filter_text  # type: ignore[attr-defined]
        field.focus()

    def action_clear_filter(self) -> None:
        target = self._filtered
        if target is None:
            return
        self._filtered = None
        target.filter_rows("")  # type: ignore[attr-defined]
        self._filter_bar().remove_class("-shown")
        target.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        from tui.widgets import Label

        if event.input.id == "filter-input" and self._filtered is not None:
            event.stop()
            shown, total = self._filtered.filter_rows(event.value)  # type: ignore[attr-defined]
            label = f"/ {shown} of {total}" if event.value.strip() else "/"
            self._filter_bar().query_one(Label).update(label)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "filter-input" and self._filtered is not None:
            event.stop()
            if not event.value.strip():
                self.action_clear_filter()
            else:
                self._filtered.focus()

    def _filter_bar(self) -> FilterBar:
        return self.query_one(FilterBar)

    def safe_reload(self) -> None:
        """reload(), with a tracker that cannot be read shown as a message, not a crash."""
        try:
            self.reload()
        except TrackerError as exc:
            self.notify(str(exc), title="Cannot read the tracker", severity="error", timeout=10)

    def reload(self) -> None:  # pragma: no cover - every screen overrides it
        raise NotImplementedError

    def change(self, action: Callable[[], object], done: str | None = None) -> bool:
        """Runs one domain change; a refused change becomes a message, never a crash."""
        try:
            action()
        except TrackerError as exc:
            self.notify(str(exc), title="Not changed", severity="error", timeout=6)
            return False
        if done:
            self.notify(done, timeout=2)
        self.safe_reload()
        return True

    # --- prompts shared by the item and deliverable actions -------------------------------------

    def prompt_item_field(self, item_id: str, field: str) -> None:
        from tui.dialogs import TextPrompt

        state = self.project.item_state(item_id)
        if field == "owner":
            title, value, hint = f"Owner of {item_id}", state.owner or "", "a name; empty clears"
        elif field == "due":
            title, value, hint = (
                f"Due date of {item_id}",
                state.due or "",
                "YYYY-MM-DD; empty clears",
            )
        elif field == "note":
            title, value, hint = f"Note on {item_id}", state.note or "", "empty clears"
        else:
            title, value, hint = (
                f"Why is {item_id} not applicable?",
                state.reason or "",
                "a reason is required",
            )

        def check(text: str) -> str | None:
            try:
                if field == "due":
                    parse_due(text)
                if field == "reason" and not text.strip():
                    return "Not applicable needs a reason."
            except TrackerError as exc:
                return str(exc)
            return None

        def save(text: str | None) -> None:
            if text is None:
                return
            if field == "reason":
                self.change(
                    lambda: self.project.set_item(item_id, status="not_applicable", reason=text),
                    f"{item_id}: not applicable",
                )
            else:
                self.change(
                    lambda: self.project.set_item(item_id, **{field: text}),
                    f"{item_id}: {field} saved",
                )

        self.app.push_screen(TextPrompt(title, value, hint, check), save)

    def prompt_deliverable_owner(self, deliverable_id: str) -> None:
        from tui.dialogs import TextPrompt

        state = self.project.deliverable_state(deliverable_id)

        def save(text: str | None) -> None:
            if text is not None:
                self.change(
                    lambda: self.project.set_deliverable(deliverable_id, owner=text),
                    f"{deliverable_id}: owner saved",
                )

        self.app.push_screen(
            TextPrompt(f"Owner of {deliverable_id}", state.owner or "", "a name; empty clears"),
            save,
        )

    def prompt_deliverable_status(self, deliverable_id: str) -> None:
        from tui.dialogs import ChoicePrompt

        status = self.project.deliverable_state(deliverable_id).status
        choices = [(s, f"{STATUS_LABELS[s]}") for s in DELIVERABLE_FLOW[status]]

        def save(choice: str | None) -> None:
            if choice is None:
                return
            if choice == "not_applicable":
                self.prompt_deliverable_reason(deliverable_id)
            else:
                self.change(
                    lambda: self.project.set_deliverable(deliverable_id, status=choice),
                    f"{deliverable_id}: {STATUS_LABELS[choice]}",
                )

        self.app.push_screen(
            ChoicePrompt(f"{deliverable_id} is {STATUS_LABELS[status]}: move it to", choices), save
        )

    def prompt_deliverable_reason(self, deliverable_id: str) -> None:
        from tui.dialogs import TextPrompt

        def save(text: str | None) -> None:
            if text is not None:
                self.change(
                    lambda: self.project.set_deliverable(
                        deliverable_id, status="not_applicable", reason=text
                    ),
                    f"{deliverable_id}: not applicable",
                )

        def check(text: str) -> str | None:
            return None if text.strip() else "Not applicable needs a reason."

        self.app.push_screen(
            TextPrompt(
                f"Why is {deliverable_id} not applicable?", "", "a reason is required", check
            ),
            save,
        )


def _filterable(widget: Widget | None) -> Widget | None:
    """The table or log `/` filters: the focused widget, or the log inside a focused panel."""
    if widget is None:
        return None
    if hasattr(widget, "filter_rows"):
        return widget
    return next((child for child in widget.children if hasattr(child, "filter_rows")), None)
