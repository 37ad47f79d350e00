"""Checks that leads, follow-ups, calls, meetings, sales and fields all apply to a lead."""

import re

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


def validated_email(text: str | None) -> str | None:
    """The trimmed address, None for blank, or a ValidationError for something that is not one."""
    email = (text or "").strip() or None
    if email is None:
        return None
    local, at, domain = email.rpartition("@")
    if not (at and _LOCAL.match(local) and _DOMAIN.match(domain)):
        raise ValidationError(f"invalid email {email!r}")
    return email
