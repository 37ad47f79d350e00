"""The reports screen's speed-to-lead tab: per rep and the team, the leads touched within the
response target, the median and p90 first response, the leads the ladder rerouted away and to,
and a heat map of the share touched within target by the hour the lead came in (team clock)."""

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Label

from leadms_tui.domain.reports.response import TEAM, ResponseRow
from leadms_tui.widgets.text_table import REP_WIDTH, Col, TextTable, fit

FIRST_COLUMNS = (
    fit("Rep", REP_WIDTH), fit("Recv", 4), fit("In tgt", 6), fit("Med", 6), fit("p90", 6),
    fit("Away", 4, drop=2), fit("To", 4, drop=1),
)  # fmt: skip
NOBODY = Text("·", style="dim")  # no lead came in that hour


def heat(received: int, within: int) -> Text:
    """The share within target, on green (most), yellow (half or more) or red."""
    share = within / received
    style = (
        "black on green" if share >= 0.8 else "black on yellow" if share >= 0.5 else "white on red"
    )
    return Text(f"{round(100 * share):>3}", style=style)


def _minutes(value: float | None) -> str:
    return "—" if value is None else f"{value:g}m"


class ResponseHeat(Vertical):
    DEFAULT_CSS = """
    ResponseHeat { height: 1fr; }
    ResponseHeat #speed-note { height: auto; padding: 0 1; color: $text-muted; }
    ResponseHeat #speed-table { height: 1fr; }
    """

    def compose(self) -> ComposeResult:
        yield Label("", id="speed-note", markup=False)
        yield TextTable(id="speed-table", cursor_type="none", zebra_stripes=True, fixed_columns=1)

    def show(self, rows: list[ResponseRow], target: int) -> None:
        """`rows`: the reps shown then TEAM (`response_report`); hours with any lead only."""
        hours = sorted({hour for row in rows for hour in row.by_hour})
        table = self.query_one("#speed-table", TextTable)
        table.set_columns(FIRST_COLUMNS + tuple(Col(f"{h:02d}", 3, floor=3) for h in hours))
        for row in rows:
            cells = [
                Text(row.rep, style="bold" if row.rep == TEAM else ""),
                str(row.received),
                f"{100 * row.within_target // row.received}%" if row.received else "—",
                _minutes(row.first_response_median_min),
                _minutes(row.first_response_p90_min),
                str(row.rerouted_away),
                str(row.rerouted_to),
            ]
            for hour in hours:
                received, within = row.by_hour.get(hour, (0, 0))
                cells.append(heat(received, within) if received else NOBODY)
            table.add_row(*cells, key=row.rep)
        leads = rows[-1].received if rows else 0
        self.query_one("#speed-note", Label).update(
            f"Speed to lead: {leads} lead{'' if leads == 1 else 's'} with a response clock; "
            f"by the hour each came in, the % touched within {target}m (business minutes)"
            if leads
            else "Speed to lead: no lead with a response clock came in this period"
        )
