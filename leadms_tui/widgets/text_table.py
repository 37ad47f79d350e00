"""A DataTable whose cells are text, never markup: every table of Lead MS is one of these.

DataTable reads a `str` cell as Rich markup, so a lead named `[/]` would crash the screen and
`[@click=app.quit]` would be a live action. Here every cell and label becomes `rich.text.Text`,
with control characters made visible (`formatting.shown`). A value wider than its column ends
in `…`, never cut without a mark (a phone cut silently rings a wrong number).

Column policy (`Col`, `TextTable.set_columns`): a column that identifies something (a lead
number, a phone, a rep) is *fit*: it keeps the width of the longest value it holds and is never
narrowed; the others *squeeze* down to a floor when the terminal is narrow, and columns with a
drop rank leave a narrow terminal altogether (highest rank first) before the fit ones would go
off-screen.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.coordinate import Coordinate
from textual.widgets import DataTable
from textual.widgets.data_table import Column, ColumnKey, RowKey

from leadms_tui.formatting import shown

# Widths of the values that identify something, fitted once for every table.
LEAD_NUMBER_WIDTH = 18  # LEAD-20261206-3076: a 4-digit sequence of the day
PHONE_WIDTH = 19  # the longest mobile or landline of any region, formatted (+229 01 95 12 34 56)
REP_WIDTH = 10  # a rep's display name; longer ones end in …
DUE_WIDTH = 16  # "MISSED Tue 09:30", "2026-11-03 09:30"


def as_cell(value: Any) -> Any:
    """Strings (and Text built from them) shown literally, on one line that ends in `…` when the
    column is narrower; other renderables pass through."""
    if not isinstance(value, str | Text):
        return value
    text = shown(value)
    if text.overflow != "ellipsis":
        text = text.copy()
        text.overflow = "ellipsis"
    return text


@dataclass(frozen=True)
class Col:
    """A column and how it gives way on a narrow terminal."""

    label: str
    width: int
    fit: bool = False  # identifies something: never narrowed
    drop: int = 0  # 0: always shown; else leaves a narrow terminal, the highest rank first
    floor: int = 6  # a squeezed column keeps at least this much


def fit(label: str, width: int, drop: int = 0) -> Col:
    return Col(label, width, fit=True, drop=drop)


class _PolicyColumn(Column):
    """A Column that can be hidden: it then takes no room at all (padding included)."""

    hidden = False

    def get_render_width(self, data_table: DataTable[Any]) -> int:
        return 0 if self.hidden else super().get_render_width(data_table)


def plan_widths(columns: Sequence[Col], room: int, padding: int = 2) -> list[int | None]:
    """The width of each column in `room` terminal cells (None: dropped). Full widths when they
    fit; else the squeezable columns give way down to their floors (the least needed, by drop
    rank, first), and while that is not
    enough the column with the highest drop rank goes. Fit columns keep their width: when even
    they do not fit, the table scrolls sideways rather than cut them."""
    shown = [True] * len(columns)
    while True:
        widths = [c.width for c in columns]
        need = sum(w + padding for w, on in zip(widths, shown, strict=True) if on)
        excess = need - room
        slack = {
            i: max(0, c.width - max(c.floor, len(c.label)))
            for i, c in enumerate(columns)
            if shown[i] and not c.fit
        }
        if excess <= sum(slack.values()):
            break
        droppable = [i for i, c in enumerate(columns) if shown[i] and c.drop]
        if not droppable:
            break
        shown[max(droppable, key=lambda i: (columns[i].drop, i))] = False
    # the least needed columns (highest drop rank) give way first, a rank's columns together
    for rank in sorted({columns[i].drop for i in slack}, reverse=True):
        if excess <= 0:
            break
        group = {i: s for i, s in slack.items() if columns[i].drop == rank and s}
        total = sum(group.values())
        if not total:
            continue
        share = min(excess, total)
        for i, s in group.items():
            give = min(s, -(-share * s // total))  # rounded up: the room is never exceeded
            widths[i] -= give
            excess -= give
    return [w if on else None for w, on in zip(widths, shown, strict=True)]


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

    _policy: tuple[Col, ...] = ()

    def set_columns(self, columns: Sequence[Col]) -> None:
        """Show `columns` (all columns: rows are cleared) and keep them fitted to the width."""
        self.clear(columns=True)
        self._policy = tuple(columns)
        for col in columns:
            key = self.add_column(col.label, width=col.width)
            self.columns[key].__class__ = _PolicyColumn
        self._apply_policy()

    def _on_resize(self, event: events.Resize) -> None:
        super()._on_resize(event)
        self._apply_policy()

    def _apply_policy(self) -> None:
        if not self._policy or not self.size.width:
            return
        scrollbar = self.styles.scrollbar_size_vertical
        room = self.size.width - scrollbar - self._row_label_column_width
        widths = plan_widths(self._policy, room, 2 * self.cell_padding)
        changed = False
        for column, width in zip(self.ordered_columns, widths, strict=False):
            hidden = width is None
            if column.hidden != hidden or (width is not None and column.width != width):
                column.hidden = hidden  # type: ignore[attr-defined]
                column.width = width or column.width
                changed = True
        if changed:
            self._clear_caches()
            self._require_update_dimensions = True
            self.refresh()

    def shown_columns(self) -> list[str]:
        """The labels of the columns on screen (not dropped for a narrow terminal)."""
        return [c.label.plain for c in self.ordered_columns if not getattr(c, "hidden", False)]

    def _render_cell(self, row_index: int, column_index: int, *args: Any, **kwargs: Any) -> Any:
        width = kwargs.get("width", args[1] if len(args) > 1 else None)
        if width == 0:  # a dropped column: nothing, on every line of the row
            if row_index < 0:
                height = self.header_height
            else:
                height = self.rows[self._row_locations.get_key(row_index)].height
            return [[] for _ in range(max(height, 1))]
        return super()._render_cell(row_index, column_index, *args, **kwargs)

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
