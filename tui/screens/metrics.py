"""History and metrics: each phase's duration (entered → passed) and checklist burn-up, gate
outcomes over time, and the process document's success metrics the tracker can measure.

`u` publishes them (and the rest of the tracker's facts) to the team's PostgreSQL for Metabase
(deliverables.publish), in a thread worker with a progress bar; the screen says when this clone
last published."""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Header, ProgressBar
from textual.worker import Worker, WorkerState, get_current_worker

from deliverables.metrics import PhaseMetrics, Span, metrics, timeline
from deliverables.templating import local_time
from tui.format import GATE_OUTCOME_STYLES, tone
from tui.keybar import KeyBar
from tui.screens.base import STYLES, ProjectScreen
from tui.widgets import Label, Static, VimTable

TIMELINE_WIDTH = 60  # cells of the phase timeline's day axis
PLOT_WIDTH = 56  # cells of a burn-up plot's day axis
PLOT_ROWS = 4  # its height in cells, eight levels each
EIGHTHS = " ▁▂▃▄▅▆▇█"
OUTCOME_STYLES = GATE_OUTCOME_STYLES


class MetricsScreen(ProjectScreen):
    CSS_PATH = STYLES / "metrics.tcss"
    AUTO_FOCUS = "#metric-phases"
    BINDINGS = [
        Binding("u", "publish", "Publish to dashboards", id="metrics.publish"),
    ]

    class PublishStep(Message):
        """A step of the publish in progress, from its thread."""

        def __init__(self, text: str, done: float) -> None:
            super().__init__()
            self.text, self.done = text, done

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="metric-publish-row"):
            yield Static("", id="metric-publish")
            yield ProgressBar(id="metric-publish-bar", total=100, show_eta=False)
        with Horizontal():
            with Vertical(id="metric-left"):
                yield VimTable(id="metric-phases", classes="panel")
                yield VerticalScroll(id="metric-burnups", classes="panel")
            with Vertical(id="metric-right"):
                yield Static(id="metric-success", classes="panel")
                yield VimTable(id="metric-gates", classes="panel")
        yield KeyBar()

    def on_mount(self) -> None:
        table = self.query_one("#metric-phases", VimTable)
        table.border_title = "Phase durations"
        for label in ("Phase", "Entered", "Passed", "Days", "Checklist"):
            table.add_column(label, key=label.lower())
        self.query_one(
            "#metric-burnups"
        ).border_title = "Phase timeline and checklist burn-up per phase"
        self.query_one("#metric-success").border_title = "Success metrics"
        gates = self.query_one("#metric-gates", VimTable)
        gates.border_title = "Gate outcomes over time"
        for label in ("Date", "Phase", "Outcome"):
            gates.add_column(label, key=label.lower())
        self.query_one("#metric-publish-bar", ProgressBar).display = False

    def reload(self) -> None:
        project = self.project
        self.title = f"phasegate · {project.name}"
        self.sub_title = "history and metrics"
        found = metrics(project)
        if not self.publishing:
            self._show_last_publish()
        table = self.query_one("#metric-phases", VimTable)
        table.clear()
        burnups = self.query_one("#metric-burnups", VerticalScroll)
        burnups.remove_children()
        for line in _timeline_lines(timeline(found, project.today())):
            burnups.mount(Static(line, classes="timeline"))
        for p in found.phases:
            done = p.burnup[-1] if p.burnup else 0
            days = p.duration_days
            running = (project.today() - p.entered).days if p.entered and not p.passed else None
            table.add_row(
                f"{p.phase_id}. {p.title}",
                p.entered.isoformat() if p.entered else "—",
                p.passed.isoformat() if p.passed else "—",
                str(days)
                if days is not None
                else (f"{running} so far" if running is not None else "—"),
                f"{done}/{p.required}",
                key=p.phase_id,
            )
            if p.burnup:
                burnups.mount(Static(_burnup_plot(p), classes="burnup"))
        if not any(p.burnup for p in found.phases):
            burnups.mount(Label("No checklist activity yet.", classes="dim"))
        gates = self.query_one("#metric-gates", VimTable)
        gates.clear()
        for day, phase, outcome in reversed(found.gates):
            gates.add_row(
                day,
                phase,
                Text(outcome.replace("_", " "), style=tone(OUTCOME_STYLES.get(outcome, ""))),
            )
        text = Text()
        for label, value in (
            (
                "Development velocity (phase 1 → deployment passed)",
                f"{found.velocity_days} days"
                if found.velocity_days is not None
                else f"not deployed yet; {found.elapsed_days or 0} days since phase 1 started",
            ),
            ("Gates passed at the first review", _percent(found.first_time_pass_rate)),
            (
                "Data quality: checks passed in full validation runs",
                _percent(found.validation_pass_rate),
            ),
        ):
            text.append(f"{label}: ", style="bold")
            text.append(f"{value}\n")
        self.query_one("#metric-success", Static).update(text)

    # --- publishing to the dashboards' database -------------------------------------------------

    @property
    def publishing(self) -> bool:
        return any(w.group == "publish" and w.is_running for w in self.workers)

    def _show_last_publish(self) -> None:
        from deliverables.publish import last_published

        last = last_published(self.project)
        text = Text()
        if last is None:
            text.append("Not published yet", style="bold")
            text.append(
                ": u publishes to PostgreSQL for Metabase (PHASEGATE_PUBLISH_DSN, or "
                "tech_stack.serving.publish_dsn in agent-prompts/context.yaml)",
                style="dim",
            )
        else:
            text.append("Last published ", style="bold")
            text.append(f"{local_time(str(last.get('at', '')))} to {last.get('target', '?')}")
            text.append(f" (schema {last.get('schema', '?')}): u publishes again", style="dim")
        self.query_one("#metric-publish", Static).update(text)

    def action_publish(self) -> None:
        if self.publishing:
            self.notify("A publish is already running.", severity="warning")
            return
        bar = self.query_one("#metric-publish-bar", ProgressBar)
        bar.display = True
        bar.update(total=100, progress=0)
        self.query_one("#metric-publish", Static).update(Text("Publishing…", style=tone("info")))
        self._publish()

    @work(thread=True, exclusive=True, exit_on_error=False, group="publish", name="publish")
    def _publish(self) -> None:
        """On a connection of its own to the tracker (the UI thread keeps reading its own)."""
        from deliverables import Project, TrackerError
        from deliverables.publish import publish, resolve_dsn

        post = self.post_message  # thread-safe
        try:
            project = Project.open(self.project.root, clock=self.project.tracker.clock)
            try:
                target = resolve_dsn(project.root)
                outcome = publish(
                    project, target, listener=lambda text, done: post(self.PublishStep(text, done))
                )
            finally:
                project.close()
        except TrackerError as exc:  # PublishError among them: one line, no password
            if not get_current_worker().is_cancelled:
                self.app.call_from_thread(self._published, None, str(exc))
            return
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._published, outcome.line(), None)

    def on_metrics_screen_publish_step(self, message: PublishStep) -> None:
        self.query_one("#metric-publish-bar", ProgressBar).update(progress=message.done * 100)
        self.query_one("#metric-publish", Static).update(
            Text(f"Publishing: {message.text}…", style=tone("info"))
        )

    def _published(self, line: str | None, problem: str | None) -> None:
        self.query_one("#metric-publish-bar", ProgressBar).display = False
        if problem is not None:
            self.query_one("#metric-publish", Static).update(
                Text(f"Not published: {problem}", style=tone("bold bad"))
            )
            self.notify(problem, title="Not published", severity="error", timeout=10)
            return
        self._show_last_publish()
        self.notify(line or "", title="Published")

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        super().on_worker_state_changed(event)  # an unexpected error: shown as a message
        if event.worker.group == "publish" and event.state in (
            WorkerState.ERROR,
            WorkerState.CANCELLED,
        ):
            self.query_one("#metric-publish-bar", ProgressBar).display = False


def _timeline_lines(spans: list[Span]) -> list[Text]:
    """The phases as bars on one day axis (the status report draws them as a Mermaid gantt)."""
    if not spans:
        return []
    first = min(s.start for s in spans)
    days = max((max(s.end for s in spans) - first).days + 1, 1)
    scale = min(1.0, TIMELINE_WIDTH / days)  # cells per day: one, or fewer on a long project
    lines = []
    for span in spans:
        offset = int((span.start - first).days * scale)
        length = max(1, round(((span.end - span.start).days + 1) * scale))
        line = Text(f"{span.phase.phase_id}. {span.phase.title:<32} ", style="bold")
        line.append(" " * offset)
        line.append("█" * length, style=tone("ok" if span.passed else "info"))
        line.append(
            f"  {span.start:%m-%d} → {span.end:%m-%d}" + ("" if span.passed else " (under way)"),
            style="dim",
        )
        lines.append(line)
    lines.append(Text(""))
    return lines


def _burnup_plot(phase: PhaseMetrics) -> Text:
    """A phase's burn-up as a column chart (the status report draws it as a Mermaid xychart): a
    column per day, wider on a short phase, a long phase's days merged (each column shows the
    last of its days), its height the required items closed by the end of that day, on an axis
    from 0 to the phase's required items."""
    values = phase.burnup
    top = max(phase.required, *values, 1)
    if len(values) > PLOT_WIDTH:
        step = len(values) / PLOT_WIDTH
        values = [values[min(len(values), round((n + 1) * step)) - 1] for n in range(PLOT_WIDTH)]
    per_day = max(1, min(4, PLOT_WIDTH // len(values)))
    columns = [v for v in values for _ in range(per_day)]
    done = phase.burnup[-1]
    text = Text(f"{phase.phase_id}. {phase.title}", style="bold")
    text.append(f"  {done}/{phase.required} in {len(phase.burnup)} day(s)\n", style="dim")
    margin = len(str(top))
    style = tone("ok" if phase.passed else "info")
    for row in range(PLOT_ROWS - 1, -1, -1):
        label = str(top) if row == PLOT_ROWS - 1 else ""
        text.append(f"{label:>{margin}} {'┤' if label else '│'}", style="dim")
        text.append(
            "".join(
                EIGHTHS[max(0, min(8, round(v / top * PLOT_ROWS * 8) - row * 8))] for v in columns
            ),
            style=style,
        )
        text.append("\n")
    text.append(f"{'0':>{margin}} └{'─' * len(columns)}\n", style="dim")
    first, last = f"{phase.days[0]:%m-%d}", f"{phase.days[-1]:%m-%d}"
    axis = first if len(phase.days) == 1 else first + last.rjust(max(len(columns) - 5, 6))
    text.append(" " * (margin + 2) + axis, style="dim")
    return text


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"
