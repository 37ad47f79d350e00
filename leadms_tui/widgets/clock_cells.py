"""Response clocks in a table column, ticking from the current time alone.

A screen loads its leads' `ClockFace`s with its rows (in its worker) and hands them here keyed
by row; every tick redraws only the clock cells whose words changed (`4m left` → `3m left`,
`over 12m` in the error colour), with no database read. A paused clock (business time closed)
shows dim: it does not move until business time opens.
"""

from collections.abc import Mapping
from datetime import datetime

from rich.text import Text
from textual.coordinate import Coordinate

from leadms_tui import formatting
from leadms_tui.domain.work.clock_face import ClockFace
from leadms_tui.widgets.text_table import TextTable

OVER_STYLE = "bold red"  # the error colour of the day view (overdue follow-ups are the same)


def clock_text(face: ClockFace, now: datetime) -> Text:
    left = face.minutes_left(now)
    style = OVER_STYLE if left <= 0 else ""
    if not face.running(now):
        style = f"{style} dim".strip()
    return Text(formatting.clock_left(left), style=style)


class ClockCells:
    """The clocks of one table's rows (row key → face) and what each cell shows now."""

    def __init__(self) -> None:
        self.faces: dict[str, ClockFace] = {}
        self._drawn: dict[str, str] = {}

    def load(self, faces: Mapping[str, ClockFace]) -> None:
        self.faces = dict(faces)
        self._drawn = {}

    def cell(self, row_key: str, now: datetime) -> Text | None:
        """The clock cell of `row_key`; None for a row without a running clock."""
        face = self.faces.get(row_key)
        if face is None:
            return None
        text = clock_text(face, now)
        self._drawn[row_key] = f"{text.plain}|{text.style}"
        return text

    def minutes_left(self, row_key: str, now: datetime) -> int | None:
        face = self.faces.get(row_key)
        return None if face is None else face.minutes_left(now)

    def over(self, now: datetime) -> set[str]:
        """The rows whose clock is past the target."""
        return {key for key, face in self.faces.items() if face.minutes_left(now) <= 0}

    def tick(self, table: TextTable, column: int, now: datetime) -> int:
        """Redraw the clock cells of `table` that changed; how many did."""
        changed = 0
        for row_key in self.faces:
            if row_key not in table.rows:
                continue  # filtered out of the table
            before = self._drawn.get(row_key)
            text = self.cell(row_key, now)
            if text is not None and self._drawn[row_key] != before:
                row = table.get_row_index(row_key)
                table.update_cell_at(Coordinate(row, column), text)
                changed += 1
        return changed
