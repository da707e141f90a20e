"""The phasegate TUI: one mode per section, app-wide keys to move between them."""

from __future__ import annotations

import importlib
import time
from collections.abc import Iterable
from functools import partial
from pathlib import Path

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.worker import get_current_worker

from deliverables import Project, TrackerError
from tui.screens.dashboard import DashboardScreen

STARTED = time.perf_counter()
WATCH_SECONDS = 2.0
SYNC_SECONDS = 300.0  # the background sync with the team's git remote (and S, any time)


class PhasegateApp(App):
    CSS_PATH = Path(__file__).with_name("phasegate.tcss")  # absolute: subclasses live elsewhere
    TITLE = "phasegate"
    # Screens other than the dashboard are imported when first shown: start-up stays light.
    MODES = {
        "dashboard": DashboardScreen,
        "phase": lambda: _screen("tui.screens.phase", "PhaseScreen"),
        "deliverables": lambda: _screen("tui.screens.register", "DeliverablesScreen"),
        "report": lambda: _screen("tui.screens.report", "ReportScreen"),
        "pipelines": lambda: _screen("tui.screens.pipelines", "PipelinesScreen"),
        "prompts": lambda: _screen("tui.screens.prompt_trail", "PromptTrailScreen"),
        "validation": lambda: _screen("tui.screens.validation", "ValidationScreen"),
        "today": lambda: _screen("tui.screens.today", "TodayScreen"),
        "gates": lambda: _screen("tui.screens.gates", "GatesScreen"),
        "metrics": lambda: _screen("tui.screens.metrics", "MetricsScreen"),
    }
    DEFAULT_MODE = "dashboard"
    BINDINGS = [
        Binding("d", "switch_mode('dashboard')", "Dashboard"),
        Binding("p", "show_phase('')", "Phase"),
        Binding("D", "switch_mode('deliverables')", "Deliverables"),
        Binding("r", "switch_mode('report')", "Report"),
        Binding("P", "switch_mode('pipelines')", "Pipelines"),
        Binding("T", "switch_mode('prompts')", "Prompts"),
        Binding("V", "switch_mode('validation')", "Validation"),
        Binding("t", "switch_mode('today')", "My day"),
        Binding("R", "switch_mode('gates')", "Gates"),
        Binding("M", "switch_mode('metrics')", "Metrics"),
        Binding("S", "sync", "Sync with the team", show=False),
        *(Binding(str(n), f"show_phase('{n}')", f"Phase {n}", show=False) for n in range(1, 10)),
        Binding("question_mark", "help", "Help"),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(self, project: Project) -> None:
        # a returning user starts on their day; the session is noted before anything shows
        try:
            self.previous_session = project.tracker.start_session()
        except TrackerError:
            self.previous_session = None
        if self.previous_session is not None:
            self.DEFAULT_MODE = "today"
        super().__init__()
        self.project = project
        self.ready_in: float | None = None
        self.validation_run = None  # a run in progress (tui.screens.validation), ended on exit

    def on_ready(self) -> None:
        self.ready_in = time.perf_counter() - STARTED
        self.log.info(f"started in {self.ready_in * 1000:.0f} ms")
        self._seen_version = self.project.tracker.data_version()
        self.set_interval(WATCH_SECONDS, self._watch_tracker)
        self._sync_problems: list[str] = []
        self.set_interval(SYNC_SECONDS, partial(self._sync, False))

    def action_sync(self) -> None:
        self.notify("Syncing with the team…", timeout=2)
        self._sync(True)

    @work(thread=True, exclusive=True, group="sync")
    def _sync(self, asked: bool) -> None:
        """Syncs through git on its own connection (deliverables.sync); the tracker watch then
        refreshes the screen within WATCH_SECONDS. Says what came in, and a failure when asked
        or when it is new; silent without a remote and without news."""
        from deliverables.sync import sync

        try:
            project = Project.open(self.project.root)
            try:
                report = sync(project)
            finally:
                project.close()
        except TrackerError as exc:
            if asked:
                self.call_from_thread(self.notify, str(exc), severity="warning")
            return
        if get_current_worker().is_cancelled:
            return
        news = report.problems != self._sync_problems
        self._sync_problems = report.problems
        if report.problems and (asked or news):
            self.call_from_thread(
                self.notify, "; ".join(report.problems), title="Sync", severity="warning"
            )
        elif report.received or asked:
            self.call_from_thread(self.notify, report.changes_line(), title="Sync")

    def _watch_tracker(self) -> None:
        """Shows changes made outside this app (the CLI, another process) within seconds."""
        try:
            version = self.project.tracker.data_version()
        except TrackerError:
            return
        if version != self._seen_version:
            self._seen_version = version
            reload = getattr(self.screen, "safe_reload", None)
            if reload is not None:
                reload()

    def on_unmount(self) -> None:
        run = self.validation_run
        if run is not None and run.running:  # end its subprocess; let it record "cancelled"
            run.cancel.set()
            run.thread.join(20)
        self._flush_outbox()
        self.project.close()

    def _flush_outbox(self) -> None:
        """On exit the day's ops go into this clone's git ref (local, no network), so a plain
        `git push` of the ops refs, or the next sync, carries them."""
        from deliverables.gitrefs import Repo
        from deliverables.sync import flush

        try:
            if self.project.tracker.outbox():
                flush(self.project.tracker, Repo(self.project.root))
        except TrackerError:
            pass  # not a git repository, or git refused: the outbox keeps them for next time

    # --- navigation ----------------------------------------------------------------------------

    def show_phase(self, phase_id: str = "", focus: str | None = None) -> None:
        """Opens the phase screen on `phase_id` (the current phase when empty)."""
        model = self.project.model
        if phase_id and model.phase(phase_id) is None:
            self.notify(f"There is no phase {phase_id}.", severity="warning")
            return
        self.switch_mode("phase")
        self.screen.show(phase_id or self.project.current_phase().id, focus)  # type: ignore[attr-defined]

    def action_show_phase(self, phase_id: str) -> None:
        self.show_phase(phase_id)

    def action_help(self) -> None:
        from tui.screens.help import HelpScreen, binding_rows

        if isinstance(self.screen, HelpScreen):
            return
        self.push_screen(HelpScreen(binding_rows(self.screen)))

    # --- command palette: every bound action, by its description --------------------------------

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        seen: set[str] = set()
        for node, bindings in screen._modal_binding_chain:
            for _key, binding in bindings:
                if not binding.description or binding.action in seen or binding.action == "quit":
                    continue
                seen.add(binding.action)
                yield SystemCommand(
                    binding.description,
                    f"{binding.action} · key {self.get_key_display(binding)}",
                    partial(self.run_action, binding.action, node),
                )
        for phase in self.project.model.phases:
            yield SystemCommand(
                f"Open phase {phase.id}: {phase.title}",
                f"key {phase.id}",
                partial(self.show_phase, phase.id),
            )


def _screen(module: str, name: str) -> Screen:
    return getattr(importlib.import_module(module), name)()
