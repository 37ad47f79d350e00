"""WhatsApp message templates (synced from Meta) and the team's quick replies.

A template's body holds numbered (`{{1}}`) or named (`{{first_name}}`) placeholders; a rep
fills them, prefilled from the lead, and sees the final text before sending. Only an
APPROVED template can be picked. A quick reply is a short text with `{name}`-style
variables, expanded from the lead and the rep when inserted.
"""

import re
import string
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from leadms_tui.domain import audit, clock
from leadms_tui.domain.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from leadms_tui.domain.models import Lead, MessageTemplate, QuickReply, TemplateStatus, User

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")
MAX_QUICK_REPLY = 1000


@dataclass(frozen=True)
class SyncReport:
    added: int
    changed: int
    gone: int  # no longer listed by Meta: kept, marked DISABLED


def placeholders(body: str) -> list[str]:
    """The template's placeholders in order of first use: ["1", "2"] or ["first_name"]."""
    seen: list[str] = []
    for name in _PLACEHOLDER.findall(body):
        if name not in seen:
            seen.append(name)
    return seen


def body_of(components: list[dict[str, Any]]) -> str:
    """The text of a template's BODY component (Meta's `components` list)."""
    for component in components:
        if isinstance(component, dict) and str(component.get("type", "")).upper() == "BODY":
            return str(component.get("text") or "")
    return ""


def store_templates(
    session: Session,
    listed: list[dict[str, Any]],
    *,
    actor: audit.Actor,
    now: datetime | None = None,
) -> SyncReport:
    """Make the stored templates what Meta listed (name, language, category, status,
    components); one listed no more is kept as DISABLED so a sent message still names it."""
    at = clock.as_utc(now or clock.now())
    stored = {(t.name, t.language): t for t in session.execute(select(MessageTemplate)).scalars()}
    added = changed = 0
    seen: set[tuple[str, str]] = set()
    for item in listed:
        name, language = str(item.get("name") or ""), str(item.get("language") or "")
        if not name or not language:
            continue
        components = [c for c in item.get("components") or [] if isinstance(c, dict)]
        status = str(item.get("status") or "").upper()
        values = {
            "category": str(item.get("category") or "")[:32],
            "status": status if status in TemplateStatus.__members__ else TemplateStatus.DISABLED,
            "body": body_of(components),
            "components": components,
        }
        values["parameters"] = len(placeholders(values["body"]))
        seen.add((name, language))
        row = stored.get((name, language))
        if row is None:
            row = MessageTemplate(name=name, language=language, synced_at=at, **values)
            session.add(row)
            session.flush()
            audit.record_row(session, actor, "template.sync", row, at=at)
            added += 1
            continue
        before = audit.snapshot(row)
        if any(getattr(row, key) != value for key, value in values.items()):
            for key, value in values.items():
                setattr(row, key, value)
            changed += 1
            audit.record_row(session, actor, "template.sync", row, before=before, at=at)
        row.synced_at = at
    gone = 0
    for key, row in stored.items():
        if key not in seen and row.status != TemplateStatus.DISABLED:
            before = audit.snapshot(row)
            row.status = TemplateStatus.DISABLED
            audit.record_row(session, actor, "template.sync", row, before=before, at=at)
            gone += 1
    return SyncReport(added, changed, gone)


def list_templates(session: Session) -> list[MessageTemplate]:
    return list(
        session.execute(
            select(MessageTemplate).order_by(MessageTemplate.name, MessageTemplate.language)
        ).scalars()
    )


def pickable_templates(session: Session, language: str | None) -> list[MessageTemplate]:
    """APPROVED templates, those in `language` ("es" matches "es" and "es_MX") first."""
    approved = [t for t in list_templates(session) if t.status == TemplateStatus.APPROVED]
    if not language:
        return approved
    return sorted(approved, key=lambda t: t.language.split("_")[0].lower() != language.lower())


def find_template(session: Session, name: str, language: str | None = None) -> MessageTemplate:
    """The template called `name` (in `language`, or the only one by that name)."""
    query = select(MessageTemplate).where(MessageTemplate.name == name)
    if language:
        query = query.where(MessageTemplate.language == language)
    found = list(session.execute(query).scalars())
    if not found:
        where = f" in {language}" if language else ""
        raise NotFoundError(f"no template {name!r}{where} (run `leadms templates sync`)")
    if len(found) > 1:
        languages = ", ".join(sorted(t.language for t in found))
        raise ValidationError(f"template {name!r} exists in {languages}: say which language")
    return found[0]


def suggested_values(template: MessageTemplate, lead: Lead, rep: User | None) -> dict[str, str]:
    """Each placeholder prefilled from the lead where its name says what it is (`{{1}}`,
    `first_name`, `name`: the lead's first name or name; `rep`/`agent`: the rep's name)."""
    values: dict[str, str] = {}
    for name in placeholders(template.body):
        key = name.lower()
        if key in ("1", "first_name", "firstname"):
            values[name] = lead.name.split()[0] if lead.name.split() else lead.name
        elif key in ("name", "full_name", "customer_name"):
            values[name] = lead.name
        elif key in ("rep", "agent", "agent_name", "rep_name") and rep is not None:
            values[name] = rep.display_name or rep.username
        elif key in ("number", "lead_number", "reference"):
            values[name] = lead.number
        else:
            values[name] = ""
    return values


def fill_template(template: MessageTemplate, values: dict[str, str]) -> tuple[str, list[str]]:
    """The final text and the parameters in placeholder order; a missing or empty value is
    refused with its name. A template that is not APPROVED cannot be sent."""
    if template.status != TemplateStatus.APPROVED:
        raise ValidationError(
            f"template {template.name!r} is {template.status.lower()}: only an approved "
            "template can be sent"
        )
    parameters: list[str] = []
    for name in placeholders(template.body):
        value = " ".join((values.get(name) or "").split())
        if not value:
            raise ValidationError(
                f"template {template.name!r}: parameter {{{{{name}}}}} is missing"
            )
        parameters.append(value)
    filled = dict(zip(placeholders(template.body), parameters, strict=True))
    return _PLACEHOLDER.sub(lambda m: filled[m.group(1)], template.body), parameters


# --- quick replies -------------------------------------------------------------------------


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"  # an unknown variable stays as written


def expand_quick_reply(body: str, lead: Lead, rep: User | None) -> str:
    """`{first_name}`, `{name}`, `{number}`, `{rep}` filled in; other braces left alone."""
    first = lead.name.split()[0] if lead.name.split() else lead.name
    values = _Blank(
        first_name=first,
        name=lead.name,
        number=lead.number,
        rep=(rep.display_name or rep.username) if rep else "",
    )
    try:
        return string.Formatter().vformat(body, (), values)
    except (ValueError, IndexError, KeyError, AttributeError):
        return body  # a stray "{" or "{0}": insert it as written


def list_quick_replies(session: Session) -> list[QuickReply]:
    return list(session.execute(select(QuickReply).order_by(QuickReply.title)).scalars())


def save_quick_reply(
    session: Session,
    title: str,
    body: str,
    *,
    actor: audit.Actor,
    reply_id: int | None = None,
    version: int | None = None,
    now: datetime | None = None,
) -> QuickReply:
    """Add a quick reply, or change one (`reply_id` at `version`); admins only."""
    at = clock.as_utc(now or clock.now())
    if actor.role not in (None, "admin"):
        raise PermissionDeniedError("only an admin can change the quick replies")
    title, body = " ".join(title.split()), body.strip()
    if not title or not body:
        raise ValidationError("a quick reply needs a title and a text")
    if len(title) > 60 or len(body) > MAX_QUICK_REPLY:
        raise ValidationError(
            f"a quick reply's title is at most 60 characters, its text {MAX_QUICK_REPLY}"
        )
    clash = session.execute(select(QuickReply).where(QuickReply.title == title)).scalar()
    if clash is not None and clash.id != reply_id:
        raise ValidationError(f"a quick reply called {title!r} exists")
    if reply_id is None:
        row = QuickReply(title=title, body=body, created_at=at)
        session.add(row)
        session.flush()
        audit.record_row(session, actor, "quick_reply.create", row, at=at)
        return row
    row = session.get(QuickReply, reply_id, with_for_update=True)
    if row is None:
        raise NotFoundError("that quick reply was deleted")
    if version is not None and row.version != version:
        raise ConflictError("someone changed this quick reply meanwhile: reopen it")
    before = audit.snapshot(row)
    row.title, row.body, row.version = title, body, row.version + 1
    audit.record_row(session, actor, "quick_reply.update", row, before=before, at=at)
    return row


def delete_quick_reply(
    session: Session, reply_id: int, *, actor: audit.Actor, now: datetime | None = None
) -> None:
    at = clock.as_utc(now or clock.now())
    if actor.role not in (None, "admin"):
        raise PermissionDeniedError("only an admin can change the quick replies")
    row = session.get(QuickReply, reply_id, with_for_update=True)
    if row is None:
        raise NotFoundError("that quick reply was deleted")
    audit.record(
        session,
        actor,
        "quick_reply.delete",
        "quick_reply",
        row.id,
        before=audit.snapshot(row),
        at=at,
    )
    session.delete(row)
