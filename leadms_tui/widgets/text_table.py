"""A DataTable whose cells are text, never markup: every table of Lead MS is one of these.

DataTable reads a `str` cell as Rich markup, so a lead named `[/]` would crash the screen and
`[@click=app.quit]` would be a live action. Here every cell and label becomes `rich.text.Text`,
with control characters made visible (`formatting.shown`).
"""

from collections.abc import Iterable
from typing import Any

from rich.text import Text
from textual.coordinate import Coordinate
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey, RowKey

from leadms_tui.formatting import shown


def as_cell(value: Any) -> Any:
    """Strings (and Text built from them) shown literally; other renderables pass through."""
    return shown(value) if isinstance(value, str | Text) else value


class TextTable(DataTable):
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
