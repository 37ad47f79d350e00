"""`R`: the coaching report of a week, a month or any range: one row per rep and the team,
charts of calls, first responses and missed commitments; a rep sees only their own."""

import math
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from rich.text import Text
from sqlmodel import Session
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Header, Label, TabbedContent, TabPane
from textual_plotext import PlotextPlot

from leadms_tui import formatting
from leadms_tui.domain import clock
from leadms_tui.domain.models import CallOutcome, Role
from leadms_tui.domain.reports.coaching import (
    TEAM,
    Period,
    RepReport,
    WeekRate,
    coaching_report,
    daily_calls,
    weekly_missed,
)
from leadms_tui.domain.reports.response import ResponseRow, response_report
from leadms_tui.domain.sales.money import round_money
from leadms_tui.domain.team.users import list_users
from leadms_tui.domain.work.outcomes import MEANINGS
from leadms_tui.looks import OUTCOME_LOOKS
from leadms_tui.screens import goto
from leadms_tui.screens.with_app import WithApp
from leadms_tui.widgets.key_footer import KeyFooter
from leadms_tui.widgets.response_heat import ResponseHeat
from leadms_tui.widgets.text_table import REP_WIDTH, TextTable, fit

# Fixed widths: the rep and the first measures fit 80 columns (the rep column stays put
# while the rest scrolls), every column fits 120
# At 80 columns the detail columns with a drop rank leave (highest first); the rep, the
# counts that say how the rep did and the value stay.
COLUMNS = (
    fit("Rep", REP_WIDTH), fit("Recv", 4), fit("1st resp", 8), fit("In tgt", 6, drop=2),
    fit("Calls", 5), fit("Conn", 4, drop=3), fit("F/u due", 7, drop=1), fit("Missed", 6),
    fit("Miss%", 5), fit("vs prev", 7, drop=4), fit("Held", 4, drop=5), fit("Won", 4),
    fit("Conv", 4, drop=7), fit("Value", 10), fit("Chat", 8, drop=6),
)  # fmt: skip
SHORT_TERMINAL = 34  # rows below which the table gives rows to the chart
TEAM_KEY = "team"  # the TEAM row's key: no username can clash with it (rep rows are "rep:…")
WEEKS = 12  # the missed-commitment chart: the last twelve weeks up to the period's end
BAR_WIDTH = 0.7  # of a day: a gap between days' bars
# First-response buckets in business minutes: (upper bound, label); never called is its own bar
RESPONSE_BUCKETS = ((5, "0-5m"), (15, "6-15m"), (30, "16-30m"), (60, "31-60m"), (240, "1-4h"),
                    (None, ">4h"))  # fmt: skip


@dataclass
class Shown:
    """What one load brought: the rows, usernames to ids, and the charts' data."""

    reports: list[RepReport]
    user_ids: dict[str, int]
    days: list[tuple[date, str, int]]
    weeks: list[WeekRate]
    speed: list[ResponseRow] = field(default_factory=list)  # speed to lead, per rep and TEAM


class ReportsScreen(WithApp, Screen[None]):
    HELP_NAME = "Reports"
    DEFAULT_CSS = """
    ReportsScreen #period-title { height: 1; padding: 0 1; background: $boost;
        width: 100%; text-style: bold; }
    ReportsScreen #report { height: auto; max-height: 12;
        border: round $panel; border-title-color: $text; }
    ReportsScreen #report:focus { border: round $accent; border-title-color: $text-accent; }
    ReportsScreen #charts { height: 1fr; min-height: 8; }
    ReportsScreen #charts > ContentSwitcher { height: 1fr; }
    ReportsScreen TabPane { height: 1fr; padding: 0; }
    ReportsScreen #calls-legend { height: auto; padding: 0 1; }
    /* a short terminal (80x24): the table scrolls within fewer rows so the chart keeps
       enough rows to read */
    ReportsScreen.-short #report { max-height: 7; }
    ReportsScreen.-short #charts { min-height: 13; }
    """
    BINDINGS = [
        Binding("left_square_bracket", "shift_period(-1)", "Prev period", key_display="[",
                id="reports.prev"),
        Binding("right_square_bracket", "shift_period(1)", "Next period", key_display="]",
                id="reports.next"),
        Binding("w", "this_week", "This week", id="reports.week"),
        Binding("m", "this_month", "This month", id="reports.month"),
        Binding("g", "custom_range", "Date range", id="reports.range"),
        Binding("enter", "drill_in", "Open rep", id="reports.drill-in"),
        Binding("l", "leads", "Leads", id="reports.leads"),
        Binding("1", "show_chart('calls-tab')", "Calls chart", show=False,
                id="reports.chart-calls"),
        Binding("2", "show_chart('response-tab')", "First-response chart", show=False,
                id="reports.chart-response"),
        Binding("3", "show_chart('missed-tab')", "Missed-commitments chart", show=False,
                id="reports.chart-missed"),
        Binding("4", "show_chart('speed-tab')", "Speed-to-lead heat map", show=False,
                id="reports.chart-speed"),
        Binding("r", "reload", "Refresh", id="reports.refresh"),
        Binding("j", "cursor_down", "Down", show=False, id="nav.down"),
        Binding("k", "cursor_up", "Up", show=False, id="nav.up"),
        Binding("escape", "back", "Back", id="reports.back"),
    ]  # fmt: skip

    def __init__(self) -> None:
        super().__init__()
        self.kind = "week"  # week, month or range: what `[` and `]` step by
        self.period: Period | None = None  # set on mount (the team's today)
        self.rep: str | None = None  # the rep drilled into (always the rep themself for a rep)
        self._generation = 0  # a load for an older period or rep is dropped
        self._shown: Shown | None = None

    def on_resize(self) -> None:
        self.set_class(self.size.height < SHORT_TERMINAL, "-short")

    def compose(self) -> ComposeResult:
        yield Header()
        yield Label("", id="period-title", markup=False)
        table = TextTable(id="report", cursor_type="row", zebra_stripes=True, fixed_columns=1)
        table.set_columns(COLUMNS)
        yield table
        with TabbedContent(id="charts"):
            with TabPane("1 Calls per day", id="calls-tab"):
                yield Label("", id="calls-legend", markup=False)
                yield PlotextPlot(id="calls-chart")
            with TabPane("2 First response", id="response-tab"):
                yield PlotextPlot(id="response-chart")
            with TabPane("3 Missed commitments", id="missed-tab"):
                yield PlotextPlot(id="missed-chart")
            with TabPane("4 Speed to lead", id="speed-tab"):
                yield ResponseHeat()
        yield KeyFooter()

    def on_mount(self) -> None:
        if self.is_rep:
            self.rep = self.signed_in.user.username
        self.period = this_week(self._today())
        self.query_one("#report", DataTable).focus()

    def on_screen_resume(self) -> None:
        self.reload()

    @property
    def is_rep(self) -> bool:
        return self.signed_in.user.role == Role.REP

    @property
    def takes_keys(self) -> bool:
        """Keys typed while the first report loads wait for it (see LeadMSApp.on_event)."""
        return self._shown is not None

    def _today(self) -> date:
        return clock.business_date(clock.now(), self.signed_in.settings.timezone)

    # --- loading -----------------------------------------------------------------

    def reload(self) -> None:
        if self.period is None:
            return  # not mounted yet: on_mount picks the week
        self._show_title()
        self._generation += 1
        self._load(self._generation, self.period, self.rep, self._today())

    def action_reload(self) -> None:
        self.reload()

    def _load(self, generation: int, period: Period, rep: str | None, today: date) -> None:
        def query(session: Session) -> Shown:
            reports = coaching_report(session, period, rep=rep)
            user_ids = {u.username: u.id for u in list_users(session)}
            rep_id = user_ids.get(rep) if rep is not None else None
            days = daily_calls(session, period, rep_id=rep_id)
            weeks = weekly_missed(session, weeks=WEEKS, today=min(period.end, today), rep_id=rep_id)
            speed = response_report(session, period, rep=rep)
            return Shown(reports, user_ids, days, weeks, speed)

        self.load(
            query, lambda shown: self._loaded(generation, shown),
            group="reports", description="Loading the report",
        )  # fmt: skip

    def _loaded(self, generation: int, shown: Shown) -> None:
        if generation != self._generation:
            return  # the manager already moved on to another period or rep
        self._shown = shown
        table = self.query_one("#report", DataTable)
        kept = self._cursor_key()
        table.clear()
        currency = self.signed_in.settings.currency
        # drilled into a rep (or a rep's own report): their row only, not a team of one
        rows = shown.reports if self.rep is None else shown.reports[:-1]
        for report in rows:
            team = report.rep == TEAM
            table.add_row(*_cells(report, currency, team), key=TEAM_KEY if team else _key(report))
        keys = [TEAM_KEY if r.rep == TEAM else _key(r) for r in rows]
        if kept in keys:
            table.move_cursor(row=keys.index(kept), animate=False)
        table.border_title = "Team and reps" if self.rep is None else "Rep"
        table.border_subtitle = _failures(rows[-1]) if rows else ""
        # the team's first responses are its reps' (TEAM's own list comes back empty)
        minutes = [m for report in shown.reports[:-1] for m in report.response_minutes]
        self._draw_calls(shown.days)
        self._draw_responses(minutes)
        self._draw_missed(shown.weeks)
        # drilled into a rep: their row only, as the table above
        speed = shown.speed if self.rep is None else shown.speed[:-1]
        self.query_one(ResponseHeat).show(speed, int(self.leadms.settings.response_target_minutes))
        self.refresh_bindings()

    def _show_title(self) -> None:
        assert self.period is not None
        whose = "team" if self.rep is None else self.rep
        self.query_one("#period-title", Label).update(
            formatting.shown(
                f"Reports — {describe(self.period, self.kind, self._today())} — {whose}"
            )
        )

    # --- the charts ----------------------------------------------------------------

    def _draw_calls(self, days: list[tuple[date, str, int]]) -> None:
        """Calls per day of the period, stacked by outcome."""
        assert self.period is not None
        chart = self.query_one("#calls-chart", PlotextPlot)
        plt = chart.plt
        plt.clear_figure()
        span = [self.period.start + timedelta(days=i) for i in range(self.period.days)]
        outcomes = [o for o in CallOutcome if any(outcome == o for _, outcome, _ in days)]
        self.query_one("#calls-legend", Label).update(
            Text("  ").join(
                Text.assemble(("██", f"color({OUTCOME_LOOKS[o].colour})"), " ", MEANINGS[o].words)
                for o in outcomes
            )
        )
        if not outcomes:
            plt.title("Calls per day: no calls in this period")
        else:
            counts = {(day, outcome): n for day, outcome, n in days}
            series = [[counts.get((day, o), 0) for day in span] for o in outcomes]
            x = list(range(1, len(span) + 1))
            _stacked_bars(plt, x, series, [OUTCOME_LOOKS[o].colour for o in outcomes])
            step = max(1, math.ceil(len(span) / 10))  # at most about ten day labels
            label = "%a %d" if len(span) <= 7 else "%d" if len(span) <= 31 else "%d %b"
            plt.xticks(x[::step], [f"{day:{label}}" for day in span[::step]])
            _count_ticks(plt, max(sum(s[i] for s in series) for i in range(len(span))))
            total = sum(map(sum, series))
            plt.title(f"Calls per day by outcome ({total} call{'' if total == 1 else 's'})")
        chart.refresh()

    def _draw_responses(self, minutes: list[int]) -> None:
        """How long received leads waited for their first call (business minutes, -1 never
        called): a bar per bucket, never called on its own."""
        chart = self.query_one("#response-chart", PlotextPlot)
        plt = chart.plt
        plt.clear_figure()
        if not minutes:
            plt.title("First response: no leads received in this period")
        else:
            labels, counts = [], []
            low = 0
            for high, label in RESPONSE_BUCKETS:
                labels.append(label)
                counts.append(sum(1 for m in minutes if m >= low and (high is None or m <= high)))
                low = (high or 0) + 1
            never = sum(1 for m in minutes if m < 0)
            plt.bar(
                [*labels, "never called"],
                [*counts, never],
                color=["cyan"] * len(counts) + ["red"],
            )
            _count_ticks(plt, max(*counts, never))
            target = self.signed_in.settings.response_target_minutes
            plt.title(
                f"First response in business minutes ({len(minutes)} lead"
                f"{'' if len(minutes) == 1 else 's'}, target {target}m)"
            )
        chart.refresh()

    def _draw_missed(self, weeks: list[WeekRate]) -> None:
        """The headline: the share of commitments missed, week by week."""
        chart = self.query_one("#missed-chart", PlotextPlot)
        plt = chart.plt
        plt.clear_figure()
        if not any(week.due for week in weeks):
            plt.title(f"Missed commitments: nothing was due in the last {WEEKS} weeks")
        else:
            rates = [round((week.rate or 0) * 100, 1) for week in weeks]  # nothing due: 0
            x = list(range(1, len(weeks) + 1))
            plt.bar(x, rates, color="red", width=BAR_WIDTH)
            # every other Monday: twelve labels do not fit 80 columns
            plt.xticks(x[1::2], [f"{week.week:%d %b}" for week in weeks[1::2]])
            top = max(10, math.ceil(max(rates) / 10) * 10)
            ticks = [top * i / 5 for i in range(6)]
            plt.yticks(ticks, [f"{tick:g}%" for tick in ticks])
            plt.ylim(0, top)
            plt.title(f"Missed commitments, % of those due, week by week to {weeks[-1].week:%d %b}")
        chart.refresh()

    # --- the row under the cursor and the keys --------------------------------------

    def _cursor_key(self) -> str | None:
        table = self.query_one("#report", DataTable)
        if not table.row_count:
            return None
        return table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value

    def _current_rep(self) -> str | None:
        """The username of the rep row under the cursor (None on the team row)."""
        key = self._cursor_key() or ""
        return key.removeprefix("rep:") if key.startswith("rep:") else None

    @on(DataTable.RowHighlighted, "#report")
    def _moved_cursor(self) -> None:
        self.refresh_bindings()

    @on(DataTable.RowSelected, "#report")
    def _row_selected(self) -> None:
        self.action_drill_in()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "drill_in":
            if self.is_rep:
                return False  # a rep's report is already their own
            return (self.rep is None and self._current_rep() is not None) or None
        if action == "leads":
            return self._cursor_key() is not None or None
        return True

    def _move_to(self, period: Period, kind: str) -> None:
        self.period, self.kind = period, kind
        self.reload()

    def action_shift_period(self, step: int) -> None:
        if self.period is None:
            return
        if self.kind == "week":
            self._move_to(_shifted(self.period, 7 * step), "week")
        elif self.kind == "month":
            first = self.period.start
            index = first.year * 12 + first.month - 1 + step
            self._move_to(month_of(date(index // 12, index % 12 + 1, 1)), "month")
        else:
            self._move_to(_shifted(self.period, self.period.days * step), "range")

    def action_this_week(self) -> None:
        self._move_to(this_week(self._today()), "week")

    def action_this_month(self) -> None:
        self._move_to(month_of(self._today()), "month")

    def action_custom_range(self) -> None:
        def chosen(period: Period | None) -> None:
            if period is not None:
                self._move_to(period, "range")

        if self.period is not None:
            self.go(goto.PickRange(self.period, self._today(), chosen))

    def action_drill_in(self) -> None:
        rep = self._current_rep()
        if self.check_action("drill_in", ()) and rep is not None:
            self.rep = rep
            self.reload()

    def action_leads(self) -> None:
        """The leads behind a row: that rep's (or everyone's) received in the period."""
        from leadms_tui.domain.queries.leads import LeadFilter

        key = self._cursor_key()
        if key is None or self.period is None or self._shown is None:
            return
        owner = None if key == TEAM_KEY else self._shown.user_ids.get(key.removeprefix("rep:"))
        where = LeadFilter(owner_id=owner, date_from=self.period.start, date_to=self.period.end)
        self.go(goto.OpenLeads(where))

    def action_show_chart(self, pane: str) -> None:
        self.query_one("#charts", TabbedContent).active = pane

    def action_cursor_down(self) -> None:
        self.query_one("#report", DataTable).action_cursor_down()

    def action_cursor_up(self) -> None:
        self.query_one("#report", DataTable).action_cursor_up()

    def action_back(self) -> None:
        """Out of a rep's report back to the team; from the team, back where we came from."""
        if self.rep is not None and not self.is_rep:
            self.rep = None  # the cursor stays on the rep's row (see _loaded)
            self.reload()
        else:
            self.app.pop_screen()


# --- periods and cells -------------------------------------------------------------


def this_week(today: date) -> Period:
    monday = today - timedelta(days=today.weekday())
    return Period(monday, monday + timedelta(days=6))


def month_of(day: date) -> Period:
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return Period(first, following - timedelta(days=1))


def _shifted(period: Period, days: int) -> Period:
    return Period(period.start + timedelta(days=days), period.end + timedelta(days=days))


def describe(period: Period, kind: str, today: date) -> str:
    """ "week Mon 23 Nov to Sun 29 Nov 2026 (this week)", "November 2026", "2026-11-01 to …"."""
    if kind == "week":
        now = " (this week)" if period.start <= today <= period.end else ""
        return f"week {period.start:%a %d %b} to {period.end:%a %d %b %Y}{now}"
    if kind == "month":
        return f"{period.start:%B %Y}"
    return f"{period.start} to {period.end} ({period.days} days)"


def _key(report: RepReport) -> str:
    return f"rep:{report.rep}"


def _cells(report: RepReport, currency: str, team: bool) -> tuple[Text, ...]:
    style = "bold" if team else ""
    change = _change(report.missed_commitment_rate, report.missed_commitment_rate_before)
    if team:
        change.stylize("bold")
    return (
        Text(report.rep, style=style),
        _number(report.leads_received, style),
        _number(_minutes(report.first_response_median_minutes), style),
        _number(_percent(report.answered_within_target), style),
        _number(report.calls, style),
        _number(_percent(report.connect_rate), style),
        _number(report.followups_due, style),
        _number(report.commitments_missed, style),
        _number(_percent(report.missed_commitment_rate), style),
        change,
        _number(report.meetings_held, style),
        _number(report.conversions, style),
        _number(_percent(report.conversion_rate), style),
        _number(f"{round_money(Decimal(report.deal_value), currency):,}", style),
        _chat(report, style),
    )


def _chat(report: RepReport, style: str) -> Text:
    """Chat replies: "12/10 ✗2", sent / inside the window, failed (red)."""
    failed = sum(report.message_failures.values())
    if not (report.messages_sent or failed):
        return Text("—", justify="right", style=style)
    cell = Text(f"{report.messages_sent}/{report.replies_in_window}", style=style, justify="right")
    if failed:
        cell.append(f" ✗{failed}", style="red")
    return cell


def _failures(report: RepReport) -> str:
    """The failed chat replies of a row by Meta's error code, for the table's subtitle."""
    if not report.message_failures:
        return ""
    ordered = sorted(report.message_failures.items(), key=lambda item: (-item[1], item[0]))
    codes = ", ".join(f"{code}: {count}" for code, count in ordered)
    return f"chat: sent/in window; failed by Meta code: {codes} (leadms messages list)"


def _number(value: object, style: str) -> Text:
    return Text(str(value), style=style, justify="right")


def _percent(share: float | None) -> str:
    return "—" if share is None else f"{share:.0%}"


def _minutes(minutes: float | None) -> str:
    """Business minutes as "12m" or "2h05"."""
    if minutes is None:
        return "—"
    whole = round(minutes)
    return f"{whole}m" if whole < 60 else f"{whole // 60}h{whole % 60:02d}"


def _change(now: float | None, before: float | None) -> Text:
    """The missed rate against the period before, in points: up is worse (red)."""
    if now is None or before is None:
        return Text("—", justify="right")
    points = round((now - before) * 100, 1)
    if points > 0:
        return Text(f"▲ {points:.1f}", style="red", justify="right")
    if points < 0:
        return Text(f"▼ {-points:.1f}", style="green", justify="right")
    return Text("= 0.0", justify="right")


def _stacked_bars(plt, x: list[int], series: list[list[int]], colors: list[int]) -> None:  # type: ignore[no-untyped-def]
    """Bars stacked bottom-up in series order. Not plotext's `stacked_bar`: it draws a day's
    empty first segment as blanks over the segments above it."""
    tops = [[0] * len(x)]
    for values in series:
        tops.append([top + value for top, value in zip(tops[-1], values, strict=True)])
    for values, top, color in reversed(list(zip(series, tops[1:], colors, strict=True))):
        # each segment is a bar from the axis to its top, painted over by the ones below it
        shown = [(at, height) for at, value, height in zip(x, values, top, strict=True) if value]
        if not shown:
            continue
        xs, heights = [at for at, _ in shown], [height for _, height in shown]
        spacing = (xs[-1] - xs[0]) / (len(xs) - 1) if len(xs) > 1 else 1
        plt.bar(xs, heights, color=color, width=BAR_WIDTH / spacing)  # width is per spacing
    plt.xlim(x[0] - 0.5, x[-1] + 0.5)


def _count_ticks(plt, top: int) -> None:  # type: ignore[no-untyped-def]
    """Whole numbers on a count axis (plotext would label 0.67 calls)."""
    step = max(1, math.ceil(top / 5))
    ticks = list(range(0, top + step, step))
    plt.yticks(ticks, [str(t) for t in ticks])
    plt.ylim(0, ticks[-1])
