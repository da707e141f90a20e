"""One phase: its sub-phases' checklists and assists, its deliverables, its gate criteria."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Header

from deliverables.gates import evaluate
from deliverables.statuses import STATUS_LABELS
from deliverables.templating import describe_event
from deliverables.validations import EVIDENCE, evidence
from phases import Phase
from tui.format import CRITERION_MARKS, bar, due_text, item_mark, status_text, tone, when, who
from tui.keybar import KeyBar
from tui.screens.base import STYLES, ProjectScreen
from tui.widgets import Label, Static, VimTable

ITEM_TEXT_WIDTH = 56


class PhaseScreen(ProjectScreen):
    CSS_PATH = STYLES / "phase.tcss"
    AUTO_FOCUS = "#checklist"
    BINDINGS = [
        Binding("space", "toggle", "Done/undo", id="phase.toggle"),
        Binding("x", "not_applicable", "N/A", id="phase.not_applicable"),
        Binding("o", "owner", "Owner", id="phase.owner"),
        Binding("u", "due", "Due", id="phase.due"),
        Binding("e", "note", "Note", id="phase.note"),
        Binding("s", "step(True)", "Status ▶", id="phase.step_forward"),
        Binding("b", "step(False)", "Status ◀", show=False, id="phase.step_back"),
        Binding("c", "copy", "Copy", id="phase.copy"),
        Binding("n", "new_document", "New document", id="phase.new_document"),
        Binding("E", "edit_document", "Edit in $EDITOR", id="phase.edit_document"),
        Binding(
            "left_square_bracket", "other_phase(-1)", "Prev phase", show=False, id="phase.previous"
        ),
        Binding(
            "right_square_bracket", "other_phase(1)", "Next phase", show=False, id="phase.next"
        ),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.phase_id = ""
        self._focus_on: str | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="phase-heading")
        with Horizontal():
            yield VimTable(id="checklist")
            with Vertical(id="phase-side"):
                yield Label("Deliverables", classes="section")
                yield VimTable(id="phase-deliverables")
                yield Label("Details", classes="section")
                with VerticalScroll(id="details-box"):
                    yield Static("", id="details")
                yield Label("Gate criteria", classes="section")
                yield Static("", id="gate")
        yield KeyBar()

    def on_mount(self) -> None:
        checklist = self.query_one("#checklist", VimTable)
        checklist.add_column("", key="mark", width=1)
        checklist.add_column("ID", key="id")
        checklist.add_column("Checklist item", key="text", width=ITEM_TEXT_WIDTH)
        checklist.add_column("Owner", key="owner")
        checklist.add_column("Due", key="due")
        table = self.query_one("#phase-deliverables", VimTable)
        table.add_column("ID", key="id")
        table.add_column("Deliverable", key="title")
        table.add_column("Status", key="status")
        table.add_column("Owner", key="owner")
        if not self.phase_id:
            self.phase_id = self.project.current_phase().id
        checklist.focus()

    @property
    def phase(self) -> Phase:
        phase = self.project.model.phase(self.phase_id)
        return phase if phase is not None else self.project.model.phases[0]

    def show(self, phase_id: str, focus: str | None = None) -> None:
        """Shows `phase_id`, with the cursor on the item or deliverable `focus` if given."""
        changed = phase_id != self.phase_id
        self.phase_id, self._focus_on = phase_id, focus
        if self.is_mounted:
            self.reload(reset_cursor=changed)

    def reload(self, reset_cursor: bool = False) -> None:
        project, phase = self.project, self.phase
        items, delivs = project.item_states(), project.deliverable_states()
        progress = project.progress(phase, items, delivs)
        self.title = f"phasegate · {project.name}"
        self.sub_title = f"phase {phase.id} of {len(project.model.phases)}"
        heading = Text(f" Phase {phase.id} · {phase.title}  ", style="bold")
        heading.append_text(status_text(project.phase_status(phase, items, delivs)))
        heading.append("  ")
        heading.append_text(bar(progress.fraction, 24))
        heading.append(
            f"  items {progress.items_done}/{progress.items_total} · deliverables "
            f"{progress.deliverables_done}/{progress.deliverables_total}   [ ] switch phase",
            style="dim",
        )
        self.query_one("#phase-heading", Static).update(heading)

        checklist = self.query_one("#checklist", VimTable)
        keep = None if reset_cursor else checklist.current_key
        checklist.clear()
        today = project.today()
        first_item = None
        for sub in phase.sub_phases:
            checklist.add_row(
                "",
                Text(sub.id, style="bold"),
                Text(sub.title, style="bold underline"),
                "",
                "",
                key=f"sub:{sub.id}",
            )
            if sub.intro:
                checklist.add_row(
                    "", "", Text(sub.intro, style="italic"), "", "", key=f"intro:{sub.id}"
                )
            for item in sub.items:
                state = items.get(item.id)
                status = state.status if state else "todo"
                text = Text(item.text, style=tone("dim" if status != "todo" else ""))
                if item.optional:
                    text.append(" (optional)", style="dim italic")
                checklist.add_row(
                    item_mark(status),
                    item.id,
                    text,
                    state.owner if state and state.owner else "—",
                    due_text(
                        state.due if state and status == "todo" else None, today, compact=True
                    ),
                    key=item.id,
                    height=None,
                )
                first_item = first_item or item.id
            for assist in sub.assists:
                label = Text(f"With {assist.tool}: ", style=tone("bold extra"))
                label.append(assist.text, style=tone("extra"))
                checklist.add_row(
                    Text("✦", style=tone("extra")),
                    assist.id,
                    label,
                    "",
                    "",
                    key=assist.id,
                    height=None,
                )
        target = self._focus_on or keep or first_item
        if target:
            checklist.select_key(target)

        table = self.query_one("#phase-deliverables", VimTable)
        keep_d = None if reset_cursor else table.current_key
        table.clear()
        for d in phase.deliverables:
            state = delivs.get(d.id)
            table.add_row(
                d.id,
                d.title + (" (optional)" if d.optional else ""),
                status_text(state.status if state else "missing"),
                state.owner if state and state.owner else "—",
                key=d.id,
            )
        if self._focus_on and self._focus_on in {d.id for d in phase.deliverables}:
            table.select_key(self._focus_on)
            table.focus()
        elif keep_d:
            table.select_key(keep_d)
        elif self._focus_on:
            checklist.focus()
        self._focus_on = None
        self._show_gate(phase, progress)
        self._show_details()

    def _show_gate(self, phase: Phase, progress) -> None:
        evaluation = evaluate(self.project, phase.id)
        lines = Text()
        for criterion in evaluation.criteria:
            glyph, style = CRITERION_MARKS[criterion.status]
            lines.append(f"{glyph} ", style=tone(style))
            lines.append(f"{criterion.id} {criterion.text} ")
            summary = "; ".join(criterion.evidence[:2] or criterion.blockers[:1])
            lines.append(f"({summary})\n" if summary else "\n", style="dim")
        lines.append(
            f"gate now: {evaluation.outcome.replace('_', ' ')} · R gate reviews", style="dim"
        )
        self.query_one("#gate", Static).update(lines)

    # --- details of the row under the cursor ---------------------------------------------------

    def on_data_table_row_highlighted(self, event: VimTable.RowHighlighted) -> None:
        if event.data_table is self.focused:
            self._show_details(event.data_table)

    def on_descendant_focus(self) -> None:
        self._show_details()

    def _selected(self, table: VimTable | None = None) -> tuple[str, str] | None:
        """(kind, id) of the selected row in the focused table: item, assist or deliverable."""
        if table is None:
            focused = self.focused
            table = (
                focused if isinstance(focused, VimTable) else self.query_one("#checklist", VimTable)
            )
        key = table.current_key
        if not key:
            return None
        model = self.project.model
        if table.id == "phase-deliverables":
            return ("deliverable", key)
        if model.item(key):
            return ("item", key)
        if model.assist(key):
            return ("assist", key)
        return None

    def _show_details(self, table: VimTable | None = None) -> None:
        selected = self._selected(table)
        details = self.query_one("#details", Static)
        if selected is None:
            details.update(Text("Move to an item, an assist or a deliverable.", style="dim"))
            return
        kind, ident = selected
        project = self.project
        text = Text()
        if kind == "item":
            item, state = project.item(ident), project.item_state(ident)
            text.append(f"{item.id} ", style="bold")
            text.append(f"{item.text}\n")
            text.append("status ")
            text.append_text(status_text(state.status))
            if state.reason:
                text.append(f" — {state.reason}", style="italic")
            text.append(f"\nowner {state.owner or '—'} · due {state.due or '—'}\n")
            if state.note:
                text.append(f"note: {state.note}\n", style="italic")
        elif kind == "assist":
            assist = project.model.assist(ident)
            assert assist is not None
            text.append(f"Prompt for {assist.tool} (c copies it):\n", style=tone("bold extra"))
            text.append(project.model.assist_prompt_for(assist))
            return details.update(text)
        else:
            d, state = project.deliverable(ident), project.deliverable_state(ident)
            text.append(f"{d.id} {d.title}\n", style="bold")
            text.append("status ")
            text.append_text(status_text(state.status))
            if state.reason:
                text.append(f" — {state.reason}", style="italic")
            text.append(f"\nowner {state.owner or '—'} · {project.deliverable_path(d, state)}\n")
            for part in d.parts:
                text.append(f"  {part.path} — {part.text}\n", style="dim")
            _document_lines(text, project, d.id)
            if d.id in EVIDENCE:
                text.append(f"Evidence ({EVIDENCE[d.id][2]}):\n", style="bold")
                for line in evidence(project, d.id):
                    text.append(f"  {line}\n")
            text.append("enter: change status · s/b: step · x: n/a · o: owner\n", style="dim")
        for event in project.tracker.activity(3, subject=ident):
            text.append(
                f"{when(event.at)} {who(event.actor)}: {describe_event(event)}\n", style="dim"
            )
        details.update(text)

    # --- actions -------------------------------------------------------------------------------

    def on_data_table_row_selected(self, event: VimTable.RowSelected) -> None:
        if event.data_table.id == "phase-deliverables":
            self.prompt_deliverable_status(event.row_key.value or "")
        else:
            self.action_toggle()

    def action_toggle(self) -> None:
        selected = self._selected()
        if selected is None:
            return
        kind, ident = selected
        if kind == "item":
            self.change(lambda: self.project.toggle_item(ident))
        elif kind == "deliverable":
            self.prompt_deliverable_status(ident)
        else:
            self.action_copy()

    def action_not_applicable(self) -> None:
        selected = self._selected()
        if selected and selected[0] == "item":
            self.prompt_item_field(selected[1], "reason")
        elif selected and selected[0] == "deliverable":
            self.prompt_deliverable_reason(selected[1])

    def action_owner(self) -> None:
        selected = self._selected()
        if selected and selected[0] == "item":
            self.prompt_item_field(selected[1], "owner")
        elif selected and selected[0] == "deliverable":
            self.prompt_deliverable_owner(selected[1])

    def action_due(self) -> None:
        selected = self._selected()
        if selected and selected[0] == "item":
            self.prompt_item_field(selected[1], "due")
        else:
            self.notify("Due dates belong to checklist items.", severity="warning")

    def action_note(self) -> None:
        selected = self._selected()
        if selected and selected[0] == "item":
            self.prompt_item_field(selected[1], "note")
        else:
            self.notify("Notes belong to checklist items.", severity="warning")

    def action_step(self, forward: bool) -> None:
        selected = self._selected()
        if selected and selected[0] == "deliverable":
            ident = selected[1]
            if self.change(lambda: self.project.step_deliverable(ident, forward)):
                status = self.project.deliverable_state(ident).status
                self.notify(f"{ident}: {STATUS_LABELS[status]}", timeout=2)
        else:
            self.notify(
                "Status steps apply to deliverables: Tab to the deliverables table.",
                severity="warning",
            )

    def action_copy(self) -> None:
        selected = self._selected()
        if selected is None:
            return
        kind, ident = selected
        model = self.project.model
        if kind == "assist":
            text, what = model.assist_prompt_for(model.assist(ident)), f"the {ident} prompt"  # type: ignore[arg-type]
        elif kind == "item":
            text, what = f"{ident} {model.item(ident).text}", ident  # type: ignore[union-attr]
        else:
            d = model.deliverable(ident)
            text, what = self.project.deliverable_path(d), f"the path of {ident}"  # type: ignore[arg-type]
        self.app.copy_to_clipboard(text)
        self.notify(f"Copied {what}", timeout=2)

    def _selected_deliverable(self) -> str | None:
        selected = self._selected()
        if selected and selected[0] == "deliverable":
            return selected[1]
        self.notify(
            "Documents belong to deliverables: Tab to the deliverables table.", severity="warning"
        )
        return None

    def action_new_document(self) -> None:
        from deliverables.documents import create_document

        ident = self._selected_deliverable()
        if ident is None:
            return
        created = []
        if self.change(lambda: created.append(create_document(self.project, ident))):
            self.notify(f"Wrote {created[0].relative_to(self.project.root)}")

    def action_edit_document(self) -> None:
        """Opens the deliverable's document in $EDITOR (VISUAL, EDITOR, else vi); the TUI is
        suspended meanwhile and comes back as it was."""
        import os
        import shlex
        import subprocess

        from textual.app import SuspendNotSupported

        from deliverables.documents import document_path

        ident = self._selected_deliverable()
        if ident is None:
            return
        relative = document_path(self.project, self.project.deliverable(ident))
        path = self.project.root / relative
        if not path.exists():
            self.notify(
                f"{relative} does not exist yet: n creates it from its template.",
                severity="warning",
            )
            return
        editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
        try:
            with self.app.suspend():
                subprocess.run([*shlex.split(editor), str(path)], check=False)
        except (OSError, ValueError, SuspendNotSupported) as exc:  # no such editor, no terminal
            self.notify(
                f"Cannot open {editor}: {exc or 'no terminal to hand over'}",
                title="Editor",
                severity="error",
            )
            return
        self.safe_reload()

    def action_other_phase(self, step: int) -> None:
        ids = [p.id for p in self.project.model.phases]
        index = (ids.index(self.phase.id) + step) % len(ids)
        self.show(ids[index])


def _document_lines(text: Text, project, deliverable_id: str) -> None:
    """The deliverable's document as git sees it, suggestions, and (D2.5) its decision records."""
    from deliverables.documents import ADR_DELIVERABLE, adrs, document_facts, git_summary

    facts = document_facts(project, deliverable_id)
    summary = git_summary(facts.git)
    if summary:
        text.append(f"git: {summary}\n", style="dim")
    else:
        text.append("no document yet: n writes it from its template\n", style="dim")
    for suggestion in facts.suggestions:
        text.append(f"suggest: {suggestion}\n", style=tone("warn"))
    if deliverable_id == ADR_DELIVERABLE:
        for record in adrs(project):
            text.append(f"  ADR {record.number:04d} {record.title} ({record.status})\n")
