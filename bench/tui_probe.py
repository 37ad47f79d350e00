"""The child processes of the TUI benchmark (run by `bench.tui`, one per measurement).

    python -m bench.tui_probe paint URL USER NOW MARKER          # Lead MS in a terminal
    python -m bench.tui_probe bare ENGINE DSN STATEMENTS MARKER  # bare Textual app
    python -m bench.tui_probe pilot URL USER NOW SAMPLES PHONES OUT
    python -m bench.tui_probe bare-push SAMPLES OUT               # bare Textual screen pushes
    python -m bench.tui_probe bare-search ENGINE DSN STATEMENTS PHONES PAUSE OUT

`paint` and `bare` write the wall-clock time of their first paint with data to MARKER
and exit; `pilot` drives Lead MS headless and writes its timings (seconds) as JSON.
Only the standard library is imported up front, so neither side pays for the other's imports.
"""

import asyncio
import contextlib
import json
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

WIDTH = 8  # columns of the bare app's table
IDLE = 0.05  # seconds between samples: each key lands on an idle app, as a person's would
KEY_CHARS = {"enter": "\r", "escape": "\x1b", "slash": "/", "space": " "}


def peak_rss_kib() -> int:
    """This process's peak RSS (VmHWM: unlike wait4's figure, not inherited from the parent)."""
    status = Path("/proc/self/status").read_text().splitlines()
    return next(int(line.split()[1]) for line in status if line.startswith("VmHWM"))


def _painted(app: Any, marker: str) -> None:
    Path(marker).write_text(f"{time.time()!r} {peak_rss_kib()}")
    app.exit()


def _freeze_clock(now: str) -> None:
    from leadms_tui.domain import clock

    moment = datetime.fromisoformat(now)
    clock.set_clock(lambda: moment)


def paint(url: str, username: str, now: str, marker: str) -> None:
    """Start Lead MS as `leadms demo --as USER` does; exit once the day view shows its data."""
    _freeze_clock(now)
    from leadms_tui.app import run_tui
    from leadms_tui.bootstrap import open_database
    from leadms_tui.domain.team.users import get_user
    from leadms_tui.screens.day_view import DayViewScreen

    show = DayViewScreen._show

    def show_then_exit(screen: Any, view: Any) -> None:
        show(screen, view)
        screen.call_after_refresh(_painted, screen.app, marker)

    DayViewScreen._show = show_then_exit  # type: ignore[method-assign]
    database = open_database(url)
    with database.reading() as session:
        user = get_user(session, username)
    run_tui(database, signed_in=user)


def bare(engine: str, dsn: str, statements: str, marker: str) -> None:
    """Header, table, footer: run the day view's statements with the plain driver, show rows."""
    import pickle

    from textual import work
    from textual.app import App, ComposeResult
    from textual.widgets import DataTable, Footer, Header

    queries = pickle.loads(Path(statements).read_bytes())

    class Bare(App[None]):
        def compose(self) -> ComposeResult:
            yield Header()
            yield DataTable()
            yield Footer()

        def on_mount(self) -> None:
            self.query_one(DataTable).add_columns(*(f"c{i}" for i in range(WIDTH)))
            self.load()

        @work(thread=True)
        def load(self) -> None:
            if engine == "sqlite":
                import sqlite3

                conn: Any = sqlite3.connect(dsn)
            else:
                import psycopg

                conn = psycopg.connect(dsn)
            rows = [row for sql, params in queries for row in conn.execute(sql, params)]
            conn.close()
            self.call_from_thread(self.show, rows)

        def show(self, rows: list[tuple]) -> None:
            table = self.query_one(DataTable)
            for row in rows:
                cells = [str(value) for value in row[:WIDTH]]
                table.add_row(*cells, *([""] * (WIDTH - len(cells))))
            self.call_after_refresh(_painted, self, marker)

    Bare().run()


# --- pilot: keys in, time until the screen shows the answer -------------------------------


def _observe(events: dict[str, float]) -> None:
    """Note when each screen shows data (wraps the screens' `_show`; nothing else changes)."""
    from leadms_tui.screens.day_view import DayViewScreen
    from leadms_tui.screens.lead_detail import LeadDetailScreen
    from leadms_tui.screens.lead_list import LeadListScreen

    def wrap(cls: Any, name: str, label: Callable[..., str | None]) -> None:
        original = getattr(cls, name)

        def observed(self: Any, *args: Any) -> None:
            original(self, *args)
            key = label(self, *args)
            if key:
                events[key] = time.perf_counter()

        setattr(cls, name, observed)

    wrap(DayViewScreen, "_show", lambda screen, *shown: "day")
    wrap(LeadDetailScreen, "_show", lambda screen, *shown: "detail")  # the lead, its fields
    wrap(LeadListScreen, "_search_now", lambda screen: "search:" + screen._filter().text)
    wrap(
        LeadListScreen,
        "_show",
        lambda screen, rows, append, generation, *fields: (
            f"list:{screen._filter().text}:{len(rows)}"
            if generation == screen._generation
            else None
        ),
    )


async def _until(condition: Callable[[], object], timeout: float = 30.0) -> None:
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            raise TimeoutError("the screen did not get there in time")
        await asyncio.sleep(0.001)


async def _workers_done(app: Any) -> None:
    """Every worker finished (a cancelled one, replaced by a newer load, counts as finished)."""
    from textual.worker import WorkerCancelled, WorkerFailed

    for worker in list(app.workers):
        with contextlib.suppress(WorkerCancelled, WorkerFailed):
            await asyncio.wait_for(worker.wait(), 30)


async def _painted_async(app: Any) -> None:
    done = asyncio.get_running_loop().create_future()
    app.screen.call_after_refresh(lambda: done.done() or done.set_result(None))
    await asyncio.wait_for(done, 30)


def _send(app: Any, key: str) -> None:
    """One key press, as the terminal driver posts it (Pilot's `press` also idles ~20 ms)."""
    from textual import events

    char = KEY_CHARS.get(key, key if len(key) == 1 else None)
    app.post_message(events.Key(key, char))


class _Session:
    """A headless Lead MS session and what its screens have shown (see `_observe`)."""

    def __init__(self, app: Any, seen: dict[str, float]) -> None:
        self.app, self.seen = app, seen

    async def back_home(self) -> None:
        from leadms_tui.screens.day_view import DayViewScreen

        self.seen.clear()
        _send(self.app, "escape")
        await _until(lambda: isinstance(self.app.screen, DayViewScreen) and "day" in self.seen)
        await _workers_done(self.app)
        await _painted_async(self.app)

    async def cursor_moves(self, table: Any, samples: int) -> list[float]:
        times = []
        for i in range(samples if table.row_count > 1 else 0):
            await asyncio.sleep(IDLE)
            target = table.cursor_row + (1 if i % 2 == 0 else -1)
            started = time.perf_counter()
            _send(self.app, "j" if i % 2 == 0 else "k")
            await _until(lambda target=target: table.cursor_row == target)
            await _painted_async(self.app)
            times.append(time.perf_counter() - started)
        return times

    async def detail_opens(self, table: Any, samples: int) -> list[float]:
        times = []
        table.focus()
        for i in range(samples if table.row_count else 0):
            table.move_cursor(row=i % table.row_count, animate=False)
            await _painted_async(self.app)
            await asyncio.sleep(IDLE)
            self.seen.clear()
            started = time.perf_counter()
            _send(self.app, "enter")
            await _until(lambda: "detail" in self.seen)
            await _painted_async(self.app)
            times.append(time.perf_counter() - started)
            await self.back_home()
        return times

    async def searches(self, phones: list[str]) -> dict[str, list[float]]:
        """`/`, then a phone typed at once: times to the first page and to the phone's leads."""
        times: dict[str, list[float]] = {"search_open": [], "search": [], "search_after_pause": []}
        seen = self.seen
        for phone in phones:
            await asyncio.sleep(IDLE)
            seen.clear()
            started = time.perf_counter()
            _send(self.app, "slash")
            await _until(lambda: any(key.startswith("list::") for key in seen))
            await _painted_async(self.app)
            times["search_open"].append(time.perf_counter() - started)
            seen.clear()
            for char in phone:
                _send(self.app, "space" if char == " " else char)
            typed = time.perf_counter()
            found = f"list:{phone}:"
            await _until(lambda found=found: any(key.startswith(found) for key in seen))
            await _painted_async(self.app)
            done = time.perf_counter()
            if next(key for key in seen if key.startswith(found)).endswith(":0"):
                raise AssertionError(f"no lead found for {phone}")
            times["search"].append(done - typed)
            times["search_after_pause"].append(done - seen[f"search:{phone}"])
            await self.back_home()
        return times


async def _drive(url: str, username: str, samples: int, phones: list[str]) -> dict[str, Any]:
    """Cursor moves, detail opens and phone searches; the first of each warms up, uncounted."""
    from textual.widgets import DataTable

    from leadms_tui.app import LeadMSApp
    from leadms_tui.bootstrap import open_database
    from leadms_tui.domain.team.users import get_user

    seen: dict[str, float] = {}
    _observe(seen)
    database = open_database(url)
    with database.reading() as session:
        user = get_user(session, username)
    app = LeadMSApp(database, signed_in=user)
    session = _Session(app, seen)
    async with app.run_test(size=(120, 40)):
        await _until(lambda: "day" in seen)
        await _workers_done(app)
        tables = list(app.screen.query(DataTable))
        biggest = max(tables, key=lambda t: t.row_count)
        biggest.focus()
        await _painted_async(app)
        followups = app.screen.query_one("#followups", DataTable)  # leads with call histories
        timings: dict[str, Any] = {
            "rows": {t.id: t.row_count for t in tables},
            "cursor": await session.cursor_moves(biggest, samples + 1),
            "detail": await session.detail_opens(
                followups if followups.row_count else biggest, samples + 1
            ),
            **await session.searches(phones[: samples + 1]),
        }
    database.dispose()
    return {key: value[1:] if isinstance(value, list) else value for key, value in timings.items()}


def pilot(url: str, username: str, now: str, samples: str, phones: str, out: str) -> None:
    _freeze_clock(now)
    timings = asyncio.run(_drive(url, username, int(samples), phones.split(",")))
    Path(out).write_text(json.dumps({**timings, "rss_kib": peak_rss_kib()}))


def bare_push(samples: str, out: str) -> None:
    """The baseline of "open lead detail": a bare Textual app pushes a screen like the detail.

    Header, a text panel, two tables of 20 rows, Footer: composed, mounted and painted, no
    database. Timed as the detail is (from the key until painted), headless, 120x40.
    """
    from textual.app import App, ComposeResult
    from textual.binding import Binding
    from textual.containers import Horizontal, Vertical
    from textual.screen import Screen
    from textual.widgets import DataTable, Footer, Header, Static

    class Detail(Screen[None]):
        BINDINGS = [Binding(key, "app.bell", key.upper()) for key in "cnfmer"]

        def compose(self) -> ComposeResult:
            yield Header()
            with Horizontal():
                yield Static("Lead\n" * 12)
                with Vertical():
                    yield DataTable()
                    yield DataTable()
            yield Footer()

        def on_mount(self) -> None:
            for table in self.query(DataTable):
                table.add_columns("When", "What")
                for row in range(20):
                    table.add_row("Mon 10:00", f"Call {row}: no answer, try again later")

    class Home(App[None]):
        BINDINGS = [Binding("escape", "back", "Back")]

        def compose(self) -> ComposeResult:
            yield Header()
            yield DataTable(cursor_type="row")
            yield Footer()

        def on_mount(self) -> None:
            table = self.query_one(DataTable)
            table.add_columns(*(f"c{i}" for i in range(WIDTH)))
            for row in range(170):
                table.add_row(*(f"cell {row}" for _ in range(WIDTH)))

        def on_data_table_row_selected(self) -> None:  # enter on a row, as in the day view
            self.push_screen(Detail())

        def action_back(self) -> None:
            if len(self.screen_stack) > 1:
                self.pop_screen()

    async def drive() -> list[float]:
        app, times = Home(), []
        async with app.run_test(size=(120, 40)):
            await asyncio.sleep(0.5)
            for _ in range(int(samples) + 1):
                await asyncio.sleep(IDLE)
                started = time.perf_counter()
                _send(app, "enter")
                await _until(lambda: isinstance(app.screen, Detail) and app.screen.is_mounted)
                await _painted_async(app)
                times.append(time.perf_counter() - started)
                _send(app, "escape")
                await _until(lambda: not isinstance(app.screen, Detail))
                await _painted_async(app)
        return times[1:]

    Path(out).write_text(json.dumps(asyncio.run(drive())))


def bare_search(engine: str, dsn: str, statements: str, phones: str, pause: str, out: str) -> None:
    """The baseline of "phone search result": a bare Textual app with a search box and a
    table. Typing waits for the same pause as the lead list, then a thread runs the lead
    list's own statements for that text (captured by `bench.tui`) with the plain driver
    and fills the table with the rows. Timed as the lead list is: last key to painted."""
    import pickle

    from textual import on, work
    from textual.app import App, ComposeResult
    from textual.timer import Timer
    from textual.widgets import DataTable, Footer, Header, Input

    by_text = pickle.loads(Path(statements).read_bytes())
    typing_pause = float(pause)

    class Search(App[None]):
        def __init__(self) -> None:
            super().__init__()
            self.shown: dict[str, float] = {}
            self._typing: Timer | None = None
            self._conn: Any = None

        def compose(self) -> ComposeResult:
            yield Header()
            yield Input()
            yield DataTable(cursor_type="row")
            yield Footer()

        def on_mount(self) -> None:
            self.query_one(DataTable).add_columns(*(f"c{i}" for i in range(WIDTH)))
            self.query_one(Input).focus()

        @on(Input.Changed)
        def _changed(self) -> None:
            if self._typing is not None:
                self._typing.stop()
            self._typing = self.set_timer(typing_pause, self._search)

        def _search(self) -> None:
            self._load(self.query_one(Input).value)

        @work(thread=True, exclusive=True)
        def _load(self, text: str) -> None:
            if self._conn is None:
                if engine == "sqlite":
                    import sqlite3

                    self._conn = sqlite3.connect(dsn, check_same_thread=False)
                else:
                    import psycopg

                    self._conn = psycopg.connect(dsn, autocommit=True)
            rows: list[Any] = []
            for sql, params in by_text.get(text, []):
                rows = list(self._conn.execute(sql, params))
            self.call_from_thread(self._show, text, rows)

        def _show(self, text: str, rows: list[Any]) -> None:
            table = self.query_one(DataTable)
            table.clear()
            for row in rows:
                cells = [str(value) for value in row[:WIDTH]]
                table.add_row(*cells, *([""] * (WIDTH - len(cells))))
            self.shown[text] = time.perf_counter()

    async def drive() -> list[float]:
        app, times = Search(), []
        async with app.run_test(size=(120, 40)):
            await asyncio.sleep(0.5)
            for phone in phones.split(","):
                app.query_one(Input).value = ""
                await asyncio.sleep(typing_pause + IDLE)
                app.shown.clear()
                for char in phone:
                    _send(app, "space" if char == " " else char)
                typed = time.perf_counter()
                await _until(lambda phone=phone: phone in app.shown)
                await _painted_async(app)
                times.append(time.perf_counter() - typed)
        return times[1:]

    Path(out).write_text(json.dumps(asyncio.run(drive())))


if __name__ == "__main__":
    modes = {
        "paint": paint,
        "bare": bare,
        "pilot": pilot,
        "bare-push": bare_push,
        "bare-search": bare_search,
    }
    modes[sys.argv[1]](*sys.argv[2:])
