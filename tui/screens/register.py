"""The deliverables register: all deliverables of all phases, filtered by phase, status, owner."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Header, Select

from deliverables.statuses import DELIVERABLE_STATUSES, STATUS_LABELS
from tui.format import status_text, when, who
from tui.keybar import KeyBar
from tui.screens.base import STYLES, ProjectScreen
from tui.widgets import Label, VimTable

NOBODY = "__nobody__"


class DeliverablesScreen(ProjectScreen):
    CSS_PATH = STYLES / "register.tcss"
    AUTO_FOCUS = "#register"
    BINDINGS = [
        Binding("s", "step(True)", "Status ▶", id="deliverables.step_forward"),
        Binding("b", "step(False)", "Status ◀", id="deliverables.step_back"),
        Binding("x", "not_applicable", "N/A", id="deliverables.not_applicable"),
        Binding("o", "owner", "Owner", id="deliverables.owner"),
        Binding("c", "copy_path", "Copy path", id="deliverables.copy_path"),
        Binding("f", "focus_filters", "Filter", id="deliverables.focus_filters"),
        Binding(
            "escape", "clear_filters", "Clear filters", show=False, id="deliverables.clear_filters"
        ),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._owners: list[str] | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="filters"):
            yield Select([], prompt="Any phase", id="filter-phase")
            yield Select(
                [(STATUS_LABELS[s], s) for s in DELIVERABLE_STATUSES],
                prompt="Any status",
                id="filter-status",
            )
            yield Select([], prompt="Anyone", id="filter-owner")
            yield Label("", id="register-count", classes="dim")
        yield VimTable(id="register")
        yield Label("", id="register-detail")
        yield KeyBar()

    def on_mount(self) -> None:
        table = self.query_one("#register", VimTable)
        for label, key in (
            ("ID", "id"),
            ("Phase", "phase"),
            ("Deliverable", "title"),
            ("Status", "status"),
            ("Owner", "owner"),
            ("Path", "path"),
            ("Last change", "updated"),
        ):
            table.add_column(label, key=key)
        self.query_one("#filter-phase", Select).set_options(
            (f"{p.id}. {p.title}", p.id) for p in self.project.model.phases
        )
        table.focus()

    def reload(self) -> None:
        project = self.project
        self.title = f"phasegate · {project.name}"
        self.sub_title = "deliverables"
        states = project.deliverable_states()
        owners = sorted({s.owner for s in states.values() if s.owner})
        owner_select = self.query_one("#filter-owner", Select)
        chosen_owner = owner_select.value
        if owners != self._owners:
            # new owners appeared: refresh the choices without re-triggering this reload
            self._owners = owners
            with self.prevent(Select.Changed):
                owner_select.set_options([(o, o) for o in owners] + [("(no owner)", NOBODY)])
                if chosen_owner in owners or chosen_owner == NOBODY:
                    owner_select.value = chosen_owner
                else:
                    chosen_owner = Select.NULL

        phase_f = self.query_one("#filter-phase", Select).value
        status_f = self.query_one("#filter-status", Select).value
        table = self.query_one("#register", VimTable)
        keep = table.current_key
        table.clear()
        shown = 0
        for d in project.model.deliverables:
            state = states.get(d.id)
            status = state.status if state else "missing"
            owner = state.owner if state else None
            if phase_f is not Select.NULL and d.phase_id != phase_f:
                continue
            if status_f is not Select.NULL and status != status_f:
                continue
            if chosen_owner is not Select.NULL and (owner or NOBODY) != chosen_owner:
                continue
            shown += 1
            table.add_row(
                d.id,
                d.phase_id,
                d.title,
                status_text(status),
                owner or "—",
                project.deliverable_path(d, state) if state else d.path,
                f"{when(state.updated_at)} {who(state.updated_by)}"
                if state and state.updated_at
                else Text("—", style="dim"),
                key=d.id,
            )
        if keep:
            table.select_key(keep)
        total = len(project.model.deliverables)
        approved = sum(1 for s in states.values() if s.status == "approved")
        self.query_one("#register-count", Label).update(
            f"{shown} of {total} shown · {approved} approved"
        )
        self._show_detail()

    def on_select_changed(self, event: Select.Changed) -> None:
        self.reload()

    def on_data_table_row_highlighted(self, event: VimTable.RowHighlighted) -> None:
        self._show_detail()

    def _show_detail(self) -> None:
        key = self.query_one("#register", VimTable).current_key
        label = self.query_one("#register-detail", Label)
        if not key:
            label.update(
                Text("No deliverable matches these filters (Escape clears them).", style="dim")
            )
            return
        d, state = self.project.deliverable(key), self.project.deliverable_state(key)
        text = Text(f"{d.id} {d.title}: ", style="bold")
        text.append_text(status_text(state.status))
        if state.reason:
            text.append(f" — {state.reason}", style="italic")
        if d.parts:
            text.append("  parts: " + ", ".join(p.path for p in d.parts), style="dim")
        text.append("   enter: choose status", style="dim")
        label.update(text)

    def _current(self) -> str | None:
        key = self.query_one("#register", VimTable).current_key
        if key is None:
            self.notify("No deliverable is selected.", severity="warning")
        return key

    def on_data_table_row_selected(self, event: VimTable.RowSelected) -> None:
        if event.row_key.value:
            self.prompt_deliverable_status(event.row_key.value)

    def action_step(self, forward: bool) -> None:
        key = self._current()
        if key and self.change(lambda: self.project.step_deliverable(key, forward)):
            self.notify(
                f"{key}: {STATUS_LABELS[self.project.deliverable_state(key).status]}", timeout=2
            )

    def action_not_applicable(self) -> None:
        key = self._current()
        if key:
            self.prompt_deliverable_reason(key)

    def action_owner(self) -> None:
        key = self._current()
        if key:
            self.prompt_deliverable_owner(key)

    def action_copy_path(self) -> None:
        key = self._current()
        if key:
            path = self.project.deliverable_path(self.project.deliverable(key))
            self.app.copy_to_clipboard(path)
            self.notify(f"Copied {path}", timeout=2)

    def action_focus_filters(self) -> None:
        self.query_one("#filter-phase", Select).focus()

    def action_clear_filters(self) -> None:
        """Escape clears every filter: the choices above the table and the `/` text."""
        self.action_clear_filter()
        with self.prevent(Select.Changed):
            for select in self.query(Select):
                select.clear()
        self.query_one("#register", VimTable).focus()
        self.reload()
