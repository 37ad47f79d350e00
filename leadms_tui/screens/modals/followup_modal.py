"""`f`: book a follow-up on a lead, or on a follow-up row: done, skip, reschedule, reassign."""

from datetime import datetime, time, timedelta

from sqlmodel import Session
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from leadms_tui import formatting
from leadms_tui.domain import clock
from leadms_tui.domain.errors import ValidationError
from leadms_tui.domain.models import FollowUpState, Role
from leadms_tui.domain.queries.dayview import FollowUpRow
from leadms_tui.domain.text import visible
from leadms_tui.domain.work.followups import add_followup, change_followup
from leadms_tui.screens.with_app import WithApp
from leadms_tui.widgets.key_footer import KeyFooter
from leadms_tui.widgets.when_field import WhenField


class FollowUpModal(WithApp, ModalScreen[bool]):
    HELP_NAME = "Follow-up"
    DEFAULT_CSS = """
    FollowUpModal { align: center middle; }
    FollowUpModal > Vertical { width: 64; max-width: 100%;
        height: auto; max-height: 100%;
        border: round $accent; background: $surface; padding: 0 1; }
    FollowUpModal .hint { color: $text-muted; }
    FollowUpModal #followup-status { width: 100%; color: $error; height: auto; }
    """
    BINDINGS = [
        Binding(
            "ctrl+s", "save", "Save", key_display="^s/enter", id="followup.save", priority=True
        ),
        Binding("ctrl+d", "finish('done')", "Done", id="followup.done", priority=True),
        Binding("ctrl+k", "finish('skipped')", "Skip", id="followup.skip", priority=True),
        Binding("escape", "cancel", "Cancel", id="followup.cancel"),
    ]

    def __init__(self, lead_id: int, label: str, existing: FollowUpRow | None = None) -> None:
        super().__init__()
        self.lead_id = lead_id
        self.label = label
        self.existing = existing

    def compose(self) -> ComposeResult:
        tz = self.signed_in.settings.timezone
        if self.existing is not None:
            # the day view's Tries column counts calls so far: the title says the same number
            # ("#3" there read as a third try where Tries said 2)
            title = visible(f"Follow-up: {self.existing.reason} ({tries(self.existing.attempts)})")
            due = self.existing.due_at
        else:
            title = "New follow-up"
            tomorrow = clock.business_date(clock.now(), tz) + timedelta(days=1)
            due = datetime.combine(
                tomorrow, time(10, 0), tzinfo=formatting.local(clock.now(), tz).tzinfo
            )
        with Vertical():
            yield Label(formatting.titled(title, self.label))
            yield Label("", id="followup-status", markup=False)  # errors under the title
            yield Label(
                f"Due ({formatting.example_date(2)} 10:00, tomorrow 15:00, +2d, mon 10:00, 15:00)",
                classes="hint",
            )
            yield WhenField(formatting.format_local_datetime(due, tz), timezone=tz, input_id="due")
            if self.existing is None:
                yield Label("Reason", classes="hint")
                yield Input(placeholder="e.g. Send the price list, then call", id="reason")
            elif self.signed_in.user.role != Role.REP:
                yield Label("Owner (username; managers only)", classes="hint")
                yield Input(self.existing.owner or "", id="owner")
        yield KeyFooter()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "finish":
            return self.existing is not None
        return True

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_save()  # enter saves, as ctrl+s does

    def action_save(self) -> None:
        try:
            due = self.query_one(WhenField).moment()
        except ValidationError as exc:
            self.query_one("#followup-status", Label).update(str(exc))
            return
        owner = None
        if self.existing is not None and self.query("#owner"):
            typed = self.query_one("#owner", Input).value.strip()
            owner = typed if typed and typed != (self.existing.owner or "") else None
        reason = self.query_one("#reason", Input).value if self.existing is None else ""
        self._save(due, reason, owner, None)

    def action_finish(self, state: str) -> None:
        self._save(None, "", None, FollowUpState(state))

    def _save(
        self, due: datetime | None, reason: str, owner: str | None, state: FollowUpState | None
    ) -> None:
        actor = self.signed_in.actor
        existing = self.existing

        def save(session: Session) -> object:
            if existing is None:
                assert due is not None  # the field takes no empty time: only finishing has none
                return add_followup(session, self.lead_id, due_at=due, reason=reason, actor=actor)
            changed_due = due if due and due != existing.due_at else None
            return change_followup(
                session,
                existing.id,
                actor=actor,
                expected_version=existing.version,
                state=state,
                due_at=changed_due,
                owner_username=owner,
            )

        self.commit(
            save, lambda _: self._saved(state),
            group="followup", description="Saving the follow-up",
            failed=lambda exc: self.query_one("#followup-status", Label).update(str(exc)),
        )  # fmt: skip

    def _saved(self, state: FollowUpState | None) -> None:
        self.app.notify(f"Follow-up {state.value if state else 'saved'}: {self.label}")
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)


def tries(calls: int) -> str:
    """How many calls the lead has had, as the Tries column counts them."""
    if calls == 0:
        return "no tries yet"
    return f"{calls} {'try' if calls == 1 else 'tries'} so far"
