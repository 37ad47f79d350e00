"""Where a screen asks to go: one message per screen or modal, posted to the app
(`WithApp.go`), which alone imports the screens and modals and opens them (`LeadMSApp`'s
navigation handlers), as Frogmouth's panes post `Goto` and its main screen decides.

A modal's message carries `then`: called with what the modal returns when it closes. A leaf:
it imports no screen."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from textual.message import Message

from leadms_tui.domain.fields.definitions import FieldSpec
from leadms_tui.domain.fields.values import FieldShown
from leadms_tui.domain.leads.saved_filters import FilterCriteria
from leadms_tui.domain.models import FieldEntity, Lead, Rule
from leadms_tui.domain.phone.bridge import PhoneCallView
from leadms_tui.domain.queries.dayview import FollowUpRow
from leadms_tui.domain.queries.leads import LeadFilter
from leadms_tui.domain.reports.coaching import Period
from leadms_tui.domain.sales.onboarding import StepSpec
from leadms_tui.domain.team.users import UserInfo

Then = Callable[[Any], None] | None  # what to do with the modal's result, on the asking screen


# --- screens ---------------------------------------------------------------------------


@dataclass
class OpenLead(Message):
    lead_id: int


@dataclass
class OpenClient(Message):
    client_id: int


@dataclass
class OpenLeads(Message):
    """The lead list, filtered (a report's drill-in)."""

    where: LeadFilter


@dataclass
class OpenRules(Message):
    pass


@dataclass
class OpenDuplicates(Message):
    """The managers' duplicate pairs."""


@dataclass
class OpenMerge(Message):
    """The side-by-side merge of two leads (numbers); `then` is told the merge, if any."""

    first_number: str
    second_number: str
    then: Then = None


@dataclass
class SignInAgain(Message):
    """Back to the sign-in screen (another terminal set the database up meanwhile)."""


# --- modals --------------------------------------------------------------------------


@dataclass
class WhatNext(Message):
    admin: UserInfo


@dataclass
class LogCall(Message):
    lead_id: int
    label: str
    then: Then = None
    phone_call: PhoneCallView | None = None  # what the phone system knows of the call


@dataclass
class NewLead(Message):
    then: Then = None
    phone: str = ""  # an unknown caller's number


@dataclass
class FollowUp(Message):
    lead_id: int
    label: str
    existing: FollowUpRow | None = None
    then: Then = None


@dataclass
class BookMeeting(Message):
    lead_id: int
    label: str
    then: Then = None


@dataclass
class MeetingOutcome(Message):
    meeting_id: int
    label: str
    then: Then = None


@dataclass
class Convert(Message):
    lead_id: int
    label: str
    then: Then = None


@dataclass
class Assign(Message):
    lead_id: int
    label: str
    then: Then = None


@dataclass
class EditLead(Message):
    lead: Lead
    fields: list[FieldShown]
    then: Then = None


@dataclass
class EditFields(Message):
    entity: FieldEntity
    entity_id: int
    title: str
    fields: list[FieldShown]
    version: int


@dataclass
class PickClientStatus(Message):
    number: str
    current: str
    then: Then = None


@dataclass
class PickColumns(Message):
    fields: list[FieldSpec]
    chosen: list[str] = field(default_factory=list)
    then: Then = None


@dataclass
class PickDate(Message):
    current: date
    today: date
    then: Then = None


@dataclass
class PickRange(Message):
    current: Period
    today: date
    then: Then = None


@dataclass
class PickPath(Message):
    """Where to save a stored file named `name`."""

    name: str
    then: Then = None


@dataclass
class EditRule(Message):
    rule: Rule
    then: Then = None


@dataclass
class EditStep(Message):
    """A step of an onboarding template; None: a new one."""

    step: StepSpec | None
    users: list[UserInfo]
    then: Then = None


@dataclass
class NameTemplate(Message):
    then: Then = None


@dataclass
class Compose(Message):
    """A reply to a chat lead: free text inside the window, else a template."""

    lead_id: int
    label: str
    then: Then = None


@dataclass
class SaveFilter(Message):
    """The lead list's search and filters, to save under a name (`summary` says what)."""

    criteria: FilterCriteria
    summary: str
    then: Then = None


@dataclass
class PickSavedFilter(Message):
    then: Then = None
