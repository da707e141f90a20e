"""Pipelines: the specs with their state, a preview of what generation would change (each file's
classification and diff), then apply. Planning renders every spec, so it runs in a worker.

Previews and generation are two worker groups: a newer preview (a reload, `g`, the preview that
follows a generation) cancels an older preview, never a generation, which writes files and must
run to its end. A second `a` while one runs is refused rather than cancelling it."""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Header
from textual.worker import Worker

from tui.format import tone
from tui.keybar import KeyBar
from tui.screens.base import STYLES, ProjectScreen
from tui.widgets import Static, VimTable

STATE_STYLES = {
    "not generated": "warn",
    "in sync": "ok",
    "out of date": "info",
    "conflicts": "bold bad",
    "new": "ok",
    "updated": "info",
    "merged": "info",
    "conflict": "bold bad",
    "deleted": "dim",
    "kept": "dim",
}


class PipelinesScreen(ProjectScreen):
    CSS_PATH = STYLES / "pipelines.tcss"
    AUTO_FOCUS = "#pipelines"
    BINDINGS = [
        Binding("a", "apply", "Generate", id="pipelines.apply"),
        # not `g`: in the tables below, g is vim's "top", which would swallow it
        Binding("ctrl+r", "preview", "Preview again", id="pipelines.preview"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._plan = None
        self.preview: Worker | None = None  # the newest preview, and the newest generation
        self.generation: Worker | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal():
            yield VimTable(id="pipelines", classes="panel")
            with Vertical(id="plan-side"):
                yield VimTable(id="plan-files", classes="panel")
                with VerticalScroll(id="plan-diff", classes="panel"):
                    yield Static(id="diff")
        yield KeyBar()

    def on_mount(self) -> None:
        table = self.query_one("#pipelines", VimTable)
        table.border_title = "Pipelines (pipelines/*.yaml)"
        for label in ("Pipeline", "Target", "Schedule", "Runs after", "State"):
            table.add_column(label, key=label.lower())
        files = self.query_one("#plan-files", VimTable)
        files.border_title = "What generating would do"
        files.add_column("Change", key="state")
        files.add_column("File", key="path")
        self.query_one("#plan-diff").border_title = "Diff"

    def reload(self) -> None:
        self.title = f"phasegate · {self.project.name}"
        self.sub_title = "pipelines"
        self.action_preview()

    def action_preview(self) -> None:
        self.query_one("#diff", Static).update(Text("Planning…", style="dim"))
        self.preview = self._preview()

    @work(thread=True, exclusive=True, exit_on_error=False, group="preview", name="preview")
    def _preview(self) -> None:
        from pipelines.codegen import pipeline_states, render_pipelines
        from pipelines.errors import GenerationError, SpecError
        from pipelines.generate import plan
        from pipelines.overview import pipeline_lines
        from pipelines.spec import load_specs

        root, today = self.project.root, self.project.today()
        try:
            specs = load_specs(root)
            rendered = render_pipelines(specs, today)
            result = plan(root, rendered)
        except (SpecError, GenerationError) as exc:
            self.app.call_from_thread(self._show_error, str(exc))
            return
        states = pipeline_states(specs, result, rendered, root)
        # when it really runs, in words ("At 05:00 · orchestrated"), as data-flow.md says;
        # worded here in the worker: cron-descriptor costs an import
        schedules = {line.name: line.runs for line in pipeline_lines(specs)}
        self.app.call_from_thread(self._show, specs, result, states, schedules)

    def _show_error(self, message: str) -> None:
        self._plan = None
        self.query_one("#pipelines", VimTable).clear()
        self.query_one("#plan-files", VimTable).clear()
        self.query_one("#diff", Static).update(Text(message, style=tone("bold bad")))
        self.notify(message, title="Cannot generate", severity="error", timeout=8)

    def _show(self, specs, result, states, schedules: dict[str, str]) -> None:
        self._plan = result
        table = self.query_one("#pipelines", VimTable)
        keep = table.current_key
        table.clear()
        for spec in specs:
            state = states.get(spec.name, "")
            table.add_row(
                spec.name,
                spec.target.identifier,
                schedules[spec.name],
                ", ".join(spec.depends_on) or "—",
                Text(state, style=tone(STATE_STYLES.get(state, ""))),
                key=spec.name,
            )
        if keep:
            table.select_key(keep)
        files = self.query_one("#plan-files", VimTable)
        files.clear()
        for planned in result.files:
            if planned.state != "unchanged":
                files.add_row(
                    Text(planned.state, style=tone(STATE_STYLES.get(planned.state, ""))),
                    planned.path,
                    key=planned.path,
                )
        summary = (
            result.summary()
            if specs
            else "no specs yet: add pipelines/<name>.yaml (docs/pipeline-spec.md)"
        )
        files.border_subtitle = summary
        self._show_diff()

    def on_data_table_row_highlighted(self, event: VimTable.RowHighlighted) -> None:
        if event.data_table.id == "plan-files":
            self._show_diff()

    def _show_diff(self) -> None:
        diff = self.query_one("#diff", Static)
        key = self.query_one("#plan-files", VimTable).current_key
        planned = (
            next((f for f in self._plan.files if f.path == key), None)
            if self._plan and key
            else None
        )
        if planned is None:
            diff.update(
                Text(
                    "Nothing to change: every generated file is in sync." if self._plan else "",
                    style="dim",
                )
            )
            return
        text = Text()
        for line in planned.diff.splitlines():
            style = (
                "ok"
                if line.startswith("+")
                else "bad"
                if line.startswith("-")
                else "dim"
                if line.startswith("@@")
                else ""
            )
            text.append(line + "\n", style=tone(style))
        diff.update(text or Text(f"{planned.path}: {planned.state}", style="dim"))

    def action_apply(self) -> None:
        if self._plan is None or not self._plan.writes:
            self.notify(
                "Nothing to generate: preview first (g), or everything is in sync.",
                severity="warning",
            )
            return
        if self.generation is not None and not self.generation.is_finished:
            self.notify("Generation is running: wait for it to end.", severity="warning")
            return
        self.generation = self._apply()

    @work(thread=True, exit_on_error=False, group="generate", name="generate pipelines")
    def _apply(self) -> None:
        from pipelines.codegen import generate_pipelines
        from pipelines.errors import GenerationError, SpecError

        try:
            result = generate_pipelines(self.project)
        except (SpecError, GenerationError) as exc:
            self.app.call_from_thread(self._show_error, str(exc))
            return
        conflicts = [f.path for f in result.files if f.state == "conflict"]
        message = f"Generated: {result.summary()}" + (
            f"; resolve conflicts in {', '.join(conflicts)}" if conflicts else ""
        )
        self.app.call_from_thread(
            self.notify, message, severity="warning" if conflicts else "information", timeout=8
        )
        self.app.call_from_thread(self.action_preview)
