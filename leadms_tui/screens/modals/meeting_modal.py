"""`m`: book a meeting or demo (with a clash warning) with its fields; `o` on a meeting: record
its outcome."""

from datetime import datetime, time, timedelta

from sqlmodel import Session
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Select

from leadms_tui import formatting
from leadms_tui.domain import clock
from leadms_tui.domain.errors import LeadMSError, ValidationError
from leadms_tui.domain.fields.definitions import FieldSpec, list_fields
from leadms_tui.domain.fields.values import set_fields
from leadms_tui.domain.models import FieldEntity, MeetingKind, MeetingOutcome
from leadms_tui.domain.team.users import get_user
from leadms_tui.domain.work.meetings import (
    Clash,
    ClashError,
    EarlyOutcomeError,
    record_outcome,
    schedule_meeting,
)
from leadms_tui.screens.modals.edit_fields_modal import checked_fields
from leadms_tui.screens.with_app import WithApp
from leadms_tui.widgets.field_form import FieldForm, FormScroll, Raw
from leadms_tui.widgets.key_footer import KeyFooter
from leadms_tui.widgets.when_field import WhenField


class MeetingModal(WithApp, ModalScreen[bool]):
    HELP_NAME = "Book a meeting"
    DEFAULT_CSS = """
    MeetingModal { align: center middle; }
    MeetingModal > FormScroll { width: 66; max-width: 100%;
        height: auto; max-height: 100%;
        border: round $accent; background: $surface; padding: 0 1; }
    MeetingModal .hint { color: $text-muted; }
    MeetingModal #meeting-status { width: 100%; color: $error; height: auto; }
    MeetingModal #meeting-fields { height: auto; display: none; }
    """
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", key_display="^s/enter", id="meeting.save", priority=True),
        Binding("escape", "cancel", "Cancel", id="meeting.cancel"),
    ]

    def __init__(self, lead_id: int, label: str) -> None:
        super().__init__()
        self.lead_id = lead_id
        self.label = label
        self._clash_seen: tuple[datetime, int] | None = None  # warned of: saving again books

    def compose(self) -> ComposeResult:
        tz = self.signed_in.settings.timezone
        tomorrow = clock.business_date(clock.now(), tz) + timedelta(days=1)
        start = datetime.combine(
            tomorrow, time(11, 0), tzinfo=formatting.local(clock.now(), tz).tzinfo
        )
        with FormScroll():
            yield Label(formatting.titled("Book a meeting", self.label))
            yield Label("", id="meeting-status", markup=False)  # errors under the title
            yield Select(
                [("Meeting", MeetingKind.MEETING.value), ("Demo", MeetingKind.DEMO.value)],
                value=MeetingKind.MEETING.value,
                allow_blank=False,
                id="kind",
            )
            yield Label(
                f"Starts (tomorrow 11:00, fri 15:30, +2d, {formatting.example_date(2)} 11:00)",
                classes="hint",
            )
            yield WhenField(
                formatting.format_local_datetime(start, tz), timezone=tz, input_id="starts"
            )
            yield Label("Minutes", classes="hint")
            yield Input("30", id="duration", type="integer")
            yield Input(placeholder="Place", id="place")
            yield Input(placeholder="Video link", id="video")
            yield Input(placeholder="Notes", id="notes")
            yield Input(
                placeholder="Other reps attending (usernames, comma-separated)", id="attendees"
            )
            yield Vertical(id="meeting-fields")  # the meeting fields, when there are any
        yield KeyFooter()

    def on_mount(self) -> None:
        self._load_fields()

    def _load_fields(self) -> None:
        self.load(
            lambda session: list_fields(session, FieldEntity.MEETING), self._show_fields,
            group="meeting-fields", description="Loading fields",
        )  # fmt: skip

    def _show_fields(self, fields: list[FieldSpec]) -> None:
        if fields:
            settings = self.signed_in.settings
            box = self.query_one("#meeting-fields")
            box.mount(
                FieldForm(
                    fields,
                    currency=settings.currency,
                    timezone=settings.timezone,
                    number_format=settings.numbers,
                )
            )
            box.display = True

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_save()  # enter saves, as ctrl+s does

    def action_save(self) -> None:
        status = self.query_one("#meeting-status", Label)
        try:
            starts = self.query_one(WhenField).moment()
        except ValidationError as exc:
            status.update(str(exc))
            return
        assert starts is not None  # the field takes no empty time
        try:
            duration = int(self.query_one("#duration", Input).value or "0")
        except ValueError:
            status.update("the length is a number of minutes, like 30")
            return
        fields = {
            key: self.query_one(f"#{key}", Input).value
            for key in ("place", "video", "notes", "attendees")
        }
        kind = MeetingKind(str(self.query_one("#kind", Select).value))
        anyway = self._clash_seen == (starts, duration)  # saved again after the warning
        forms = self.query(FieldForm)
        raw = forms.first().raw_values() if forms else {}
        self._save(starts, duration, kind, fields, anyway, raw)

    def _save(
        self,
        starts: datetime,
        duration: int,
        kind: MeetingKind,
        fields: dict[str, str],
        anyway: bool,
        raw: Raw,
    ) -> None:
        actor = self.signed_in.actor
        usernames = [name for name in fields["attendees"].replace(" ", "").split(",") if name]

        def book(session: Session) -> list[Clash]:
            values = checked_fields(session, FieldEntity.MEETING, raw)
            attendees = [get_user(session, name).id for name in usernames]
            meeting, clashes = schedule_meeting(
                session,
                self.lead_id,
                starts_at=starts,
                duration_minutes=duration,
                kind=kind,
                place=fields["place"],
                video_link=fields["video"],
                notes=fields["notes"],
                attendee_ids=attendees,
                refuse_clashes=not anyway,
                actor=actor,
            )
            if values:
                set_fields(session, FieldEntity.MEETING, meeting.id, values, actor=actor)
            return clashes

        def refused(exc: LeadMSError) -> None:
            if isinstance(exc, ClashError):
                self._warn_clash(exc.clashes, (starts, duration))
            else:
                self._refused(str(exc))

        self.commit(
            book, self._saved, group="meeting", description="Booking the meeting",
            refused=refused,
            failed=lambda exc: self.query_one("#meeting-status", Label).update(str(exc)),
        )  # fmt: skip

    def _refused(self, reason: str) -> None:
        rest = reason
        forms = self.query(FieldForm)
        if forms:
            rest = forms.first().show_errors(rest) or "Not booked: see the fields below"
        self.query_one("#meeting-status", Label).update(formatting.shown(rest))

    def _warn_clash(self, clashes: list[Clash], booking: tuple[datetime, int]) -> None:
        """Before anything is booked: the overlap, and how to book anyway."""
        self._clash_seen = booking
        tz = self.signed_in.settings.timezone
        overlaps = ", ".join(
            f"{c.lead_number} at {formatting.hhmm(c.starts_at, tz)}" for c in clashes
        )
        self.query_one("#meeting-status", Label).update(
            f"Clashes with {overlaps}: ctrl+s again books it anyway, or change the time"
        )

    def _saved(self, clashes: list[Clash]) -> None:
        if clashes:
            tz = self.signed_in.settings.timezone
            overlaps = ", ".join(
                f"{c.lead_number} at {formatting.hhmm(c.starts_at, tz)}" for c in clashes
            )
            self.app.notify(
                f"Booked, but it clashes with {overlaps}",
                title="Clash",
                severity="warning",
                timeout=10,
            )
        else:
            self.app.notify(f"Meeting booked: {self.label}")
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)


class MeetingOutcomeModal(WithApp, ModalScreen[bool]):
    HELP_NAME = "Meeting outcome"
    """One key per outcome: h held, n no-show, r rescheduled, x cancelled."""

    DEFAULT_CSS = """
    MeetingOutcomeModal { align: center middle; }
    MeetingOutcomeModal > Vertical { width: 56; max-width: 100%;
        height: auto; border: round $accent;
        background: $surface; padding: 0 1; }
    """
    KEYS = {
        "h": MeetingOutcome.HELD,
        "n": MeetingOutcome.NO_SHOW,
        "r": MeetingOutcome.RESCHEDULED,
        "x": MeetingOutcome.CANCELLED,
    }
    BINDINGS = [
        *(
            Binding(
                key,
                f"record('{outcome.value}')",
                outcome.value.replace("_", " "),
                id=f"meeting.{outcome.value}",
            )
            for key, outcome in KEYS.items()
        ),
        Binding("escape", "cancel", "Cancel", id="meeting-outcome.cancel"),
    ]

    def __init__(self, meeting_id: int, label: str) -> None:
        super().__init__()
        self.meeting_id = meeting_id
        self.label = label
        self._early_warned = False  # "held" before the start: the second h confirms

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(formatting.titled("Meeting outcome", self.label))
            yield Label("h held · n no-show · r rescheduled · x cancelled")
            yield Label("", id="outcome-status", markup=False)
        yield KeyFooter()

    def action_record(self, outcome: str) -> None:
        actor = self.signed_in.actor
        early = self._early_warned and outcome == MeetingOutcome.HELD
        self.commit(
            lambda session: record_outcome(
                session, self.meeting_id, MeetingOutcome(outcome), actor=actor,
                held_early=early,
            ),
            lambda _: self._recorded(outcome),
            group="meeting-outcome", description="Recording the outcome",
            refused=self._ask_early, refuses=EarlyOutcomeError,
        )  # fmt: skip

    def _ask_early(self, error: LeadMSError) -> None:
        assert isinstance(error, EarlyOutcomeError)
        starts_at = error.starts_at
        self._early_warned = True
        tz = self.signed_in.settings.timezone
        when = formatting.when(starts_at, tz, clock.business_date(clock.now(), tz))
        self.query_one("#outcome-status", Label).update(
            f"It starts {when}, not yet: press h again to record it as held"
        )

    def _recorded(self, outcome: str) -> None:
        self.app.notify(f"{self.label}: {outcome.replace('_', ' ')}")
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)
