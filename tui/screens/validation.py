"""Validation: run the static or full tier, watch it (a progress bar per pipeline and step, the
live log), cancel it, and read every stored run's checks.

The run is `pipelines.validation.engine.validate` in a thread worker (`_run`), which drives the
validation subprocess; each event it reports reaches the screen as a `RunEvent` message, so the
run never waits for the UI and the UI never waits for the run. The worker's end (success, error)
arrives as `Worker.StateChanged`, after every event it posted.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Header, ProgressBar
from textual.worker import Worker, WorkerState

from deliverables.validations import FAILING, latest_results, run_log_path
from pipelines.validation.protocol import STEPS
from tui.format import tone, when
from tui.keybar import KeyBar
from tui.screens.base import STYLES, ProjectScreen
from tui.widgets import RichLog, Static, VimTable

OUTCOME_STYLES = {
    "passed": "ok",
    "failed": "bold bad",
    "error": "bold bad",
    "timeout": "bold bad",
    "cancelled": "warn",
    "warning": "warn",
    "skipped": "dim",
    "running": "info",
    "not validated": "dim",
    "not run": "dim",
}
BAR_WIDTH = 10
LOG_LINES = 2000
STOP_SECONDS = 20.0  # how long leaving the app waits for a cancelled run to record "cancelled"


@dataclass
class ActiveRun:
    """The run in progress: its tier, how to stop it, and when its thread has ended."""

    tier: str
    cancel: threading.Event = field(default_factory=threading.Event)
    ended: threading.Event = field(default_factory=threading.Event)


class ValidationScreen(ProjectScreen):
    CSS_PATH = STYLES / "validation.tcss"
    AUTO_FOCUS = "#val-pipelines"
    BINDINGS = [
        Binding("s", "run('static')", "Static checks", id="validation.static"),
        Binding("f", "run('full')", "Full run", id="validation.full"),
        Binding("c", "cancel", "Cancel run", id="validation.cancel"),
        Binding("w", "write", "Write report", id="validation.write"),
        Binding("tab", "app.focus_next", "Next panel", show=False, id="validation.next_panel"),
    ]

    class RunEvent(Message):
        """One event of the run in progress (`pipelines.validation.protocol`), from its thread."""

        def __init__(self, event: dict) -> None:
            super().__init__()
            self.event = event

    def __init__(self) -> None:
        super().__init__()
        self.active: ActiveRun | None = None
        self._progress: dict[
            str, tuple[int, str, str]
        ] = {}  # pipeline -> (steps done, step, outcome)
        self._shown_run: int | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal():
            with Vertical(id="val-left"):
                yield VimTable(id="val-pipelines", classes="panel")
                yield VimTable(id="val-runs", classes="panel")
            with Vertical(id="val-right"):
                with Horizontal(id="val-status-row"):
                    yield Static("", id="val-status")
                    yield ProgressBar(id="val-bar", show_eta=False)
                yield VimTable(id="val-checks", classes="panel")
                yield RichLog(id="val-log", classes="panel", max_lines=LOG_LINES, wrap=False)
        yield KeyBar()

    def on_mount(self) -> None:
        pipelines = self.query_one("#val-pipelines", VimTable)
        pipelines.border_title = "Pipelines"
        for label in ("Pipeline", "Static", "Full", "Progress"):
            pipelines.add_column(label, key=label.lower())
        runs = self.query_one("#val-runs", VimTable)
        runs.border_title = "Runs (enter shows one)"
        for label in ("Run", "When", "Tier", "Status", "Summary"):
            runs.add_column(label, key=label.lower())
        checks = self.query_one("#val-checks", VimTable)
        checks.border_title = "Checks"
        for label in ("Pipeline", "Step", "Check", "Outcome", "Detail"):
            checks.add_column(label, key=label.lower())
        self.query_one("#val-log", RichLog).border_title = "Log"
        self.query_one("#val-bar", ProgressBar).display = False

    def on_unmount(self) -> None:
        """Leaving the app ends a run's subprocess and lets it record "cancelled"."""
        if self.running:
            self.active.cancel.set()
            self.active.ended.wait(STOP_SECONDS)

    # --- what is stored ------------------------------------------------------------------------

    def reload(self) -> None:
        self.title = f"phasegate · {self.project.name}"
        self.sub_title = "validation"
        self._show_pipelines()
        runs = self.query_one("#val-runs", VimTable)
        keep = runs.current_key
        runs.clear()
        history = self.project.tracker.runs(100)
        for r in history:
            runs.add_row(
                str(r.id),
                when(r.started_at),
                r.tier,
                Text(r.status, style=tone(OUTCOME_STYLES.get(r.status, ""))),
                r.summary or "",
                key=str(r.id),
            )
        if keep:
            runs.select_key(keep)
        if self._shown_run is None and history and not self.running:
            self._show_run(history[0].id)

    def _show_pipelines(self) -> None:
        table = self.query_one("#val-pipelines", VimTable)
        keep = table.current_key
        static = {r.pipeline: r for r in latest_results(self.project, "static")}
        full = {r.pipeline: r for r in latest_results(self.project, "full")}
        table.clear()
        for name in static:
            table.add_row(
                name,
                _outcome(static[name].outcome),
                _outcome(full[name].outcome if name in full else "not validated"),
                self._bar(name),
                key=name,
            )
        if keep:
            table.select_key(keep)
        if not static:
            table.border_subtitle = "no specs yet: add pipelines/<name>.yaml"
        else:
            table.border_subtitle = "s static · f full · c cancel"

    def _bar(self, name: str) -> Text:
        if name not in self._progress or self.active is None:
            return Text("")
        done, step, outcome = self._progress[name]
        total = len(STEPS[self.active.tier])
        filled = round(BAR_WIDTH * min(done, total) / total)
        style = OUTCOME_STYLES.get(outcome, "info")
        text = Text("█" * filled, style=tone(style))
        text.append("░" * (BAR_WIDTH - filled), style="dim")
        text.append(f" {step}")
        return text

    def _show_run(self, run_id: int) -> None:
        self._shown_run = run_id
        table = self.query_one("#val-checks", VimTable)
        table.clear()
        run = self.project.tracker.run(run_id)
        if run is None:
            return
        table.border_title = f"Checks of run {run.id} ({run.tier}, {run.status})"
        for c in self.project.tracker.run_checks(run_id):
            self._add_check(c.pipeline, c.step, c.check_name, c.outcome, c.detail)
        log = self.query_one("#val-log", RichLog)
        if not self.running:
            log.clear()
            path = run_log_path(self.project, run_id)
            if path.is_file():
                log.border_title = f"Log of run {run_id}"
                for line in _tail(path, 300):
                    log.write(Text(line))

    def _add_check(self, pipeline, step, check, outcome, detail) -> None:
        table = self.query_one("#val-checks", VimTable)
        table.add_row(
            pipeline,
            step,
            check,
            Text(outcome, style=tone(OUTCOME_STYLES.get(outcome, ""))),
            detail,
        )

    def on_data_table_row_selected(self, event: VimTable.RowSelected) -> None:
        if event.data_table.id == "val-runs" and event.row_key.value:
            self._show_run(int(event.row_key.value))

    # --- running ---------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """A run was started here and its worker has not ended yet."""
        return self.active is not None and not self.active.ended.is_set()

    def action_run(self, tier: str) -> None:
        if self.running:
            self.notify("A run is in progress: c cancels it.", severity="warning")
            return
        if not self.query_one("#val-pipelines", VimTable).row_count:
            self.notify(
                "No pipeline specs to validate: add pipelines/<name>.yaml (docs/pipeline-spec.md).",
                severity="warning",
            )
            return
        self.active = ActiveRun(tier)
        self._progress = {}
        self.query_one("#val-log", RichLog).clear()
        self.query_one("#val-log", RichLog).border_title = "Log (live)"
        self.query_one("#val-checks", VimTable).clear()
        bar = self.query_one("#val-bar", ProgressBar)
        bar.display = True
        bar.update(total=None, progress=0)
        self.query_one("#val-status", Static).update(
            Text(f"Starting the {tier} tier…", style=tone("info"))
        )
        self._run(self.active)

    @work(thread=True, exclusive=True, exit_on_error=False, group="validation", name="validation")
    def _run(self, run: ActiveRun) -> None:
        """The run itself, off the UI thread; a refused run is an event like the others."""
        from pipelines.errors import SpecError, ValidationError
        from pipelines.validation.engine import validate

        post = self.post_message  # thread-safe
        try:
            validate(
                self.project,
                None,
                run.tier,
                cancel=run.cancel,
                listener=lambda event: post(self.RunEvent(event)),
            )
        except (SpecError, ValidationError) as exc:
            post(self.RunEvent({"event": "refused", "message": str(exc)}))
        finally:
            run.ended.set()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The run's worker ended (every event it posted came before): show what was stored."""
        # (ProjectScreen's handler runs too, and shows an unexpected error as a message)
        if event.worker.group == "validation" and event.state in (
            WorkerState.SUCCESS,
            WorkerState.ERROR,
            WorkerState.CANCELLED,
        ):
            self.query_one("#val-bar", ProgressBar).display = False
            self.safe_reload()

    def action_cancel(self) -> None:
        if not self.running:
            self.notify("No run in progress.", severity="warning")
            return
        self.active.cancel.set()
        self.query_one("#val-status", Static).update(Text("Cancelling…", style=tone("warn")))

    def action_write(self) -> None:
        from deliverables.errors import TrackerError
        from deliverables.templating import write_document
        from deliverables.validations import run_report, run_report_path

        if self._shown_run is None:
            self.notify("No run to write: run one with s or f.", severity="warning")
            return
        target = run_report_path(self.project, self._shown_run)
        try:
            write_document(target, run_report(self.project, self._shown_run))
        except (OSError, TrackerError) as exc:
            self.notify(str(exc), title="Not written", severity="error")
            return
        self.notify(f"Wrote {target.relative_to(self.project.root)}")

    def on_validation_screen_run_event(self, message: RunEvent) -> None:
        """Applies one event of the run to the progress bars, the checks and the log."""
        if self.active is None:
            return
        event = message.event
        kind = event["event"]
        if kind == "log":
            self.query_one("#val-log", RichLog).write(Text(event["line"]))
            return
        if kind == "started":
            self._shown_run = event["run_id"]
            bar = self.query_one("#val-bar", ProgressBar)
            bar.update(total=len(event["pipelines"]) * len(event["steps"]), progress=0)
            self._progress = {n: (0, "waiting", "running") for n in event["pipelines"]}
            self.query_one(
                "#val-checks", VimTable
            ).border_title = f"Checks of run {event['run_id']} ({event['tier']}, running)"
        elif kind == "step":
            self._advance(event["pipeline"], event["step"])
        elif kind == "check":
            self._add_check(
                event["pipeline"], event["step"], event["check"], event["outcome"], event["detail"]
            )
            done, step, _ = self._progress.get(event["pipeline"], (0, "", "running"))
            if event["outcome"] in FAILING:
                self._progress[event["pipeline"]] = (done, step, "failed")
        elif kind == "pipeline":
            name = event["pipeline"]
            _, _, outcome = self._progress.get(name, (0, "", "running"))
            total = len(STEPS[self.active.tier])
            self._progress[name] = (total, "done", "failed" if outcome == "failed" else "passed")
            self._set_bar()
        elif kind == "finished":
            summary = f"Run {event['run_id']} {event['status']}: {event['summary']}"
            self.query_one("#val-status", Static).update(
                Text(summary, style=tone(OUTCOME_STYLES.get(event["status"], "")))
            )
            self.query_one("#val-bar", ProgressBar).display = False
            self.notify(
                summary, severity="information" if event["status"] == "passed" else "warning"
            )
            return
        elif kind == "refused":
            self.query_one("#val-bar", ProgressBar).display = False
            self.query_one("#val-status", Static).update(
                Text(event["message"], style=tone("bold bad"))
            )
            self.notify(
                event["message"], title="Validation did not run", severity="error", timeout=10
            )
            return
        else:
            return
        self._show_pipelines()

    def _advance(self, pipeline: str, step: str) -> None:
        steps = STEPS[self.active.tier]
        done, _, outcome = self._progress.get(pipeline, (0, "", "running"))
        index = steps.index(step) if step in steps else done
        self._progress[pipeline] = (max(done, index), step, outcome)
        self._set_bar()
        self.query_one("#val-status", Static).update(
            Text(f"{pipeline}: {step}…", style=tone("info"))
        )

    def _set_bar(self) -> None:
        self.query_one("#val-bar", ProgressBar).update(
            progress=sum(done for done, _, _ in self._progress.values())
        )


def _outcome(outcome: str) -> Text:
    return Text(outcome, style=tone(OUTCOME_STYLES.get(outcome, "")))


def _tail(path: Path, lines: int) -> list[str]:
    try:
        return path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]
    except OSError:
        return []
