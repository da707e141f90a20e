"""History and metrics: each phase's duration (entered → passed) and checklist burn-up, gate
outcomes over time, and the process document's success metrics the tracker can measure."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Header

from deliverables.metrics import metrics
from tui.format import GATE_OUTCOME_STYLES, tone
from tui.keybar import KeyBar
from tui.screens.base import STYLES, ProjectScreen
from tui.widgets import Label, Static, VimTable

SPARK_DAYS = 60  # one block per day, scaled to the phase's required items
OUTCOME_STYLES = GATE_OUTCOME_STYLES


class MetricsScreen(ProjectScreen):
    CSS_PATH = STYLES / "metrics.tcss"
    AUTO_FOCUS = "#metric-phases"

    def compose(self) -> ComposeResult:
        yield Header()
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
        ).border_title = "Checklist burn-up: required items closed, one block per day"
        self.query_one("#metric-success").border_title = "Success metrics"
        gates = self.query_one("#metric-gates", VimTable)
        gates.border_title = "Gate outcomes over time"
        for label in ("Date", "Phase", "Outcome"):
            gates.add_column(label, key=label.lower())

    def reload(self) -> None:
        project = self.project
        self.title = f"phasegate · {project.name}"
        self.sub_title = "history and metrics"
        found = metrics(project)
        table = self.query_one("#metric-phases", VimTable)
        table.clear()
        burnups = self.query_one("#metric-burnups", VerticalScroll)
        burnups.remove_children()
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
                line = Text(f"{p.phase_id}. {p.title:<32} ", style="bold")
                line.append(p.sparkline(width=SPARK_DAYS), style=tone("ok" if p.passed else "info"))
                line.append(f"  {done}/{p.required} in {len(p.burnup)} day(s)", style="dim")
                burnups.mount(Static(line, classes="burnup"))
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


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"
