"""A DataTable whose cells are text, never markup: every table of Lead MS is one of these.

DataTable reads a `str` cell as Rich markup, so a lead named `[/]` would crash the screen and
`[@click=app.quit]` would be a live action. Here every cell and label becomes `rich.text.Text`,
with control characters made visible (`formatting.shown`).
"""

from collections.abc import Iterable, Sequence
from typing import Any

from rich.text import Text
from textual.binding import Binding
from textual.coordinate import Coordinate
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey, RowKey

from leadms_tui.formatting import shown


def as_cell(value: Any) -> Any:
    """Strings (and Text built from them) shown literally; other renderables pass through."""
    return shown(value) if isinstance(value, str | Text) else value


class TextTable(DataTable):
    # Every list moves the same way: j/k as the arrows, home/end to the first/last row (the
    # DataTable's own home/end scroll sideways, which a list of leads never needs).
    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("home", "first_row", "First row", show=False),
        Binding("end", "last_row", "Last row", show=False),
    ]

    def action_first_row(self) -> None:
        if self.row_count:
            self.move_cursor(row=0)

    def action_last_row(self) -> None:
        if self.row_count:
            self.move_cursor(row=self.row_count - 1)

    def add_column(self, label: Any, *args: Any, **kwargs: Any) -> ColumnKey:
        return super().add_column(as_cell(label), *args, **kwargs)

    def add_row(self, *cells: Any, label: Any = None, **kwargs: Any) -> RowKey:
        if label is not None:
            label = as_cell(label)
        return super().add_row(*(as_cell(cell) for cell in cells), label=label, **kwargs)

    def add_rows(self, rows: Iterable[Iterable[Any]]) -> list[RowKey]:
        return [self.add_row(*row) for row in rows]

    def update_cell(self, row_key: Any, column_key: Any, value: Any, **kwargs: Any) -> None:
        super().update_cell(row_key, column_key, as_cell(value), **kwargs)

    def update_cell_at(self, coordinate: Coordinate, value: Any, **kwargs: Any) -> None:
        super().update_cell_at(coordinate, as_cell(value), **kwargs)

    def refill(self, rows: Sequence[tuple[str, Sequence[Any]]]) -> None:
        """Show `rows` (key, cells) instead of the current ones, as a reload (live or on
        return) must: the cursor stays on its row (or in its place when that row went), the
        scroll position stays, and when the same rows come back only changed cells redraw."""
        keys = [key for key, _ in rows]
        if keys == [row.key.value for row in self.ordered_rows]:
            for index, (key, cells) in enumerate(rows):
                shown_now = self.get_row(key)
                for column, value in enumerate(cells):
                    if as_cell(value) != shown_now[column]:
                        self.update_cell_at(Coordinate(index, column), value)
            return
        kept = self.key_at_cursor()
        old_row, scrolled_x, scrolled_y = self.cursor_row, self.scroll_x, self.scroll_y
        self.clear()
        for key, cells in rows:
            self.add_row(*cells, key=key)
        if not rows:
            return
        row = self.get_row_index(kept) if kept in keys else min(old_row, len(rows) - 1)
        self.move_cursor(row=row, animate=False, scroll=False)
        self.call_after_refresh(self.scroll_to, scrolled_x, scrolled_y, animate=False)

    def key_at_cursor(self) -> str | None:
        """The key of the row under the cursor, if there is a row."""
        if not self.row_count or self.cursor_row < 0:
            return None
        return self.coordinate_to_cell_key(Coordinate(self.cursor_row, 0)).row_key.value
