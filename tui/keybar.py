"""The footer: the keys that work right now, on one line; click one to run it.

Textual's Footer builds a widget per key and restyles each whenever the focus moves, which
was the largest single start-up cost of the dashboard; one Static that renders a line of text
does the same job for a fraction of it.
"""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.dom import DOMNode
from textual.screen import Screen
from textual.widgets import Static


class KeyBar(Static):
    auto_links = False  # no links in it: Textual would restyle every segment
    COMPONENT_CLASSES = {"keybar--key", "keybar--description"}
    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        background: $footer-background;
        color: $footer-description-foreground;
    }
    KeyBar > .keybar--key {
        color: $footer-key-foreground;
        text-style: bold;
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self._spans: list[tuple[int, int, str, DOMNode]] = []
        self._pending = False

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self._show_soon()

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen) -> None:
        if self.is_attached and screen is self.screen:
            self._show_soon()

    def _show_soon(self) -> None:
        """One redraw for a burst of changes (a screen's start focuses and refreshes a few times)."""
        if not self._pending:
            self._pending = True
            self.call_after_refresh(self._show_pending)

    def _show_pending(self) -> None:
        self._pending = False
        if self.is_attached:
            self.show_keys()

    def show_keys(self) -> None:
        """Renders the shown bindings of the focused chain, one entry per action."""
        key_style = self.get_component_rich_style("keybar--key")
        line, spans, seen = Text(no_wrap=True, overflow="ellipsis"), [], set()
        for node, binding, enabled, _tooltip in self.screen.active_bindings.values():
            if not binding.show or binding.action in seen:
                continue
            seen.add(binding.action)
            start = len(line)
            line.append(
                f" {self.app.get_key_display(binding)} ", style=key_style if enabled else "dim"
            )
            line.append(binding.description, style="" if enabled else "dim")
            spans.append((start, len(line), binding.action, node))
            line.append(" ")
        if self.app.ENABLE_COMMAND_PALETTE:
            start = len(line)
            line.append(" ^p ", style=key_style)
            line.append("Commands")
            spans.append((start, len(line), "command_palette", self.app))
        self._spans = spans
        self.update(line)

    async def on_click(self, event: events.Click) -> None:
        for start, end, action, node in self._spans:
            if start <= event.x < end:
                event.stop()
                await self.app.run_action(action, node)
                return
