"""The vim-keyed table every screen uses."""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.widgets import DataTable
from textual.widgets.data_table import RowDoesNotExist


class VimTable(DataTable):
    """A row-cursor DataTable that also answers j/k/h/l and g/G."""

    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("h", "cursor_left", "Left", show=False),
        Binding("l", "cursor_right", "Right", show=False),
        Binding("g", "scroll_top", "Top", show=False),
        Binding("G", "scroll_bottom", "Bottom", show=False),
    ]

    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, **kwargs)

    def add_row(self, *cells, **kwargs):
        """Plain strings are shown as they are: DataTable would read them as Rich markup, so a
        note like "[/draft]" would fail or restyle the row (and parsing markup costs time)."""
        return super().add_row(*(Text(c) if isinstance(c, str) else c for c in cells), **kwargs)

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
