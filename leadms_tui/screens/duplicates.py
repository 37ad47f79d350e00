"""`D`: the managers' duplicates: pairs of leads that are probably one person, best first, with
the reasons and score; `x` says "two people" (remembered), `m` or enter opens the merge."""

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Header, Label, Static

from leadms_tui import formatting
from leadms_tui.domain.people.duplicates import DuplicateRow, PairLead, dismiss_pair, duplicate_page
from leadms_tui.domain.people.merge import MergeResult
from leadms_tui.screens import goto
from leadms_tui.screens.with_app import WithApp
from leadms_tui.widgets.key_footer import KeyFooter
from leadms_tui.widgets.text_table import LEAD_NUMBER_WIDTH, Col, TextTable, fit

PAGE_SIZE = 50
LOAD_MORE_WITHIN = 5  # rows from the bottom at which the next page is fetched

COLUMNS = (
    Col("Score", 5),
    fit("Lead", LEAD_NUMBER_WIDTH),
    Col("Name", 16, floor=8),
    fit("Same person as?", LEAD_NUMBER_WIDTH, drop=2),
    Col("Name", 16, floor=8, drop=1),
    Col("Why", 40, floor=10, drop=3),
)


def _side(lead: PairLead) -> Text:
    phone = formatting.phone(lead.phone) if lead.phone else "no phone"
    return Text.assemble(
        (lead.number, "bold"), "  ", formatting.shown(lead.name), "\n  ",
        formatting.shown(phone), " · ", formatting.shown(lead.email or "no email"),
    )  # fmt: skip


class DuplicatesScreen(WithApp, Screen[None]):
    HELP_NAME = "Duplicates"
    LIVE_TABLES = frozenset({"leads", "duplicate_dismissals", "lead_merges"})
    DEFAULT_CSS = """
    DuplicatesScreen #duplicates-title { height: 1; padding: 0 1; background: $boost;
        width: 100%; text-style: bold; }
    DuplicatesScreen #pairs { height: 1fr; }
    DuplicatesScreen #pair { height: auto; padding: 0 1; border-top: solid $panel; }
    DuplicatesScreen #pairs-count { padding: 0 1; color: $text-muted; }
    """
    BINDINGS = [
        Binding("m", "merge", "Merge…", id="duplicates.merge"),
        Binding("enter", "merge", "Merge…", show=False, id="duplicates.open"),
        Binding("x", "dismiss_pair", "Not the same", id="duplicates.dismiss"),
        Binding("r", "reload", "Refresh", id="duplicates.refresh"),
        Binding("j", "cursor_down", "Down", show=False, id="nav.down"),
        Binding("k", "cursor_up", "Up", show=False, id="nav.up"),
        Binding("escape", "back", "Back", id="duplicates.back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._rows: dict[str, DuplicateRow] = {}
        self._more = False
        self._loading_more = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield Label(
            "Likely duplicates, best first: m merges the pair, x says they are two people",
            id="duplicates-title",
        )
        table = TextTable(id="pairs", cursor_type="row", zebra_stripes=True)
        table.set_columns(COLUMNS)
        yield table
        yield Static("", id="pair")
        yield Label("Looking for duplicates…", id="pairs-count", markup=False)
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#pairs", DataTable).focus()  # the resume that follows loads

    def on_screen_resume(self) -> None:
        self.reload()

    # --- loading -------------------------------------------------------------------

    def reload(self) -> None:
        self._fetch(0, max(PAGE_SIZE, len(self._rows)))

    def action_reload(self) -> None:
        self.reload()

    def _fetch(self, offset: int, limit: int) -> None:
        viewer = self.signed_in.actor
        self.load(
            lambda session: duplicate_page(session, viewer=viewer, offset=offset, limit=limit),
            lambda found: self._show(found[0], found[1], offset),
            group="duplicates" if offset == 0 else "duplicates-more",
            description="Looking for duplicates",
        )  # fmt: skip

    def _show(self, rows: list[DuplicateRow], more: bool, offset: int) -> None:
        table = self.query_one("#pairs", TextTable)
        if offset == 0:
            self._rows = {}
        lines = []
        for row in rows:
            pair = row.pair
            key = f"{pair.first_id}-{pair.second_id}"
            self._rows[key] = row
            cells = (
                Text(f"{pair.score:.0%}", justify="right"),
                row.first.number,
                row.first.name,
                row.second.number,
                row.second.name,
                "; ".join(pair.reasons),
            )
            lines.append((key, cells))
        if offset == 0:
            table.refill(lines)
        else:
            for key, cells in lines:
                table.add_row(*cells, key=key)
        self._more, self._loading_more = more, False
        shown = len(self._rows)
        self.query_one("#pairs-count", Label).update(
            f"{shown} pair{'s' if shown != 1 else ''}"
            + (" · more below (keep scrolling)" if more else "")
            if shown
            else "No likely duplicates"
        )
        self._show_pair()
        self.refresh_bindings()

    @on(DataTable.RowHighlighted, "#pairs")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_pair()
        if (
            self._more
            and not self._loading_more
            and event.cursor_row >= event.data_table.row_count - LOAD_MORE_WITHIN
        ):
            self._loading_more = True
            self._fetch(len(self._rows), PAGE_SIZE)
        self.refresh_bindings()

    def _show_pair(self) -> None:
        row = self._current()
        pane = self.query_one("#pair", Static)
        if row is None:
            pane.update("")
            return
        why = formatting.shown("; ".join(row.pair.reasons))
        score = (f"{row.pair.score:.0%}", "bold")
        sides = Text("\n").join([_side(row.first), _side(row.second)])
        pane.update(Text.assemble(sides, "\n", score, " · ", why))

    def _current(self) -> DuplicateRow | None:
        table = next(self.query("#pairs").results(TextTable), None)  # none while closing
        key = table.key_at_cursor() if table is not None else None
        return self._rows.get(key or "")

    # --- keys ----------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("merge", "dismiss_pair"):
            return self._current() is not None or None
        if action == "back":
            return len(self.app.screen_stack) > 2
        return True

    def why_not(self, action: str) -> str | None:
        if action in ("merge", "dismiss_pair"):
            return "No pair under the cursor"
        return None

    @on(DataTable.RowSelected, "#pairs")
    def _selected(self) -> None:
        self.action_merge()

    def action_merge(self) -> None:
        row = self._current()
        if row is None:
            return

        def merged(result: MergeResult | None) -> None:
            if result is not None:  # the toast says its merge id; the list reloads on resume
                self.query_one("#pairs-count", Label).update(
                    f"Merged {result.merged} into {result.survivor} (merge {result.merge_id})"
                )

        self.go(goto.OpenMerge(row.first.number, row.second.number, then=merged))

    def action_dismiss_pair(self) -> None:
        row = self._current()
        if row is None:
            return
        first, second, actor = row.first.number, row.second.number, self.signed_in.actor
        self.commit(
            lambda s: dismiss_pair(s, first, second, actor=actor),
            lambda _none: self._dismissed(first, second),
            group="duplicates-dismiss", description="Remembering the pair",
        )  # fmt: skip

    def _dismissed(self, first: str, second: str) -> None:
        self.leadms.notify(f"{first} and {second}: two people, not proposed again")
        self.reload()

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 2:
            self.app.pop_screen()

    def action_cursor_down(self) -> None:
        self.query_one("#pairs", DataTable).action_cursor_down()

    def action_cursor_up(self) -> None:
        self.query_one("#pairs", DataTable).action_cursor_up()
