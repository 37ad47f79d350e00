"""Who a lead being typed would repeat: earlier leads with the same phone or email.

The new-lead form asks this while the person types, so a repeat is seen before saving; the
intake service decides the same thing (`intake.earlier_leads`) when the lead is saved.
"""

from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlmodel import Session

from leadms_tui.domain.errors import ValidationError
from leadms_tui.domain.leads.checks import validated_email
from leadms_tui.domain.leads.phones import normalize_phone
from leadms_tui.domain.models import Lead


@dataclass(frozen=True)
class EarlierLead:
    number: str
    name: str
    status: str
    matched: str  # "phone", "email" or "phone and email"


def find_repeats(
    session: Session, *, phone: str | None, email: str | None, region: str, limit: int = 3
) -> list[EarlierLead]:
    """The first `limit` earlier leads sharing the phone (any format) or the email (any
    case), oldest first. Text that is not (yet) a phone or an email matches nothing."""
    e164 = normalize_phone(phone, region).e164 if phone and phone.strip() else None
    try:
        email_lower = (validated_email(email) or "").lower() or None
    except ValidationError:
        email_lower = None  # half typed: no match yet, and no error while typing
    matches = []
    if e164:
        matches.append(Lead.phone_e164 == e164)
    if email_lower:
        matches.append(Lead.email_lower == email_lower)
    if not matches:
        return []
    rows = session.execute(
        select(Lead.number, Lead.name, Lead.status, Lead.phone_e164, Lead.email_lower)
        .where(or_(*matches))
        .order_by(Lead.id)
        .limit(limit)
    ).all()
    found = []
    for number, name, status, lead_phone, lead_email in rows:
        same = [("phone", e164), ("email", email_lower)]
        matched = [what for what, mine in same if mine and mine in (lead_phone, lead_email)]
        found.append(EarlierLead(number, name, str(status), " and ".join(matched)))
    return found
