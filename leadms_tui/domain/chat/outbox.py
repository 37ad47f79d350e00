"""Chat replies: a rep writes an outbox row, the intake service sends it, Meta's answers and
status webhooks move it on. Nothing outside the channel's rules is ever queued.

- **The window.** Free text only within the channel's window from the person's last inbound
  message (any lead of the same sender); Messenger allows a person's reply up to 7 days,
  tagged HUMAN_AGENT; otherwise only an approved WhatsApp template.
- **Never twice.** The service claims a row (state `sending`, attempt + 1, an attempt row)
  and commits *before* it calls Meta; the attempt's key (`leadms:ID:ATTEMPT`) rides along
  and comes back in the status webhook (WhatsApp) or the echo (Messenger), so a send whose
  answer was lost is still reconciled. A claim nobody confirms within `UNCONFIRMED_AFTER`
  becomes `unconfirmed`: only a person's retry sends it again (a new attempt).
- **Never backwards.** A late or repeated status never moves a row back (read stays read).
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlmodel import Session

from leadms_tui.domain import audit, clock, events, text
from leadms_tui.domain.chat.channels import CHAT_RULES, HUMAN_AGENT_TAG
from leadms_tui.domain.chat.meta_errors import NextStep, explain, is_throttled
from leadms_tui.domain.chat.templates import fill_template, find_template
from leadms_tui.domain.errors import NotFoundError, ValidationError
from leadms_tui.domain.events import ReplySent
from leadms_tui.domain.leads.checks import check_may_edit, check_may_read
from leadms_tui.domain.models import (
    Channel,
    Inquiry,
    Lead,
    MessageAttempt,
    MessageState,
    Notification,
    OutboundMessage,
    Role,
    Setting,
    User,
    saved_id,
)

UNCONFIRMED_AFTER = timedelta(minutes=2)  # a claim with no answer, status or echo by then
THROTTLE_BACKOFF = (timedelta(seconds=5), timedelta(minutes=5))  # first wait, longest wait
# Messenger's "read up to" watermark is Meta's clock; our sent_at is when we stored Meta's
# answer, a moment later: a message sent this close before the watermark counts as covered.
WATERMARK_SLACK = timedelta(seconds=5)
META = audit.Actor(None, "meta")  # who moves a row on what Meta said
SENDER = audit.Actor(None, "sender")  # the intake service's sending loop
TOKEN_ALERT = "chat_token_alert"  # set when managers were told the token failed; a send clears it
_RANK = {
    MessageState.QUEUED: 0,
    MessageState.SENDING: 1,
    MessageState.UNCONFIRMED: 1,
    MessageState.SENT: 2,
    MessageState.FAILED: 3,  # "failed" may follow "sent" (undeliverable)
    MessageState.DELIVERED: 4,
    MessageState.READ: 5,
}
_STAMP = {
    MessageState.SENT: "sent_at",
    MessageState.DELIVERED: "delivered_at",
    MessageState.READ: "read_at",
    MessageState.FAILED: "failed_at",
}


# --- the window ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """A chat lead's customer-service window, from the person's last inbound message."""

    channel: Channel
    recipient: str
    last_inbound: datetime | None
    closes_at: datetime | None  # free text until then
    tagged_until: datetime | None  # Messenger: a person's reply, tagged, until then

    def free_text(self, at: datetime) -> bool:
        return self.closes_at is not None and at < self.closes_at

    def tagged(self, at: datetime) -> bool:
        """Free text only with the HUMAN_AGENT tag (Messenger, 24 hours to 7 days)."""
        return not self.free_text(at) and self.tagged_until is not None and at < self.tagged_until

    def open(self, at: datetime) -> bool:
        return self.free_text(at) or self.tagged(at)

    def left(self, at: datetime) -> timedelta:
        """Time left to write free text (tagged or not); zero when closed."""
        end = self.closes_at if self.free_text(at) else self.tagged_until
        return max(timedelta(0), (end - at) if end and at < end else timedelta(0))

    @property
    def templates(self) -> bool:
        return CHAT_RULES[self.channel].templates


def chat_window(session: Session, lead: Lead) -> Window | None:
    """The window of a WhatsApp or Messenger lead with a sender id; None for any other lead
    (it offers no composer)."""
    channel = Channel(lead.channel)
    if channel not in CHAT_RULES or not lead.external_id:
        return None
    rules = CHAT_RULES[channel]
    last = session.execute(
        select(func.max(Inquiry.received_at))
        .join(Lead, Lead.id == Inquiry.lead_id)
        .where(
            Lead.channel == channel,
            Lead.external_id == lead.external_id,
            Inquiry.channel == channel,
        )
    ).scalar()
    last = clock.as_utc(last) if last else None
    return Window(
        channel=channel,
        recipient=lead.external_id,
        last_inbound=last,
        closes_at=last + rules.window if last else None,
        tagged_until=last + rules.human_agent if last and rules.human_agent else None,
    )


# --- what a rep does -------------------------------------------------------------------------


def send_text(
    session: Session, lead_id: int, body: str, *, actor: audit.Actor, now: datetime | None = None
) -> OutboundMessage:
    """Queue a free-text reply; refused (nothing queued) when the window is closed, the text
    too long, or the lead not the rep's to edit."""
    at = clock.as_utc(now or clock.now())
    lead, window = _chat_lead(session, lead_id, actor)
    body = text.clean_text(body).strip()
    if not body.replace(text.REPLACEMENT, "").strip():  # nothing but controls: nothing to say
        raise ValidationError("the message is empty")
    limit = CHAT_RULES[window.channel].max_text
    if len(body) > limit:
        raise ValidationError(
            f"a {window.channel.value} message is at most {limit:,} characters; "
            f"this one has {len(body):,}"
        )
    if not window.open(at):
        instead = "pick an approved template" if window.templates else "call them instead"
        raise ValidationError(
            f"the {window.channel.value} window closed {_since_words(window, at)}: "
            f"free text cannot reach them; {instead}"
        )
    tag = HUMAN_AGENT_TAG if window.tagged(at) else None
    return _queue(session, _Content("text", body, tag=tag), lead, window, actor, at)


def send_template(
    session: Session,
    lead_id: int,
    name: str,
    values: dict[str, str],
    *,
    language: str | None = None,
    actor: audit.Actor,
    now: datetime | None = None,
) -> OutboundMessage:
    """Queue an approved WhatsApp template, its placeholders filled from `values`; a
    missing one is refused by name. Allowed whether the window is open or not."""
    at = clock.as_utc(now or clock.now())
    lead, window = _chat_lead(session, lead_id, actor)
    if not window.templates:
        raise ValidationError(f"{window.channel.value} has no message templates")
    template = find_template(session, name, language)
    body, parameters = fill_template(template, values)
    if len(body) > CHAT_RULES[window.channel].max_text:
        raise ValidationError("the filled template is longer than a message may be")
    content = _Content("template", body, template.name, template.language, parameters)
    return _queue(session, content, lead, window, actor, at)


def retry(
    session: Session, message_id: int, *, actor: audit.Actor, now: datetime | None = None
) -> OutboundMessage:
    """Send a failed or unconfirmed message again (a new attempt). Free text still needs the
    window open; an unconfirmed one may have reached them: the person decides."""
    at = clock.as_utc(now or clock.now())
    row = _locked(session, message_id)
    _lead, window = _chat_lead(session, row.lead_id, actor)
    if row.state not in (MessageState.FAILED, MessageState.UNCONFIRMED):
        raise ValidationError(
            f"this message is {MessageState(row.state).value}: only a failed or unconfirmed one"
            " is sent again"
        )
    if row.kind == "text" and not window.open(at):
        raise ValidationError("the window closed since: pick an approved template instead")
    before = audit.snapshot(row)
    row.state, row.not_before = MessageState.QUEUED, None
    row.error_code = row.error_title = row.error_detail = None
    row.tag = HUMAN_AGENT_TAG if row.kind == "text" and window.tagged(at) else row.tag
    row.version += 1
    audit.record_row(session, actor, "message.retry", row, before=before, at=at)
    return row


def _chat_lead(session: Session, lead_id: int, actor: audit.Actor) -> tuple[Lead, Window]:
    lead = session.get(Lead, lead_id)
    if lead is None:
        raise NotFoundError(f"no lead with id {lead_id}")
    check_may_edit(lead, actor)
    window = chat_window(session, lead)
    if window is None:
        raise ValidationError(
            f"{lead.number} has no WhatsApp or Messenger sender to reply to: call instead"
        )
    return lead, window


@dataclass(frozen=True)
class _Content:
    """What a rep queues: text, or a template filled in."""

    kind: str  # "text" or "template"
    body: str
    template_name: str | None = None
    template_language: str | None = None
    parameters: list[str] = field(default_factory=list)
    tag: str | None = None


def _queue(
    session: Session,
    content: _Content,
    lead: Lead,
    window: Window,
    actor: audit.Actor,
    at: datetime,
) -> OutboundMessage:
    """`content` addressed to the lead's sender, written and audited."""
    row = OutboundMessage(
        lead_id=saved_id(lead),
        channel=window.channel,
        recipient=window.recipient,
        kind=content.kind,
        body=content.body,
        template_name=content.template_name,
        template_language=content.template_language,
        parameters=content.parameters,
        tag=content.tag,
        created_by_id=actor.user_id,
        created_at=at,
    )
    session.add(row)
    session.flush()
    audit.record_row(session, actor, "message.queue", row, at=at)
    return row


def _since_words(window: Window, at: datetime) -> str:
    if window.last_inbound is None:
        return "(they never wrote)"
    hours = int((at - window.last_inbound).total_seconds() // 3600)
    return f"({hours} h since their last message)"


# --- what the sending service does ----------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    """One attempt the service is to send now: everything the request needs."""

    message_id: int
    attempt: int
    channel: Channel
    recipient: str
    kind: str
    body: str
    template_name: str | None
    template_language: str | None
    parameters: list[str]
    tag: str | None

    @property
    def key(self) -> str:
        return message_key(self.message_id, self.attempt)


def message_key(message_id: int, attempt: int) -> str:
    return f"leadms:{message_id}:{attempt}"


def parse_key(key: str | None) -> tuple[int, int] | None:
    """(message id, attempt) of a key we sent; None for anything else."""
    parts = (key or "").split(":")
    if len(parts) != 3 or parts[0] != "leadms" or not (parts[1].isdigit() and parts[2].isdigit()):
        return None
    return int(parts[1]), int(parts[2])


def claim_due(session: Session, *, now: datetime | None = None, limit: int = 20) -> list[Claim]:
    """Claim up to `limit` queued rows due now, oldest first. Each claim is a compare-and-set
    on the row's state, so two services never claim the same attempt; commit before sending."""
    at = clock.as_utc(now or clock.now())
    candidates = session.execute(
        select(OutboundMessage.id)
        .where(
            OutboundMessage.state == MessageState.QUEUED,
            or_(OutboundMessage.not_before.is_(None), OutboundMessage.not_before <= at),
        )
        .order_by(OutboundMessage.id)
        .limit(limit)
    ).scalars()
    claims = []
    for message_id in list(candidates):
        claimed = session.execute(
            update(OutboundMessage)
            .where(OutboundMessage.id == message_id, OutboundMessage.state == MessageState.QUEUED)
            .values(
                state=MessageState.SENDING,
                attempt=OutboundMessage.attempt + 1,
                claimed_at=at,
                version=OutboundMessage.version + 1,
            )
            .execution_options(synchronize_session=False)
        ).rowcount
        if not claimed:
            continue  # another service took it
        row = session.execute(
            select(OutboundMessage).where(OutboundMessage.id == message_id)
        ).scalar_one()
        session.refresh(row)
        session.add(MessageAttempt(message_id=row.id, attempt=row.attempt, claimed_at=at))
        audit.record(
            session, SENDER, "message.claim", "message", row.id,
            before={"state": MessageState.QUEUED.value},
            after={"state": MessageState.SENDING.value, "attempt": row.attempt}, at=at,
        )  # fmt: skip
        claims.append(
            Claim(
                message_id=saved_id(row),
                attempt=row.attempt,
                channel=Channel(row.channel),
                recipient=row.recipient,
                kind=row.kind,
                body=row.body,
                template_name=row.template_name,
                template_language=row.template_language,
                parameters=list(row.parameters),
                tag=row.tag,
            )
        )
    session.flush()
    return claims


def record_sent(
    session: Session,
    message_id: int,
    attempt: int,
    provider_id: str,
    *,
    now: datetime | None = None,
) -> None:
    """Meta's answer to a send: it took the message under `provider_id`."""
    at = clock.as_utc(now or clock.now())
    _answer(session, message_id, attempt, at, outcome="sent", provider_id=provider_id)
    row = _locked(session, message_id)
    if row.attempt == attempt:
        if not row.provider_id:
            row.provider_id = provider_id
        _advance(session, row, MessageState.SENT, at, META)
    session.execute(update(Setting).where(Setting.key == TOKEN_ALERT).values(value=""))


def record_failed(
    session: Session,
    message_id: int,
    attempt: int,
    *,
    code: int | None,
    title: str | None,
    detail: str | None,
    now: datetime | None = None,
) -> bool:
    """Meta refused a send. A throttling code puts it back in the queue after a backoff
    (True: the service should slow down); any other failure is shown with its reason."""
    at = clock.as_utc(now or clock.now())
    throttled = is_throttled(code)
    _answer(
        session, message_id, attempt, at, outcome="throttled" if throttled else "failed", code=code
    )
    row = _locked(session, message_id)
    if row.attempt != attempt or _RANK[MessageState(row.state)] >= _RANK[MessageState.SENT]:
        return throttled  # an older attempt, or a status already said more
    before = audit.snapshot(row)
    if throttled:
        row.state = MessageState.QUEUED
        row.not_before = at + backoff(attempt)
        row.version += 1
        audit.record_row(session, META, "message.throttled", row, before=before, at=at)
        return True
    _fail(session, row, code, title, detail, at)
    return False


def backoff(attempt: int) -> timedelta:
    first, longest = THROTTLE_BACKOFF
    return min(longest, first * 2 ** max(0, attempt - 1))


def expire_unconfirmed(session: Session, *, now: datetime | None = None) -> int:
    """Claims that no answer, status or echo confirmed within `UNCONFIRMED_AFTER` (the
    service died mid-send): shown as not confirmed, never resent by themselves."""
    at = clock.as_utc(now or clock.now())
    return audit.update_each(
        session,
        SENDER,
        "message.unconfirmed",
        OutboundMessage,
        [
            OutboundMessage.state == MessageState.SENDING,
            OutboundMessage.claimed_at < at - UNCONFIRMED_AFTER,
        ],
        {"state": MessageState.UNCONFIRMED, "version": OutboundMessage.version + 1},
        before={"state": MessageState.SENDING.value},
        at=at,
    )


@dataclass(frozen=True)
class StatusReport:
    """What a webhook said of one of our messages (WhatsApp `statuses[]`, a Messenger echo,
    delivery or read). `watermark`: Messenger's "everything sent before this" instant."""

    channel: Channel
    status: MessageState  # sent, delivered, read or failed
    at: datetime
    key: str | None = None
    provider_id: str | None = None
    recipient: str | None = None
    watermark: datetime | None = None
    error_code: int | None = None
    error_title: str | None = None
    error_detail: str | None = None


def apply_status(session: Session, report: StatusReport, *, now: datetime | None = None) -> int:
    """Move the rows the report is about forward (never back); how many changed. Repeated
    and out-of-order reports are harmless."""
    at = clock.as_utc(now or clock.now())
    rows = _rows_of(session, report)
    changed = 0
    for row in rows:
        if report.provider_id and not row.provider_id and report.watermark is None:
            row.provider_id = report.provider_id
        if report.status == MessageState.FAILED:
            if _RANK[MessageState(row.state)] < _RANK[MessageState.FAILED]:
                _fail(session, row, report.error_code, report.error_title, report.error_detail, at)
                changed += 1
        elif _advance(session, row, report.status, clock.as_utc(report.at), META):
            changed += 1
    return changed


def _rows_of(session: Session, report: StatusReport) -> list[OutboundMessage]:
    keyed = parse_key(report.key)
    if keyed is not None:
        row = session.get(OutboundMessage, keyed[0], with_for_update=True)
        if row is None or row.channel != report.channel:
            return []
        attempt = session.execute(
            select(MessageAttempt).where(
                MessageAttempt.message_id == row.id, MessageAttempt.attempt == keyed[1]
            )
        ).scalar()
        if attempt is not None and report.provider_id and not attempt.provider_id:
            attempt.provider_id = report.provider_id
        return [row] if row.attempt == keyed[1] else []  # an older attempt's news
    if report.provider_id and report.watermark is None:
        return list(
            session.execute(
                select(OutboundMessage)
                .where(
                    OutboundMessage.channel == report.channel,
                    OutboundMessage.provider_id == report.provider_id,
                )
                .with_for_update()
            ).scalars()
        )
    if report.watermark is not None and report.recipient:
        return list(
            session.execute(
                select(OutboundMessage)
                .where(
                    OutboundMessage.channel == report.channel,
                    OutboundMessage.recipient == report.recipient,
                    OutboundMessage.sent_at <= clock.as_utc(report.watermark) + WATERMARK_SLACK,
                    OutboundMessage.state.in_([MessageState.SENT, MessageState.DELIVERED]),
                )
                .with_for_update()
            ).scalars()
        )
    return []


def _advance(
    session: Session, row: OutboundMessage, state: MessageState, at: datetime, actor: audit.Actor
) -> bool:
    current = MessageState(row.state)
    if _RANK[state] <= _RANK[current]:
        return False
    before = audit.snapshot(row)
    first_sent = row.sent_at is None
    row.state = state
    for reached, stamp in _STAMP.items():  # delivered implies sent: fill what was skipped
        if (
            reached != MessageState.FAILED
            and _RANK[reached] <= _RANK[state]
            and getattr(row, stamp) is None
        ):
            setattr(row, stamp, at)
    row.version += 1
    audit.record_row(session, actor, f"message.{state.value}", row, before=before, at=at)
    if first_sent:
        events.publish(session, ReplySent(row.lead_id, saved_id(row), row.created_by_id), at=at)
    return True


def _fail(
    session: Session,
    row: OutboundMessage,
    code: int | None,
    title: str | None,
    detail: str | None,
    at: datetime,
) -> None:
    before = audit.snapshot(row)
    row.state = MessageState.FAILED
    row.failed_at = at
    row.error_code = code
    row.error_title = text.clean_line(title or "")[:300] or None
    row.error_detail = text.clean_line(detail or "")[:1000] or None
    row.version += 1
    audit.record_row(session, META, "message.failed", row, before=before, at=at)
    if explain(code, title, detail)[1] == NextStep.TELL_ADMIN:
        _tell_managers_once(session, row, at)


def _tell_managers_once(session: Session, row: OutboundMessage, at: datetime) -> None:
    told = session.get(Setting, TOKEN_ALERT, with_for_update=True)
    if told is not None and told.value:
        return
    if told is None:
        session.add(Setting(key=TOKEN_ALERT, value=at.isoformat()))
    else:
        told.value = at.isoformat()
    managers = session.execute(
        select(User.id).where(User.role.in_([Role.MANAGER, Role.ADMIN]), User.active.is_(True))
    ).scalars()
    message = (
        "Chat replies fail: the service's Meta access token expired or was revoked. "
        "Renew it in the intake service's environment, then retry the failed messages."
    )
    for user_id in managers:
        session.add(
            Notification(user_id=user_id, lead_id=row.lead_id, message=message, created_at=at)
        )


def _answer(
    session: Session,
    message_id: int,
    attempt: int,
    at: datetime,
    *,
    outcome: str,
    provider_id: str | None = None,
    code: int | None = None,
) -> None:
    session.execute(
        update(MessageAttempt)
        .where(MessageAttempt.message_id == message_id, MessageAttempt.attempt == attempt)
        .values(answered_at=at, outcome=outcome, provider_id=provider_id, error_code=code)
        .execution_options(synchronize_session=False)
    )


def _locked(session: Session, message_id: int) -> OutboundMessage:
    row = session.get(OutboundMessage, message_id, with_for_update=True, populate_existing=True)
    if row is None:
        raise NotFoundError(f"no message with id {message_id}")
    return row


# --- reading the conversation ----------------------------------------------------------------


@dataclass(frozen=True)
class ThreadItem:
    at: datetime
    inbound: bool
    text: str
    message_id: int | None = None  # outbound only
    state: MessageState | None = None
    author: str | None = None  # who wrote an outbound message
    template: str | None = None
    reason: str | None = None  # a failure in words
    next_step: NextStep | None = None
    attempts: int = 0


@dataclass(frozen=True)
class Conversation:
    lead_id: int
    window: Window | None
    items: list[ThreadItem]


def conversation(
    session: Session, lead_id: int, *, viewer: audit.Actor, limit: int = 200
) -> Conversation:
    """The lead's thread: the person's inbound messages on the channel (every lead of the
    same sender) and our replies, oldest first, the newest `limit`."""
    check_may_read(session, viewer, lead_id)
    lead = session.get(Lead, lead_id)
    if lead is None:
        raise NotFoundError(f"no lead with id {lead_id}")
    window = chat_window(session, lead)
    if window is None:
        inbound_leads = select(Lead.id).where(Lead.id == lead_id)
        outbound_filter = OutboundMessage.lead_id == lead_id
    else:
        inbound_leads = select(Lead.id).where(
            Lead.channel == window.channel, Lead.external_id == window.recipient
        )
        outbound_filter = (OutboundMessage.channel == window.channel) & (
            OutboundMessage.recipient == window.recipient
        )
    items = [
        ThreadItem(at=clock.as_utc(received), inbound=True, text=message or "")
        for received, message in session.execute(
            select(Inquiry.received_at, Inquiry.message)
            .where(Inquiry.lead_id.in_(inbound_leads))
            .order_by(Inquiry.received_at.desc())
            .limit(limit)
        )
    ]
    authors = {i: name for i, name in session.execute(select(User.id, User.username))}
    for row in session.execute(
        select(OutboundMessage)
        .where(outbound_filter)
        .order_by(OutboundMessage.id.desc())
        .limit(limit)
    ).scalars():
        reason = step = None
        if row.state == MessageState.FAILED:
            reason, step = explain(row.error_code, row.error_title, row.error_detail)
        elif row.state == MessageState.UNCONFIRMED:
            reason = "Not confirmed: the service stopped while sending; it may have arrived."
            step = NextStep.RETRY
        items.append(
            ThreadItem(
                at=clock.as_utc(row.created_at),
                inbound=False,
                text=row.body,
                message_id=row.id,
                state=MessageState(row.state),
                author=authors.get(row.created_by_id) if row.created_by_id else None,
                template=row.template_name,
                reason=reason,
                next_step=step,
                attempts=row.attempt,
            )
        )
    items.sort(key=lambda item: (item.at, item.message_id or 0))  # same instant: as written
    return Conversation(lead_id=lead_id, window=window, items=items[-limit:])


def messages_of(session: Session, lead_id: int, *, viewer: audit.Actor) -> list[OutboundMessage]:
    """The lead's outbound messages, oldest first (the CLI's `messages list`)."""
    check_may_read(session, viewer, lead_id)
    return list(
        session.execute(
            select(OutboundMessage)
            .where(OutboundMessage.lead_id == lead_id)
            .order_by(OutboundMessage.id)
        ).scalars()
    )
