"""`a`: who should take a lead, ranked and explained signal by signal; a manager assigns one."""

from rich.text import Text
from sqlmodel import Session
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label, Static

from leadms_tui import formatting
from leadms_tui.domain.models import Role
from leadms_tui.domain.queries.lead_detail import lead_owner
from leadms_tui.domain.team.assignment import Candidate, Signal, Suggestions, assign_lead, suggest
from leadms_tui.screens.with_app import WithApp
from leadms_tui.widgets.key_footer import KeyFooter
from leadms_tui.widgets.text_table import TextTable

BAR_CELLS = 20  # a contribution of 1.0 (one signal carrying the whole score) fills 20 cells
ONLY_MANAGERS = "Only a manager or an admin assigns leads"
# How a signal reads in a reason, from a high value to a low one (high is better for the lead).
WORDS = {
    "workload": ("has room", "some room", "busy"),
    "performance": ("strong record", "steady record", "weak record"),
    "fit": ("good fit", "partial fit", "poor fit"),
    "fairness": ("due a lead", "fair share", "had many today"),
}


def in_words(signal: Signal) -> str:
    """ "good fit", "has room": a signal's value as a person would say it."""
    words = WORDS.get(signal.name)
    if words is None:
        return signal.name
    return words[0 if signal.value >= 2 / 3 else 1 if signal.value >= 1 / 3 else 2]


def reason(candidate: Candidate) -> str:
    """The two signals that weigh most in a rep's score, in words."""
    strongest = sorted(candidate.signals, key=lambda s: -s.contribution)[:2]
    words = [in_words(s) for s in strongest]
    if candidate.sticky:
        words.insert(0, "had their earlier lead")
    return ", ".join(words)


def signal_lines(signal: Signal) -> Text:
    """ "workload    0.80 x 0.35 = 0.28 ██████" and, under it, the signal's why."""
    bar = "█" * round(min(signal.contribution, 1.0) * BAR_CELLS)
    numbers = f"{signal.value:.2f} x {signal.weight:.2f} = {signal.contribution:.2f}"
    return Text.assemble(
        f"{signal.name:<12}{numbers} ",
        (bar, "bold"),
        "\n  ",
        formatting.shown(signal.why, style="dim"),
    )


class AssignModal(WithApp, ModalScreen[str | None]):
    """Dismisses with the toast for the calling screen ("LEAD-… assigned to bruno")."""

    HELP_NAME = "Assign a lead"
    DEFAULT_CSS = """
    AssignModal { align: center middle; }
    AssignModal > Vertical { width: 84; max-width: 100%;
        height: auto; max-height: 100%; border: round $accent;
        background: $surface; padding: 0 1; }
    AssignModal .hint { color: $text-muted; }
    AssignModal #assign-reps { height: auto; max-height: 8; }
    AssignModal #assign-detail { height: auto; margin-top: 1; }
    AssignModal #assign-status { width: 100%; height: auto; color: $warning; display: none; }
    """
    BINDINGS = [
        # priority: the table's own enter (select the row) would come first otherwise
        Binding("enter", "assign", "Assign", priority=True, id="assign.assign"),
        Binding("j", "cursor_down", "Down", show=False, id="nav.down"),
        Binding("k", "cursor_up", "Up", show=False, id="nav.up"),
        Binding("escape", "cancel", "Close", id="assign.close"),
    ]

    def __init__(self, lead_id: int, label: str) -> None:
        super().__init__()
        self.lead_id = lead_id
        self.label = label
        self.suggestions: Suggestions | None = None
        self._candidates: dict[str, Candidate] = {}  # row key (username) -> a ranked rep
        self._excluded: dict[str, str] = {}  # row key (username) -> why the rules exclude them
        self._confirming: str | None = None  # an excluded rep, after the first enter
        self._assigning = False

    @property
    def may_assign(self) -> bool:
        return self.signed_in.user.role in (Role.MANAGER, Role.ADMIN)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(formatting.titled("Assign", self.label))
            yield Label("Ranking the reps…", id="assign-about", classes="hint")
            if not self.may_assign:
                yield Label(f"{ONLY_MANAGERS}: these are the suggestions they see", classes="hint")
            table = TextTable(id="assign-reps", cursor_type="row", zebra_stripes=True)
            for label, width in (("#", 2), ("Rep", 14), ("Score", 5), ("Why", 44)):
                table.add_column(label, width=width)
            yield table
            # the confirmation under the table: the detail below may be cut on small terminals
            yield Label("", id="assign-status", markup=False)
            yield Static("", id="assign-detail")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#assign-reps", DataTable).focus()
        self._load()

    # --- the suggestions ---------------------------------------------------------

    def _load(self) -> None:
        def query(session: Session) -> tuple[Suggestions, str | None]:
            suggestions = suggest(session, self.lead_id)
            _owner_id, owner = lead_owner(session=session, lead_id=self.lead_id)
            return suggestions, owner

        self.load(
            query, self._show, group="assign-load", description="Ranking the reps",
            refused=lambda exc: self._refused(str(exc)),  # the lead was deleted meanwhile
        )  # fmt: skip

    def _show(self, loaded: tuple[Suggestions, str | None]) -> None:
        found, owner_name = loaded
        self.suggestions = found
        language = found.language or "not detected"
        owner = formatting.shown(owner_name) if owner_name else Text("unassigned")
        self.query_one("#assign-about", Label).update(
            Text.assemble(f"Language: {language}  ·  Owner: ", owner)
        )
        table = self.query_one("#assign-reps", DataTable)
        table.clear()
        self._candidates = {c.username: c for c in found.ranked}
        self._excluded = dict(found.excluded)
        for rank, candidate in enumerate(found.ranked, start=1):
            table.add_row(
                str(rank),
                candidate.username,
                f"{candidate.score:.0%}",
                ("owns it now, " if candidate.username == owner_name else "") + reason(candidate),
                key=candidate.username,
            )
        for username, why in found.excluded:
            table.add_row(
                *(Text(cell, style="dim") for cell in ("—", username, "—", why)), key=username
            )
        self._show_detail()
        self.refresh_bindings()

    def _current(self) -> str | None:
        """The username of the row under the cursor."""
        table = self.query_one("#assign-reps", DataTable)
        if not table.row_count:
            return None
        return table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value

    @on(DataTable.RowHighlighted)
    def _highlighted(self) -> None:
        if self._confirming is not None and self._confirming != self._current():
            self._confirming = None
            self._say("")
        self._show_detail()
        self.refresh_bindings()

    def _show_detail(self) -> None:
        detail = self.query_one("#assign-detail", Static)
        username = self._current()
        if username is None:
            detail.update("No active reps to suggest" if self.suggestions else "")
        elif username in self._candidates:
            candidate = self._candidates[username]
            heading = Text.assemble(
                (username, "bold"),
                f"  {candidate.score:.0%}",
                "  (had the person's earlier lead: first)" if candidate.sticky else "",
            )
            lines = [signal_lines(s) for s in candidate.signals]
            detail.update(Text("\n").join([heading, *lines]))
        else:
            why = self._excluded.get(username, "")
            after = "; enter assigns anyway, after a confirmation" if self.may_assign else ""
            detail.update(Text.assemble((username, "bold"), f" is excluded: {why}{after}"))

    # --- assigning ---------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "assign":
            return (not self._assigning and self._current() is not None) or None
        return True

    def action_assign(self) -> None:
        username = self._current()
        if username is None or self._assigning:
            return
        if not self.may_assign:
            self.app.notify(f"{ONLY_MANAGERS}: ask your manager", severity="warning")
            return
        if username in self._excluded and self._confirming != username:
            self._confirming = username
            why = self._excluded[username]
            self._say(f"{username} is {why} — assign anyway? enter confirms")
            return
        self._assigning = True
        self.refresh_bindings()
        self._say(f"Assigning to {username}…")
        self._assign(username)

    def _assign(self, username: str) -> None:
        actor = self.signed_in.actor
        self.commit(
            lambda s: assign_lead(s, self.lead_id, username, actor=actor),
            lambda _: self._assigned(username),
            group="assign", description="Assigning the lead",
            refused=lambda exc: self._refused(str(exc)),
            failed=lambda _error: self._refused("Not assigned"),  # and a toast says why
        )  # fmt: skip

    def _refused(self, reason: str) -> None:
        self._assigning = False
        self._confirming = None
        self.refresh_bindings()
        self._say(reason)

    def _assigned(self, username: str) -> None:
        number = self.suggestions.lead_number if self.suggestions else self.label
        self.dismiss(f"{number} assigned to {username}")

    def _say(self, text: str) -> None:
        """The line under the table: a confirmation asked, a refusal; none when empty."""
        status = self.query_one("#assign-status", Label)
        status.update(formatting.shown(text))
        status.display = bool(text)

    def action_cursor_down(self) -> None:
        self.query_one("#assign-reps", DataTable).action_cursor_down()

    def action_cursor_up(self) -> None:
        self.query_one("#assign-reps", DataTable).action_cursor_up()

    def action_cancel(self) -> None:
        self.dismiss(None)
