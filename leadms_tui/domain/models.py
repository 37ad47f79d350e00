"""SQLModel tables of Lead MS, and the enums their string columns hold.

Timestamps are stored as naive UTC and come back as aware UTC (`UTCDateTime`);
business dates are plain dates in the team's timezone. Every text column cleans what is
written to it (`Line`, `Lines`, `CleanJSON`): no path, present or future, stores a control
character (see `domain/text.py`).
"""

import unicodedata
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy import (
    JSON,
    DateTime,
    Index,
    LargeBinary,
    Numeric,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy import text as text_clause
from sqlmodel import Field, SQLModel

from leadms_tui.domain import clock, text


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in Python, naive UTC in the database (same on SQLite and PostgreSQL)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return clock.as_utc(value).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Line(TypeDecorator[str]):
    """One-line text (names, titles, ids): tabs and line breaks become spaces."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else text.clean_line(value)


class Lines(TypeDecorator[str]):
    """Text with lines (messages, notes)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else text.clean_text(value)


class CleanJSON(TypeDecorator[Any]):
    """JSON whose every string (keys too) is cleaned text."""

    impl = JSON
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        return text.clean_data(value)


def _timestamp(**kwargs: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kwargs)


def _created_at() -> Any:
    return Field(default_factory=clock.now, sa_type=UTCDateTime, nullable=False)


def _text(length: int, **kwargs: Any) -> Any:
    return Field(sa_type=Line(length), **kwargs)


class _Stored(Protocol):
    id: int | None


def saved_id(row: _Stored) -> int:
    """The id of a row the database holds (flushed or read). A model's `id` is typed
    `int | None` only because it is None before the insert; this says so once."""
    if row.id is None:
        raise RuntimeError(f"{type(row).__name__} has no id yet: flush it first")
    return row.id


def table_of(model: type[SQLModel]) -> Table:
    """A model's Core table, for statements built once (SQLModel sets `__table__` on the
    class at run time, where a type checker cannot see it)."""
    return model.__table__  # type: ignore[attr-defined]


class Role(StrEnum):
    REP = "rep"
    MANAGER = "manager"
    ADMIN = "admin"


class Availability(StrEnum):
    AVAILABLE = "available"
    AWAY = "away"  # until `away_until`
    OFF = "off"  # takes no new leads until set available again


class Channel(StrEnum):
    WHATSAPP = "whatsapp"
    MESSENGER = "messenger"
    WEBSITE = "website"
    META_ADS = "meta_ads"
    WALK_IN = "walk_in"
    PHONE = "phone"
    EMAIL = "email"
    OTHER = "other"


class LeadStatus(StrEnum):
    NEW = "new"
    CONTACTED = "contacted"
    QUALIFIED = "qualified"
    MEETING_SCHEDULED = "meeting_scheduled"
    WON = "won"
    LOST = "lost"


class PhoneFlag(StrEnum):
    """Why a kept phone is not a clean, valid number."""

    NOT_VALID = "not_valid"  # possible length, but not in the numbering plan: kept, E.164 stored
    UNUSABLE = "unusable"  # could not be parsed at all: raw text kept, no E.164


class CallOutcome(StrEnum):
    INTERESTED = "interested"
    NOT_INTERESTED = "not_interested"
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    WRONG_NUMBER = "wrong_number"
    CALLBACK_REQUESTED = "callback_requested"
    VOICEMAIL = "voicemail"
    CHAT = "chat"  # a conversation by chat, no call (a Messenger lead with no phone)
    UNREACHABLE = "unreachable"  # no way to reach the person: closes the lead


class FollowUpState(StrEnum):
    OPEN = "open"
    DONE = "done"
    SKIPPED = "skipped"
    MISSED = "missed"


class MeetingKind(StrEnum):
    MEETING = "meeting"
    DEMO = "demo"


class MeetingOutcome(StrEnum):
    HELD = "held"
    NO_SHOW = "no_show"
    RESCHEDULED = "rescheduled"
    CANCELLED = "cancelled"


class RuleTrigger(StrEnum):
    CALL_OUTCOME = "call_outcome"  # event: a call with one of `trigger_values` was logged
    LEAD_CREATED = "lead_created"  # event: a lead arrived (optionally on these channels)
    MEETING_OUTCOME = "meeting_outcome"  # event: a meeting got one of these outcomes
    NO_ACTIVITY = "no_activity"  # time: an open lead untouched for `trigger_hours`
    FOLLOWUP_OVERDUE = "followup_overdue"  # time: a follow-up overdue by `trigger_hours`

    @property
    def is_timed(self) -> bool:
        return self in (RuleTrigger.NO_ACTIVITY, RuleTrigger.FOLLOWUP_OVERDUE)


class RuleAction(StrEnum):
    CREATE_FOLLOWUP = "create_followup"
    REASSIGN = "reassign"
    ESCALATE = "escalate"  # to a manager, who is notified
    SET_STATUS = "set_status"
    NOTIFY = "notify"


class FieldEntity(StrEnum):
    LEAD = "lead"
    CLIENT = "client"
    MEETING = "meeting"


class FieldKind(StrEnum):
    TEXT = "text"
    LONG_TEXT = "long_text"
    INTEGER = "integer"
    DECIMAL = "decimal"
    MONEY = "money"
    DATE = "date"
    DATETIME = "datetime"
    YES_NO = "yes_no"
    CHOICE = "choice"
    MULTI_CHOICE = "multi_choice"
    LINK = "link"
    EMAIL = "email"
    PHONE = "phone"
    IMAGE = "image"
    DOCUMENT = "document"


class Setting(SQLModel, table=True):
    """One team setting (timezone, phone region, ...); typed and validated in `settings.py`."""

    __tablename__ = "settings"

    key: str = Field(sa_type=String(64), primary_key=True)
    value: str = Field(sa_type=Line(1000))


class User(SQLModel, table=True):
    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    username: str = _text(64, unique=True, index=True)
    display_name: str = _text(200)
    role: Role = _text(16)
    active: bool = True
    capacity: int = 25  # open leads a rep can carry; used by assignment
    languages: str = _text(200, default="")  # comma-separated ISO codes, e.g. "en,es"
    channels: str = _text(200, default="")  # channels they take ("" = all), e.g. "whatsapp,website"
    availability: Availability = _text(16, default="available")
    away_until: datetime | None = _timestamp(default=None)  # back at this moment
    working_hours: str = _text(20, default="")  # "08:00-16:00"; "" = the team's hours
    extension: str | None = _text(32, default=None, unique=True, index=True)  # phone on the PBX
    password_hash: str | None = _text(200, default=None)
    created_at: datetime = _created_at()


class DayCounter(SQLModel, table=True):
    """Last lead sequence number given out on a business day; the row lock that orders intake."""

    __tablename__ = "day_counters"

    business_date: date = Field(primary_key=True)
    last_seq: int = 0


class Lead(SQLModel, table=True):
    """A lead. Its search index, `lead_search` (migration 0006), is engine-specific and so not
    declared here: a pg_trgm GIN index on PostgreSQL, an FTS5 trigram table on SQLite kept in
    step by triggers (a migration that rebuilds this table in batch mode must recreate them).
    It covers `search_name`, `number` and `phone_e164` for substring search."""

    __tablename__ = "leads"
    __table_args__ = (
        UniqueConstraint("business_date", "seq", name="uq_lead_business_date_seq"),
        Index("ix_lead_owner_status", "owner_id", "status"),
        Index("ix_lead_status_created_at", "status", "created_at"),  # new leads, oldest first
        Index("ix_lead_channel_external_id", "channel", "external_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    number: str = _text(32, unique=True, index=True)  # LEAD-YYYYMMDD-NNN
    business_date: date = Field(index=True)
    seq: int
    name: str = _text(200)
    phone_raw: str | None = _text(64, default=None)
    phone_e164: str | None = _text(20, default=None, index=True)
    phone_flag: PhoneFlag | None = _text(16, default=None)
    email: str | None = _text(254, default=None)
    email_lower: str | None = _text(254, default=None, index=True)
    channel: Channel = _text(16)
    external_id: str | None = _text(128, default=None)  # sender id on its channel (wa_id, PSID)
    first_message: str | None = Field(default=None, sa_type=Lines)
    status: LeadStatus = _text(24, default=LeadStatus.NEW, index=True)
    lost_reason: str | None = _text(200, default=None)
    owner_id: int | None = Field(default=None, foreign_key="users.id")
    repeat_of_id: int | None = Field(default=None, foreign_key="leads.id", index=True)
    repeat_count: int = 0  # earlier leads with the same phone or email
    # merged into that lead (`people merge`): hidden from lists, its number never reused
    # no index: a merged lead is only ever reached by id, and an index on a column that is
    # NULL for nearly every lead would tempt PostgreSQL away from the search index
    merged_into_id: int | None = Field(default=None, foreign_key="leads.id")
    created_at: datetime = _timestamp(default_factory=clock.now, nullable=False, index=True)
    updated_at: datetime = _created_at()
    version: int = 1  # optimistic concurrency: every update bumps it and checks the old value
    # `lead_search_name(name, email)`: set by every write of the name or the email
    search_name: str = Field(default="", sa_type=Line(), sa_column_kwargs={"server_default": ""})


# Letters with a stroke (and the dotless i) have no accent to strip: "Łódź" folds to "lodz".
_STROKES = str.maketrans(
    {"ł": "l", "ø": "o", "đ": "d", "ħ": "h", "\u0131": "i", "æ": "ae", "œ": "oe"}
)


def fold(value: str) -> str:
    """Text as search compares it: "  JIMÉNEZ " and "jimenez" both fold to "jimenez"."""
    decomposed = unicodedata.normalize("NFKD", text.clean_line(value)).casefold()
    if decomposed.isascii():  # most names: no combining mark to drop (every one is non-ASCII)
        bare = decomposed
    else:
        bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.translate(_STROKES).split())


def lead_search_name(name: str, email: str | None) -> str:
    """What a lead's name search matches: its name and email, folded."""
    return fold(f"{name} {email or ''}")


class Inquiry(SQLModel, table=True):
    """One inbound contact of a lead: the first message, a repeat message, a form post."""

    __tablename__ = "inquiries"
    __table_args__ = (
        UniqueConstraint("channel", "dedupe_key", name="uq_inquiry_channel_dedupe_key"),
    )

    id: int | None = Field(default=None, primary_key=True)
    lead_id: int = Field(foreign_key="leads.id", index=True)
    channel: Channel = _text(16)
    received_at: datetime = _created_at()
    message: str | None = Field(default=None, sa_type=Lines)
    # What makes a delivery unique on its channel (message id, Meta lead id, file fingerprint+row).
    dedupe_key: str | None = _text(200, default=None)
    payload_ref: str | None = _text(500, default=None)  # where the raw payload came from
    # utm, campaign, ...
    attributes: dict[str, Any] = Field(default_factory=dict, sa_type=CleanJSON)


class Call(SQLModel, table=True):
    __tablename__ = "calls"
    __table_args__ = (
        Index("ix_call_user_called_at", "user_id", "called_at"),
        Index("ix_call_lead_called_at", "lead_id", "called_at"),
        Index("ix_call_called_at", "called_at"),  # the team's calls of a day
    )

    id: int | None = Field(default=None, primary_key=True)
    lead_id: int = Field(foreign_key="leads.id")
    user_id: int | None = Field(default=None, foreign_key="users.id")
    outcome: CallOutcome = _text(24)
    note: str | None = Field(default=None, sa_type=Lines)
    called_at: datetime = _timestamp(nullable=False)
    created_at: datetime = _created_at()
    # the phone system's record of this call, when the bridge saw it (logged once)
    phone_call_id: int | None = Field(
        default=None, foreign_key="phone_calls.id", unique=True, index=True
    )


class FollowUp(SQLModel, table=True):
    __tablename__ = "follow_ups"
    __table_args__ = (
        Index("ix_followup_owner_state_due", "owner_id", "state", "due_at"),
        Index("ix_followup_state_due", "state", "due_at"),  # the team's day view
    )

    id: int | None = Field(default=None, primary_key=True)
    lead_id: int = Field(foreign_key="leads.id", index=True)
    owner_id: int | None = Field(default=None, foreign_key="users.id")
    due_at: datetime = _timestamp(nullable=False, index=True)
    reason: str = _text(500, default="")
    attempt: int = 1
    state: FollowUpState = _text(16, default=FollowUpState.OPEN)
    created_by_id: int | None = Field(default=None, foreign_key="users.id")
    rule_id: int | None = Field(default=None)  # set when an automation rule made it
    call_id: int | None = Field(default=None, foreign_key="calls.id")  # the call that completed it
    completed_at: datetime | None = _timestamp(default=None)
    missed_at: datetime | None = _timestamp(default=None)  # its day ended with it still open
    created_at: datetime = _created_at()
    version: int = 1


class Meeting(SQLModel, table=True):
    __tablename__ = "meetings"
    __table_args__ = (Index("ix_meeting_owner_starts_at", "owner_id", "starts_at"),)

    id: int | None = Field(default=None, primary_key=True)
    lead_id: int = Field(foreign_key="leads.id", index=True)
    owner_id: int | None = Field(default=None, foreign_key="users.id")
    kind: MeetingKind = _text(16, default=MeetingKind.MEETING)
    starts_at: datetime = _timestamp(nullable=False, index=True)
    duration_minutes: int = 30
    place: str | None = _text(300, default=None)
    video_link: str | None = _text(500, default=None)
    notes: str | None = Field(default=None, sa_type=Lines)
    outcome: MeetingOutcome | None = _text(16, default=None)
    missed_at: datetime | None = _timestamp(default=None)  # its day ended without an outcome
    created_at: datetime = _created_at()
    version: int = 1


class MeetingAttendee(SQLModel, table=True):
    __tablename__ = "meeting_attendees"

    meeting_id: int = Field(foreign_key="meetings.id", primary_key=True)
    user_id: int = Field(foreign_key="users.id", primary_key=True)


class ClientStatus(StrEnum):
    ONBOARDING = "onboarding"
    ACTIVE = "active"
    PAUSED = "paused"
    CHURNED = "churned"


class CommissionState(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    PAID = "paid"
    VOID = "void"


class TaskState(StrEnum):
    OPEN = "open"
    DONE = "done"
    SKIPPED = "skipped"
    MISSED = "missed"  # its day ended undone; still workable, counted as a missed commitment
    CANCELLED = "cancelled"  # its sale was reversed


class StepOwner(StrEnum):
    """Who an onboarding step goes to when a sale instantiates its template."""

    CLOSING_REP = "closing_rep"
    ACCOUNT_MANAGER = "account_manager"
    ROLE = "role"  # the least busy active user of `owner_role`
    USER = "user"  # a named user


class Client(SQLModel, table=True):
    """A person or company the team sells to, made from a won lead; one person, one client."""

    __tablename__ = "clients"

    id: int | None = Field(default=None, primary_key=True)
    number: str = _text(32, unique=True)  # CL-000042, gapless (see sales/clients.py)
    seq: int = Field(unique=True)
    name: str = _text(200)
    phone_raw: str | None = _text(64, default=None)
    phone_e164: str | None = _text(20, default=None, index=True)
    email: str | None = _text(254, default=None)
    email_lower: str | None = _text(254, default=None, index=True)
    owner_id: int | None = Field(default=None, foreign_key="users.id", index=True)  # account mgr
    status: ClientStatus = _text(16, default=ClientStatus.ONBOARDING, index=True)
    first_lead_id: int | None = Field(default=None, foreign_key="leads.id")
    search_name: str = Field(default="", sa_type=Line())
    created_at: datetime = _created_at()
    updated_at: datetime = _created_at()
    version: int = 1


class Sale(SQLModel, table=True):
    """One conversion of a lead: the deal, frozen with its commission terms."""

    __tablename__ = "sales"
    __table_args__ = (
        # One live sale per lead: the database refuses a second conversion whatever the race.
        Index(
            "ux_sales_live_lead",
            "lead_id",
            unique=True,
            sqlite_where=text_clause("reversed_at IS NULL"),
            postgresql_where=text_clause("reversed_at IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    client_id: int = Field(foreign_key="clients.id", index=True)
    lead_id: int = Field(foreign_key="leads.id")
    value: Decimal = Field(sa_type=Numeric(18, 4))
    currency: str = _text(3)
    product: str | None = _text(200, default=None)  # the plan or product sold
    closed_by_id: int | None = Field(default=None, foreign_key="users.id", index=True)
    lead_owner_id: int | None = Field(default=None, foreign_key="users.id")  # when sold
    sold_on: date = Field(index=True)  # business date in the team timezone
    commission_plan_id: int | None = Field(default=None, foreign_key="commission_plans.id")
    commission_rate: Decimal | None = Field(default=None, sa_type=Numeric(7, 4))  # percent
    commission_total: Decimal = Field(default=Decimal(0), sa_type=Numeric(18, 4))
    previous_status: LeadStatus = _text(24)  # what a reversal restores
    created_at: datetime = _created_at()
    reversed_at: datetime | None = _timestamp(default=None)
    reversed_by_id: int | None = Field(default=None, foreign_key="users.id")
    reverse_reason: str | None = _text(500, default=None)


class CommissionPlan(SQLModel, table=True):
    """How commission is computed: a percentage (optionally capped) or a flat amount."""

    __tablename__ = "commission_plans"

    id: int | None = Field(default=None, primary_key=True)
    name: str = _text(100, unique=True)
    rate: Decimal | None = Field(default=None, sa_type=Numeric(7, 4))  # percent of the value
    flat: Decimal | None = Field(default=None, sa_type=Numeric(18, 4))
    cap: Decimal | None = Field(default=None, sa_type=Numeric(18, 4))
    product_filter: str | None = _text(200, default=None)  # applies to sales of this product
    is_default: bool = False
    active: bool = True
    created_at: datetime = _created_at()


class Commission(SQLModel, table=True):
    """One person's share of a sale's commission, with its payroll state."""

    __tablename__ = "commissions"

    id: int | None = Field(default=None, primary_key=True)
    sale_id: int = Field(foreign_key="sales.id", index=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    share: Decimal = Field(sa_type=Numeric(5, 2))  # percent of the sale's commission
    amount: Decimal = Field(sa_type=Numeric(18, 4))
    state: CommissionState = _text(16, default=CommissionState.PENDING, index=True)
    approved_by_id: int | None = Field(default=None, foreign_key="users.id")
    approved_at: datetime | None = _timestamp(default=None)
    paid_at: datetime | None = _timestamp(default=None)
    voided_at: datetime | None = _timestamp(default=None)
    created_at: datetime = _created_at()
    version: int = 1


class OnboardingTemplate(SQLModel, table=True):
    __tablename__ = "onboarding_templates"

    id: int | None = Field(default=None, primary_key=True)
    name: str = _text(100, unique=True)
    is_default: bool = False
    active: bool = True
    created_at: datetime = _created_at()
    version: int = 1


class OnboardingStep(SQLModel, table=True):
    __tablename__ = "onboarding_steps"

    id: int | None = Field(default=None, primary_key=True)
    template_id: int = Field(foreign_key="onboarding_templates.id", index=True)
    position: int = 0
    title: str = _text(200)
    offset_days: int = 0  # business days after the sale
    owner: StepOwner = _text(16, default=StepOwner.CLOSING_REP)
    owner_role: str | None = _text(16, default=None)
    owner_user_id: int | None = Field(default=None, foreign_key="users.id")


class OnboardingTask(SQLModel, table=True):
    """A step of a client's onboarding: a commitment on its owner's day view."""

    __tablename__ = "onboarding_tasks"
    __table_args__ = (Index("ix_onboarding_tasks_owner_state_due", "owner_id", "state", "due_on"),)

    id: int | None = Field(default=None, primary_key=True)
    client_id: int = Field(foreign_key="clients.id", index=True)
    sale_id: int = Field(foreign_key="sales.id", index=True)
    position: int = 0
    title: str = _text(200)
    owner_id: int | None = Field(default=None, foreign_key="users.id")
    due_on: date  # business date in the team timezone
    state: TaskState = _text(16, default=TaskState.OPEN)
    done_at: datetime | None = _timestamp(default=None)
    done_by_id: int | None = Field(default=None, foreign_key="users.id")
    missed_at: datetime | None = _timestamp(default=None)
    created_at: datetime = _created_at()
    version: int = 1


class AssignmentWait(SQLModel, table=True):
    """A new lead that automatic assignment found nobody eligible for: it waits here, and the
    sweep assigns the oldest first when a rep frees up."""

    __tablename__ = "assignment_waits"

    lead_id: int = Field(foreign_key="leads.id", primary_key=True)
    since: datetime = _timestamp(nullable=False, index=True)
    reason: str = _text(500, default="")


class SequenceCounter(SQLModel, table=True):
    """Gapless counters that are not per day (client numbers), taken like lead numbers."""

    __tablename__ = "sequence_counters"

    name: str = Field(sa_type=String(32), primary_key=True)
    last_value: int = 0


class FieldDefinition(SQLModel, table=True):
    """An admin-defined field on leads, clients or meetings (no schema change needed)."""

    __tablename__ = "field_definitions"
    __table_args__ = (UniqueConstraint("entity", "key", name="uq_field_definition_entity_key"),)

    id: int | None = Field(default=None, primary_key=True)
    entity: FieldEntity = _text(16)
    key: str = _text(64)
    label: str = _text(200)
    kind: FieldKind = _text(16)
    options: list[str] = Field(default_factory=list, sa_type=CleanJSON)  # of a (multi) choice
    required: bool = False
    default: str | None = _text(500, default=None)  # canonical text of the default value
    help_text: str | None = _text(500, default=None)
    section: str = _text(100, default="Details")
    position: int = 0
    active: bool = True  # a retired field is hidden; its values and history stay
    created_at: datetime = _created_at()
    updated_at: datetime = _created_at()
    version: int = 1


class StoredFile(SQLModel, table=True):
    """An image or document kept in the database, by content (sha256): every terminal on a
    shared database can open it, and a backup or a move takes it along."""

    __tablename__ = "stored_files"

    id: int | None = Field(default=None, primary_key=True)
    sha256: str = _text(64, unique=True)
    size: int
    mime_type: str = _text(100)
    content: bytes = Field(sa_type=LargeBinary)
    created_at: datetime = _created_at()


class FieldValue(SQLModel, table=True):
    """One value of a field on one record, in the column of its type. A multiple choice has
    one row per chosen option (`item` 0, 1, ...), so a filter by one option uses the index."""

    __tablename__ = "field_values"
    __table_args__ = (
        UniqueConstraint("definition_id", "entity_id", "item", name="uq_field_value_item"),
        # Covering: a filter reads the matching record ids from the index alone.
        Index("ix_field_values_key", "definition_id", "value_key", "entity_id"),
        Index("ix_field_values_number", "definition_id", "value_number", "entity_id"),
        Index("ix_field_values_date", "definition_id", "value_date", "entity_id"),
        Index("ix_field_values_datetime", "definition_id", "value_datetime", "entity_id"),
        Index("ix_field_values_entity", "entity_id", "definition_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    definition_id: int = Field(foreign_key="field_definitions.id")
    entity_id: int
    item: int = 0
    value_text: str | None = Field(default=None, sa_type=Lines)  # as entered (a file's name)
    value_key: str | None = _text(200, default=None)  # folded text, choice, e164: filters
    value_number: Decimal | None = Field(default=None, sa_type=Numeric(20, 6))
    value_date: date | None = Field(default=None)
    value_datetime: datetime | None = _timestamp(default=None)
    value_bool: bool | None = Field(default=None)
    file_id: int | None = Field(default=None, foreign_key="stored_files.id")


class Notification(SQLModel, table=True):
    """An in-app message for one user (rules, escalations)."""

    __tablename__ = "notifications"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    lead_id: int | None = Field(default=None, foreign_key="leads.id")
    message: str = _text(1000)
    created_at: datetime = _created_at()
    read_at: datetime | None = _timestamp(default=None)


class Rule(SQLModel, table=True):
    """An automation rule: on an event or after a time, if conditions hold, do an action."""

    __tablename__ = "rules"

    id: int | None = Field(default=None, primary_key=True)
    name: str = _text(200)
    enabled: bool = True
    position: int = 0  # evaluation order
    trigger: RuleTrigger = _text(24)
    trigger_values: list[str] = Field(default_factory=list, sa_type=CleanJSON)  # empty: any
    trigger_hours: float | None = Field(default=None)  # for time triggers
    business_time: bool = False  # count trigger_hours in business hours
    # statuses, channels, owner_roles (lists); min_attempts, max_attempts (unanswered calls)
    conditions: dict[str, Any] = Field(default_factory=dict, sa_type=CleanJSON)
    action: RuleAction = _text(24)
    # create_followup: after_minutes | after_business_hours | after_business_days (+ at "HH:MM")
    #   | at_picked_time; reason. set_status: status, lost_reason. reassign: to.
    #   notify: to ("owner", "managers" or a username), message.
    action_params: dict[str, Any] = Field(default_factory=dict, sa_type=CleanJSON)
    created_at: datetime = _created_at()
    updated_at: datetime = _created_at()  # time rules only look at what happened since
    version: int = 1


class RuleFiring(SQLModel, table=True):
    """One rule applied to one subject once: the unique key makes firing exactly-once."""

    __tablename__ = "rule_firings"
    __table_args__ = (
        UniqueConstraint("rule_id", "subject", "occurrence", name="uq_rule_firing_once"),
    )

    id: int | None = Field(default=None, primary_key=True)
    rule_id: int = Field(foreign_key="rules.id")
    subject: str = _text(64)  # "call:12", "lead:7", "followup:3"
    occurrence: str = _text(64)  # which occurrence: "event", "idle:v4", "overdue"
    lead_id: int | None = Field(default=None, foreign_key="leads.id", index=True)
    fired_at: datetime = _timestamp(nullable=False)


class ResponseClock(SQLModel, table=True):
    """A lead's speed-to-lead clock: from its receipt to its first touch (a call logged, a
    meeting booked), counted in business minutes by `domain/work/response_clock.py`."""

    __tablename__ = "response_clocks"

    id: int | None = Field(default=None, primary_key=True)
    lead_id: int = Field(foreign_key="leads.id", unique=True)
    started_at: datetime = _timestamp(nullable=False)
    touched_at: datetime | None = _timestamp(default=None, index=True)
    touched_by: str | None = _text(16, default=None)  # "call", "meeting", "reply"
    touched_by_id: int | None = Field(default=None, foreign_key="users.id")
    flagged_at: datetime | None = _timestamp(default=None)  # no eligible rep to take it
    steps_fired: int = 0  # ladder steps fired, counted under the row lock
    steps_at_touch: int | None = Field(default=None)  # steps_fired when the touch stopped it


class ResponseStep(SQLModel, table=True):
    """One ladder step fired on one clock; the unique key makes it exactly-once."""

    __tablename__ = "response_steps"
    __table_args__ = (UniqueConstraint("clock_id", "action", name="uq_response_step_once"),)

    id: int | None = Field(default=None, primary_key=True)
    clock_id: int = Field(foreign_key="response_clocks.id")
    lead_id: int = Field(foreign_key="leads.id", index=True)
    minute: int  # business minutes used when it was due
    action: str = _text(16)  # owner, managers, offer, reassign
    fired_at: datetime = _timestamp(nullable=False)
    from_user_id: int | None = Field(default=None, foreign_key="users.id")
    to_user_id: int | None = Field(default=None, foreign_key="users.id")
    detail: str = _text(300, default="")


class AuditEvent(SQLModel, table=True):
    """Append-only: the application has no path that updates or deletes these rows."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_auditevent_entity", "entity", "entity_id"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _timestamp(nullable=False, index=True)
    actor_id: int | None = Field(default=None, foreign_key="users.id")
    actor: str = _text(64)  # username, or "system" / "intake" for automatic writes
    action: str = _text(64)  # e.g. lead.create, lead.update, setting.set
    entity: str = _text(32)
    entity_id: str = _text(64)
    # field -> [before, after]; a personal field (domain/personal.py) holds only a marker
    changes: dict[str, Any] = Field(default_factory=dict, sa_type=CleanJSON)
    # the personal fields' [before, after], kept apart from the trail: `people erase` clears
    # it (the database allows no other update), the trail and its digest stay as they were
    personal: dict[str, Any] | None = Field(default=None, sa_type=CleanJSON(none_as_null=True))


class AuditSeal(SQLModel, table=True):
    """A digest of the trail (every audit_events column but `personal`) up to one event:
    `leadms audit verify` recomputes it, so a changed or removed event is found."""

    __tablename__ = "audit_seals"

    id: int | None = Field(default=None, primary_key=True)
    sealed_at: datetime = _timestamp(nullable=False)
    last_event_id: int
    events: int  # how many events the trail held up to and with `last_event_id`
    digest: str = _text(64)


class IntakeReject(SQLModel, table=True):
    """A message the intake service could not take in, kept as it came for someone to inspect.

    Not a business record (no audit): a webhook message the parser refused or that failed to
    store, or a whole body that could not be split into messages. `payload` is the raw text
    with unstorable characters escaped (`\\u0000`), so nothing of it is lost.
    """

    __tablename__ = "intake_rejects"

    id: int | None = Field(default=None, primary_key=True)
    received_at: datetime = _created_at()
    channel: str = _text(24)
    reason: str = _text(500)
    payload: str = Field(sa_type=Lines)


class AccessToken(SQLModel, table=True):
    """A CLI session or an API token: only the SHA-256 of the secret is kept (team/access.py)."""

    __tablename__ = "access_tokens"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    kind: str = _text(16)  # "session" (leadms login) or "api" (leadms tokens create)
    name: str = _text(100)  # the terminal of a session, or what uses a token ("dialer")
    token_hash: str = _text(64, unique=True, index=True)
    created_at: datetime = _created_at()
    expires_at: datetime | None = _timestamp(default=None)
    last_used_at: datetime | None = _timestamp(default=None)
    revoked_at: datetime | None = _timestamp(default=None)
    created_by_id: int | None = Field(default=None, foreign_key="users.id")


class LoginFailure(SQLModel, table=True):
    """A failed sign-in: recent ones throttle that username and that terminal."""

    __tablename__ = "login_failures"
    __table_args__ = (
        Index("ix_login_failures_username_at", "username", "at"),
        Index("ix_login_failures_terminal_at", "terminal", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    username: str = _text(64)
    terminal: str = _text(128)
    at: datetime = _timestamp(nullable=False)


class MessageState(StrEnum):
    """Where an outbound chat message is. Only `domain/chat/outbox.py` moves it, and a state
    reported by Meta never moves it back (read stays read)."""

    QUEUED = "queued"  # written by a rep; the intake service will send it
    SENDING = "sending"  # claimed by the service: the request is (about to be) under way
    UNCONFIRMED = "unconfirmed"  # claimed long ago and Meta never confirmed: a person decides
    SENT = "sent"  # Meta took it (its id known)
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"  # refused by Meta or undeliverable: the reason in words, a retry offered


class TemplateStatus(StrEnum):
    APPROVED = "APPROVED"
    PENDING = "PENDING"
    REJECTED = "REJECTED"
    PAUSED = "PAUSED"
    DISABLED = "DISABLED"


class OutboundMessage(SQLModel, table=True):
    """A reply to a WhatsApp or Messenger lead: the outbox row a rep writes and the intake
    service sends. `key` rides to Meta (WhatsApp `biz_opaque_callback_data`, Messenger
    `metadata`) with the attempt number, so a status or an echo finds its row even when the
    send's answer was lost."""

    __tablename__ = "outbound_messages"
    __table_args__ = (Index("ix_outbound_messages_state_not_before", "state", "not_before"),)

    id: int | None = Field(default=None, primary_key=True)
    lead_id: int = Field(foreign_key="leads.id", index=True)
    channel: Channel = _text(16)
    recipient: str = _text(128)  # wa_id or PSID
    kind: str = _text(16)  # "text" or "template"
    body: str = Field(sa_type=Lines)  # what the person reads (a template: its filled text)
    template_name: str | None = _text(512, default=None)
    template_language: str | None = _text(16, default=None)
    parameters: list[str] = Field(default_factory=list, sa_type=CleanJSON)
    tag: str | None = _text(32, default=None)  # Messenger HUMAN_AGENT past the 24 hours
    state: MessageState = _text(16, default=MessageState.QUEUED)
    attempt: int = 0  # attempts claimed so far; the current one's key ends in it
    not_before: datetime | None = _timestamp(default=None)  # throttled: not sent before
    provider_id: str | None = _text(200, default=None, index=True)  # wamid / mid
    error_code: int | None = Field(default=None)
    error_title: str | None = _text(300, default=None)
    error_detail: str | None = _text(1000, default=None)
    created_by_id: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = _created_at()
    claimed_at: datetime | None = _timestamp(default=None)
    sent_at: datetime | None = _timestamp(default=None)
    delivered_at: datetime | None = _timestamp(default=None)
    read_at: datetime | None = _timestamp(default=None)
    failed_at: datetime | None = _timestamp(default=None)
    version: int = 1


class MessageAttempt(SQLModel, table=True):
    """One try at sending an outbound message: claimed, then answered (or never, if the
    service died: the status webhook or the echo may still tell)."""

    __tablename__ = "message_attempts"
    __table_args__ = (UniqueConstraint("message_id", "attempt", name="uq_message_attempt"),)

    id: int | None = Field(default=None, primary_key=True)
    message_id: int = Field(foreign_key="outbound_messages.id", index=True)
    attempt: int
    claimed_at: datetime = _timestamp(nullable=False)
    answered_at: datetime | None = _timestamp(default=None)
    outcome: str | None = _text(16, default=None)  # sent, failed, throttled, unconfirmed
    provider_id: str | None = _text(200, default=None)
    error_code: int | None = Field(default=None)
    requested_by_id: int | None = Field(default=None, foreign_key="users.id")  # a retry's person


class MessageTemplate(SQLModel, table=True):
    """A WhatsApp message template as `leadms templates sync` last read it from Meta."""

    __tablename__ = "message_templates"
    __table_args__ = (UniqueConstraint("name", "language", name="uq_message_template"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = _text(512)
    language: str = _text(16)  # en_US, es, pt_BR
    category: str = _text(32)  # MARKETING, UTILITY, AUTHENTICATION
    status: TemplateStatus = _text(16)
    body: str = Field(sa_type=Lines)  # the body text with {{1}} placeholders
    parameters: int = 0  # how many {{n}} the body holds
    components: list[dict[str, Any]] = Field(default_factory=list, sa_type=CleanJSON)
    synced_at: datetime = _created_at()


class QuickReply(SQLModel, table=True):
    """A short text admins keep for reps to insert, with `{name}`-style variables."""

    __tablename__ = "quick_replies"

    id: int | None = Field(default=None, primary_key=True)
    title: str = _text(60, unique=True)
    body: str = Field(sa_type=Lines)
    created_at: datetime = _created_at()
    version: int = 1


class CallDirection(StrEnum):
    INBOUND = "inbound"  # the person rang us
    OUTBOUND = "outbound"  # a rep rang the person


class PhoneCallState(StrEnum):
    """How far a call on the phone system got; events only move it forward."""

    RINGING = "ringing"
    ANSWERED = "answered"
    ENDED = "ended"


class PhoneCall(SQLModel, table=True):
    """A call the phone system reported (Asterisk AMI, Twilio, a signed webhook), matched to
    a lead or client by number and to a rep by extension. `domain/phone/bridge.py` alone
    writes it; the unique provider id makes a replayed event harmless."""

    __tablename__ = "phone_calls"
    __table_args__ = (
        UniqueConstraint("provider", "provider_call_id", name="uq_phone_call_provider_id"),
        Index("ix_phone_calls_user_started", "user_id", "started_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    provider: str = _text(16)  # asterisk, twilio, webhook
    provider_call_id: str = _text(128)  # Linkedid, CallSid, the dialer's id
    direction: CallDirection = _text(16)
    extension: str | None = _text(32, default=None)
    user_id: int | None = Field(default=None, foreign_key="users.id")
    remote_number: str | None = _text(64, default=None)  # the person's number as reported
    remote_e164: str | None = _text(20, default=None, index=True)
    lead_id: int | None = Field(default=None, foreign_key="leads.id", index=True)
    client_id: int | None = Field(default=None, foreign_key="clients.id")
    state: PhoneCallState = _text(16, default=PhoneCallState.RINGING)
    end_status: str | None = _text(16, default=None)  # answered, no_answer, busy, failed, canceled
    started_at: datetime = _timestamp(nullable=False)
    answered_at: datetime | None = _timestamp(default=None)
    ended_at: datetime | None = _timestamp(default=None)
    duration_seconds: int | None = Field(default=None)  # talk time, from answer to hang-up
    recording_url: str | None = _text(1000, default=None)
    updated_at: datetime = _created_at()
    version: int = 1


class DuplicateDismissal(SQLModel, table=True):
    """A pair the duplicate finder proposed and a person said are two people: not proposed
    again (`first_lead_id` < `second_lead_id`)."""

    __tablename__ = "duplicate_dismissals"
    __table_args__ = (
        UniqueConstraint("first_lead_id", "second_lead_id", name="uq_duplicate_dismissal"),
    )

    id: int | None = Field(default=None, primary_key=True)
    first_lead_id: int = Field(foreign_key="leads.id")
    second_lead_id: int = Field(foreign_key="leads.id")
    dismissed_by_id: int | None = Field(default=None, foreign_key="users.id")
    dismissed_at: datetime = _timestamp(nullable=False)


class LeadMerge(SQLModel, table=True):
    """Two leads merged into one: what moved (`moved`: table → row ids) and what the changed
    columns held before (`before`), so `people unmerge` restores exactly that."""

    __tablename__ = "lead_merges"

    id: int | None = Field(default=None, primary_key=True)
    survivor_id: int = Field(foreign_key="leads.id", index=True)
    merged_id: int = Field(foreign_key="leads.id", index=True)
    merged_at: datetime = _timestamp(nullable=False)
    merged_by_id: int | None = Field(default=None, foreign_key="users.id")
    moved: dict[str, Any] = Field(default_factory=dict, sa_type=CleanJSON)
    before: dict[str, Any] = Field(default_factory=dict, sa_type=CleanJSON)
    unmerged_at: datetime | None = _timestamp(default=None)
    unmerged_by_id: int | None = Field(default=None, foreign_key="users.id")


class DialRequest(SQLModel, table=True):
    """Click to call from a rep's terminal: the bridge process (which alone holds the phone
    system's credentials) rings the rep's extension, then dials the number."""

    __tablename__ = "dial_requests"
    __table_args__ = (Index("ix_dial_requests_state", "state", "requested_at"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id")
    lead_id: int | None = Field(default=None, foreign_key="leads.id")
    extension: str = _text(32)
    number: str = _text(20)  # E.164
    state: str = _text(16, default="pending")  # pending, sent, failed, expired
    requested_at: datetime = _timestamp(nullable=False)
    handled_at: datetime | None = _timestamp(default=None)
    detail: str = _text(300, default="")  # the phone system's answer


class SavedFilter(SQLModel, table=True):
    """A lead-list search and its filters saved by a user under a name (`ctrl+s` in the list),
    recalled in the list or by `leads export --filter NAME`."""

    __tablename__ = "saved_filters"
    __table_args__ = (UniqueConstraint("user_id", "name", name="uq_saved_filter_user_name"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id")
    name: str = _text(80)
    criteria: dict[str, Any] = Field(default_factory=dict, sa_type=CleanJSON)
    created_at: datetime = _created_at()
    updated_at: datetime = _created_at()
