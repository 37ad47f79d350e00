"""Domain events: what a service announces inside its writing transaction, and the one
dispatcher that hands each event to its subscribers (rules, follow-ups, onboarding).

Services import this module, never their subscribers: a newcomer reads a service without
reading the rules, and a new reaction plugs in by adding a line to `subscribers.py`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
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


@dataclass(frozen=True)
class CallSaved:
    lead_id: int
    call_id: int | None  # None in a preview: the call is not saved yet
    outcome: str
    picked_time: datetime | None = None  # the callback time the rep chose
    followup_chosen: bool = False  # the rep chose the next follow-up (or none)


@dataclass(frozen=True)
class MeetingBooked:
    lead_id: int
    meeting_id: int
    user_id: int | None  # who booked it


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
class LeadConverted:
    lead_id: int
    client_id: int
    sale_id: int
    actor: Actor
    template_id: int | None  # the onboarding template the sale starts, if any


DomainEvent = (
    LeadCreated | CallSaved | MeetingBooked | MeetingOutcomeSet | LeadClosed | LeadConverted
)


@dataclass
class Effects:
    """What subscribers did (or, in a preview, would do), for the service to report."""

    followup_due: datetime | None = None
    followup_reason: str | None = None
    descriptions: list[str] = field(default_factory=list)


Handler = Callable[[Session, DomainEvent, datetime, Effects], None]

_SUBSCRIBERS = "leadms_tui.domain.subscribers"  # loaded by name: services never import it


def publish(session: Session, event: DomainEvent, *, at: datetime) -> Effects:
    """Hand `event` to every subscriber, in order, inside the caller's transaction."""
    effects = Effects()
    for handler in _table().HANDLERS.get(type(event), ()):
        handler(session, event, at, effects)
    return effects


def preview(session: Session, event: DomainEvent, *, at: datetime) -> Effects:
    """What `publish` would do if `event` happened at `at`; nothing is written."""
    effects = Effects()
    for handler in _table().PREVIEWS.get(type(event), ()):
        handler(session, event, at, effects)
    return effects


def _table():
    return importlib.import_module(_SUBSCRIBERS)
