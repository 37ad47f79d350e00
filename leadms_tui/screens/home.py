"""Placeholder home screen: today's leads. The full day view replaces it (issue 3)."""

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header

from leadms_tui.domain import clock
from leadms_tui.domain.repositories.leads import LeadRow, iter_leads
from leadms_tui.domain.settings import load_settings

PAGE = 500


class HomeScreen(Screen[None]):
    BINDINGS = [Binding("r", "reload", "Reload", id="reload")]

    def compose(self) -> ComposeResult:
        yield Header()
        yield DataTable(cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Number", "Name", "Phone", "Channel", "Status", "Owner", "Repeat of")
        self.action_reload()

    def action_reload(self) -> None:
        self._load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="home")
    def _load(self) -> None:
        with self.app.database.reading() as session:  # type: ignore[attr-defined]
            day = clock.business_date(clock.now(), load_settings(session).timezone)
            rows = list(iter_leads(session=session, day=day, limit=PAGE))
        self.app.call_from_thread(self._show, rows)

    def _show(self, rows: list[LeadRow]) -> None:
        table = self.query_one(DataTable)
        table.clear()
        for row in rows:
            table.add_row(
                row.number,
                row.name,
                row.phone_e164 or row.phone_raw or "",
                row.channel,
                row.status,
                row.owner or "",
                row.repeat_of or "",
                key=str(row.id),
            )
        table.border_title = f"Today's leads ({len(rows)})"
