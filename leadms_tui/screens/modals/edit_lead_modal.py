"""`e` on a lead: edit contact data, status and the lead's fields in one write; refused if
someone else changed it meanwhile."""

from sqlmodel import Session
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Select

from leadms_tui import formatting
from leadms_tui.domain.fields.values import FieldShown, set_fields
from leadms_tui.domain.leads.edits import LeadUpdate, update_lead
from leadms_tui.domain.models import FieldEntity, Lead, LeadStatus, saved_id
from leadms_tui.screens.modals.edit_fields_modal import checked_fields, refusal
from leadms_tui.screens.with_app import WithApp
from leadms_tui.widgets.field_form import FieldForm, FormScroll, Raw
from leadms_tui.widgets.key_footer import KeyFooter


def titled(widget: Input | Select, title: str = "") -> Input | Select:
    """A field whose name stays on its border once it is filled (a placeholder goes)."""
    widget.border_title = title or (widget.placeholder if isinstance(widget, Input) else "")
    return widget


class EditLeadModal(WithApp, ModalScreen[bool]):
    HELP_NAME = "Edit lead"
    DEFAULT_CSS = """
    EditLeadModal { align: center middle; }
    EditLeadModal > FormScroll { width: 64; max-width: 100%;
        height: auto; max-height: 100%;
        border: round $accent; background: $surface; padding: 0 1; }
    EditLeadModal #edit-status { width: 100%; color: $error; height: auto; }
    """
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", key_display="^s/enter", id="edit.save", priority=True),
        Binding("escape", "cancel", "Cancel", id="edit.cancel"),
    ]

    def __init__(self, lead: Lead, fields: list[FieldShown] | None = None) -> None:
        super().__init__()
        self.lead = lead
        self.fields = fields or []  # the lead's active fields, read with `lead`

    def compose(self) -> ComposeResult:
        lead = self.lead
        settings = self.signed_in.settings
        with FormScroll():
            yield Label(f"[b]Edit {lead.number}[/b] (ctrl+s or enter saves)")
            yield Label("", id="edit-status", markup=False)  # errors under the title
            yield titled(Input(lead.name, placeholder="Name", id="name", select_on_focus=False))
            yield titled(Input(lead.phone_raw or "", placeholder="Phone", id="phone"))
            yield titled(Input(lead.email or "", placeholder="Email", id="email"))
            yield titled(
                Select(
                    [
                        (s.value.replace("_", " "), s.value)
                        for s in LeadStatus
                        if s != LeadStatus.WON
                        or lead.status == LeadStatus.WON  # won: by converting
                    ],
                    value=str(lead.status),
                    allow_blank=False,
                    id="status",
                ),
                "Status",
            )
            yield titled(
                Input(
                    lead.lost_reason or "", placeholder="Lost reason (when lost)", id="lost-reason"
                )
            )
            if self.fields:
                yield FieldForm(
                    [shown.field for shown in self.fields],
                    self.fields,
                    currency=settings.currency,
                    timezone=settings.timezone,
                    number_format=settings.numbers,
                )
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#name", Input).focus()

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_save()

    def action_save(self) -> None:
        lead = self.lead
        name = self.query_one("#name", Input).value
        phone = self.query_one("#phone", Input).value
        email = self.query_one("#email", Input).value
        status = LeadStatus(str(self.query_one("#status", Select).value))
        lost_reason = self.query_one("#lost-reason", Input).value
        changes = LeadUpdate(
            name=name if name != lead.name else None,
            phone=phone if phone != (lead.phone_raw or "") else None,
            email=email if email != (lead.email or "") else None,
            status=status
            if status != lead.status or lost_reason != (lead.lost_reason or "")
            else None,
            lost_reason=lost_reason or None,
        )
        raw = self.query_one(FieldForm).raw_values() if self.fields else {}
        self.query_one("#edit-status", Label).update("Saving…")
        self._save(changes, raw)

    def _save(self, changes: LeadUpdate, raw: Raw) -> None:
        actor = self.signed_in.actor

        def save(session: Session) -> None:
            values = checked_fields(session, FieldEntity.LEAD, raw)
            lead = update_lead(
                session, saved_id(self.lead), changes,
                expected_version=self.lead.version, actor=actor,
            )  # fmt: skip
            if values:  # the version the edit left: a change by someone else refuses both
                set_fields(
                    session, FieldEntity.LEAD, saved_id(lead), values,
                    actor=actor, expected_version=lead.version,
                )  # fmt: skip

        self.commit(
            save, self._saved, group="edit-lead", description="Saving the lead",
            refused=lambda exc: self._refused(refusal(exc, "lead")),
            # the app says why in a toast; what was typed stays here
            failed=lambda _error: self._refused("Not saved"),
        )  # fmt: skip

    def _refused(self, reason: str) -> None:
        rest = reason
        if self.fields:
            rest = self.query_one(FieldForm).show_errors(rest) or "Not saved: see the fields below"
        self.query_one("#edit-status", Label).update(formatting.shown(rest))

    def _saved(self, _: None) -> None:
        self.app.notify(f"{self.lead.number} saved")
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)
