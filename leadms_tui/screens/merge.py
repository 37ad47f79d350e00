"""The side-by-side merge of two leads (from the duplicates screen): field by field, the
values that differ marked; `s` swaps which lead survives, `h`/`l` (or ←/→) take the left or
right value of the field under the cursor; a dry run says what would move; `M` merges."""

from typing import Literal

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Header, Label, Static

from leadms_tui import formatting
from leadms_tui.domain.errors import LeadMSError
from leadms_tui.domain.people.merge import KEEP, OTHER, MergeResult, merge_leads
from leadms_tui.domain.people.merge_preview import MergePreview, MergeRow, merge_preview
from leadms_tui.screens.with_app import WithApp
from leadms_tui.widgets.key_footer import KeyFooter
from leadms_tui.widgets.text_table import Col, TextTable

Side = Literal["first", "second"]
CHOSEN, DROPPED, DIFFERS = "bold green", "dim strike", "bold yellow"


class MergeScreen(WithApp, Screen[MergeResult | None]):
    HELP_NAME = "Merge two leads"
    DEFAULT_CSS = """
    MergeScreen #merge-title { height: 1; padding: 0 1; background: $boost; width: 100%;
        text-style: bold; }
    MergeScreen #merge-fields { height: 1fr; }
    MergeScreen #merge-dry-run { height: auto; padding: 0 1; border-top: solid $panel; }
    MergeScreen #merge-status { height: auto; padding: 0 1; color: $error; }
    """
    BINDINGS = [
        Binding("M,ctrl+enter", "merge", "Merge now", key_display="M", id="merge.merge"),
        Binding("s", "swap", "Swap survivor", id="merge.swap"),
        Binding("left,h", "pick('first')", "Take left", key_display="h", priority=True,
                id="merge.left"),
        Binding("right,l", "pick('second')", "Take right", key_display="l", priority=True,
                id="merge.right"),
        Binding("j", "cursor_down", "Down", show=False, id="nav.down"),
        Binding("k", "cursor_up", "Up", show=False, id="nav.up"),
        Binding("escape", "back", "Back", id="merge.back"),
    ]  # fmt: skip

    def __init__(self, first_number: str, second_number: str) -> None:
        super().__init__()
        self._numbers = (first_number, second_number)
        self._preview: MergePreview | None = None
        self._survivor: Side = "first"
        self._picks: dict[str, Side] = {}  # field key → the side whose value stays, if chosen
        self._dry_run: MergeResult | None = None
        self._generation = 0  # a dry run for an older choice is dropped
        self._merging = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield Label(f"Merge {self._numbers[0]} and {self._numbers[1]}", id="merge-title")
        yield TextTable(id="merge-fields", cursor_type="row")
        yield Static("Reading the two leads…", id="merge-dry-run")
        yield Label("", id="merge-status", markup=False)
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#merge-fields", DataTable).focus()
        first, second, viewer = *self._numbers, self.signed_in.actor
        zone = self.signed_in.settings.timezone
        self.load(
            lambda session: merge_preview(session, first, second, viewer=viewer, timezone=zone),
            self._loaded,
            group="merge-preview", description="Reading the two leads", refused=self._refused,
        )  # fmt: skip

    def _loaded(self, preview: MergePreview) -> None:
        self._preview = preview
        self._survivor = "first" if preview.survivor == preview.first.number else "second"
        self._redraw()

    # --- what the choices mean ----------------------------------------------------------

    def _other(self, side: Side) -> Side:
        return "second" if side == "first" else "first"

    def _value(self, row: MergeRow, side: Side) -> str:
        return row.first if side == "first" else row.second

    def _stays(self, row: MergeRow) -> Side | None:
        """Whose value the merged lead has for `row`; None: not a choice (shown only)."""
        if row.key is None or not (row.first or row.second):
            return None
        chosen = self._picks.get(row.key)
        if chosen is not None and self._value(row, chosen):
            return chosen
        survivor = self._survivor
        return survivor if self._value(row, survivor) else self._other(survivor)

    def _choices(self) -> tuple[dict[str, str], frozenset[str]]:
        """merge_leads' `picks` (lead fields) and `take` (name, phone, email)."""
        picks: dict[str, str] = {}
        take: set[str] = set()
        for row in self._preview.rows if self._preview else ():
            stays = self._stays(row)
            if stays is None or row.key is None:
                continue
            from_other = stays != self._survivor
            if row.core and from_other:
                take.add(row.key)
            elif not row.core and row.conflict:
                picks[row.key] = OTHER if from_other else KEEP
        return picks, frozenset(take)

    def _keep_other(self) -> tuple[str, str]:
        preview = self._preview
        assert preview is not None
        sides = {"first": preview.first.number, "second": preview.second.number}
        return sides[self._survivor], sides[self._other(self._survivor)]

    # --- drawing ---------------------------------------------------------------------

    def _redraw(self) -> None:
        preview = self._preview
        if preview is None:
            return
        table = self.query_one("#merge-fields", TextTable)

        def heading(side: Side, number: str, client: bool) -> str:
            mark = " ★ survives" if side == self._survivor else " (merged in)"
            return number + (" · client" if client else "") + mark

        table.set_columns(
            (
                Col("Field", 12, floor=8),
                Col(heading("first", preview.first.number, preview.first.client), 32, floor=14),
                Col(heading("second", preview.second.number, preview.second.client), 32, floor=14),
            )
        )
        lines = []
        for index, row in enumerate(preview.rows):
            stays = self._stays(row)
            mark, style = ("≠ ", DIFFERS) if row.conflict else ("  ", "")
            label = Text(mark + row.label, style=style)

            def cell(side: Side, row: MergeRow = row, stays: Side | None = stays) -> Text:
                value = self._value(row, side)
                if row.key == "phone" and value:
                    value = formatting.phone(value)
                if stays is None or not value:
                    return formatting.shown(value or "—", "dim" if not value else "")
                if side == stays:
                    return formatting.shown(f"● {value}", CHOSEN)
                return formatting.shown(value, DROPPED)

            lines.append((str(index), (label, cell("first"), cell("second"))))
        table.refill(lines)
        self._run_dry_run()
        self.refresh_bindings()

    def _run_dry_run(self) -> None:
        self._generation += 1
        generation, actor = self._generation, self.signed_in.actor
        keep, other = self._keep_other()
        picks, take = self._choices()
        self._dry_run = None
        self.query_one("#merge-dry-run", Static).update("Dry run…")
        self.commit(
            lambda s: merge_leads(s, keep, other, actor=actor, dry_run=True, picks=picks,
                                  take=take),
            lambda result: self._show_dry_run(result, generation),
            group="merge-dry-run", description="Trying the merge (nothing written)",
            refused=lambda error: self._refused(error, generation),
        )  # fmt: skip

    def _show_dry_run(self, result: MergeResult, generation: int) -> None:
        if generation != self._generation:
            return
        self._dry_run = result
        self.query_one("#merge-status", Label).update("")
        moved = ", ".join(
            f"{count} {table.replace('_', ' ')}" for table, count in sorted(result.moved.items())
        )
        lines = [
            Text.assemble(
                ("Dry run: ", "bold"), f"{result.merged} into {result.survivor} would move ",
                moved or "nothing",
            ),
        ]  # fmt: skip
        took = [*result.taken_core, *result.taken_fields]
        if took:
            lines.append(Text(f"from {result.merged}: {', '.join(took)}"))
        if result.kept_fields:
            lines.append(Text(f"kept from {result.survivor}: {', '.join(result.kept_fields)}"))
        lines += [Text(note) for note in result.notes]
        self.query_one("#merge-dry-run", Static).update(Text("\n").join(lines))
        self.refresh_bindings()

    def _refused(self, error: LeadMSError, generation: int | None = None) -> None:
        if generation is not None and generation != self._generation:
            return
        self._merging = False
        if generation is not None or self._preview is None:
            self.query_one("#merge-dry-run", Static).update("")
        self.query_one("#merge-status", Label).update(formatting.shown(f"Cannot merge: {error}"))
        self.refresh_bindings()

    # --- keys ------------------------------------------------------------------------

    def _current(self) -> MergeRow | None:
        tables = self.query("#merge-fields").results(TextTable)  # none while closing
        table = next(tables, None)
        if self._preview is None or table is None:
            return None
        key = table.key_at_cursor()
        return self._preview.rows[int(key)] if key is not None else None

    @on(DataTable.RowHighlighted, "#merge-fields")
    def _moved(self) -> None:
        self.refresh_bindings()  # h / l apply to some rows only

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "pick":
            row = self._current()
            side = parameters[0] if parameters else None
            if row is None or self._stays(row) is None or side not in ("first", "second"):
                return None
            return bool(row.first if side == "first" else row.second) or None
        if action == "swap":
            return self._preview is not None or None
        if action == "merge":
            return (self._dry_run is not None and not self._merging) or None
        return True

    def why_not(self, action: str) -> str | None:
        if action == "pick":
            return "Only a name, phone, email or lead field with a value there is picked"
        if action == "merge":
            return "The dry run has not passed: see why above the keys"
        return None

    def action_swap(self) -> None:
        if self._preview is not None:
            self._survivor = self._other(self._survivor)
            self._redraw()

    def action_pick(self, side: Side) -> None:
        row = self._current()
        if row is not None and row.key is not None and self._value(row, side):
            self._picks[row.key] = side
            self._redraw()

    def action_merge(self) -> None:
        if self._dry_run is None or self._merging:
            return
        self._merging = True
        self.refresh_bindings()
        keep, other = self._keep_other()
        picks, take = self._choices()
        actor = self.signed_in.actor
        self.commit(
            lambda s: merge_leads(s, keep, other, actor=actor, picks=picks, take=take),
            self._merged, group="merge", description="Merging the two leads",
            refused=self._refused,
        )  # fmt: skip

    def _merged(self, result: MergeResult) -> None:
        self.leadms.notify(
            f"{result.merged} merged into {result.survivor}: merge {result.merge_id} "
            f"(undo: leadms people unmerge {result.merge_id})",
            title="Merged",
        )
        self.dismiss(result)

    def action_back(self) -> None:
        self.dismiss(None)

    def action_cursor_down(self) -> None:
        self.query_one("#merge-fields", DataTable).action_cursor_down()

    def action_cursor_up(self) -> None:
        self.query_one("#merge-fields", DataTable).action_cursor_up()
