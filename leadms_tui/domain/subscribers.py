"""Who reacts to which domain event, in order: the one table to read for "what happens
when a lead is created / a call is saved / a lead is won". `leadms_tui/bootstrap.py` alone
imports it, to make the dispatcher every database hands its sessions."""

from leadms_tui.domain.events import (
    CallSaved,
    Handler,
    LeadClosed,
    LeadConverted,
    LeadCreated,
    MeetingBooked,
    MeetingOutcomeSet,
    ReplySent,
)
from leadms_tui.domain.sales import onboarding
from leadms_tui.domain.team import assignment
from leadms_tui.domain.work import followups, response_clock, rules

HANDLERS: dict[type, list[Handler]] = {
    LeadCreated: [assignment.on_lead_created, rules.on_lead_created],  # a rule may reassign
    CallSaved: [response_clock.on_call_saved, rules.on_call_saved],
    MeetingBooked: [response_clock.on_meeting_booked, followups.on_meeting_booked],
    MeetingOutcomeSet: [rules.on_meeting_outcome],
    LeadClosed: [followups.on_lead_closed],
    LeadConverted: [onboarding.on_lead_converted],
    ReplySent: [response_clock.on_reply_sent],
}

PREVIEWS: dict[type, list[Handler]] = {
    CallSaved: [rules.preview_call_saved],
}
