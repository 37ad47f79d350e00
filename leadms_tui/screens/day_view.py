"""The day view (home): follow-ups due, onboarding tasks, new leads, meetings and calls of a day."""

from datetime import date, datetime, timedelta

from rich.text import Text
from sqlmodel import Session
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import DataTable, Header, Label, Select

from leadms_tui import formatting
from leadms_tui.domain import clock
from leadms_tui.domain.live import touches
from leadms_tui.domain.models import Role, TaskState
from leadms_tui.domain.queries.dayview import (
    DayView,
    FollowUpRow,
    NewLeadRow,
    load_day_view,
)
from leadms_tui.domain.queries.sales import TaskRow
from leadms_tui.domain.team.users import UserInfo, list_users
from leadms_tui.domain.work.calls import CallLogged
from leadms_tui.domain.work.clock_face import ClockFace, clock_face
from leadms_tui.screens import goto
from leadms_tui.screens.base import LEAD_ACTIONS, LeadScreen
from leadms_tui.screens.client_detail import task_due
from leadms_tui.widgets.clock_cells import OVER_STYLE, ClockCells
from leadms_tui.widgets.key_footer import KeyFooter
from leadms_tui.widgets.text_table import (
    DUE_WIDTH,
    LEAD_NUMBER_WIDTH,
    PHONE_WIDTH,
    REP_WIDTH,
    Col,
    TextTable,
    fit,
)

REFRESH_SECONDS = 30
TICK_SECONDS = 1  # response clocks redraw from the loaded faces: no database read
CLOCK_COLUMN = 0  # the new-leads section's "Waiting": the clock where the lead has one
LEAD, PHONE = fit("Lead", LEAD_NUMBER_WIDTH), fit("Phone", PHONE_WIDTH)
# Fixed widths (the layout never depends on when rows arrive) and what gives way on a narrow
# terminal (see `Col`): lead numbers, phones and reps are never cut; at 80 columns the notes
# and counts go first. A rep's own day drops the Rep column first: every row is theirs.
SECTIONS = {
    "followups": (
        "Follow-ups due",
        (Col("Due", DUE_WIDTH, floor=9), LEAD, Col("Name", 18, floor=10), PHONE,
         Col("Reason", 18, drop=2), Col("Tries", 5, drop=3), fit("Rep", REP_WIDTH)),
    ),
    "onboarding": (
        "Onboarding",
        (Col("Due", 17, floor=9), fit("Client", 10), Col("Name", 18, floor=10),
         Col("Task", 22, floor=10), fit("Owner", REP_WIDTH)),
    ),
    "new-leads": (
        "New leads, not yet contacted",
        (fit("Waiting", 9), LEAD, Col("Name", 20, floor=10), PHONE, Col("Channel", 10, drop=3),
         Col("Repeat", 6, drop=2), fit("Rep", REP_WIDTH)),
    ),
    "meetings": (
        "Meetings and demos",
        (fit("Time", 5), LEAD, Col("Name", 20, floor=10), Col("Kind", 8, drop=2),
         Col("Length", 7, drop=3), Col("Where", 20, floor=8), fit("Rep", REP_WIDTH)),
    ),
    "calls": (
        "Calls logged",
        (fit("Time", 5), LEAD, Col("Name", 20, floor=10), Col("Outcome", 18, floor=10),
         Col("Note", 24, drop=2), fit("By", REP_WIDTH)),
    ),
}  # fmt: skip
REP_COLUMNS = {"Rep", "Owner", "By"}


def for_role(columns: tuple[Col, ...], role: Role) -> tuple[Col, ...]:
    """A rep sees only their own rows: the rep column is the first to leave a narrow terminal."""
    if role != Role.REP:
        return columns
    return tuple(Col(c.label, c.width, drop=9) if c.label in REP_COLUMNS else c for c in columns)


SHOWN_ONLY_WITH_ROWS = {"onboarding"}  # a section most days don't have: no empty box for it
ALL_REPS = -1


class DayViewScreen(LeadScreen):
    HELP_NAME = "Day view"
    LIVE_TABLES = frozenset(
        {"leads", "follow_ups", "calls", "meetings", "onboarding_tasks", "clients", "users"}
    )
    DEFAULT_CSS = """
    DayViewScreen #day-bar { height: 1; padding: 0 1; background: $boost; }
    DayViewScreen #day-title { width: 1fr; text-style: bold; }
    DayViewScreen #rep-filter { width: 30; height: 1; border: none; padding: 0; }
    DayViewScreen #rep-filter > SelectCurrent { border: none; height: 1; padding: 0 1; }
    DayViewScreen DataTable { height: auto; max-height: 14;
        border: round $panel; border-title-color: $text; border-title-style: bold; }
    DayViewScreen DataTable:focus { border: round $accent; border-title-color: $text-accent; }
    """
    BINDINGS = [
        Binding("enter", "open_lead", "Open", id="lead.open", show=False),
        Binding("left_square_bracket", "shift_day(-1)", "Prev day", key_display="[", id="day.prev"),
        Binding("right_square_bracket", "shift_day(1)", "Next day", key_display="]", id="day.next"),
        Binding("t", "today", "Today", id="day.today"),
        Binding("g", "go_to_date", "Go to date", id="day.goto"),
        Binding("o", "meeting_outcome", "Outcome", id="day.meeting-outcome"),
        Binding("d", "finish_task('done')", "Task done", id="day.task-done"),
        Binding("x", "finish_task('skipped')", "Skip task", id="day.task-skip"),
        Binding("u", "rep_filter", "Rep filter", id="day.rep"),
        Binding("b", "breaching", "Breaching now", id="day.breaching"),
        Binding("s", "rules", "Rules", id="day.rules"),
        Binding("r", "reload", "Refresh", id="day.refresh"),
        # shift+r; out of the full footer: in the help screen and the palette
        Binding("R", "app.reports", "Reports", show=False, id="day.reports"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.day: date | None = None
        self._today_shown: date | None = None  # "today" as of the last load, in its timezone
        self.owner_filter: int | None = None
        self._lead_of_row: dict[str, dict[str, tuple[int, str] | None]] = {
            key: {} for key in SECTIONS
        }
        self._followup_of_row: dict[str, FollowUpRow] = {}
        self._task_of_row: dict[str, TaskRow] = {}
        self._called: dict[str, str] = {}  # section -> row just called: move past it
        self._stay_with: int | None = None  # the lead just called: the next step is theirs
        self._emptied: set[str] = set()  # sections the last load emptied
        self._new_day = True  # the next load shows another day: start at its first leads
        self._loaded = False
        self._clocks = ClockCells()  # the new leads' response clocks, ticking on screen
        self._new_leads: list[NewLeadRow] = []
        self._new_leads_total = 0
        self._titles = ("", "")  # the day in words, long and short: the short one when narrow
        self.breaching_only = False  # managers: only the new leads past the response target
        self._over: set[str] = set()

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="day-bar"):
            yield Label("", id="day-title")
            yield Select[int](
                [("All reps", ALL_REPS)], value=ALL_REPS, allow_blank=False, id="rep-filter"
            )
        with VerticalScroll(can_focus=False):  # tab goes from section to section
            for key, (title, columns) in SECTIONS.items():
                table = TextTable(id=key, cursor_type="row", zebra_stripes=True)
                table.border_title = title
                table.display = key not in SHOWN_ONLY_WITH_ROWS
                table.set_columns(for_role(columns, self.signed_in.user.role))
                yield table
        yield KeyFooter()

    def on_mount(self) -> None:
        user = self.signed_in.user
        self.day = self._today()
        self.owner_filter = user.id if user.role == Role.REP else None
        self.query_one("#rep-filter").display = user.role != Role.REP
        if user.role != Role.REP:
            self._load_reps()
        self.query_one("#followups", DataTable).focus()
        self.set_interval(REFRESH_SECONDS, self.reload)  # the first load comes with ScreenResume
        self.set_interval(TICK_SECONDS, self.tick_clocks)

    def _today(self) -> date:
        return clock.business_date(clock.now(), self.signed_in.settings.timezone)

    # --- loading ---------------------------------------------------------------

    def reload(self) -> None:
        if self.day is not None:
            day, owner_id, tz = self.day, self.owner_filter, self.signed_in.settings.timezone

            def query(session: Session) -> tuple[DayView, dict[str, ClockFace]]:
                view = load_day_view(session=session, day=day, timezone=tz, owner_id=owner_id)
                return view, self._faces(view)

            self.load(query, self._show, group="day-view", description="Loading the day view")

    def data_changed(self, changes: frozenset[str]) -> None:
        super().data_changed(changes)
        if touches(changes, {"users"}) and self.signed_in.user.role != Role.REP:
            self._load_reps()  # a rep added (or retired) in another terminal: `u` lists them

    def settings_changed(self) -> None:
        """A new timezone can make it another day: "today" follows it."""
        if self.day is not None and self.day == self._today_shown:
            self.day = self._today()
        super().settings_changed()

    def _faces(self, view: DayView) -> dict[str, ClockFace]:
        """The new leads' running response clocks (in the worker: a long wait walks days)."""
        settings, now = self.signed_in.settings, clock.now()
        faces = {}
        for n in view.new_leads:
            face = clock_face(settings, n.created_at, n.owner_hours, touched=n.touched, now=now)
            if face is not None:
                faces[f"l{n.lead_id}"] = face
        return faces

    def _load_reps(self) -> None:
        self.load(
            lambda session: [u for u in list_users(session) if u.role == Role.REP and u.active],
            self._show_reps, group="day-view-reps", description="Loading reps",
        )  # fmt: skip

    def _show_reps(self, reps: list[UserInfo]) -> None:
        select = self.query_one("#rep-filter", Select)
        reps_shown = [(formatting.shown(r.display_name), r.id) for r in reps]
        chosen = self.owner_filter if any(r.id == self.owner_filter for r in reps) else ALL_REPS
        with self.prevent(Select.Changed):  # the same choice, with the new list: no reload
            select.set_options([("All reps", ALL_REPS), *reps_shown])
            select.value = chosen
        if chosen == ALL_REPS and self.owner_filter is not None:
            self.owner_filter = None  # the rep chosen was retired meanwhile
            self.reload()

    def _show(self, loaded: tuple[DayView, dict[str, ClockFace]]) -> None:
        view, faces = loaded
        tz = self.signed_in.settings.timezone
        now = clock.now()
        today = self._today()
        self._today_shown = today
        offset = (view.day - today).days
        label = "today" if not offset else f"{offset:+d} day{'' if abs(offset) == 1 else 's'}"
        closed = f" · closed: {view.holiday}" if view.holiday else ""
        self._titles = (
            f"{view.day:%A %d %B %Y} ({label}){closed}",
            f"{view.day:%a %d %b %Y} ({label}){closed}",
        )
        self._clocks.load(faces)
        self._over = self._clocks.over(now)
        self._show_title()

        overdue = sum(1 for f in view.followups if f.due_at < now)
        missed = sum(1 for f in view.followups if f.missed)
        self._followup_of_row = {f"f{f.id}": f for f in view.followups}
        missed_note = f", {missed} missed" if missed else ""
        self._fill(
            "followups",
            f"Follow-ups due ({view.followups_total}, {overdue} overdue{missed_note})",
            [
                (
                    f"f{f.id}",
                    (f.lead_id, f"{f.number} {f.name}"),
                    (
                        Text(
                            ("MISSED " if f.missed else "") + formatting.when(f.due_at, tz, today),
                            style="bold red" if f.due_at < now else "",
                        ),
                        f.number,
                        f.name,
                        formatting.phone(f.phone),
                        f.reason,
                        str(f.attempts),
                        f.owner or "—",
                    ),
                )
                for f in view.followups
            ],
        )
        self._show_tasks(view, today)
        # by time left, most over first; leads without a running clock after them, as loaded
        # (the team's view: nobody's first, then the oldest)
        far = float("inf")
        self._new_leads = sorted(
            view.new_leads,
            key=lambda n: (
                far if (m := self._clocks.minutes_left(f"l{n.lead_id}", now)) is None else m
            ),
        )
        self._new_leads_total = view.new_leads_total
        self._show_new_leads(now)
        self._fill(
            "meetings",
            f"Meetings and demos ({len(view.meetings)})",
            [
                (
                    f"m{m.id}",
                    (m.lead_id, f"{m.number} {m.name}"),
                    (
                        formatting.hhmm(m.starts_at, tz),
                        m.number,
                        m.name,
                        m.kind,
                        f"{m.duration_minutes} min",
                        m.place or "",
                        m.owner or "—",
                    ),
                )
                for m in view.meetings
            ],
        )
        self._fill(
            "calls",
            f"Calls logged ({len(view.calls)})",
            [
                (
                    f"c{c.id}",
                    (c.lead_id, f"{c.number} {c.name}"),
                    (
                        formatting.hhmm(c.called_at, tz),
                        c.number,
                        c.name,
                        c.outcome.replace("_", " "),
                        c.note or "",
                        c.by or "—",
                    ),
                )
                for c in view.calls
            ],
        )
        self._place_cursor()
        self._loaded = True
        self.refresh_bindings()

    # --- the new leads and their response clocks ------------------------------------

    def _show_new_leads(self, now: datetime) -> None:
        rows = self._new_leads
        title = f"New leads, not yet contacted ({self._new_leads_total})"
        if self.breaching_only:
            rows = [n for n in rows if f"l{n.lead_id}" in self._over]
            title = f"New leads breaching now: past the response target ({len(rows)})"
        self._fill(
            "new-leads",
            title,
            [
                (
                    f"l{n.lead_id}",
                    (n.lead_id, f"{n.number} {n.name}"),
                    (
                        self._clocks.cell(f"l{n.lead_id}", now)
                        or formatting.age(n.created_at, now),
                        n.number,
                        n.name,
                        formatting.phone(n.phone),
                        n.channel,
                        Text("repeat", style="bold yellow") if n.is_repeat else "",
                        n.owner or Text("unassigned", style="italic"),
                    ),
                )
                for n in rows
            ],
        )

    def _show_title(self) -> None:
        """The day, and how many new leads shown are past the response target: the count is
        never cut, the day is shortened first when the bar is narrow (80 columns)."""
        label = self.query_one("#day-title", Label)
        over = f" · {len(self._over)} over target" if self._over else ""
        long, short = self._titles
        room = label.size.width
        title = Text(long if not room or len(long) + len(over) <= room else short)
        title.append(over, style=OVER_STYLE)
        label.update(title)

    def on_resize(self) -> None:
        if self._loaded:
            self.call_after_refresh(self._show_title)

    def tick_clocks(self) -> None:
        """Every second: the clocks move on screen from the current time, no database read;
        a lead that goes over counts in the header (and joins the breaching-now filter)."""
        if not self._loaded:
            return
        now = clock.now()
        over = self._clocks.over(now)
        if over != self._over:
            self._over = over
            self._show_title()
            if self.breaching_only:
                self._show_new_leads(now)
                return
        self._clocks.tick(self.query_one("#new-leads", TextTable), CLOCK_COLUMN, now)

    def action_breaching(self) -> None:
        """Managers: the new leads past the response target only, or all of them again."""
        self.breaching_only = not self.breaching_only
        self._show_new_leads(clock.now())
        table = self.query_one("#new-leads", DataTable)
        table.focus()
        if table.row_count:
            table.move_cursor(row=0, animate=False)
        self.refresh_bindings()

    def _place_cursor(self) -> None:
        """After a call that keeps the rep on the person (interested, callback), the cursor
        follows them to wherever their row is now; when the section under the cursor empties,
        or on opening, it goes to the next section with leads, so `c` never hits an empty table."""
        stay_with, self._stay_with = self._stay_with, None
        emptied, self._emptied = self._emptied, set()
        new_day, self._new_day = self._new_day, False
        if stay_with is not None and self._focus_lead(stay_with):
            return
        if new_day:  # opened, or another day: its first section with leads
            self._focus_next_section(list(SECTIONS)[-1])
            return
        focused = self.focused
        if not isinstance(focused, DataTable) or focused.id not in SECTIONS:
            return
        if focused.row_count == 0 and focused.id in emptied:
            self._focus_next_section(str(focused.id))

    def _sections_from(self, key: str) -> list[str]:
        """The sections in screen order, starting after `key` and wrapping round."""
        keys = list(SECTIONS)
        start = keys.index(key) + 1
        return keys[start:] + keys[:start]

    def _focus_next_section(self, key: str) -> None:
        """The first section after `key` (wrapping round) with leads; with the last section's
        key, the first from the top."""
        for other in self._sections_from(key):
            table = self.query_one(f"#{other}", DataTable)
            if table.display and any(self._lead_of_row[other].values()):  # not tasks
                table.focus()
                return

    def _focus_lead(self, lead_id: int) -> bool:
        focused = str(self.focused.id) if self.focused is not None else ""
        order = list(SECTIONS)
        if focused in SECTIONS:
            order = [focused, *self._sections_from(focused)[:-1]]
        # the calls logged last: the person's row there (their call just made) only when
        # no section has work for them any more
        for key in sorted(order, key=lambda section: section == "calls"):
            rows = self._lead_of_row[key].items()
            row = next((row for row, lead in rows if lead and lead[0] == lead_id), None)
            if row is not None:
                table = self.query_one(f"#{key}", DataTable)
                table.focus()
                table.move_cursor(row=table.get_row_index(row), animate=False)
                return True
        return False

    def _show_tasks(self, view: DayView, today: date) -> None:
        """The onboarding tasks due by the day; missed ones marked as missed follow-ups are."""
        self._task_of_row = {f"t{t.id}": t for t in view.tasks}
        missed = sum(1 for t in view.tasks if t.state == TaskState.MISSED)
        count = f"{len(view.tasks)}{'+' if view.more_tasks else ''}"
        self._fill(
            "onboarding",
            f"Onboarding ({count}{f', {missed} missed' if missed else ''})",
            [
                (
                    f"t{t.id}",
                    None,
                    (
                        task_due(t, today),
                        t.client_number,
                        t.client_name,
                        t.title,
                        t.owner or "—",
                    ),
                )
                for t in view.tasks
            ],
        )
        self.query_one("#onboarding", DataTable).display = bool(view.tasks)

    def _fill(
        self, key: str, title: str, rows: list[tuple[str, tuple[int, str] | None, tuple]]
    ) -> None:
        """Show a section's rows, keeping the cursor; unchanged rows cost nothing (the view
        reloads on every change another terminal makes, and every 30 s)."""
        table = self.query_one(f"#{key}", TextTable)
        table.border_title = title
        before = list(self._lead_of_row[key])
        self._lead_of_row[key] = {row_key: lead for row_key, lead, _ in rows}
        if before and not rows:
            self._emptied.add(key)
        table.refill([(row_key, cells) for row_key, _, cells in rows])
        self._to_next_lead(table, self._called.pop(key, None), before)

    def _to_next_lead(self, table: DataTable, called: str | None, before: list[str]) -> None:
        """After a call is saved the cursor is on the next lead to call (save and next), so a
        shift is `c n enter`, `c n enter`, ... without arrows."""
        if called is None or called not in before:
            return
        shown = self._lead_of_row[str(table.id)]
        later = before[before.index(called) + 1 :]
        following = next((row for row in later if row in shown), None)
        if following is not None:
            table.move_cursor(row=table.get_row_index(following), animate=False)

    def action_log_call(self) -> None:
        table, row, lead = self.focused, self._row_key(), self.current_lead()
        if lead is None or not isinstance(table, DataTable) or row is None:
            return

        def after(saved: CallLogged | None) -> None:
            if saved is not None and saved.ends_the_attempt:
                self._called[str(table.id)] = row  # on to the next lead
            elif saved is not None:
                self._stay_with = lead[0]  # interested, callback: the next step is theirs
            self._loaded = False  # keys typed ahead wait for the reload (see takes_keys)
            self.reload()

        self.go(goto.LogCall(*lead, then=after))

    def follow_lead(self, lead_id: int) -> None:
        """Reload with the cursor on `lead_id` (a call on it was just undone: `c` again)."""
        self._stay_with = lead_id
        self._loaded = False
        self.reload()

    @property
    def takes_keys(self) -> bool:
        """Keys typed while the day loads wait for it (see LeadMSApp.on_event)."""
        return self._loaded

    # --- the current lead --------------------------------------------------------

    def current_lead(self) -> tuple[int, str] | None:
        table = self.focused
        if not isinstance(table, DataTable) or table.id not in self._lead_of_row:
            return None
        if not table.row_count:
            return None
        row_key = table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value
        return self._lead_of_row[table.id].get(row_key or "")

    def _row_key(self) -> str | None:
        table = self.focused
        if not isinstance(table, DataTable) or not table.row_count:
            return None
        return table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value

    def current_followup(self) -> FollowUpRow | None:
        return self._followup_of_row.get(self._row_key() or "")

    def current_task(self) -> TaskRow | None:
        return self._task_of_row.get(self._row_key() or "")

    def action_finish_task(self, state: str) -> None:
        task = self.current_task()
        if task is not None:
            self._finish_task(task.id, TaskState(state))

    def _finish_task(self, task_id: int, state: TaskState) -> None:
        from leadms_tui.domain.sales.onboarding import finish_task

        def finished(title: str) -> None:
            self.notify(f"{title}: {state.value}", title="Onboarding")
            self.reload()

        actor = self.signed_in.actor
        self.commit(
            lambda s: finish_task(s, task_id, state, actor=actor).title, finished,
            group="day-view-task", description="Finishing the task",
        )  # fmt: skip

    def action_meeting_outcome(self) -> None:
        key, lead = self._row_key(), self.current_lead()
        if key and key.startswith("m") and lead is not None:
            self.go(goto.MeetingOutcome(int(key[1:]), lead[1], lambda _done: self.reload()))

    def action_rules(self) -> None:
        self.go(goto.OpenRules())

    @on(DataTable.RowSelected)
    def _open_selected(self, event: DataTable.RowSelected) -> None:
        task = self.current_task()
        if task is not None:  # an onboarding task: its client
            self.go(goto.OpenClient(task.client_id))
        else:
            self.action_open_lead()

    @on(DataTable.RowHighlighted)
    def _highlighted(self) -> None:
        self.refresh_bindings()

    # --- actions -------------------------------------------------------------------

    def action_reload(self) -> None:
        self.reload()

    def action_shift_day(self, days: int) -> None:
        if self.day is not None:
            self.day += timedelta(days=days)
            self._new_day = True
            self.reload()

    def action_today(self) -> None:
        self.day = self._today()
        self._new_day = True
        self.reload()

    def action_go_to_date(self) -> None:
        def chosen(day: date | None) -> None:
            if day is not None:
                self.day = day
                self._new_day = True
                self.reload()

        self.go(goto.PickDate(self.day or self._today(), self._today(), chosen))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("rep_filter", "breaching"):
            return self.signed_in.user.role != Role.REP
        if action == "rules":
            return self.signed_in.user.role == Role.ADMIN
        if action == "meeting_outcome":
            return (self._row_key() or "").startswith("m") or None
        if action == "finish_task":  # no onboarding section, no keys for it
            return bool(self._task_of_row) and (self.current_task() is not None or None)
        return super().check_action(action, parameters)

    def why_not(self, action: str) -> str | None:
        table = self.focused
        if action == "finish_task":
            return "d / x finish an onboarding task: the cursor is not on one"
        if action == "meeting_outcome":
            return "o records a meeting's outcome: the cursor is not on a meeting"
        empty = isinstance(table, DataTable) and table.id in SECTIONS and not table.row_count
        if action in LEAD_ACTIONS and empty:
            return f"{SECTIONS[str(table.id)][0]} is empty: tab goes to the next list"
        return super().why_not(action)

    def action_rep_filter(self) -> None:
        self.query_one("#rep-filter", Select).focus()

    @on(Select.Changed, "#rep-filter")
    def _rep_chosen(self, event: Select.Changed) -> None:
        if self.signed_in.user.role == Role.REP:
            return  # a rep always sees their own day
        value = event.value
        self.owner_filter = value if isinstance(value, int) and value != ALL_REPS else None
        self.reload()
