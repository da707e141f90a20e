"""Profiles (process 1.3): the profiled sources, the columns of the one under the cursor, a bar
chart of the selected column (its histogram, or its most frequent values), the drift found
against the profile before, and the suggested quality rules, each accepted or rejected before
the spec is written; and profiling itself: `u` profiles the source under the cursor again (its
stored location, format, reader options and sample size), `n` asks for a new source (and its
format, when its name does not tell it), `c` cancels the profile in progress.

The profiles are the team's (the tracker's, once synced) and this clone's JSON, as the report
reads them (pipelines.profiling.outputs.team_profiles); `W` writes `pipelines/<name>.yaml`
through the same domain function as `phasegate profile` (outputs.write_spec), without the
rules rejected here.

Profiling runs what `phasegate profile` runs (pipelines.profiling.run.profile_and_write: the
Spark subprocess, then the stored profile and its drift, the D1.3 report, the drafted spec, the
tracker's `profile` op) in a thread worker (`_profile`) with its own tracker connection. Each
pass the subprocess reports reaches the screen as a `ProfileEvent` and moves the progress bar;
the worker's end arrives as `Worker.StateChanged`, after every event it posted, and shows the
new profile and its drift. A refused or failed run is one line above the sources, and nothing
stored changes. One profile runs at a time; leaving the app cancels it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Header, ProgressBar
from textual.worker import Worker, WorkerState

from deliverables import TrackerError
from deliverables.store import Clock
from tui.format import tone
from tui.keybar import KeyBar
from tui.screens.base import STYLES, ProjectScreen
from tui.widgets import Static, VimTable

if TYPE_CHECKING:
    from pipelines.profiling.outputs import ProfileOutcome

BAR_WIDTH = 30  # the longest bar of the chart, in cells
LABEL_WIDTH = 16  # a bin's lower edge (a time to the minute) or a value, cut to this
ACCEPTED, REJECTED = "accepted", "rejected"
STOP_SECONDS = 20.0  # how long leaving the app waits for a cancelled profile's subprocess to end
NEW_SOURCE_HINT = "a file, folder or glob in the repository, or s3://bucket/prefix"


@dataclass
class ActiveProfile:
    """The profile in progress: what it profiles, how to stop it, when its thread has ended,
    and the passes the subprocess reported so far."""

    what: str  # the source's name (profiled again) or the location given
    cancel: threading.Event = field(default_factory=threading.Event)
    ended: threading.Event = field(default_factory=threading.Event)
    passes: list[dict] = field(default_factory=list)


class ProfileScreen(ProjectScreen):
    CSS_PATH = STYLES / "profile.tcss"
    AUTO_FOCUS = "#profile-sources"
    BINDINGS = [
        Binding("space", "toggle_rule", "Accept/reject rule", id="profile.toggle_rule"),
        Binding("a", "set_rule('accepted')", "Accept rule", id="profile.accept_rule"),
        Binding("x", "set_rule('rejected')", "Reject rule", id="profile.reject_rule"),
        Binding("W", "write_spec", "Write the spec", id="profile.write_spec"),
        Binding("u", "profile_again", "Profile again", id="profile.again"),
        Binding("n", "profile_new", "Profile a source", id="profile.new"),
        Binding("c", "cancel", "Cancel profiling", show=False, id="profile.cancel"),
    ]

    class ProfileEvent(Message):
        """One event of the profile in progress, from its thread: a `pass` of the profiling
        subprocess (index, total, name), or `refused` (message)."""

        def __init__(self, event: dict) -> None:
            super().__init__()
            self.event = event

    def __init__(self) -> None:
        super().__init__()
        self.active: ActiveProfile | None = None
        self.profiles: dict[str, dict[str, Any]] = {}
        self.suggestions: dict[str, list] = {}  # per source: its Suggestions, in spec order
        self.decisions: dict[str, dict[str, str]] = {}  # per source: rule id -> accepted|rejected
        self.problems: dict[str, str] = {}  # per source: why no rule can be suggested

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="profile-status-row"):  # shown once a profile starts
            yield Static("", id="profile-status")
            yield ProgressBar(id="profile-bar", show_eta=False)
        with Horizontal():
            with Vertical(id="profile-left"):
                yield VimTable(id="profile-sources", classes="panel")
                yield VimTable(id="profile-columns", classes="panel")
            with Vertical(id="profile-right"):
                with VerticalScroll(id="profile-chart-panel", classes="panel"):
                    yield Static(id="profile-chart")
                yield VimTable(id="profile-rules", classes="panel")
        yield KeyBar()

    def on_mount(self) -> None:
        sources = self.query_one("#profile-sources", VimTable)
        sources.border_title = "Profiled sources"
        for label in ("Source", "Rows", "Basis", "Profiled", "By", "Drift"):
            sources.add_column(label, key=label.lower())
        columns = self.query_one("#profile-columns", VimTable)
        columns.border_title = "Columns"
        for label in ("Column", "Type", "Nulls", "Distinct", "Min", "Max", "Flags"):
            columns.add_column(label, key=label.lower())
        self.query_one("#profile-chart-panel").border_title = "Chart"
        rules = self.query_one("#profile-rules", VimTable)
        rules.border_title = "Suggested rules (space · a accept · x reject · W write the spec)"
        for label in ("", "Rule", "Column", "Evidence"):
            rules.add_column(label, key=label.lower() or "decision")

    def on_unmount(self) -> None:
        """Leaving the app ends a profile's subprocess (nothing of it is stored)."""
        if self.running:
            self.active.cancel.set()
            self.active.ended.wait(STOP_SECONDS)

    # --- loading -------------------------------------------------------------------------------

    def reload(self) -> None:
        from deliverables.identity import display_name
        from deliverables.profiles import latest_profiles
        from pipelines.errors import ProfileError
        from pipelines.profiling.outputs import team_profiles
        from pipelines.profiling.suggest import suggest

        self.title = f"phasegate · {self.project.name}"
        self.sub_title = "profiles (1.3)"
        profiles = team_profiles(self.project)
        self.profiles = {p["name"]: p for p in profiles}
        self.suggestions, self.problems = {}, {}
        for name, profile in self.profiles.items():
            try:
                self.suggestions[name] = suggest(profile)
            except ProfileError as exc:
                self.suggestions[name], self.problems[name] = [], str(exc)
            kept = self.decisions.get(name, {})
            self.decisions[name] = {s.id: kept.get(s.id, ACCEPTED) for s in self.suggestions[name]}
        by = {p.name: (p.profiled_at, p.actor) for p in latest_profiles(self.project.tracker)}
        sources = self.query_one("#profile-sources", VimTable)
        keep = sources.current_key
        sources.clear()
        for profile in profiles:
            stored = by.get(profile["name"])
            # the tracker's profile, or this clone's newer one (not recorded: made before profiles
            # were ops)
            who = (
                display_name(stored[1])
                if stored and stored[0] == profile["profiled_at"]
                else "this clone"
            )
            findings = (profile.get("drift") or {}).get("findings")
            drift = (
                Text("—", style="dim")
                if findings is None
                else Text(f"{len(findings)} finding(s)", style=tone("bold warn"))
                if findings
                else Text("none", style=tone("ok"))
            )
            sources.add_row(
                profile["name"],
                f"{profile['rows_profiled']:,}",
                profile["basis"],
                profile["profiled_at"][:16].replace("T", " "),
                who,
                drift,
                key=profile["name"],
            )
        if keep:
            sources.select_key(keep)
        sources.border_subtitle = "" if sources.row_count else "none yet"
        self._show_source()

    @property
    def source(self) -> str | None:
        return self.query_one("#profile-sources", VimTable).current_key

    def on_data_table_row_highlighted(self, event: VimTable.RowHighlighted) -> None:
        if event.data_table.id == "profile-sources":
            self._show_source()
        elif event.data_table.id == "profile-columns":
            self._show_chart()

    def _show_source(self) -> None:
        name = self.source
        profile = self.profiles.get(name) if name else None
        columns = self.query_one("#profile-columns", VimTable)
        keep = columns.current_key
        columns.clear()
        for c in (profile or {}).get("columns", []):
            flags = []
            if c.get("sensitive"):
                flags.append(f"sensitive: {c['sensitive']}")
            if name and c["name"] in profile["keys"]["single"]:
                flags.append("key")
            if c.get("failing"):
                flags.append(f"{c['failing']:,} fail the type")
            columns.add_row(
                c["name"],
                c["type"] or "?",
                _share(c["nulls"], profile["rows_profiled"]),
                f"{c['distinct']:,}" + ("" if c.get("distinct_exact") else "~"),
                "withheld" if c.get("withheld") else _short(c.get("min")),
                "withheld" if c.get("withheld") else _short(c.get("max")),
                ", ".join(flags),
                key=c["name"],
            )
        if keep:
            columns.select_key(keep)
        columns.border_title = f"Columns of {name}" if name else "Columns"
        columns.border_subtitle = "" if columns.row_count else "no source profiled"
        self._show_rules()
        self._show_chart()

    def _show_rules(self) -> None:
        name = self.source
        rules = self.query_one("#profile-rules", VimTable)
        keep = rules.current_key
        rules.clear()
        decisions = self.decisions.get(name or "", {})
        for s in self.suggestions.get(name or "", []):
            rules.add_row(
                _decision(decisions.get(s.id, ACCEPTED)),
                s.rule["rule"],
                ", ".join(s.rule.get("columns", [])) or s.rule.get("column", "—"),
                s.evidence,
                key=s.id,
            )
        if keep:
            rules.select_key(keep)
        rejected = sum(1 for v in decisions.values() if v == REJECTED)
        rules.border_subtitle = (
            self.problems.get(name or "", "")
            or (f"{rejected} rejected" if rejected else "")
            or ("" if rules.row_count else "no rules")
        )

    def _show_chart(self) -> None:
        name = self.source
        profile = self.profiles.get(name) if name else None
        panel = self.query_one("#profile-chart-panel")
        chart = self.query_one("#profile-chart", Static)
        if profile is None:
            panel.border_title = "Chart"
            chart.update(
                Text(
                    "No source profiled yet: n here (or `phasegate profile SOURCE`) profiles a "
                    "file, a folder, a glob or s3://bucket/prefix; its profile shows here.",
                    style="dim",
                )
            )
            return
        column_name = self.query_one("#profile-columns", VimTable).current_key
        column = next((c for c in profile["columns"] if c["name"] == column_name), None)
        if column is None:
            panel.border_title = "Chart"
            chart.update(Text("Select a column.", style="dim"))
            return
        panel.border_title = f"{name}.{column['name']}"
        text = column_chart(column, profile["rows_profiled"])
        findings = [
            f
            for f in (profile.get("drift") or {}).get("findings", [])
            if f["column"] == column["name"]
        ]
        if findings:
            text.append("\nDrift since the profile before\n", style="bold")
            for f in findings:
                text.append(f"  {f['kind']:<12} ", style=tone("warn"))
                text.append(f"{f['detail']}\n")
        chart.update(text)

    # --- accepting and rejecting rules, writing the spec ----------------------------------------

    def _rule_in_focus(self) -> tuple[str, str] | None:
        """(source, rule id) under the rules table's cursor; None (with a message) when there is
        none: no source, or no rule."""
        name = self.source
        rule = self.query_one("#profile-rules", VimTable).current_key
        if name is None or rule is None:
            self.notify(
                "No rule to decide on: profile a source first (n, or `phasegate profile`)."
                if name is None
                else f"{name} has no suggested rules.",
                severity="warning",
            )
            return None
        return name, rule

    def action_toggle_rule(self) -> None:
        found = self._rule_in_focus()
        if found is not None:
            name, rule = found
            current = self.decisions[name].get(rule, ACCEPTED)
            self._decide(name, rule, REJECTED if current == ACCEPTED else ACCEPTED)

    def action_set_rule(self, decision: str) -> None:
        found = self._rule_in_focus()
        if found is not None:
            self._decide(*found, decision)

    def _decide(self, name: str, rule: str, decision: str) -> None:
        self.decisions[name][rule] = decision
        rules = self.query_one("#profile-rules", VimTable)
        rules.update_cell(rule, "decision", _decision(decision))
        rejected = sum(1 for v in self.decisions[name].values() if v == REJECTED)
        rules.border_subtitle = f"{rejected} rejected" if rejected else ""

    def action_write_spec(self) -> None:
        from pipelines.errors import GenerationError, ProfileError
        from pipelines.profiling.outputs import write_spec

        name = self.source
        if name is None:
            self.notify(
                "No source to write a spec for: profile one first (n, or `phasegate profile`).",
                severity="warning",
            )
            return
        rejected = sorted(k for k, v in self.decisions[name].items() if v == REJECTED)
        try:
            state, problem = write_spec(
                self.project, self.profiles[name], update=True, rejected=rejected
            )
        except (ProfileError, GenerationError, TrackerError, OSError) as exc:
            self.notify(str(exc), title="Spec not written", severity="error", timeout=8)
            return
        spec = f"pipelines/{name}.yaml"
        if problem:
            self.notify(problem, title=f"{spec}: {state}", severity="warning", timeout=8)
            return
        left_out = f", without {len(rejected)} rejected rule(s)" if rejected else ""
        self.notify(f"{spec}: {state}{left_out}", title="Spec written")

    # --- profiling -------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """A profile was started here and its worker has not ended yet."""
        return self.active is not None and not self.active.ended.is_set()

    def _busy(self) -> bool:
        """True (with a message) while a profile runs: one at a time."""
        if self.running:
            self.notify(
                f"{self.active.what} is being profiled: one profile at a time (c cancels it).",
                severity="warning",
            )
        return self.running

    def action_profile_again(self) -> None:
        if self._busy():
            return
        name = self.source
        if name is None:
            self.notify("No source to profile again: n profiles a new one.", severity="warning")
            return
        self._start(name, stored=self.profiles[name])

    def action_profile_new(self) -> None:
        """Asks for the source's location, and its format when its name does not tell it (a
        folder, a file without an extension): `phasegate profile`'s SOURCE and --format."""
        from pipelines.profiling.source import guess_format
        from pipelines.spec import FORMATS
        from tui.dialogs import ChoicePrompt, TextPrompt

        if self._busy():
            return

        def check(text: str) -> str | None:
            return None if text.strip() else f"Name the source: {NEW_SOURCE_HINT}."

        def start(location: str, fmt: str | None) -> None:
            if fmt is not None and not self._busy():
                self._start(location, location=location, fmt=fmt)

        def chosen(text: str | None) -> None:
            if text is None:
                return
            location = text.strip()
            fmt = guess_format(location)
            if fmt is not None:
                start(location, fmt)
                return
            self.app.push_screen(
                ChoicePrompt(
                    f"{location}: its name does not tell the format; read it as",
                    [(f, f) for f in FORMATS],
                ),
                lambda fmt: start(location, fmt),
            )

        self.app.push_screen(
            TextPrompt("Profile a source (1.3)", "", NEW_SOURCE_HINT, check), chosen
        )

    def action_cancel(self) -> None:
        if not self.running:
            self.notify("No profile in progress.", severity="warning")
            return
        self.active.cancel.set()
        self._say(f"Cancelling the profile of {self.active.what}…", "warn")

    def _start(
        self,
        what: str,
        *,
        stored: dict[str, Any] | None = None,
        location: str | None = None,
        fmt: str | None = None,
    ) -> None:
        self.active = ActiveProfile(what)
        self.query_one("#profile-status-row").display = True
        bar = self.query_one("#profile-bar", ProgressBar)
        bar.display = True
        bar.update(total=None, progress=0)
        self._say(f"Profiling {what}: starting…", "info")
        tracker = self.project.tracker
        self._profile(self.active, stored, location, fmt, tracker.clock, tracker.actor)

    @work(thread=True, exclusive=True, exit_on_error=False, group="profile", name="profile")
    def _profile(
        self,
        run: ActiveProfile,
        stored: dict[str, Any] | None,
        location: str | None,
        fmt: str | None,
        clock: Clock,
        actor: str,
    ) -> ProfileOutcome | None:
        """The profile and its outputs, off the UI thread; a refused run is an event like the
        passes. Returns the ProfileOutcome, or None when refused."""
        from deliverables import Project
        from pipelines.errors import GenerationError, ProfileError
        from pipelines.profiling.run import profile_again, profile_and_write

        post = self.post_message  # thread-safe

        def listener(event: dict) -> None:
            post(self.ProfileEvent(event))

        try:
            # its own tracker connection, as `phasegate profile` in another process would have:
            # the UI thread goes on reading and writing through the app's
            project = Project.open(self.project.root, clock=clock, actor=actor)
            try:
                if stored is not None:
                    return profile_again(project, stored, listener=listener, cancel=run.cancel)
                return profile_and_write(
                    project, location, fmt=fmt, listener=listener, cancel=run.cancel
                )
            finally:
                project.close()
        except (ProfileError, GenerationError, TrackerError, OSError) as exc:
            post(self.ProfileEvent({"event": "refused", "message": str(exc)}))
            return None
        finally:
            run.ended.set()

    def on_profile_screen_profile_event(self, message: ProfileEvent) -> None:
        """Applies one event of the profile in progress to the progress bar and its line."""
        if self.active is None:
            return
        event = message.event
        if event.get("event") == "refused":
            self._say(f"Not profiled: {event['message']}", "bold bad")
            self.notify(event["message"], title="Not profiled", severity="error", timeout=10)
        elif event.get("event") == "pass":
            self.active.passes.append(event)
            index, total = event["index"], event["total"]
            # a pass is reported as it starts: the ones before it are done
            self.query_one("#profile-bar", ProgressBar).update(total=total, progress=index - 1)
            self._say(f"Profiling {self.active.what}: {event['name']} {index}/{total}…", "info")

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The profile's worker ended (every event it posted came before): the new profile,
        and its drift, or what went wrong."""
        # (ProjectScreen's handler runs too, and shows an unexpected error as a message)
        from deliverables.profiles import REPORT_DELIVERABLE

        if event.worker.group != "profile" or event.state not in (
            WorkerState.SUCCESS,
            WorkerState.ERROR,
            WorkerState.CANCELLED,
        ):
            return
        bar = self.query_one("#profile-bar", ProgressBar)
        outcome = event.worker.result if event.state == WorkerState.SUCCESS else None
        if event.state == WorkerState.ERROR:
            error = event.worker.error
            self._say(f"Not profiled: {type(error).__name__}: {error}", "bold bad")
        if outcome is None:
            bar.display = False
            self.safe_reload()
            return
        bar.update(progress=bar.total or 0)
        bar.display = False  # the line gets the width
        line, style = _outcome_line(outcome)
        self._say(line, style)
        # what the CLI prints below its summary: the report's and the checklist's changes
        done = [f"{REPORT_DELIVERABLE} is now a draft"] if outcome.drafted else []
        done += [f"ticked by the profiler: {', '.join(outcome.ticked)}"] if outcome.ticked else []
        self.notify("\n".join([line, *done]), title="Profiled", timeout=8)
        if outcome.spec_problem and outcome.spec_state != "exists":  # "exists" is in the line
            self.notify(outcome.spec_problem, title=outcome.spec, severity="warning", timeout=8)
        self.safe_reload()
        sources = self.query_one("#profile-sources", VimTable)
        sources.select_key(outcome.profile["name"])
        self._show_source()

    def _say(self, line: str, style: str) -> None:
        self.query_one("#profile-status", Static).update(Text(line, style=tone(style)))


def _outcome_line(outcome: ProfileOutcome) -> tuple[str, str]:
    """One line for a profile just made (a ProfileOutcome), and its tone: rows, drift, spec."""
    profile = outcome.profile
    drift = profile.get("drift")
    findings = drift["findings"] if drift else []
    found = (
        "first profile"
        if drift is None
        else f"{len(findings)} drift finding(s) since {_short(drift['since'])}"
        if findings
        else f"no drift since {_short(drift['since'])}"
    )
    spec = f"{outcome.spec} {outcome.spec_state}"
    if outcome.spec_state == "exists":
        spec += ": W merges the accepted rules"
    line = (
        f"{profile['name']} profiled: {profile['rows_profiled']:,} rows ({profile['basis']}) · "
        f"{found} · {spec}"
    )
    return line, "bold warn" if findings else "ok"


def column_chart(column: dict[str, Any], rows: int) -> Text:
    """The selected column as text a terminal draws: its facts, then a bar chart of its
    histogram (numbers and times) or of its most frequent values; a sensitive column's values
    are withheld, so it gets no chart."""
    text = Text()
    nulls = column["nulls"]
    text.append(f"{column['type'] or '?'}", style="bold")
    text.append(f" · nulls {_share(nulls, rows)} · distinct {column['distinct']:,}\n")
    text.append(_bar(rows - nulls, rows, BAR_WIDTH), style=tone("ok"))
    text.append(_bar(nulls, rows, BAR_WIDTH), style=tone("bad"))
    text.append(" values · nulls\n\n", style="dim")
    if column.get("withheld"):
        text.append(
            f"Sensitive ({column.get('sensitive')}): its values are withheld, so no chart.",
            style=tone("warn"),
        )
        return text
    histogram = column.get("histogram")
    if histogram and histogram.get("counts"):
        edges, counts = histogram["edges"], histogram["counts"]
        # each bar is labelled with its bin's lower edge; the last edge closes the range
        text.append("Histogram", style="bold")
        text.append(
            f" (bins from their lower edge; the last ends at {_short(edges[-1])})\n", style="dim"
        )
        _bars(text, [_short(e) for e in edges[: len(counts)]], counts)
        return text
    top = column.get("top")
    if top:
        text.append("Most frequent values\n", style="bold")
        _bars(text, [_short(v) for v, _ in top], [n for _, n in top])
        return text
    text.append("No histogram or frequent values for this column.", style="dim")
    return text


def _bars(text: Text, labels: list[str], counts: list[int]) -> None:
    top = max(counts) or 1
    for label, count in zip(labels, counts, strict=False):
        text.append(f"{label[:LABEL_WIDTH]:>{LABEL_WIDTH}} ", style="dim")
        text.append(_bar(count, top, BAR_WIDTH).ljust(BAR_WIDTH), style=tone("info"))
        text.append(f" {count:,}\n")


_EIGHTHS = " ▏▎▍▌▋▊▉"


def _bar(value: int, top: int, width: int) -> str:
    """A bar of `value` out of `top` in `width` cells, to an eighth of a cell."""
    if top <= 0 or value <= 0:
        return ""
    eighths = max(1, round(8 * width * value / top))
    full, part = divmod(eighths, 8)
    return "█" * full + (_EIGHTHS[part] if part else "")


def _decision(decision: str) -> Text:
    if decision == REJECTED:
        return Text("✗ reject", style=tone("bad"))
    return Text("✓ accept", style=tone("ok"))


def _share(n: int, rows: int) -> str:
    if not n:
        return "0"
    return f"{n:,} ({100 * n / rows:.1f} %)" if rows else f"{n:,}"


def _short(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.4g}"
    text = str(value)
    if len(text) >= 19 and text[10:11] == "T":  # an ISO time: to the minute
        return text[:16].replace("T", " ")
    return text
