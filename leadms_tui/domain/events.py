"""Domain events: what a service announces inside its writing transaction, and the
dispatcher that hands each event to its subscribers (rules, follow-ups, onboarding).

Services import this module, never their subscribers: a newcomer reads a service without
reading the rules, and a new reaction plugs in by adding a line to `subscribers.py`.
The dispatcher a service publishes to is the one attached to its session: the composition
root (`leadms_tui/bootstrap.py`) builds it from the subscriber table and hands it to the
database, which attaches it to every session it opens; a test may hand its own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from sqlmodel import Session

if TYPE_CHECKING:
    from leadms_tui.domain.audit import Actor


@dataclass(frozen=True)
class LeadCreated:
    lead_id: int
    channel: str
    assignment_done: bool = False  # intake already gave it a rep or made it wait


@dataclass(frozen=True)
class CallSaved:
    lead_id: int
    call_id: int | None  # None in a preview: the call is not saved yet
    outcome: str
    picked_time: datetime | None = None  # the callback time the rep chose
    followup_chosen: bool = False  # the rep chose the next follow-up (or none)


@dataclass(frozen=True)
class MeetingOutcomeSet:
    lead_id: int
    meeting_id: int
    outcome: str


@dataclass(frozen=True)
class LeadClosed:
    """A lead became won or lost."""

    lead_id: int
    status: str
    actor: Actor


@dataclass(frozen=True)
class MeetingBooked:
    lead_id: int
    meeting_id: int
    actor: Actor


@dataclass(frozen=True)
class LeadConverted:
    lead_id: int
    client_id: int
    sale_id: int
    actor: Actor
    template_id: int | None  # the onboarding template the sale starts, if any


@dataclass(frozen=True)
class ReplySent:
    """Meta took a chat reply (the answer to the send, or a status or echo after it)."""

    lead_id: int
    message_id: int
    user_id: int | None  # who wrote it


DomainEvent = (
    LeadCreated
    | CallSaved
    | MeetingOutcomeSet
    | MeetingBooked
    | LeadClosed
    | LeadConverted
    | ReplySent
)


@dataclass
class Effects:
    """What subscribers did (or, in a preview, would do), for the service to report."""

    followup_due: datetime | None = None
    followup_reason: str | None = None
    descriptions: list[str] = field(default_factory=list)


Handler = Callable[[Session, DomainEvent, datetime, Effects], None]

Table = Mapping[type, Sequence[Handler]]
SESSION_KEY = "leadms_dispatcher"  # where a database puts its dispatcher in `Session.info`


@dataclass(frozen=True)
class Dispatcher:
    """Who reacts to which event, in order: `handlers` when it happens, `previews` when a
    screen asks what would happen. Empty tables are a dispatcher that runs nothing."""

    handlers: Table = field(default_factory=dict)
    previews: Table = field(default_factory=dict)

    def publish(self, session: Session, event: DomainEvent, *, at: datetime) -> Effects:
        return _run(self.handlers, session, event, at)

    def preview(self, session: Session, event: DomainEvent, *, at: datetime) -> Effects:
        return _run(self.previews, session, event, at)


def publish(session: Session, event: DomainEvent, *, at: datetime) -> Effects:
    """Hand `event` to every subscriber, in order, inside the caller's transaction."""
    return dispatcher_of(session).publish(session, event, at=at)


def preview(session: Session, event: DomainEvent, *, at: datetime) -> Effects:
    """What `publish` would do if `event` happened at `at`; nothing is written."""
    return dispatcher_of(session).preview(session, event, at=at)


def dispatcher_of(session: Session) -> Dispatcher:
    """The dispatcher attached to `session`; none is an error, not a silent no-op (rules,
    follow-ups and onboarding would quietly not happen)."""
    dispatcher = session.info.get(SESSION_KEY)
    if dispatcher is None:
        raise RuntimeError(
            "this session has no event dispatcher: open the database through "
            "leadms_tui.bootstrap (or give Database a dispatcher)"
        )
    return dispatcher


def _run(table: Table, session: Session, event: DomainEvent, at: datetime) -> Effects:
    effects = Effects()
    for handler in table.get(type(event), ()):
        handler(session, event, at, effects)
    return effects
