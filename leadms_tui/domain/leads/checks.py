"""Checks that leads, follow-ups, calls, meetings, sales and fields all apply to a lead."""

from leadms_tui.domain import audit
from leadms_tui.domain.errors import PermissionDeniedError, ValidationError
from leadms_tui.domain.models import Lead

MAX_NAME_LENGTH = 200


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
    if not (at and local and "." in domain and " " not in email and not domain.endswith(".")):
        raise ValidationError(f"invalid email {email!r}")
    return email
