"""Checks that leads, follow-ups, calls, meetings, sales and fields all apply to a lead."""

import re

from sqlalchemy import ColumnElement, or_, select
from sqlmodel import Session

from leadms_tui.domain import audit
from leadms_tui.domain.errors import PermissionDeniedError, ValidationError
from leadms_tui.domain.models import Lead

MAX_NAME_LENGTH = 200
# An address as people write them: a local part without spaces or the characters that
# separate addresses and URLs (so "https://ana@example.com" is a link, not an email), and a
# domain of dot-separated labels (any script) ending in a label of letters.
_LOCAL = re.compile(r"^[^\s@:/\\<>()\[\],;\"]+$")
_DOMAIN = re.compile(r"^(?:(?!-)[^\W_](?:[\w-]*[^\W_])?\.)+(?:[^\W\d_]{2,}|xn--[a-z0-9-]+)$")


def check_may_edit(lead: Lead, actor: audit.Actor) -> None:
    """Reps work their own leads and unassigned ones; managers and admins any lead."""
    if actor.is_rep and lead.owner_id not in (None, actor.user_id):
        raise PermissionDeniedError(f"{lead.number} belongs to another rep")


def reads_own_only(session: Session, viewer: audit.Actor) -> bool:
    """True when `viewer` is a rep on a team whose reps see only their own leads (`reps_see
    own`); managers, admins and automatic processes read every lead."""
    from leadms_tui.domain.team.settings import load_settings

    return viewer.is_rep and load_settings(session).reps_see == "own"


def may_read(session: Session, viewer: audit.Actor, owner_id: int | None) -> bool:
    """Whether `viewer` may open a lead (its contact, fields and files) owned by `owner_id`."""
    return owner_id in (None, viewer.user_id) or not reads_own_only(session, viewer)


def check_may_read(session: Session, viewer: audit.Actor, lead_id: int) -> None:
    """The one rule every read of a lead goes through (TUI detail, CLI, files, web)."""
    row = session.execute(select(Lead.number, Lead.owner_id).where(Lead.id == lead_id)).first()
    if row is not None and not may_read(session, viewer, row.owner_id):
        raise PermissionDeniedError(
            f"{row.number} belongs to another rep (this team's reps see their own leads)"
        )


def readable_leads(session: Session, viewer: audit.Actor) -> ColumnElement | None:
    """A condition on Lead for the leads `viewer` may open; None when that is every lead."""
    if not reads_own_only(session, viewer):
        return None
    return or_(Lead.owner_id.is_(None), Lead.owner_id == viewer.user_id)


def validated_email(text: str | None) -> str | None:
    """The trimmed address, None for blank, or a ValidationError for something that is not one."""
    email = (text or "").strip() or None
    if email is None:
        return None
    local, at, domain = email.rpartition("@")
    if not (at and _LOCAL.match(local) and _DOMAIN.match(domain)):
        raise ValidationError(f"invalid email {email!r}")
    return email
