"""`n`: manual intake. The same numbering and repeat detection as every other channel."""

from sqlmodel import Session
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Select

from leadms_tui.domain.leads.intake import IntakeResult, LeadCreate, intake_lead
from leadms_tui.domain.leads.repeats import find_repeats
from leadms_tui.domain.models import Channel, Role
from leadms_tui.formatting import shown
from leadms_tui.screens.with_app import WithApp
from leadms_tui.widgets.key_footer import KeyFooter

MANUAL_CHANNELS = [
    Channel.PHONE,
    Channel.WALK_IN,
    Channel.WHATSAPP,
    Channel.MESSENGER,
    Channel.WEBSITE,
    Channel.EMAIL,
    Channel.META_ADS,
    Channel.OTHER,
]


class NewLeadModal(WithApp, ModalScreen[IntakeResult | None]):
    HELP_NAME = "New lead"
    DEFAULT_CSS = """
    NewLeadModal { align: center middle; }
    NewLeadModal > Vertical { width: 64; max-width: 100%;
        height: auto; max-height: 100%;
        border: round $accent; background: $surface; padding: 0 1; }
    NewLeadModal .hint { color: $text-muted; }
    NewLeadModal #new-status { width: 100%; color: $error; height: auto; }
    NewLeadModal #repeat-warning { width: 100%; color: $warning; height: auto; display: none; }
    """
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", key_display="^s/enter", id="new.save", priority=True),
        Binding("escape", "cancel", "Cancel", id="new.cancel"),
    ]

    def __init__(self, phone: str = "") -> None:
        super().__init__()
        self.phone = phone  # an unknown caller's number (the phone bridge)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("[b]New lead[/b] — needs a phone or an email")
            yield Label("", id="new-status", markup=False)  # errors under the title
            yield Input(placeholder="Name", id="name")
            yield Input(self.phone, placeholder="Phone (any format)", id="phone")
            yield Input(placeholder="Email", id="email")
            yield Label("", id="repeat-warning", markup=False)  # a repeat, seen while typing
            yield Select(
                [(c.value.replace("_", " "), c.value) for c in MANUAL_CHANNELS],
                value=Channel.PHONE.value,
                allow_blank=False,
                id="channel",
            )
            yield Input(placeholder="What did they ask? (enter saves)", id="message")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#name", Input).focus()

    @on(Input.Submitted)
    def _next_or_save(self, event: Input.Submitted) -> None:
        if event.input.id == "message":
            self.action_save()
        else:
            self.focus_next()

    @on(Input.Changed, "#phone, #email")
    def _contact_changed(self) -> None:
        self._check_repeats(
            self.query_one("#phone", Input).value, self.query_one("#email", Input).value
        )

    def _check_repeats(self, phone: str, email: str) -> None:
        region = self.signed_in.settings.phone_region

        def query(session: Session) -> str:
            earlier = find_repeats(session, phone=phone, email=email, region=region)
            if not earlier:
                return ""
            first = earlier[0]
            more = f" and {len(earlier) - 1} more" if len(earlier) > 1 else ""
            return (
                f"Repeat: same {first.matched} as {first.number} {first.name} "
                f"({first.status.replace('_', ' ')}){more}; saving links it as a repeat"
            )

        self.load(
            query, self._show_repeat,
            group="new-lead-repeats", description="Looking for earlier leads",
        )  # fmt: skip

    def _show_repeat(self, warning: str) -> None:
        label = self.query_one("#repeat-warning", Label)
        label.update(shown(warning))
        label.display = bool(warning)  # no blank line in the form while there is none

    def action_save(self) -> None:
        values = {i.id: i.value for i in self.query(Input)}
        channel = Channel(str(self.query_one("#channel", Select).value))
        self.query_one("#new-status", Label).update("Saving…")
        self._save(values, channel)

    def _save(self, values: dict[str | None, str], channel: Channel) -> None:
        user = self.signed_in.user

        def save(session: Session) -> IntakeResult:
            data = LeadCreate(
                name=values["name"],
                phone=values["phone"] or None,
                email=values["email"] or None,
                channel=channel,
                message=values["message"] or None,
                owner_id=user.id if user.role == Role.REP else None,
            )
            return intake_lead(session, data, actor=user.actor)

        self.commit(
            save, self._saved, group="new-lead", description="Saving the lead",
            failed=lambda exc: self.query_one("#new-status", Label).update(str(exc)),
        )  # fmt: skip

    def _saved(self, result: IntakeResult) -> None:
        if result.repeat_of:
            self.app.notify(
                f"{result.number} is a REPEAT of {result.repeat_of} "
                f"({result.repeat_count} earlier lead(s) with this phone or email)",
                title="Repeat lead",
                severity="warning",
                timeout=10,
            )
        else:
            self.app.notify(f"{result.number} created")
        for warning in result.warnings:
            self.app.notify(warning, severity="warning")
        self.dismiss(result)

    def action_cancel(self) -> None:
        self.dismiss(None)
