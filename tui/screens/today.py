"""My day: what is assigned to me and due, what others changed since my last session, waivers
to watch, gates waiting for my decision, and my stand-up note. The first screen of a returning
user."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Header

from deliverables.day import day_view
from deliverables.identity import display_name, possessive
from deliverables.templating import describe_event
from tui.format import status_text, tone, when
from tui.keybar import KeyBar
from tui.screens.base import STYLES, ProjectScreen
from tui.widgets import Static, VimTable, WrappedLog

DRIFT_SHOWN = 5  # findings per source; the Profile screen lists them all


class TodayScreen(ProjectScreen):
    CSS_PATH = STYLES / "today.tcss"
    AUTO_FOCUS = "#day-mine"
    BINDINGS = [
        Binding("y", "standup('yesterday')", "Stand-up: yesterday", id="today.standup_yesterday"),
        Binding("n", "standup('today')", "Stand-up: today", id="today.standup_today"),
        Binding("B", "standup('blockers')", "Stand-up: blockers", id="today.standup_blockers"),
        Binding("w", "export", "Write my day", id="today.export"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.since: str | None = None  # my previous session, fixed for this app run

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal():
            with Vertical(id="day-left"):
                yield VimTable(id="day-mine", classes="panel")
                yield VimTable(id="day-due", classes="panel")
                yield Static(id="day-standup", classes="panel")
            with Vertical(id="day-right"):
                yield Static(id="day-attention", classes="panel")
                with VerticalScroll(id="day-changes", classes="panel"):
                    yield WrappedLog(id="day-changes-log")
        yield KeyBar()

    def on_mount(self) -> None:
        mine = self.query_one("#day-mine", VimTable)
        mine.border_title = "Assigned to me"
        for label in ("ID", "What", "Status", "Due"):
            mine.add_column(label, key=label.lower())
        due = self.query_one("#day-due", VimTable)
        due.border_title = "Mine: overdue and due this week · the team's overdue"
        for label in ("Due", "ID", "What", "Owner"):
            due.add_column(label, key=label.lower())
        self.query_one("#day-standup").border_title = "My stand-up today (y · n · B)"
        self.query_one("#day-attention").border_title = "Waiting for me"
        self.since = getattr(self.app, "previous_session", None)

    def reload(self) -> None:
        project = self.project
        day = day_view(project, since=self.since)
        self.title = f"phasegate · {project.name}"
        self.sub_title = f"{possessive(display_name(day.me))} day · {day.today.isoformat()}"
        mine = self.query_one("#day-mine", VimTable)
        keep = mine.current_key
        mine.clear()
        for item, state in day.items:
            mine.add_row(
                item.id, item.text, status_text(state.status), state.due or "", key=item.id
            )
        for deliverable, state in day.deliverables:
            mine.add_row(
                deliverable.id, deliverable.title, status_text(state.status), "", key=deliverable.id
            )
        if keep:
            mine.select_key(keep)
        mine.border_subtitle = "" if mine.row_count else "nothing open is assigned to you"
        due = self.query_one("#day-due", VimTable)
        due.clear()
        for item, state in day.overdue:
            due.add_row(
                Text(state.due or "", style=tone("bold bad")),
                item.id,
                item.text,
                state.owner or "—",
                key=f"overdue:{item.id}",
            )
        for item, state in day.due_this_week:
            due.add_row(
                state.due or "", item.id, item.text, state.owner or "—", key=f"week:{item.id}"
            )
        for item, state in day.team_overdue:
            due.add_row(
                Text(state.due or "", style=tone("bad")),
                item.id,
                item.text,
                Text(state.owner or "no owner", style="dim"),
                key=f"team:{item.id}",
            )
        self._show_attention(day)
        self._show_standup(day)
        self._show_changes(day)

    def _show_attention(self, day) -> None:
        text = Text()
        text.append("Gates waiting for my decision\n", style="bold")
        if not day.reviews:
            text.append("  none\n", style="dim")
        for request in day.reviews:
            text.append(f"  phase {request.phase}", style=tone("bold info"))
            text.append(
                f" — requested {when(request.at)} by {display_name(request.actor)}; "
                f"decide with `phasegate gate decide {request.phase} "
                f"{'|'.join(('approve', 'reject', 'conditions'))}`\n"
            )
        text.append("\nWaivers to watch\n", style="bold")
        if not day.waivers:
            text.append("  none expiring, expired or awaiting approval\n", style="dim")
        for waiver, what in day.waivers:
            style = "bold bad" if what.startswith("expired") else "warn"
            text.append(f"  waiver {waiver.id} for {waiver.target}: ")
            text.append(what, style=tone(style))
            text.append(f" — {waiver.reason}\n", style="dim")
        if day.drift:  # my sources whose latest profile differs from the one before
            text.append("\nDrift in my sources\n", style="bold")
            for profile in day.drift:
                text.append(f"  {profile.name}", style=tone("bold warn"))
                text.append(
                    f" — profiled {when(profile.profiled_at)} by {display_name(profile.actor)}; "
                    f"{len(profile.drift)} finding(s) (F: Profiles)\n",
                    style="dim",
                )
                for finding in profile.drift[:DRIFT_SHOWN]:
                    text.append(f"    {finding['kind']:<12} ", style=tone("warn"))
                    text.append(f"{finding['column']}: {finding['detail']}\n")
                if len(profile.drift) > DRIFT_SHOWN:
                    text.append(f"    … {len(profile.drift) - DRIFT_SHOWN} more\n", style="dim")
        if day.conflicts:  # concurrent edits from two clones (deliverables.oplog)
            text.append("\nConflicts to look at\n", style="bold")
            for conflict in day.conflicts:
                text.append(f"  {conflict.describe(day.me)}\n", style=tone("warn"))
        self.query_one("#day-attention", Static).update(text)

    def _show_standup(self, day) -> None:
        note = day.standup
        text = Text()
        for label, value in (
            ("Yesterday", note.yesterday if note else ""),
            ("Today", note.today if note else ""),
            ("Blockers", note.blockers if note else ""),
        ):
            text.append(f"{label}: ", style="bold")
            text.append((value or "—") + "\n", style="" if value else "dim")
        self.query_one("#day-standup", Static).update(text)

    def _show_changes(self, day) -> None:
        panel = self.query_one("#day-changes")
        log = self.query_one("#day-changes-log", WrappedLog)
        if day.last_session is None:
            panel.border_title = "Changed by others"
            log.show_lines(
                [],
                Text(
                    "Your first session here: from the next one on, what others changed "
                    "in between shows here.",
                    style="dim",
                ),
            )
            return
        panel.border_title = f"Changed by others since {when(day.last_session)}"
        lines = []
        for event in day.changes:
            line = Text(f"{when(event.at)} ", style="dim")
            line.append(f"{display_name(event.actor)} ", style="bold")
            line.append(f"{event.subject} ", style=tone("info"))
            line.append(describe_event(event))
            lines.append(line)
        log.show_lines(lines, Text("Nothing.", style="dim"))

    # --- actions ---------------------------------------------------------------------------------

    def action_standup(self, part: str) -> None:
        from deliverables.day import save_standup, standup
        from tui.dialogs import TextPrompt

        current = standup(self.project, self.project.today())
        value = getattr(current, part, "") if current else ""
        titles = {
            "yesterday": "What did you do yesterday?",
            "today": "What will you do today?",
            "blockers": "What blocks you? (empty: nothing)",
        }

        def save(text: str | None) -> None:
            if text is None:
                return
            self.change(
                lambda: save_standup(
                    self.project,
                    **{
                        k: (text if k == part else None) for k in ("yesterday", "today", "blockers")
                    },
                ),
                "Stand-up note saved",
            )

        self.app.push_screen(TextPrompt(titles[part], value, "one line"), save)

    def action_export(self) -> None:
        from deliverables.day import render_day, standup_path
        from deliverables.errors import TrackerError
        from deliverables.templating import write_document

        project = self.project
        day = day_view(project, since=self.since)
        target = standup_path(project, day.today)
        try:
            write_document(target, render_day(project, day))
        except (OSError, TrackerError) as exc:
            self.notify(str(exc), title="Not written", severity="error")
            return
        self.notify(f"Wrote {target.relative_to(project.root)}")

    def on_data_table_row_selected(self, event: VimTable.RowSelected) -> None:
        """Enter on an item or deliverable opens its phase with the cursor on it."""
        if not event.row_key.value:
            return
        ident = event.row_key.value.split(":")[-1]
        model = self.project.model
        target = model.item(ident) or model.deliverable(ident)
        if target is not None:
            self.app.show_phase(target.phase_id, ident)  # type: ignore[attr-defined]
