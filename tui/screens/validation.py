"""Validation: run the static or full tier, watch it (a progress bar per pipeline and step, the
live log), cancel it, and read every stored run's checks.

The run is `pipelines.validation.engine.validate` in a thread of its own, which drives the
validation subprocess; its events reach the screen through a queue drained on a timer, so the
run never waits for the UI and the UI never waits for the run.
"""

from __future__ import annotations

import queue
import threading
from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Header, ProgressBar, RichLog, Static

from deliverables.validations import FAILING, latest_results, run_log_path
from pipelines.validation.protocol import STEPS
from tui.format import when
from tui.keybar import KeyBar
from tui.screens.base import ProjectScreen
from tui.widgets import VimTable

OUTCOME_STYLES = {
    "passed": "green",
    "failed": "bold red",
    "error": "bold red",
    "timeout": "bold red",
    "cancelled": "yellow",
    "warning": "yellow",
    "skipped": "dim",
    "running": "cyan",
    "not validated": "dim",
    "not run": "dim",
}
BAR_WIDTH = 10
DRAIN_SECONDS = 0.1
LOG_LINES = 2000


class ValidationRun:
    """One run in a background thread; what it reports waits in `events` for the screen."""

    def __init__(self, project, tier: str, names: list[str] | None) -> None:
        self.tier, self.names = tier, names
        self.events: queue.SimpleQueue[dict] = queue.SimpleQueue()
        self.cancel = threading.Event()
        self.thread = threading.Thread(
            target=self._run, args=(project,), name="validation", daemon=True
        )

    def _run(self, project) -> None:
        from pipelines.errors import SpecError, ValidationError
        from pipelines.validation.engine import validate

        try:
            validate(project, self.names, self.tier, cancel=self.cancel, listener=self.events.put)
        except (SpecError, ValidationError) as exc:
            self.events.put({"event": "refused", "message": str(exc)})
        except Exception as exc:  # shown as a message; the run's own results are already stored
            self.events.put({"event": "refused", "message": f"{type(exc).__name__}: {exc}"})
        finally:
            self.events.put({"event": "thread-done"})

    @property
    def running(self) -> bool:
        return self.thread.is_alive()


class ValidationScreen(ProjectScreen):
    AUTO_FOCUS = "#val-pipelines"
    BINDINGS = [
        Binding("s", "run('static')", "Static checks"),
        Binding("f", "run('full')", "Full run"),
        Binding("c", "cancel", "Cancel run"),
        Binding("w", "write", "Write report"),
        Binding("tab", "app.focus_next", "Next panel", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.active: ValidationRun | None = None
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
        self.set_interval(DRAIN_SECONDS, self._drain)

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
                Text(r.status, style=OUTCOME_STYLES.get(r.status, "")),
                r.summary or "",
                key=str(r.id),
            )
        if keep:
            runs.select_key(keep)
        if self._shown_run is None and history and not self._in_progress():
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
        style = OUTCOME_STYLES.get(outcome, "cyan")
        text = Text("█" * filled, style=style)
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
        if not self._in_progress():
            log.clear()
            path = run_log_path(self.project, run_id)
            if path.is_file():
                log.border_title = f"Log of run {run_id}"
                for line in _tail(path, 300):
                    log.write(Text(line))

    def _add_check(self, pipeline, step, check, outcome, detail) -> None:
        table = self.query_one("#val-checks", VimTable)
        table.add_row(
            pipeline, step, check, Text(outcome, style=OUTCOME_STYLES.get(outcome, "")), detail
        )

    def on_data_table_row_selected(self, event: VimTable.RowSelected) -> None:
        if event.data_table.id == "val-runs" and event.row_key.value:
            self._show_run(int(event.row_key.value))

    # --- running ---------------------------------------------------------------------------------

    def _in_progress(self) -> bool:
        return self.active is not None and self.active.running

    def action_run(self, tier: str) -> None:
        if self._in_progress():
            self.notify("A run is in progress: c cancels it.", severity="warning")
            return
        if not self.query_one("#val-pipelines", VimTable).row_count:
            self.notify(
                "No pipeline specs to validate: add pipelines/<name>.yaml (docs/pipeline-spec.md).",
                severity="warning",
            )
            return
        self.active = ValidationRun(self.project, tier, None)
        self.app.validation_run = self.active  # type: ignore[attr-defined]
        self._progress = {}
        self.query_one("#val-log", RichLog).clear()
        self.query_one("#val-log", RichLog).border_title = "Log (live)"
        self.query_one("#val-checks", VimTable).clear()
        bar = self.query_one("#val-bar", ProgressBar)
        bar.display = True
        bar.update(total=None, progress=0)
        self.query_one("#val-status", Static).update(
            Text(f"Starting the {tier} tier…", style="cyan")
        )
        self.active.thread.start()

    def action_cancel(self) -> None:
        if not self._in_progress():
            self.notify("No run in progress.", severity="warning")
            return
        self.active.cancel.set()
        self.query_one("#val-status", Static).update(Text("Cancelling…", style="yellow"))

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

    def _drain(self) -> None:
        """Applies what the run reported since the last tick."""
        if self.active is None:
            return
        log = self.query_one("#val-log", RichLog)
        changed = False
        for _ in range(500):  # a bounded batch per tick keeps the UI responsive
            try:
                event = self.active.events.get_nowait()
            except queue.Empty:
                break
            kind = event["event"]
            if kind == "log":
                log.write(Text(event["line"]))
            elif kind == "started":
                self._shown_run = event["run_id"]
                bar = self.query_one("#val-bar", ProgressBar)
                bar.update(total=len(event["pipelines"]) * len(event["steps"]), progress=0)
                self._progress = {n: (0, "waiting", "running") for n in event["pipelines"]}
                self.query_one(
                    "#val-checks", VimTable
                ).border_title = f"Checks of run {event['run_id']} ({event['tier']}, running)"
                changed = True
            elif kind == "step":
                self._advance(event["pipeline"], event["step"])
                changed = True
            elif kind == "check":
                self._add_check(
                    event["pipeline"],
                    event["step"],
                    event["check"],
                    event["outcome"],
                    event["detail"],
                )
                done, step, outcome = self._progress.get(event["pipeline"], (0, "", "running"))
                if event["outcome"] in FAILING:
                    self._progress[event["pipeline"]] = (done, step, "failed")
                changed = True
            elif kind == "pipeline":
                name = event["pipeline"]
                done, step, outcome = self._progress.get(name, (0, "", "running"))
                total = len(STEPS[self.active.tier])
                final = "failed" if outcome == "failed" else "passed"
                self._progress[name] = (total, "done", final)
                self._set_bar()
                changed = True
            elif kind == "finished":
                self.query_one("#val-status", Static).update(
                    Text(
                        f"Run {event['run_id']} {event['status']}: {event['summary']}",
                        style=OUTCOME_STYLES.get(event["status"], ""),
                    )
                )
                self.query_one("#val-bar", ProgressBar).display = False
                self.notify(
                    f"Run {event['run_id']} {event['status']}: {event['summary']}",
                    severity="information" if event["status"] == "passed" else "warning",
                )
            elif kind == "refused":
                self.query_one("#val-bar", ProgressBar).display = False
                self.query_one("#val-status", Static).update(
                    Text(event["message"], style="bold red")
                )
                self.notify(
                    event["message"], title="Validation did not run", severity="error", timeout=10
                )
            elif kind == "thread-done":
                self.safe_reload()
                return
        if changed:
            self._show_pipelines()

    def _advance(self, pipeline: str, step: str) -> None:
        steps = STEPS[self.active.tier]
        done, _, outcome = self._progress.get(pipeline, (0, "", "running"))
        index = steps.index(step) if step in steps else done
        self._progress[pipeline] = (max(done, index), step, outcome)
        self._set_bar()
        self.query_one("#val-status", Static).update(Text(f"{pipeline}: {step}…", style="cyan"))

    def _set_bar(self) -> None:
        self.query_one("#val-bar", ProgressBar).update(
            progress=sum(done for done, _, _ in self._progress.values())
        )


def _outcome(outcome: str) -> Text:
    return Text(outcome, style=OUTCOME_STYLES.get(outcome, ""))


def _tail(path: Path, lines: int) -> list[str]:
    try:
        return path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]
    except OSError:
        return []
