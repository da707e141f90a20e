"""The prompt trail: the audit trail of executed prompts (process 4.2), newest first, with each record."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Header

from tui.format import tone
from tui.keybar import KeyBar
from tui.screens.base import STYLES, ProjectScreen
from tui.widgets import Static, VimTable


class PromptTrailScreen(ProjectScreen):
    CSS_PATH = STYLES / "pipelines.tcss"
    AUTO_FOCUS = "#prompts"
    BINDINGS = [Binding("c", "copy", "Copy prompt", id="prompts.copy")]

    def __init__(self) -> None:
        super().__init__()
        self._records: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal():
            yield VimTable(id="prompts", classes="panel")
            with VerticalScroll(id="prompt-record", classes="panel"):
                yield Static(id="record")
        yield KeyBar()

    def on_mount(self) -> None:
        table = self.query_one("#prompts", VimTable)
        table.border_title = "Executed prompts (agent-prompts/executed_prompts/)"
        for label in ("When", "Developer", "Model", "Task", "Status"):
            table.add_column(label, key=label.lower())

    def reload(self) -> None:
        from pipelines.prompt_trail import EXECUTED, LOG, PromptError, read_log

        self.title = f"phasegate · {self.project.name}"
        self.sub_title = "prompt audit trail"
        table = self.query_one("#prompts", VimTable)
        table.clear()
        try:
            _, entries = read_log(self.project.root / LOG)
        except PromptError as exc:
            self.query_one("#record", Static).update(Text(str(exc), style=tone("bold bad")))
            return
        self._records = {}
        for entry in reversed(entries):
            name = str(entry.get("file", ""))
            path = self.project.root / EXECUTED / name
            self._records[name] = (
                path.read_text(encoding="utf-8") if path.is_file() else f"{path} is missing"
            )
            status = str(entry.get("status", ""))
            style = {"SUCCESS": "ok", "PARTIAL": "warn", "FAILED": "bad"}.get(status, "dim")
            table.add_row(
                str(entry.get("timestamp", "")),
                str(entry.get("developer", "")),
                str(entry.get("model", "")),
                str(entry.get("task", "")),
                Text(status, style=tone(style)),
                key=name,
            )
        table.border_subtitle = f"{len(entries)} prompts · log one with `phasegate prompt log TASK`"
        self._show_record()

    def on_data_table_row_highlighted(self, event: VimTable.RowHighlighted) -> None:
        self._show_record()

    def _show_record(self) -> None:
        key = self.query_one("#prompts", VimTable).current_key
        record = self.query_one("#record", Static)
        if key is None:
            record.update(Text("No prompts logged yet.", style="dim"))
            return
        record.update(Text(self._records.get(key, "")))

    def action_copy(self) -> None:
        key = self.query_one("#prompts", VimTable).current_key
        if key is None:
            self.notify("No prompt is selected.", severity="warning")
            return
        text = self._records.get(key, "")
        prompt = text.split("## PROMPT\n", 1)[-1].split("\n## ", 1)[0].strip()
        self.app.copy_to_clipboard(prompt)
        self.notify("Copied the prompt", timeout=2)
