"""The status report as stakeholders will read it: the same markdown `phasegate export` writes."""

from __future__ import annotations

import re

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Header, Markdown

from deliverables.errors import TrackerError
from deliverables.report import render_status_report, status_report_path
from deliverables.templating import write_document
from tui.keybar import KeyBar
from tui.screens.base import STYLES, ProjectScreen

_SECTION = re.compile(r"(?m)^(?=#{2,3} )")


class ReportScreen(ProjectScreen):
    CSS_PATH = STYLES / "report.tcss"
    AUTO_FOCUS = "#report-scroll"
    BINDINGS = [
        Binding("w", "write", "Write file", id="report.write"),
        Binding("c", "copy", "Copy markdown", id="report.copy"),
        Binding("j", "scroll(1)", "Down", show=False, id="report.down"),
        Binding("k", "scroll(-1)", "Up", show=False, id="report.up"),
        Binding("g", "top", "Top", show=False, id="report.top"),
        Binding("G", "bottom", "Bottom", show=False, id="report.bottom"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.markdown_text = ""

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="report-scroll"):
            yield Markdown("*Rendering the report…*", id="report")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#report-scroll").focus()

    def reload(self) -> None:
        self.title = f"phasegate · {self.project.name}"
        self.sub_title = "status report"
        # Rendering the markdown takes ~40 ms and stays on the main thread with the tracker's
        # connection; laying out ~30 tables takes the Markdown widget seconds, so it is streamed
        # section by section: the summary shows at once and the keys keep working meanwhile.
        self.markdown_text = render_status_report(self.project)
        self._stream(self.markdown_text)

    @work(exclusive=True, group="report-stream")
    async def _stream(self, text: str) -> None:
        markdown = self.query_one("#report", Markdown)
        first, *rest = _SECTION.split(text)
        await markdown.update(first)
        # every append lays the whole screen out again (~0.3 s once the demo's ~37 sections are
        # in): they go in batches of 1, 2, 4 and then 8 sections, seven appends rather than 36,
        # while the summary still shows at once and no batch holds the keys for long
        size = 1
        while rest:
            batch, rest = rest[:size], rest[size:]
            await markdown.append("".join(batch))
            size = min(size * 2, 8)

    def action_write(self) -> None:
        if not self.markdown_text:
            self.notify("The report is still rendering.", severity="warning")
            return
        path = status_report_path(self.project)
        try:
            write_document(path, self.markdown_text)
        except (OSError, TrackerError) as exc:
            self.notify(
                f"Cannot write {path}: {getattr(exc, 'strerror', None) or exc}", severity="error"
            )
            return
        self.notify(f"Wrote {path.relative_to(self.project.root)}", timeout=4)

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(self.markdown_text)
        self.notify("Copied the report's markdown", timeout=2)

    def action_scroll(self, lines: int) -> None:
        self.query_one("#report-scroll").scroll_relative(y=lines, animate=False)

    def action_top(self) -> None:
        self.query_one("#report-scroll").scroll_home(animate=False)

    def action_bottom(self) -> None:
        self.query_one("#report-scroll").scroll_end(animate=False)
