"""A person, as Lead MS holds them: every lead that shares a phone (E.164), an email
(lower-cased) or a channel sender id with the one asked about, their repeats, and the clients
made from those leads or sharing the phone or email. Followed to a fixed point, so a person
who wrote from WhatsApp and later filled a form with the same email is one person."""

from dataclasses import dataclass

from sqlalchemy import or_, select, tuple_
from sqlmodel import Session

from leadms_tui.domain.errors import NotFoundError, ValidationError
from leadms_tui.domain.leads.checks import validated_email
from leadms_tui.domain.leads.phones import normalize_phone
from leadms_tui.domain.models import Client, Lead, Sale, saved_id

MAX_LEADS = 5_000  # a "person" larger than this is a shared number (a switchboard), not a person


@dataclass(frozen=True)
class Person:
    lead_ids: list[int]
    client_ids: list[int]
    phones: list[str]
    emails: list[str]


def find_person(
    session: Session,
    *,
    lead_number: str | None = None,
    phone: str | None = None,
    email: str | None = None,
    region: str = "US",
) -> Person:
    """The person behind a lead number, a phone or an email (exactly one is given)."""
    given = [v for v in (lead_number, phone, email) if v]
    if len(given) != 1:
        raise ValidationError("give one of: a lead number, --phone or --email")
    phones: set[str] = set()
    emails: set[str] = set()
    senders: set[tuple[str, str]] = set()
    lead_ids: set[int] = set()
    if lead_number:
        lead = session.execute(select(Lead).where(Lead.number == lead_number.strip())).scalar()
        if lead is None:
            raise NotFoundError(f"no lead {lead_number.strip()}")
        lead_ids.add(saved_id(lead))
        _collect(lead, phones, emails, senders)
    elif phone:
        e164 = normalize_phone(phone, region).e164
        if e164 is None:
            raise ValidationError(f"{phone!r} is not a phone number")
        phones.add(e164)
    else:
        emails.add((validated_email(email) or "").lower())
    while True:
        conditions = []
        if phones:
            conditions.append(Lead.phone_e164.in_(phones))
        if emails:
            conditions.append(Lead.email_lower.in_(emails))
        if senders:
            conditions.append(tuple_(Lead.channel, Lead.external_id).in_(senders))
        if lead_ids:
            conditions.append(Lead.repeat_of_id.in_(lead_ids))
        found = list(session.execute(select(Lead).where(or_(*conditions))).scalars())
        new = {saved_id(lead) for lead in found} - lead_ids
        if not new:
            break
        lead_ids |= new
        if len(lead_ids) > MAX_LEADS:
            raise ValidationError(
                f"more than {MAX_LEADS:,} leads share these details: a shared number, not a person"
            )
        for lead in found:
            _collect(lead, phones, emails, senders)
    if not lead_ids and not phones and not emails:
        raise NotFoundError("nobody with those details")
    client_conditions = [Client.id.in_(select(Sale.client_id).where(Sale.lead_id.in_(lead_ids)))]
    client_conditions.append(Client.first_lead_id.in_(lead_ids))
    if phones:
        client_conditions.append(Client.phone_e164.in_(phones))
    if emails:
        client_conditions.append(Client.email_lower.in_(emails))
    client_ids = sorted(session.execute(select(Client.id).where(or_(*client_conditions))).scalars())
    if not lead_ids and not client_ids:
        raise NotFoundError("nobody with those details")
    return Person(sorted(lead_ids), client_ids, sorted(phones), sorted(emails))


def _collect(lead: Lead, phones: set[str], emails: set[str], senders: set[tuple[str, str]]) -> None:
    if lead.phone_e164:
        phones.add(lead.phone_e164)
    if lead.email_lower:
        emails.add(lead.email_lower)
    if lead.external_id:
        senders.add((str(lead.channel), lead.external_id))
