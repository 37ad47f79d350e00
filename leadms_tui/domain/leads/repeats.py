"""Who a lead being typed would repeat: earlier leads with the same phone or email.

The new-lead form asks this while the person types, so a repeat is seen before saving; the
intake service decides the same thing (`earlier_leads`) when the lead is saved.
"""

from dataclasses import dataclass

from sqlalchemy import Select, bindparam, func, or_, select
from sqlmodel import Session

from leadms_tui.domain.errors import ValidationError
from leadms_tui.domain.leads.checks import validated_email
from leadms_tui.domain.leads.phones import normalize_phone
from leadms_tui.domain.models import Lead, table_of

# Intake's hot path: statements built once (compiled SQL is cached by SQLAlchemy).
_LEADS = table_of(Lead)
_NO_LIMIT = 2**31 - 1  # "before" bound that excludes nothing (ids are 32-bit integers)


def _earlier_statement(by_phone: bool, by_email: bool) -> Select:
    matches = []
    if by_phone:
        matches.append(_LEADS.c.phone_e164 == bindparam("phone"))
    if by_email:
        matches.append(_LEADS.c.email_lower == bindparam("email"))
    return (
        select(
            _LEADS.c.id,
            _LEADS.c.number,
            _LEADS.c.owner_id,
            func.count().over(),
            _LEADS.c.merged_into_id,
        )
        .where(or_(*matches), _LEADS.c.id < bindparam("before"))
        .order_by(_LEADS.c.id)
        .limit(1)
    )


_SURVIVOR = select(_LEADS.c.id, _LEADS.c.number, _LEADS.c.owner_id, _LEADS.c.merged_into_id).where(
    _LEADS.c.id == bindparam("id")
)
_EARLIER = {
    (p, e): _earlier_statement(p, e) for p in (True, False) for e in (True, False) if p or e
}


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


def earlier_leads(
    session: Session, e164: str | None, email_lower: str | None, *, before: int | None = None
) -> tuple[int | None, str | None, int | None, int]:
    """(id, number, owner id) of the first lead sharing the phone or email, and how many do.

    `before` limits the search to leads taken in before that lead id. Ids are handed out
    under the day's lock, so the first lead has the lowest id.
    """
    if not (e164 or email_lower):
        return None, None, None, 0
    statement = _EARLIER[(bool(e164), bool(email_lower))]
    params = {"phone": e164, "email": email_lower, "before": before or _NO_LIMIT}
    conn = session.connection()
    row = conn.execute(statement, params).first()
    if row is None:
        return None, None, None, 0
    lead_id, number, owner_id, count, merged_into = row
    for _ in range(5):  # merged away: the person's lead is now the one it was merged into
        if merged_into is None:
            break
        lead_id, number, owner_id, merged_into = conn.execute(_SURVIVOR, {"id": merged_into}).one()
    return lead_id, number, owner_id, count


def survivor_id(session: Session, lead_id: int) -> int:
    """The lead that stands for `lead_id`: itself, or the one it was merged into (a chain of
    merges followed to its end)."""
    conn = session.connection()
    for _ in range(20):  # a merge into a merged lead is refused: chains are short
        merged_into = conn.execute(_SURVIVOR, {"id": lead_id}).one()[3]
        if merged_into is None:
            break
        lead_id = merged_into
    return lead_id
