"""Who reacts to which domain event, in order: the one table to read for "what happens
when a lead is created / a call is saved / a lead is won"."""

from leadms_tui.domain import followups, rules
from leadms_tui.domain.events import (
    CallSaved,
    Handler,
    LeadClosed,
    LeadCreated,
    MeetingOutcomeSet,
)

HANDLERS: dict[type, list[Handler]] = {
    LeadCreated: [rules.on_lead_created],
    CallSaved: [rules.on_call_saved],
    MeetingOutcomeSet: [rules.on_meeting_outcome],
    LeadClosed: [followups.on_lead_closed],
}

PREVIEWS: dict[type, list[Handler]] = {
    CallSaved: [rules.preview_call_saved],
}
