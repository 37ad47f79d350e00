"""What every screen shares: the app, live reloads, loading (see `loading.py`); and what
every screen that shows leads shares: open, call, new lead, j/k, reload on return."""

import time
from typing import TYPE_CHECKING, ClassVar, cast

from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable

from leadms_tui.domain.live import touches
from leadms_tui.screens.loading import Loads

if TYPE_CHECKING:
    from leadms_tui.app import LeadMSApp


CONFIRM_SECONDS = 5.0  # how long a destructive key's second press counts as "yes"


class WithApp(Loads):
    """Mixin of every Lead MS screen and modal: the app, typed, as `self.leadms`."""

    _asked: tuple[str, float] | None = None  # (what a destructive key asked, when)

    # The tables a screen shows: a write to one of them, by anyone, reloads it (see
    # `LeadMSApp._data_changed`). Screens showing nothing that others change leave it empty.
    LIVE_TABLES: ClassVar[frozenset[str]] = frozenset()

    @property
    def leadms(self) -> "LeadMSApp":
        return cast("LeadMSApp", self.app)  # type: ignore[attr-defined]

    def asked_once(self, what: str, question: str) -> bool:
        """A destructive key that cannot be undone asks once: the first press says what a
        second press does (`question`); the same press again on the same thing (`what`)
        within CONFIRM_SECONDS returns True."""
        now = time.monotonic()
        asked = self._asked
        if asked is not None and asked[0] == what and now - asked[1] <= CONFIRM_SECONDS:
            self._asked = None
            return True
        self._asked = (what, now)
        self.app.notify(question, title="Press again", timeout=CONFIRM_SECONDS)  # type: ignore[attr-defined]
        return False

    def why_not(self, action: str) -> str | None:
        """Why `action` (its key) does nothing here now, said in a toast; None: say nothing."""
        return None

    def data_changed(self, changes: frozenset[str]) -> None:
        """Someone committed a write to `changes` (table names) while this screen is shown."""
        if touches(changes, self.LIVE_TABLES):
            self.reload()

    def reload(self) -> None:
        """Fetch the screen's data again (in a worker), keeping the cursor where it was."""

    def settings_changed(self) -> None:
        """The team settings changed (here or in another terminal) and `leadms.settings` holds
        the new ones: redraw what depends on them (times in the team's timezone, money)."""
        self.reload()


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
        from leadms_tui.screens.call_modal import CallModal

        lead = self.current_lead()
        if lead is not None:
            self.app.push_screen(CallModal(*lead), lambda _saved: self.reload())

    def action_open_lead(self) -> None:
        from leadms_tui.screens.lead_detail import LeadDetailScreen

        lead = self.current_lead()
        if lead is not None:
            self.app.push_screen(LeadDetailScreen(lead[0]))

    def current_followup(self) -> object | None:
        """The follow-up under the cursor, when the screen lists follow-ups."""
        return None

    def action_followup(self) -> None:
        from leadms_tui.screens.followup_modal import FollowUpModal

        lead = self.current_lead()
        if lead is not None:
            modal = FollowUpModal(*lead, existing=self.current_followup())  # type: ignore[arg-type]
            self.app.push_screen(modal, lambda _saved: self.reload())

    def action_meeting(self) -> None:
        from leadms_tui.screens.meeting_modal import MeetingModal

        lead = self.current_lead()
        if lead is not None:
            self.app.push_screen(MeetingModal(*lead), lambda _saved: self.reload())

    def action_convert(self) -> None:
        from leadms_tui.screens.convert_modal import ConvertModal, conversion_summary

        def converted(conversion: object) -> None:
            if conversion is not None:
                self.app.notify(conversion_summary(conversion))  # type: ignore[arg-type]
            self.reload()

        lead = self.current_lead()
        if lead is not None:
            self.app.push_screen(ConvertModal(*lead), converted)

    def action_assign(self) -> None:
        from leadms_tui.screens.assign_modal import AssignModal

        def assigned(summary: str | None) -> None:
            if summary is not None:
                self.app.notify(summary, title="Assigned")
            self.reload()

        lead = self.current_lead()
        if lead is not None:
            self.app.push_screen(AssignModal(*lead), assigned)

    def action_new_lead(self) -> None:
        from leadms_tui.screens.new_lead import NewLeadModal

        self.app.push_screen(NewLeadModal(), lambda _created: self.reload())

    def action_cursor_down(self) -> None:
        if isinstance(self.focused, DataTable):
            self.focused.action_cursor_down()

    def action_cursor_up(self) -> None:
        if isinstance(self.focused, DataTable):
            self.focused.action_cursor_up()
