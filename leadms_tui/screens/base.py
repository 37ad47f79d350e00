"""What every screen that shows leads shares: open, call, new lead, j/k, reload on return."""

from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable

from leadms_tui.domain.queries.dayview import FollowUpRow
from leadms_tui.domain.sales.conversion import Conversion
from leadms_tui.screens import goto
from leadms_tui.screens.modals.convert_modal import conversion_summary
from leadms_tui.screens.with_app import WithApp

LEAD_ACTIONS = frozenset({"log_call", "open_lead", "followup", "meeting", "convert", "assign"})


class LeadScreen(WithApp, Screen[None]):
    """A screen with a "current lead" (the row under the cursor, or the lead shown)."""

    BINDINGS = [
        Binding("c", "log_call", "Log call", id="lead.call"),
        Binding("n", "new_lead", "New lead", id="lead.new"),
        Binding("f", "followup", "Follow-up", id="lead.followup"),
        Binding("m", "meeting", "Meeting", id="lead.meeting"),
        Binding("v", "convert", "Convert", id="lead.convert"),
        # out of the footer (managers use it, reps only look): in the help screen and the palette
        Binding("a", "assign", "Assign", show=False, id="lead.assign"),
        Binding("j", "cursor_down", "Down", show=False, id="nav.down"),
        Binding("k", "cursor_up", "Up", show=False, id="nav.up"),
        Binding("escape", "back", "Back", id="nav.back"),
    ]

    def current_lead(self) -> tuple[int, str] | None:
        """(lead id, "LEAD-… Name") of the lead an action applies to, if any."""
        return None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in LEAD_ACTIONS:
            return self.current_lead() is not None or None  # None: shown greyed out
        if action == "back":
            stack = self.app.screen_stack  # [Textual's default screen, the day view (home), ...]
            return self in stack and stack.index(self) > 1  # also while a screen is on top
        return True

    def why_not(self, action: str) -> str | None:
        if action in LEAD_ACTIONS:
            return "No lead under the cursor: move to a row with a lead (j/k, tab)"
        return None

    def on_screen_resume(self) -> None:
        self.reload()

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 2:
            self.app.pop_screen()

    def action_log_call(self) -> None:
        lead = self.current_lead()
        if lead is not None:
            self.go(goto.LogCall(*lead, then=lambda _saved: self.reload()))

    def action_open_lead(self) -> None:
        lead = self.current_lead()
        if lead is not None:
            self.go(goto.OpenLead(lead[0]))

    def current_followup(self) -> FollowUpRow | None:
        """The follow-up under the cursor, when the screen lists follow-ups."""
        return None

    def action_followup(self) -> None:
        lead = self.current_lead()
        if lead is not None:
            existing = self.current_followup()
            self.go(goto.FollowUp(*lead, existing, then=lambda _saved: self.reload()))

    def action_meeting(self) -> None:
        lead = self.current_lead()
        if lead is not None:
            self.go(goto.BookMeeting(*lead, then=lambda _saved: self.reload()))

    def action_convert(self) -> None:
        def converted(conversion: Conversion | None) -> None:
            if conversion is not None:
                self.app.notify(conversion_summary(conversion))
            self.reload()

        lead = self.current_lead()
        if lead is not None:
            self.go(goto.Convert(*lead, then=converted))

    def action_assign(self) -> None:
        def assigned(summary: str | None) -> None:
            if summary is not None:
                self.app.notify(summary, title="Assigned")
            self.reload()

        lead = self.current_lead()
        if lead is not None:
            self.go(goto.Assign(*lead, then=assigned))

    def action_new_lead(self) -> None:
        self.go(goto.NewLead(then=lambda _created: self.reload()))

    def action_cursor_down(self) -> None:
        if isinstance(self.focused, DataTable):
            self.focused.action_cursor_down()

    def action_cursor_up(self) -> None:
        if isinstance(self.focused, DataTable):
            self.focused.action_cursor_up()
