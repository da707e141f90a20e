"""The phasegate TUI: one mode per section, app-wide keys to move between them.

Every binding has an id (`go.report`, `phase.toggle`, `table.down`, ...), so the user's
config file (tui/config.py) can remap any key through Textual's keymap; it also holds the theme,
which is written back when the user picks another one.
"""

from __future__ import annotations

import gc
import importlib
import time
from collections.abc import Iterable
from functools import partial
from pathlib import Path

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.css.stylesheet import Stylesheet
from textual.screen import Screen
from textual.theme import Theme
from textual.worker import get_current_worker

from deliverables import Project, TrackerError
from tui import format
from tui.config import Settings, load_settings, save_theme
from tui.widgets import shown

STARTED = time.perf_counter()
WATCH_SECONDS = 1.0  # a change made elsewhere shows within 2 s, with room to spare
SYNC_SECONDS = 300.0  # the background sync with the team's git remote (and S, any time)

# Screens are imported when first shown: start-up imports only the first one (a returning
# user's day, or the dashboard).
SCREENS = {
    "dashboard": ("tui.screens.dashboard", "DashboardScreen"),
    "phase": ("tui.screens.phase", "PhaseScreen"),
    "deliverables": ("tui.screens.register", "DeliverablesScreen"),
    "report": ("tui.screens.report", "ReportScreen"),
    "pipelines": ("tui.screens.pipelines", "PipelinesScreen"),
    "prompts": ("tui.screens.prompt_trail", "PromptTrailScreen"),
    "validation": ("tui.screens.validation", "ValidationScreen"),
    "today": ("tui.screens.today", "TodayScreen"),
    "gates": ("tui.screens.gates", "GatesScreen"),
    "metrics": ("tui.screens.metrics", "MetricsScreen"),
    "profile": ("tui.screens.profile", "ProfileScreen"),
}
# The keys that open a screen. Lower and upper case open different screens (d/D, p/P, r/R,
# t/T): the help shows each pair side by side, explained (tui/screens/help.py).
GO_KEYS = [
    ("d", "dashboard", "switch_mode('dashboard')", "Dashboard"),
    ("p", "phase", "show_phase('')", "Phase"),
    ("D", "deliverables", "switch_mode('deliverables')", "Deliverables"),
    ("r", "report", "switch_mode('report')", "Report"),
    ("P", "pipelines", "switch_mode('pipelines')", "Pipelines"),
    ("T", "prompts", "switch_mode('prompts')", "Prompts"),
    ("V", "validation", "switch_mode('validation')", "Validation"),
    ("t", "today", "switch_mode('today')", "My day"),
    ("R", "gates", "switch_mode('gates')", "Gates"),
    ("M", "metrics", "switch_mode('metrics')", "Metrics"),
    ("F", "profile", "switch_mode('profile')", "Profiles"),
]


class KeptStylesheet(Stylesheet):
    """Textual's stylesheet, keeping the rules parsed from each source while the CSS variables
    stay the same. Textual re-parses every source from scratch on `reparse()` (into a fresh
    Stylesheet) and after `set_variables()`: three times before the first screen shows, once
    for the first mode screen's CSS, once in `refresh_css()`, once more when its widgets mount.
    Parsing depends only on the source and the variables, so the rules are kept by both."""

    def __init__(self, *, variables: dict[str, str] | None = None) -> None:
        super().__init__(variables=variables)
        self._kept: dict[tuple, list] = {}

    @classmethod
    def replacing(cls, stylesheet: Stylesheet) -> KeptStylesheet:
        """A KeptStylesheet with the variables and sources of `stylesheet` (the app's, made in
        App.__init__: its variables cost ~3 M instructions to compute again)."""
        kept = cls(variables=stylesheet._variables)
        kept.source = stylesheet.source.copy()
        return kept

    @property
    def variables(self) -> dict[str, str]:
        """The CSS variables the rules are parsed with (the theme's, until it changes)."""
        return self._variables

    def set_variables(self, variables: dict[str, str]) -> None:
        if variables != self._variables:
            self._kept = {}  # a new theme: every source is parsed again with its values
        super().set_variables(variables)

    def _parse_rules(
        self,
        css: str,
        read_from: tuple[str, str],
        is_default_rules: bool = False,
        tie_breaker: int = 0,
        scope: str = "",
    ) -> list:
        key = (css, read_from, is_default_rules, tie_breaker, scope)
        rules = self._kept.get(key)
        if rules is None:
            rules = super()._parse_rules(css, read_from, is_default_rules, tie_breaker, scope)
            self._kept[key] = rules
        return rules

    def reparse(self) -> None:
        """Textual's `Stylesheet.reparse` (8.x), the fresh copy sharing the kept rules."""
        stylesheet = KeptStylesheet(variables=self._variables)
        stylesheet._kept = self._kept
        for read_from, (css, is_defaults, tie_breaker, scope) in self.source.items():
            stylesheet.add_source(
                css,
                read_from=read_from,
                is_default_css=is_defaults,
                tie_breaker=tie_breaker,
                scope=scope,
            )
        try:
            stylesheet.parse()
        except Exception:
            self._invalid_css.update(stylesheet._invalid_css)
            raise
        self._rules = stylesheet.rules
        self._rules_map = None
        self.source = stylesheet.source
        self._require_parse = False


def _screen(module: str, name: str) -> Screen:
    return getattr(importlib.import_module(module), name)()


class PhasegateApp(App):
    CSS_PATH = Path(__file__).with_name("phasegate.tcss")  # absolute: subclasses live elsewhere
    TITLE = "phasegate"
    MODES = {mode: partial(_screen, *where) for mode, where in SCREENS.items()}
    DEFAULT_MODE = "dashboard"
    BINDINGS = [
        *(Binding(key, action, label, id=f"go.{name}") for key, name, action, label in GO_KEYS),
        *(
            Binding(str(n), f"show_phase('{n}')", f"Phase {n}", show=False, id=f"go.phase_{n}")
            for n in range(1, 10)
        ),
        Binding("S", "sync", "Sync with the team", show=False, id="app.sync"),
        Binding("question_mark", "help", "Help", id="app.help"),
        Binding("q", "quit", "Quit", id="app.quit"),
    ]

    def __init__(self, project: Project, settings: Settings | None = None) -> None:
        # a returning user starts on their day; the session is noted before anything shows
        try:
            self.previous_session = project.tracker.start_session()
        except TrackerError:
            self.previous_session = None
        if self.previous_session is not None:
            self.DEFAULT_MODE = "today"
        super().__init__()
        self.stylesheet = KeptStylesheet.replacing(self.stylesheet)
        self.project = project
        self.ready_in: float | None = None
        self.settings = settings if settings is not None else load_settings()
        self._apply_settings()

    def run(self, *args, **kwargs):
        """Runs the app in this process, which it then owns: what exists when the first screen
        is ready (modules, the process model, Textual's tables) lives as long as the app. So the
        cyclic garbage collector stays off until then (`phasegate open` turns it off before
        Textual is imported: ~45 M instructions of start-up, bench/startup.py), and on_ready
        freezes what exists, so that later collections do not scan it again. Tests, which start
        many apps in one process, use `run_test` and keep the collector as it is."""
        gc.disable()
        self._collect_when_ready = True
        try:
            return super().run(*args, **kwargs)
        finally:
            gc.enable()

    def _apply_settings(self) -> None:
        """Theme and keymap from the config file; what is wrong with it waits for on_mount."""
        settings = self.settings
        self.problems = list(settings.problems)
        if settings.theme is not None:
            if settings.theme in self.available_themes:
                self.theme = settings.theme
            else:
                self.problems.append(
                    f"{settings.path}: theme '{settings.theme}' is not a theme; choose one of "
                    f"{', '.join(sorted(self.available_themes))}"
                )
        self._theme_on_file = self.theme
        # the stylesheet's variables are the theme's until another theme is chosen above
        theme_set = settings.theme is not None and self.theme == settings.theme
        format.use_theme(self.get_css_variables() if theme_set else self.stylesheet.variables)
        if settings.keymap:
            self.set_keymap(settings.keymap)

    def on_mount(self) -> None:
        self.theme_changed_signal.subscribe(self, self._theme_changed)
        for problem in self.problems:
            self.notify(problem, title="Settings not applied", severity="error", timeout=20)
        if self.settings.keymap:
            self.call_after_refresh(self._check_keymap)

    def on_ready(self) -> None:
        if getattr(self, "_collect_when_ready", False):
            gc.freeze()
            gc.enable()
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

    def notify(self, message: str, *, title: str = "", **kwargs) -> None:
        """Every notification (the screens' too: Widget.notify calls this) is terminal-safe:
        a message may quote a stored value or a file."""
        super().notify(shown(message, multiline=True), title=shown(title), **kwargs)

    def _check_keymap(self) -> None:
        """Names the keymap entries that match no binding (a typo would otherwise do nothing)."""
        known = binding_ids()
        for binding_id in self.settings.keymap:
            if binding_id not in known:
                self.notify(
                    f'{self.settings.path}: keymap."{binding_id}" is not a binding id '
                    "(? lists each key's id)",
                    title="Settings not applied",
                    severity="error",
                    timeout=20,
                )

    def _theme_changed(self, theme: Theme) -> None:
        """Recolours what is on screen with the new theme's tones and remembers the choice."""
        if format.use_theme(self.get_css_variables()):
            for screen in self.screen_stack:
                reload = getattr(screen, "safe_reload", None)
                if reload is not None:
                    reload()
        if theme.name != self._theme_on_file:
            self._theme_on_file = theme.name
            problem = save_theme(self.settings.path, theme.name)
            if problem:
                self.notify(problem, title="Theme", severity="warning", timeout=10)

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
        # the screens are gone by now (a validation run ended with its screen)
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
        from tui.screens.help import HelpScreen, help_rows

        if isinstance(self.screen, HelpScreen):
            return
        self.push_screen(HelpScreen(help_rows(self.screen)))

    # --- command palette: every bound action, by its description --------------------------------

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        seen: set[str] = set()
        for active in screen.active_bindings.values():
            binding, node = active.binding, active.node
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


def binding_ids() -> set[str]:
    """Every binding id of the app, its screens and widgets (imports every screen)."""
    from tui.dialogs import ChoicePrompt, TextPrompt
    from tui.screens.help import HelpScreen
    from tui.widgets import VimTable

    classes: list[type] = [PhasegateApp, VimTable, TextPrompt, ChoicePrompt]
    classes += [HelpScreen] + [getattr(importlib.import_module(m), n) for m, n in SCREENS.values()]
    return {
        binding.id
        for cls in classes
        for klass in cls.__mro__
        for binding in klass.__dict__.get("BINDINGS", [])
        if isinstance(binding, Binding) and binding.id
    }
