"""The widgets every screen uses: the vim-keyed table, the log panel, the `/` filter bar, and the
terminal-safe Static and Label.

Everything the TUI draws from the tracker or a file goes through `shown()` (phases.text's
`terminal_safe`) in these widgets, and notifications through the app's `notify`: Textual and Rich
strip only BEL, BS, VT, FF and CR, so an ESC or OSC sequence in a row stored before the input
checks existed (or synced from a teammate's clone) would otherwise reach the terminal. The screens
import Static and Label from here, never from textual.widgets (tests/test_tui_terminal_safe.py).

A table or log that can be filtered has `filter_rows(text) -> (shown, total)`; the screen's `/`
(tui/screens/base.py) opens the FilterBar on the one in focus. The filter outlives reloads: rows
added while it is set are kept aside and shown when it is cleared.
"""

from __future__ import annotations

from typing import Any

from rich.cells import cell_len
from rich.style import Style
from rich.text import Span, Text
from textual import widgets
from textual.binding import Binding
from textual.containers import Horizontal
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import DataTable
from textual.widgets.data_table import CellType, ColumnKey, RowDoesNotExist, RowKey

from phases.text import terminal_safe

# a cell or a log line is one line: its newlines and tabs are shown as spaces
_ONE_LINE = str.maketrans("\n\t", "  ")


def shown(value: Any, *, multiline: bool = False) -> Any:
    """`value` as the terminal may draw it: a str or a Rich Text with every control character
    (ESC, CSI/OSC introducers, BEL, CR, C1 codes, bidi overrides, lone surrogates) written as a
    visible `\\xNN` escape, a Text keeping its styles; on one line unless `multiline`. Other
    renderables (built by the TUI itself) pass unchanged."""
    if isinstance(value, str):
        if value.isprintable():  # the common case, in C
            return value
        return terminal_safe(value if multiline else value.translate(_ONE_LINE), multiline=True)
    if isinstance(value, Text):
        return _shown_text(value, multiline)
    return value


def _shown_text(text: Text, multiline: bool) -> Text:
    plain = text.plain
    if plain.isprintable():
        return text
    safe = shown(plain, multiline=multiline)
    if safe == plain:
        return text
    # cut the text around each character that changes, so every other span keeps its place
    bad = [n for n, ch in enumerate(plain) if shown(ch, multiline=multiline) != ch]
    cuts = sorted({cut for n in bad for cut in (n, n + 1)} - {0, len(plain)})
    result, start, bad_set = text.blank_copy(), 0, set(bad)
    for piece in text.divide(cuts):
        length = len(piece)
        piece.style = ""  # the whole text's style is the result's own
        if start in bad_set:
            escape = shown(piece.plain, multiline=multiline)
            piece = Text(escape, spans=[Span(0, len(escape), s.style) for s in piece.spans])
        result.append_text(piece)
        start += length
    return result


def _matches(cells: tuple[Any, ...], needle: str) -> bool:
    return any(needle in str(cell).casefold() for cell in cells)


class VimTable(DataTable):
    """A row-cursor DataTable that also answers j/k/h/l and g/G, and filters its rows."""

    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False, id="table.cursor_down"),
        Binding("k", "cursor_up", "Up", show=False, id="table.cursor_up"),
        Binding("h", "cursor_left", "Left", show=False, id="table.cursor_left"),
        Binding("l", "cursor_right", "Right", show=False, id="table.cursor_right"),
        Binding("g", "scroll_top", "Top", show=False, id="table.scroll_top"),
        Binding("G", "scroll_bottom", "Bottom", show=False, id="table.scroll_bottom"),
    ]

    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, **kwargs)
        self.filter_text = ""
        self._all_rows: list[tuple[tuple[Any, ...], dict[str, Any]]] = []

    def add_row(self, *cells, **kwargs) -> RowKey:
        """Plain strings are shown as they are: DataTable would read them as Rich markup, so a
        note like "[/draft]" would fail or restyle the row (and parsing markup costs time).
        A row that does not match the filter is kept aside, not shown."""
        cells = tuple(Text(shown(c)) if isinstance(c, str) else shown(c) for c in cells)
        self._all_rows.append((cells, kwargs))
        if self.filter_text and not _matches(cells, self.filter_text):
            return RowKey(kwargs.get("key"))
        return super().add_row(*cells, **kwargs)

    def update_cell(
        self, row_key: RowKey | str, column_key: ColumnKey | str, value: CellType, **kwargs
    ) -> None:
        """Like add_row, a plain string is shown as it is, and terminal-safe."""
        value = Text(shown(value)) if isinstance(value, str) else shown(value)
        super().update_cell(row_key, column_key, value, **kwargs)

    def clear(self, columns: bool = False) -> VimTable:
        self._all_rows = []
        super().clear(columns)
        return self

    def filter_rows(self, text: str) -> tuple[int, int]:
        """Shows only the rows with `text` in a cell (any case); "" shows them all."""
        keep = self.current_key
        rows, self.filter_text = self._all_rows, text.casefold().strip()
        self.clear()
        for cells, kwargs in rows:
            self.add_row(*cells, **kwargs)
        if keep is not None:
            self.select_key(keep)
        return self.row_count, len(self._all_rows)

    @property
    def current_key(self) -> str | None:
        """The key of the row under the cursor, or None on an empty table."""
        if not self.row_count:
            return None
        row_key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        return row_key.value

    def select_key(self, key: str) -> None:
        try:
            index = self.get_row_index(key)
        except RowDoesNotExist:  # the row is gone (filtered out): keep the cursor where it is
            return
        self.move_cursor(row=index)


class Static(widgets.Static):
    """Textual's Static, drawing its content terminal-safe (newlines kept)."""

    def __init__(self, content: Any = "", **kwargs) -> None:
        super().__init__(shown(content, multiline=True), **kwargs)

    def update(self, content: Any = "", **kwargs) -> None:
        super().update(shown(content, multiline=True), **kwargs)


class _Lines:
    """The lines of a log and its `/` filter (both logs below)."""

    filter_text: str
    _lines: list[Text]
    _empty: Text

    def show_lines(self, lines: list[Text], empty: Text) -> None:
        """Shows `lines` (those matching the filter); `empty` when there are none at all."""
        self._lines, self._empty = [shown(line) for line in lines], shown(empty)
        self._show()

    def filter_rows(self, text: str) -> tuple[int, int]:
        self.filter_text = text.casefold().strip()
        return self._show(), len(self._lines)

    def _shown_lines(self) -> tuple[list[Text], int]:
        """The lines to draw (the filtered ones, or a line saying why there are none), and how
        many of the log's lines match."""
        matching = [
            line
            for line in self._lines
            if not self.filter_text or self.filter_text in line.plain.casefold()
        ]
        if matching:
            return matching, len(matching)
        if not self._lines:
            return [self._empty], 0
        return [
            Text(f"No line matches “{self.filter_text}” (escape clears the filter).", style="dim")
        ], 0

    def _show(self) -> int:  # pragma: no cover - each log draws in its own way
        raise NotImplementedError


class LogPanel(_Lines, Widget):
    """Lines of text, one per entry, cut with an ellipsis at the panel's width (the dashboard's
    activity). A Line-API widget: Textual asks it only for the lines in view, each rendered
    from its Rich Text alone, instead of laying out one big text (or a table's cells)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.filter_text = ""
        self._lines, self._empty = [], Text()
        self._display: list[Text] = [Text()]
        self._strips: dict[tuple[int, int], Strip] = {}
        self._style: Style | None = None

    def _show(self) -> int:
        self._display, matching = self._shown_lines()
        self._strips.clear()
        # one line per entry: its height is known, so Textual need not render it to measure
        self.styles.height = len(self._display)
        self.refresh()
        return matching

    def render(self) -> Text:
        """All the lines shown, as one text (what the widget draws, line by line)."""
        return Text("\n").join(self._display)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        key = (y, width)
        strip = self._strips.get(key)
        if strip is None:
            if y >= len(self._display):
                return Strip.blank(width, self.rich_style)
            line = self._display[y].copy()
            plain = line.plain
            head = plain[:width]
            if width > 0 and head.isascii():
                # what Rich's truncate(overflow="ellipsis") does when the first `width`
                # characters take one cell each, without measuring every grapheme of the line
                # (half of a line's cost): the same text, the same spans
                if len(plain) > width and cell_len(plain[width:]) > 0:
                    line.plain = head[:-1] + "…"
            else:
                line.truncate(width, overflow="ellipsis")
            if self._style is None:
                self._style = self.rich_style  # computed from the ancestors: once, not per line
            strip = Strip(line.render(self.app.console), line.cell_len).apply_style(self._style)
            self._strips[key] = strip
        return strip

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips.clear()  # a theme's colours are in the cached lines
        self._style = None


class WrappedLog(_Lines, Static):
    """Lines of text that wrap at the panel's width (what others changed, on My day): one
    Static renders them ~10x faster than a table."""

    auto_links = False  # no links in it: Textual would restyle every segment of every line

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.filter_text = ""
        self._lines, self._empty = [], Text()

    def _show(self) -> int:
        lines, matching = self._shown_lines()
        self.update(Text("\n").join(lines))
        return matching


class FilterBar(Horizontal):
    """`/ text`: filters the table or log it was opened on, as you type."""

    DEFAULT_CSS = """
    FilterBar {
        height: 1;
        display: none;
        background: $boost;
    }
    FilterBar.-shown {
        display: block;
    }
    FilterBar > Label {
        width: auto;
        padding: 0 1;
        color: $text-accent;
    }
    FilterBar > Input {
        width: 1fr;
        height: 1;
        border: none;
        padding: 0;
        background: $boost;
    }
    FilterBar > Input:focus {
        border: none;
    }
    """

    def compose(self):
        from textual.widgets import Input  # imported on first use of `/`

        from tui.widgets import Label

        yield Label("/", id="filter-label")
        yield Input(
            placeholder="filter rows: type, enter keeps it, escape clears", id="filter-input"
        )


def __getattr__(name: str) -> Any:
    """`Label` and `RichLog` are made on first use (the dashboard has neither): importing
    Textual's RichLog alone costs ~65 M instructions of start-up (PEP 562)."""
    if name == "Label":

        class Label(widgets.Label):
            """Textual's Label, drawing its content terminal-safe (newlines kept)."""

            def __init__(self, content: Any = "", **kwargs) -> None:
                super().__init__(shown(content, multiline=True), **kwargs)

            def update(self, content: Any = "", **kwargs) -> None:
                super().update(shown(content, multiline=True), **kwargs)

        made: type = Label
    elif name == "RichLog":

        class RichLog(widgets.RichLog):
            """Textual's RichLog, writing text terminal-safe (a run's log holds what a job
            printed)."""

            def write(self, content: Any, *args, **kwargs) -> RichLog:
                return super().write(shown(content), *args, **kwargs)

        made = RichLog
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = made
    return made
