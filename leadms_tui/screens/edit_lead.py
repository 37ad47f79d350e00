"""`e` on a lead: edit contact data and status; refused if someone else changed it meanwhile."""

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Select

from leadms_tui.domain.leads.edits import LeadUpdate, update_lead
from leadms_tui.domain.models import Lead, LeadStatus
from leadms_tui.screens.base import WithApp
from leadms_tui.widgets.key_footer import KeyFooter


class EditLeadModal(WithApp, ModalScreen[bool]):
    HELP_NAME = "Edit lead"
    DEFAULT_CSS = """
    EditLeadModal { align: center middle; }
    EditLeadModal > Vertical { width: 64; max-width: 100%;
        height: auto; max-height: 100%;
        border: round $accent; background: $surface; padding: 0 1; }
    EditLeadModal #edit-status { width: 100%; color: $error; height: auto; }
    """
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", key_display="^s/enter", id="edit.save", priority=True),
        Binding("escape", "cancel", "Cancel", id="edit.cancel"),
    ]

    def __init__(self, lead: Lead) -> None:
        super().__init__()
        self.lead = lead

    def compose(self) -> ComposeResult:
        lead = self.lead
        with Vertical():
            yield Label(f"[b]Edit {lead.number}[/b] (ctrl+s or enter saves)")
            yield Label("", id="edit-status", markup=False)  # errors under the title
            yield Input(lead.name, placeholder="Name", id="name", select_on_focus=False)
            yield Input(lead.phone_raw or "", placeholder="Phone", id="phone")
            yield Input(lead.email or "", placeholder="Email", id="email")
            yield Select(
                [
                    (s.value.replace("_", " "), s.value)
                    for s in LeadStatus
                    if s != LeadStatus.WON or lead.status == LeadStatus.WON  # won: by converting
                ],
                value=str(lead.status),
                allow_blank=False,
                id="status",
            )
            yield Input(
                lead.lost_reason or "", placeholder="Lost reason (when lost)", id="lost-reason"
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
        self.query_one("#edit-status", Label).update("Saving…")
        self._save(changes)

    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group="edit-lead",
        description="Saving the lead",
    )
    def _save(self, changes: LeadUpdate) -> None:
        app = self.leadms
        user = app.user
        try:
            app.database.write(
                lambda session: update_lead(
                    session,
                    self.lead.id,
                    changes,  # type: ignore[arg-type]
                    expected_version=self.lead.version,
                    actor=user.actor,  # type: ignore[union-attr]
                )
            )
        except Exception as exc:
            app.call_from_thread(self.query_one("#edit-status", Label).update, str(exc))
            raise
        app.call_from_thread(self._saved)

    def _saved(self) -> None:
        self.app.notify(f"{self.lead.number} saved")
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)
