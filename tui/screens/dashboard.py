"""The dashboard: every phase with its progress, the items due next, the recent activity."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Header

from deliverables.templating import describe_event
from tui.format import bar, due_text, short_name, status_text, tone, when
from tui.keybar import KeyBar
from tui.screens.base import ProjectScreen
from tui.widgets import LogPanel, VimTable

ACTIVITY_ROWS = 30


class DashboardScreen(ProjectScreen):
    AUTO_FOCUS = "#phases"

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal():
            with Vertical(id="dash-left"):
                yield VimTable(id="phases", classes="panel")
                yield VimTable(id="due", classes="panel")
            with VerticalScroll(id="activity", classes="panel"):
                yield LogPanel(id="activity-log")
        yield KeyBar()

    def on_mount(self) -> None:
        phases = self.query_one("#phases", VimTable)
        phases.border_title = "Phases"
        phases.add_column("", key="mark", width=1)
        phases.add_column("Phase", key="phase")
        phases.add_column("Progress", key="progress")
        phases.add_column("Items", key="items")
        phases.add_column("Deliv.", key="deliverables")
        phases.add_column("Status", key="status")
        due = self.query_one("#due", VimTable)
        due.border_title = "Due next"
        due.add_column("Due", key="due")
        due.add_column("Item", key="item")
        due.add_column("Owner", key="owner")
        self.query_one("#activity").border_title = "Recent activity"
        # the rows come from reload(), which on_screen_resume runs before the first paint

    def reload(self) -> None:
        project = self.project
        items, delivs = project.item_states(), project.deliverable_states()
        gates = project.gate_states()
        current = project.current_phase(items, delivs, gates)
        self.title = f"phasegate · {project.name}"
        self.sub_title = f"current phase {current.id}. {current.title}"

        phases = self.query_one("#phases", VimTable)
        keep = phases.current_key
        phases.clear()
        for phase in project.model.phases:
            progress = project.progress(phase, items, delivs)
            phases.add_row(
                Text("▶", style="bold") if phase is current else "",
                f"{phase.id}. {phase.title}",
                bar(progress.fraction, 16),
                f"{progress.items_done}/{progress.items_total}",
                f"{progress.deliverables_done}/{progress.deliverables_total}",
                status_text(project.phase_status(phase, items, delivs, gates)),
                key=phase.id,
            )
        phases.select_key(keep or current.id)
        total_items = sum(1 for i in project.model.items if not i.optional)
        done_items = sum(
            1
            for i in project.model.items
            if not i.optional and items.get(i.id) and items[i.id].status != "todo"
        )
        approved = sum(1 for s in delivs.values() if s.status == "approved")
        phases.border_subtitle = (
            f"{done_items}/{total_items} items closed · {approved}/{len(project.model.deliverables)} "
            "deliverables approved · enter opens a phase"
        )

        due = self.query_one("#due", VimTable)
        due.clear()
        today = project.today()
        for entry in project.due_items(12, items):
            due.add_row(
                due_text(entry.state.due, today),
                f"{entry.item.id} {entry.item.text}",
                entry.state.owner or "—",
                key=entry.item.id,
            )
        if not due.row_count:
            due.add_row(
                Text("—", style="dim"), Text("No open item has a due date", style="dim"), "", key=""
            )

        # A log, not a table: one Text renders ~10x faster than a DataTable's cells.
        events = project.tracker.activity(ACTIVITY_ROWS)
        width = max((len(short_name(e.actor)) for e in events), default=0)
        lines = []
        for event in events:
            line = Text(when(event.at)[5:], style="dim")
            line.append(f"  {short_name(event.actor):<{width}}  ", style="bold")
            line.append(f"{event.subject} ", style=tone("info"))
            line.append(describe_event(event))
            lines.append(line)
        self.query_one("#activity-log", LogPanel).show_lines(
            lines, Text("No activity yet: changes show up here as they happen.", style="dim")
        )

    def on_data_table_row_selected(self, event: VimTable.RowSelected) -> None:
        key = event.row_key.value or ""
        if event.data_table.id == "phases":
            self.app.show_phase(key)  # type: ignore[attr-defined]
        elif event.data_table.id == "due" and key:
            self.open_subject(key)

    def open_subject(self, subject: str) -> None:
        """Opens the phase of an item or deliverable with the cursor on it."""
        model = self.project.model
        found = model.item(subject) or model.deliverable(subject)
        if found is not None:
            self.app.show_phase(found.phase_id, focus=found.id)  # type: ignore[attr-defined]
