"""Every write path leaves an audit row: each service function that changes data is run here
and must add the audit event it names, in the same transaction. A new public service
function must be added to WRITES or NOT_WRITES, or the completeness test fails."""

import base64
import importlib
import inspect
import pkgutil
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from leadms_tui.domain import clock
from leadms_tui.domain.audit import SYSTEM, Actor
from leadms_tui.domain.chat import outbox, templates
from leadms_tui.domain.events import Effects, LeadClosed, LeadConverted, LeadCreated
from leadms_tui.domain.fields import definitions, files, kinds, values
from leadms_tui.domain.leads import bulk_intake, edits, intake, saved_filters
from leadms_tui.domain.models import (
    AssignmentWait,
    AuditEvent,
    CallDirection,
    CallOutcome,
    Channel,
    Commission,
    CommissionState,
    FieldEntity,
    FieldKind,
    FollowUp,
    FollowUpState,
    Lead,
    LeadStatus,
    MeetingOutcome,
    MessageState,
    OnboardingTask,
    OnboardingTemplate,
    PhoneCallState,
    Role,
    Rule,
    RuleAction,
    RuleTrigger,
    Sale,
    TaskState,
)
from leadms_tui.domain.people import duplicates, erase, export, merge, person
from leadms_tui.domain.phone import bridge, dialing
from leadms_tui.domain.sales import clients, commission, conversion, onboarding
from leadms_tui.domain.team import access, assignment, settings, users
from leadms_tui.domain.work import calls, followups, meetings, rules

WED = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
ADMIN = Actor(None, "admin", Role.ADMIN)
PACKAGES = ["leads", "sales", "team", "work", "fields", "chat", "phone", "people"]
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c63f8cfc0f01f0005000201e2b3d2a40000000049454e44ae426082"
)

OTHER_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAQAAAADCAIAAAA7ljmRAAAAFElEQVR4nGM44WDAgASYkDkM+OQA9ucB"
    "TW4ALxEAAAAASUVORK5CYII="
)


@pytest.fixture(autouse=True)
def frozen():
    clock.set_clock(lambda: WED)
    yield
    clock.set_clock(None)


def _new_lead(db, n, owner=None):
    data = intake.LeadCreate(
        name=f"Lead {n}", phone=f"+4477009002{n:02d}", channel="website", owner_id=owner
    )
    return intake.create_lead(db, data, actor=SYSTEM).lead_id


@pytest.fixture
def world(db, team):
    """A lead of ana's with a field, a call, a follow-up, a meeting; a sale with tasks and a
    commission; a rule; an API token."""
    ana, maria = team["ana"], team["maria"]
    w = SimpleNamespace(ana=ana, maria=maria, db=db)
    db.write(
        lambda s: definitions.add_field(
            s, FieldEntity.LEAD, "budget", FieldKind.MONEY, actor=ADMIN, ctx=values.context(s)
        )
    )
    db.write(
        lambda s: definitions.add_field(
            s, FieldEntity.LEAD, "photo", FieldKind.IMAGE, actor=ADMIN, ctx=values.context(s)
        )
    )
    w.lead = _new_lead(db, 1, ana.id)
    db.write(lambda s: _upload(s, w))  # photo a.png
    w.sold = _new_lead(db, 2, ana.id)
    db.write(
        lambda s: commission.add_plan(
            s, "Standard", currency="USD", rate="10", make_default=True, actor=maria.actor
        )
    )
    w.sale = db.write(
        lambda s: conversion.convert_lead(
            s, w.sold, conversion.ConversionRequest(value="100"), actor=ana.actor
        )
    ).sale_id
    with db.reading() as s:
        w.client = s.get(Sale, w.sale).client_id
        w.task = s.execute(select(OnboardingTask.id).limit(1)).scalar_one()
    w.call = db.write(
        lambda s: calls.log_call(s, w.lead, CallOutcome.NO_ANSWER, actor=ana.actor)
    ).call_id
    w.followup = db.write(
        lambda s: followups.add_followup(
            s, w.lead, due_at=WED + timedelta(hours=2), reason="call back", actor=ana.actor
        )
    ).id
    w.meeting = db.write(
        lambda s: meetings.schedule_meeting(
            s, w.lead, starts_at=WED + timedelta(days=1), actor=ana.actor
        )
    )[0].id
    w.rule = db.write(
        lambda s: rules.save_rule(
            s,
            Rule(
                name="Chase",
                trigger=RuleTrigger.CALL_OUTCOME,
                trigger_values=["busy"],
                action=RuleAction.NOTIFY,
                action_params={"to": "owner", "message": "busy"},
            ),
            actor=ADMIN,
        )
    ).id
    return w


def _template_id(s):
    return s.execute(select(OnboardingTemplate.id).limit(1)).scalar_one()


def _unowned_lead_in_auto_mode(w, n):
    lead_id = _new_lead(w.db, n)  # assignment off: nobody gets it
    w.db.write(lambda s: settings.set_setting(s, "assignment_mode", "auto", actor=ADMIN))
    return lead_id


def _waiting(w, n):
    lead_id = _unowned_lead_in_auto_mode(w, n)
    w.db.write(lambda s: s.add(AssignmentWait(lead_id=lead_id, since=WED)))


def _commission_ids(s):
    return list(s.execute(select(Commission.id)).scalars())


def _version(s, lead_id):
    return s.get(Lead, lead_id).version


def _upload(s, w, data=PNG):
    info = files.store_file(s, data, "image/png")
    return values.set_fields(
        s, FieldEntity.LEAD, w.lead, {"photo": kinds.Upload(info.id, "a.png")}, actor=ADMIN
    )


def _parsed(s, w):
    return values.parse_values(s, FieldEntity.LEAD, {"budget": "75"}, values.context(s))


# function name → (how to run it on `world`, the audit action it must leave)


def _chat_lead(w) -> int:
    """A WhatsApp lead of ana's who wrote a minute ago (its window open)."""
    data = intake.LeadCreate(name="Wa", channel="whatsapp", external_id="447700900555",
                             message="hi", dedupe_key="wamid.w1", owner_id=w.ana.id)  # fmt: skip
    return w.db.write(lambda s: intake.receive_message(s, data, actor=SYSTEM)).lead_id


def _queued(w) -> int:
    lead_id = _chat_lead(w)
    return w.db.write(lambda s: outbox.send_text(s, lead_id, "hello", actor=w.ana.actor).id)


def _claimed(w) -> int:
    message_id = _queued(w)
    w.db.write(lambda s: outbox.claim_due(s))
    return message_id


def _failed(w) -> int:
    message_id = _claimed(w)
    w.db.write(lambda s: outbox.record_failed(s, message_id, 1, code=131026, title="x",
                                              detail=None))  # fmt: skip
    return message_id


def _quick_reply(w) -> int:
    return w.db.write(lambda s: templates.save_quick_reply(s, "Hi", "Hi {first_name}",
                                                           actor=ADMIN).id)  # fmt: skip


TEMPLATE = {"name": "hello", "language": "en_US", "category": "UTILITY", "status": "APPROVED",
            "components": [{"type": "BODY", "text": "Hi {{1}}"}]}  # fmt: skip


def _synced(w):
    return w.db.write(lambda s: templates.store_templates(s, [TEMPLATE], actor=ADMIN))


def _template_sent(w) -> int:
    _synced(w)
    lead_id = _chat_lead(w)
    return w.db.write(
        lambda s: outbox.send_template(s, lead_id, "hello", {"1": "Wa"}, actor=w.ana.actor).id
    )


def _sent(w) -> None:
    message_id = _claimed(w)
    w.db.write(lambda s: outbox.record_sent(s, message_id, 1, "wamid.x"))


def _retried(w) -> None:
    message_id = _failed(w)
    w.db.write(lambda s: outbox.retry(s, message_id, actor=w.ana.actor))


def _unconfirmed(w) -> None:
    _claimed(w)
    later = clock.now() + timedelta(minutes=5)
    w.db.write(lambda s: outbox.expire_unconfirmed(s, now=later))


def _delivered(w) -> None:
    key = outbox.message_key(_claimed(w), 1)
    report = outbox.StatusReport(Channel.WHATSAPP, MessageState.DELIVERED, clock.now(), key=key)
    w.db.write(lambda s: outbox.apply_status(s, report))


def _quick_reply_deleted(w) -> None:
    reply_id = _quick_reply(w)
    w.db.write(lambda s: templates.delete_quick_reply(s, reply_id, actor=ADMIN))


def _rang(w) -> None:
    event = bridge.PhoneEvent("asterisk", "1.1", PhoneCallState.RINGING, WED,
                              CallDirection.INBOUND, remote_number="+447700900111")  # fmt: skip
    w.db.write(lambda s: bridge.record_phone_event(s, event))


def _erased(w) -> None:
    def work(s):
        number = s.get(Lead, w.lead).number
        found = person.find_person(s, lead_number=number)
        erase.erase_person(s, found, actor=ADMIN, reason="GDPR request 7", confirm=number)

    w.db.write(work)


def _exported(w) -> None:
    def work(s):
        number = s.get(Lead, w.lead).number
        return export.export_person(s, person.find_person(s, lead_number=number), actor=ADMIN)

    w.db.write(work)


def _dial_asked(w) -> None:
    w.db.write(lambda s: users.update_user(s, "ana", actor=ADMIN, extension="201"))
    w.db.write(lambda s: dialing.request_dial(s, w.lead, actor=w.ana.actor))


def _dial_claimed(w) -> int:
    _dial_asked(w)
    [dial] = w.db.write(lambda s: dialing.take_pending(s, claimed_as="dialing"))
    return dial.request_id


def _dial_made(w) -> None:
    request_id = _dial_claimed(w)
    w.db.write(lambda s: dialing.record_twilio_call(s, request_id, "CA1", address="client:201"))


def _dial_failed(w) -> None:
    request_id = _dial_claimed(w)
    w.db.write(lambda s: dialing.record_dial_failure(s, request_id, "Twilio refused the call"))


def _dial_unanswered(w) -> None:
    request_id = _dial_claimed(w)
    w.db.write(lambda s: dialing.record_rep_leg(s, request_id, "no-answer", "CA1"))


def _dial_expired(w) -> None:
    _dial_claimed(w)
    later = clock.now() + timedelta(minutes=5)
    w.db.write(lambda s: dialing.expire_dialing(s, now=later))


def _dismissed(w) -> None:
    first, second = _new_lead(w.db, 41), _new_lead(w.db, 42)

    def work(s):
        numbers = [s.get(Lead, i).number for i in (first, second)]
        duplicates.dismiss_pair(s, *numbers, actor=ADMIN)

    w.db.write(work)


def _merged(w) -> int:
    first, second = _new_lead(w.db, 43), _new_lead(w.db, 44)

    def work(s):
        numbers = [s.get(Lead, i).number for i in (first, second)]
        return merge.merge_leads(s, *numbers, actor=ADMIN).merge_id

    return w.db.write(work)


def _unmerged(w) -> None:
    merge_id = _merged(w)
    w.db.write(lambda s: merge.unmerge(s, merge_id, actor=ADMIN))


def _filter_saved(w, *, replace: bool = False) -> None:
    criteria = saved_filters.FilterCriteria(text="Ana")
    w.db.write(lambda s: saved_filters.save_filter(s, "Mine", criteria, actor=w.ana.actor))
    if replace:
        w.db.write(
            lambda s: saved_filters.save_filter(
                s, "Mine", criteria, actor=w.ana.actor, replace=True
            )
        )


def _filter_deleted(w) -> None:
    _filter_saved(w)
    w.db.write(lambda s: saved_filters.delete_filter(s, "Mine", actor=w.ana.actor))


WRITES: dict[str, tuple[Callable, str]] = {
    # chat replies (issue 28), the phone bridge (29), people (30)
    "chat.outbox.send_text": (_queued, "message.queue"),
    "chat.outbox.send_template": (_template_sent, "message.queue"),
    "chat.outbox.claim_due": (_claimed, "message.claim"),
    "chat.outbox.record_sent": (_sent, "message.sent"),
    "chat.outbox.record_failed": (_failed, "message.failed"),
    "chat.outbox.retry": (_retried, "message.retry"),
    "chat.outbox.expire_unconfirmed": (_unconfirmed, "message.unconfirmed"),
    "chat.outbox.apply_status": (_delivered, "message.delivered"),
    "chat.templates.store_templates": (_synced, "template.sync"),
    "chat.templates.save_quick_reply": (_quick_reply, "quick_reply.create"),
    "chat.templates.delete_quick_reply": (_quick_reply_deleted, "quick_reply.delete"),
    "phone.bridge.record_phone_event": (_rang, "phone_call.create"),
    "people.export.export_person": (_exported, "person.export"),
    "people.duplicates.dismiss_pair": (_dismissed, "duplicate.dismiss"),
    "people.merge.merge_leads": (_merged, "lead.merge"),
    "people.merge.unmerge": (_unmerged, "lead.unmerge"),
    "people.erase.erase_person": (_erased, "person.erase"),
    "leads.saved_filters.save_filter": (
        lambda w: _filter_saved(w, replace=True),
        "saved_filter.replace",
    ),
    "leads.saved_filters.delete_filter": (_filter_deleted, "saved_filter.delete"),
    "phone.dialing.request_dial": (_dial_asked, "dial.request"),
    "phone.dialing.record_twilio_call": (_dial_made, "dial.sent"),
    "phone.dialing.record_dial_failure": (_dial_failed, "dial.failed"),
    "phone.dialing.record_rep_leg": (_dial_unanswered, "dial.failed"),
    "phone.dialing.expire_dialing": (_dial_expired, "dial.failed"),
    "leads.intake.create_lead": (
        lambda w: _new_lead(w.db, 30),
        "lead.create",
    ),
    "leads.intake.intake_lead": (
        lambda w: w.db.write(
            lambda s: intake.intake_lead(
                s,
                intake.LeadCreate(name="In", channel="website", phone="+447700900331"),
                actor=SYSTEM,
            )
        ),
        "lead.create",
    ),
    "leads.intake.receive_message": (
        lambda w: w.db.write(
            lambda s: intake.receive_message(
                s,
                intake.LeadCreate(
                    name="Msg", channel="website", phone="+447700900332", fields={"budget": "9"}
                ),
                actor=SYSTEM,
            )
        ),
        "fields.update",
    ),
    "leads.bulk_intake.take_in_many": (
        lambda w: list(
            bulk_intake.take_in_many(
                w.db,
                [
                    (
                        1,
                        intake.LeadCreate(
                            name="Imp",
                            channel="website",
                            phone="+447700900333",
                            fields={"budget": "12"},
                        ),
                    )
                ],
                actor=SYSTEM,
            )
        ),
        "fields.update",
    ),
    "leads.bulk_intake.intake_batch": (
        lambda w: w.db.write(
            lambda s: bulk_intake.intake_batch(
                s,
                [(1, intake.LeadCreate(name="Bat", channel="website", phone="+447700900334"))],
                actor=SYSTEM,
                settings=settings.load_settings(s),
            )
        ),
        "lead.create",
    ),
    "leads.edits.update_lead": (
        lambda w: w.db.write(
            lambda s: edits.update_lead(
                s,
                w.lead,
                edits.LeadUpdate(name="Renamed"),
                expected_version=_version(s, w.lead),
                actor=ADMIN,
            )
        ),
        "lead.update",
    ),
    "leads.edits.change_lead": (
        lambda w: w.db.write(
            lambda s: edits.change_lead(
                s, s.get(Lead, w.lead), ADMIN, WED, status=LeadStatus.QUALIFIED
            )
        ),
        "lead.update",
    ),
    "fields.values.set_fields": (
        lambda w: w.db.write(
            lambda s: values.set_fields(s, FieldEntity.LEAD, w.lead, {"budget": "5"}, actor=ADMIN)
        ),
        "fields.update",
    ),
    "fields.values.store_values": (
        lambda w: w.db.write(
            lambda s: values.store_values(
                s, FieldEntity.LEAD, w.lead, _parsed(s, w), actor=ADMIN, at=WED
            )
        ),
        "fields.update",
    ),
    "fields.values.set_parsed": (
        lambda w: w.db.write(
            lambda s: values.set_parsed(
                s, FieldEntity.LEAD, _new_lead(w.db, 31), _parsed(s, w), actor=ADMIN, at=WED
            )
        ),
        "fields.update",
    ),
    "fields.files.store_file": (  # a file counts as a field's value: another under one name
        lambda w: w.db.write(lambda s: _upload(s, w, OTHER_PNG)),
        "fields.update",
    ),
    "fields.definitions.add_field": (
        lambda w: w.db.write(
            lambda s: definitions.add_field(
                s, FieldEntity.LEAD, "tier", FieldKind.TEXT, actor=ADMIN, ctx=values.context(s)
            )
        ),
        "field.add",
    ),
    "fields.definitions.edit_field": (
        lambda w: w.db.write(
            lambda s: definitions.edit_field(
                s, FieldEntity.LEAD, "budget", label="Money", actor=ADMIN, ctx=values.context(s)
            )
        ),
        "field.edit",
    ),
    "fields.definitions.retire_field": (
        lambda w: w.db.write(
            lambda s: definitions.retire_field(s, FieldEntity.LEAD, "budget", actor=ADMIN, now=WED)
        ),
        "field.retire",
    ),
    "fields.definitions.move_field": (
        lambda w: w.db.write(
            lambda s: definitions.move_field(s, FieldEntity.LEAD, "photo", -1, actor=ADMIN, now=WED)
        ),
        "field.move",
    ),
    "sales.conversion.convert_lead": (
        lambda w: w.db.write(
            lambda s: conversion.convert_lead(
                s, w.lead, conversion.ConversionRequest(value="50"), actor=w.ana.actor
            )
        ),
        "sale.create",
    ),
    "sales.conversion.reverse_conversion": (
        lambda w: w.db.write(
            lambda s: conversion.reverse_conversion(s, w.sale, reason="oops", actor=w.maria.actor)
        ),
        "sale.reverse",
    ),
    "sales.clients.open_client": (
        lambda w: w.db.write(
            lambda s: clients.open_client(
                s, s.get(Lead, w.lead), owner_id=None, actor=ADMIN, at=WED
            )
        ),
        "client.create",
    ),
    "sales.clients.set_client_status": (
        lambda w: w.db.write(
            lambda s: clients.set_client_status(s, w.client, "churned", actor=ADMIN, at=WED)
        ),
        "client.update",
    ),
    "sales.commission.add_plan": (
        lambda w: w.db.write(
            lambda s: commission.add_plan(s, "Flat", currency="USD", flat="5", actor=ADMIN)
        ),
        "commission_plan.add",
    ),
    "sales.commission.move_commissions": (
        lambda w: w.db.write(
            lambda s: commission.move_commissions(
                s, _commission_ids(s), CommissionState.APPROVED, actor=ADMIN
            )
        ),
        "commission.",
    ),
    "sales.commission.void_commissions": (
        lambda w: w.db.write(lambda s: commission.void_commissions(s, w.sale, ADMIN, WED)),
        "commission.void",
    ),
    "sales.onboarding.save_template": (
        lambda w: w.db.write(
            lambda s: onboarding.save_template(
                s, "Short", [onboarding.StepSpec("Call", 0)], actor=ADMIN
            )
        ),
        "onboarding_template.save",
    ),
    "sales.onboarding.finish_task": (
        lambda w: w.db.write(
            lambda s: onboarding.finish_task(s, w.task, TaskState.DONE, actor=ADMIN)
        ),
        "onboarding_task.done",
    ),
    "sales.onboarding.cancel_sale_tasks": (
        lambda w: w.db.write(lambda s: onboarding.cancel_sale_tasks(s, w.sale, ADMIN, WED)),
        "onboarding_task.cancel",
    ),
    "sales.onboarding.mark_missed_tasks": (
        lambda w: w.db.write(
            lambda s: onboarding.mark_missed_tasks(s, WED.date() + timedelta(days=60), WED)
        ),
        "onboarding_task.missed",
    ),
    "sales.onboarding.on_lead_converted": (
        lambda w: w.db.write(
            lambda s: onboarding.on_lead_converted(
                s,
                LeadConverted(w.sold, w.client, w.sale, w.ana.actor, _template_id(s)),
                WED,
                Effects(),
            )
        ),
        "onboarding_task.create",
    ),
    "team.access.issue_token": (
        lambda w: w.db.write(
            lambda s: access.issue_token(s, w.ana, kind="api", name="dialer", actor=ADMIN)
        ),
        "api.create",
    ),
    "team.access.revoke_token": (
        lambda w: w.db.write(
            lambda s: access.revoke_token(
                s,
                actor=ADMIN,
                secret=access.issue_token(s, w.ana, kind="api", name="x", actor=ADMIN),
            )
        ),
        "api.revoke",
    ),
    "team.access.sign_in": (  # a session is a token, audited as it is issued
        lambda w: w.db.write(
            lambda s: access.sign_in(s, "ana", "secret", terminal="t", token_kind="session")
        ),
        "session.create",
    ),
    "team.access.attempt_sign_in": (  # sign_in in its own transaction, after any slowdown
        lambda w: access.attempt_sign_in(
            w.db, "ana", "secret", source="t", token_kind="session", wait=lambda _: None
        ),
        "session.create",
    ),
    "team.access.unlock_user": (
        lambda w: w.db.write(lambda s: access.unlock_user(s, "ana", actor=ADMIN)),
        "user.unlock",
    ),
    "team.assignment.assign_lead": (
        lambda w: w.db.write(lambda s: assignment.assign_lead(s, w.lead, "bruno", actor=ADMIN)),
        "lead.update",
    ),
    "team.assignment.auto_assign": (
        lambda w: w.db.write(
            lambda s: assignment.auto_assign(s, _new_lead(w.db, 32), at=WED, actor=ADMIN)
        ),
        "lead.update",
    ),
    "team.assignment.assign_waiting": (
        lambda w: (
            _waiting(w, 33),
            w.db.write(lambda s: assignment.assign_waiting(s, at=WED)),
        ),
        "lead.update",
    ),
    "team.assignment.on_lead_created": (
        lambda w: w.db.write(
            lambda s: assignment.on_lead_created(
                s, LeadCreated(_unowned_lead_in_auto_mode(w, 34), "website"), WED, Effects()
            )
        ),
        "lead.update",
    ),
    "team.assignment.announce": (
        lambda w: w.db.write(
            lambda s: assignment.announce(
                s,
                (w.lead, "L-1", "Dora"),
                (w.maria.id, "maria"),
                ADMIN,
                WED,
                None,
                how="by hand",
            )
        ),
        "lead.assign",
    ),
    "team.assignment.wait": (
        lambda w: w.db.write(lambda s: assignment.wait(s, (w.lead, "L-1", "Dora"), WED)),
        "lead.wait",
    ),
    "team.settings.set_setting": (
        lambda w: w.db.write(lambda s: settings.set_setting(s, "currency", "EUR", actor=ADMIN)),
        "setting",
    ),
    "team.users.add_user": (
        lambda w: w.db.write(
            lambda s: users.add_user(s, "carla", role=Role.REP, actor=ADMIN, password="secret")
        ),
        "user.",
    ),
    "team.users.update_user": (
        lambda w: w.db.write(lambda s: users.update_user(s, "ana", capacity=3, actor=ADMIN)),
        "user.",
    ),
    "team.users.reset_password": (
        lambda w: w.db.write(
            lambda s: users.reset_password(s, "ana", "a much longer pass 9", actor=ADMIN)
        ),
        "user.",
    ),
    "work.calls.log_call": (
        lambda w: w.db.write(
            lambda s: calls.log_call(s, w.lead, CallOutcome.BUSY, actor=w.ana.actor)
        ),
        "call.",
    ),
    "work.calls.undo_call": (
        lambda w: w.db.write(lambda s: calls.undo_call(s, w.call, actor=w.ana.actor)),
        "call.",
    ),
    "work.followups.add_followup": (
        lambda w: w.db.write(
            lambda s: followups.add_followup(
                s, w.lead, due_at=WED + timedelta(days=2), reason="r", actor=ADMIN
            )
        ),
        "followup.create",
    ),
    "work.followups.book_followup": (
        lambda w: w.db.write(
            lambda s: followups.book_followup(
                s,
                s.get(Lead, w.lead),
                due_at=WED + timedelta(days=2),
                reason="r",
                actor=ADMIN,
                at=WED,
            )
        ),
        "followup.create",
    ),
    "work.followups.change_followup": (
        lambda w: w.db.write(
            lambda s: followups.change_followup(
                s, w.followup, due_at=WED + timedelta(days=3), actor=ADMIN
            )
        ),
        "followup.update",
    ),
    "work.followups.close_followup": (
        lambda w: w.db.write(
            lambda s: followups.close_followup(
                s, s.get(FollowUp, w.followup), FollowUpState.DONE, actor=ADMIN, at=WED
            )
        ),
        "followup.",
    ),
    "work.followups.on_lead_closed": (
        lambda w: w.db.write(
            lambda s: followups.on_lead_closed(
                s, LeadClosed(_new_lead(w.db, 1), LeadStatus.LOST, ADMIN), WED, Effects()
            )
        ),
        "followup.",
    ),
    "work.meetings.schedule_meeting": (
        lambda w: w.db.write(
            lambda s: meetings.schedule_meeting(
                s, w.lead, starts_at=WED + timedelta(days=2), actor=ADMIN
            )
        ),
        "meeting.",
    ),
    "work.meetings.record_outcome": (
        lambda w: w.db.write(
            lambda s: meetings.record_outcome(
                s, w.meeting, MeetingOutcome.HELD, actor=ADMIN, held_early=True
            )
        ),
        "meeting.",
    ),
    "work.rules.definitions.save_rule": (
        lambda w: w.db.write(
            lambda s: rules.save_rule(
                s,
                Rule(
                    name="Other",
                    trigger=RuleTrigger.LEAD_CREATED,
                    trigger_values=["website"],
                    action=RuleAction.NOTIFY,
                    action_params={"to": "owner", "message": "new"},
                ),
                actor=ADMIN,
            )
        ),
        "rule.",
    ),
    "work.rules.definitions.set_rule_enabled": (
        lambda w: w.db.write(lambda s: rules.set_rule_enabled(s, w.rule, False, actor=ADMIN)),
        "rule.",
    ),
    "work.rules.sweeper.sweep": (  # each follow-up and meeting it marks missed, one event each
        lambda w: rules.sweep(w.db, now=WED + timedelta(days=5)),
        "followup.missed",
    ),
}

# Public functions of the service packages that write nothing an audit row is owed for:
# reads, parsers, checks, and the pieces a listed writer calls in its own transaction.
NOT_WRITES = {
    # reads and formatting
    "leads.intake.created_result",
    "leads.repeats.earlier_leads",
    "leads.intake.lead_values",
    "leads.intake.inquiry_values",
    "leads.intake.check_contact",
    "leads.numbering.format_lead_number",
    "leads.numbering.lead_number_prefix",
    "leads.phones.international_start",
    "leads.phones.is_valid_region",
    "leads.checks.check_may_edit",
    "leads.checks.check_may_read",
    "leads.repeats.find_repeats",
    "leads.checks.may_read",
    "leads.checks.readable_leads",
    "leads.checks.reads_own_only",
    "fields.files.may_read_file",
    "leads.checks.validated_email",
    "leads.edits.check_transition",
    "sales.clients.client_by_number",
    "sales.clients.client_of_person",
    "sales.clients.format_client_number",
    "sales.commission.choose_plan",
    "sales.commission.commission_total",
    "sales.commission.list_plans",
    "sales.commission.month_bounds",
    "sales.commission.parse_split",
    "sales.commission.require_manager",
    "sales.commission.split_amounts",
    "sales.commission.two_people_refusal",
    "sales.commission.visible_commissions",
    "sales.conversion.preview_commission",
    "sales.conversion.sale_of_lead",
    "sales.money.format_money",
    "sales.money.minor_unit",
    "sales.money.parse_amount",
    "sales.money.parse_percent",
    "sales.money.quantum",
    "sales.money.round_money",
    "sales.onboarding.choose_template",
    "sales.onboarding.list_templates",
    "team.access.acting_for",
    "team.access.check_password_policy",
    "team.access.has_users",
    "team.access.sign_in_delay",
    "team.access.sign_in_source",
    "team.access.list_tokens",
    "team.access.terminal_name",
    "team.access.user_for_token",
    "team.assignment.check_may_assign",
    "team.assignment.exclusions",
    "team.assignment.suggest",
    "team.assignment.rank",
    "team.assignment.pick_for_new_lead",  # locks the rep's row, writes nothing
    "team.assignment.working_calendar",
    "team.language.detect_language",
    "team.language.load_model",
    "team.settings.describe_settings",
    "team.settings.detected_timezone",
    "team.settings.load_settings",
    "team.settings.parse_weights",
    "team.settings.read_settings",
    "team.signals.loads",
    "team.signals.performances",
    "team.simulation.gini",
    "team.simulation.simulate",  # replays in memory
    "team.users.authenticate",
    "team.users.get_user",
    "team.users.hash_password",
    "team.users.info",
    "team.users.list_users",
    "team.users.parse_channels",
    "team.users.parse_languages",
    "team.users.parse_role",
    "team.users.parse_working_hours",
    "team.users.require_admin",
    "work.calls.preview_call",
    "work.calls.status_after",
    "work.ics.render_calendar",
    "work.meetings.find_clashes",
    "work.notifications.inbox",
    "work.notifications.unread_notifications",
    "work.rules.definitions.describe_rule",
    "work.rules.engine.has_rules",
    "work.rules.definitions.list_rules",
    "work.rules.engine.preview_call_saved",
    "work.rules.sweeper.preview_rule",
    "work.rules.definitions.rule_as_json",
    "work.rules.engine.unanswered_calls",
    "work.rules.definitions.validate_rule",
    "work.rules.actions.describe",
    "work.rules.actions.followup_due",
    "work.rules.delays.format_delay",
    "work.rules.delays.parse_delay",
    "work.rules.sweeper.due_subjects",
    "fields.definitions.active_fields",
    "fields.definitions.get_field",
    "fields.definitions.has_image_fields",
    "fields.definitions.list_fields",
    "fields.definitions.parse_entity",
    "fields.definitions.parse_kind",
    "fields.definitions.require_admin",
    "fields.definitions.spec",
    "fields.files.check_file",
    "fields.files.file_info",
    "fields.files.read_file",
    "fields.files.sniff",
    "fields.history.describe",
    "fields.kinds.as_input",
    "fields.kinds.as_json",
    "fields.kinds.as_text",
    "fields.kinds.canonical",
    "fields.kinds.parse",
    "fields.values.context",
    "fields.values.field_definition_id",
    "fields.values.filter_condition",
    "fields.values.item_of",
    "fields.values.parse_values",
    "fields.values.values_for",
    # pieces of a listed writer, audited by it
    "leads.numbering.lock_day",
    "leads.numbering.set_last_seq",
    "leads.numbering.take_next_seq",
    "leads.numbered_insert.insert_numbered",  # the lead insert of intake (lead.create)
    "sales.clients.lock_client_numbers",
    "sales.commission.record_commissions",  # conversion audits each (commission.create)
    "fields.values.write_items",  # only store_values and a type change (field.edit) call it
    "work.rules.engine.claim",  # the firing row of a rule the event or the sweep applies
    "work.rules.actions.apply",  # through the listed services; a notice is not a record
    # the signed-in user's own inbox state, not a record of the business
    "work.notifications.mark_read",
    # event handlers whose writes are the listed services they call
    "work.rules.engine.on_call_saved",
    "work.followups.on_meeting_booked",  # closes retries through close_followup (listed)
    # the response clock: its rows follow audited calls and meetings; a reassignment goes
    # through auto_assign (listed), a notice is a notification, not a change to a record
    "work.response_clock.on_call_saved",
    "work.response_clock.on_meeting_booked",
    "work.response_clock.touch",
    "work.response_clock.sweep_ladder",
    "work.response_clock.breaching",
    "work.response_clock.clock_calendar",
    "work.response_clock.clock_view",
    "work.response_clock.due_steps",
    "work.response_clock.has_clock",
    "work.clock_face.clock_face",  # a screen's ticking clock: reads nothing
    "work.clock_face.hours_calendar",
    "team.settings.parse_ladder",
    "work.rules.engine.on_lead_created",
    "work.rules.engine.on_meeting_outcome",
    "work.response_clock.on_reply_sent",  # a touch: follows an audited message.sent
    # chat: reading, and the words and rules of the channels
    "chat.meta_errors.explain",
    "chat.meta_errors.is_throttled",
    "chat.outbox.backoff",
    "chat.outbox.chat_window",
    "chat.outbox.conversation",
    "chat.outbox.message_key",
    "chat.outbox.messages_of",
    "chat.outbox.parse_key",
    "chat.templates.body_of",
    "chat.templates.expand_quick_reply",
    "chat.templates.fill_template",
    "chat.templates.find_template",
    "chat.templates.list_quick_replies",
    "chat.templates.list_templates",
    "chat.templates.pickable_templates",
    "chat.templates.placeholders",
    "chat.templates.suggested_values",
    "phone.bridge.phone_calls_of_lead",
    "phone.bridge.recent_calls_of",
    "people.person.find_person",
    "people.erase.confirmation_numbers",
    "people.erase.unpaid_commissions",
    "people.erase.compact",  # VACUUM after an erase: no row changes
    "leads.phones.national_digits",
    "people.duplicates.find_duplicates",
    # the bridge's bookkeeping of a dial request (audited when asked): the row is the record
    "phone.dialing.take_pending",
    "phone.dialing.record_answer",
    "phone.dialing.twilio_words",
    "leads.intake.open_lead_of_sender",
    "leads.repeats.survivor_id",
    "people.duplicates.normalized_email",
    "people.merge.default_survivor",
    "people.merge.has_client",
    "people.duplicates.check_manages_people",
    "people.duplicates.duplicate_page",
    "people.merge_preview.merge_preview",
    "leads.saved_filters.list_saved_filters",
    "leads.saved_filters.saved_filter",
    "chat.templates.split_body",
}


def _service_functions() -> set[str]:
    found = set()
    for package in PACKAGES:
        root = importlib.import_module(f"leadms_tui.domain.{package}")
        for info in pkgutil.walk_packages(root.__path__, f"{root.__name__}."):
            module = importlib.import_module(info.name)  # a package's modules too (work.rules)
            where = info.name.removeprefix("leadms_tui.domain.")
            for name, function in inspect.getmembers(module, inspect.isfunction):
                if function.__module__ == module.__name__ and not name.startswith("_"):
                    found.add(f"{where}.{name}")
    return found


def test_every_service_function_is_listed_as_a_write_or_not():
    found = _service_functions()
    unlisted = found - set(WRITES) - NOT_WRITES
    assert not unlisted, f"add to WRITES (with its audit action) or NOT_WRITES: {sorted(unlisted)}"
    gone = (set(WRITES) | NOT_WRITES) - found
    assert not gone, f"listed but no longer there: {sorted(gone)}"


def _events(db) -> list[tuple[int, str]]:
    with db.reading() as s:
        return [(i, a) for i, a in s.execute(select(AuditEvent.id, AuditEvent.action))]


@pytest.mark.parametrize("path", sorted(WRITES))
def test_each_write_path_leaves_its_audit_row(db, world, path):
    run, action = WRITES[path]
    before = {i for i, _ in _events(db)}
    run(world)
    added = [a for i, a in _events(db) if i not in before]
    assert any(a.startswith(action) for a in added), f"{path} left {added or 'no audit row'}"


def test_the_sweep_audits_each_row_it_marks_missed(db, world):
    db.write(
        lambda s: followups.add_followup(
            s, world.lead, due_at=WED + timedelta(hours=3), reason="again", actor=ADMIN
        )
    )
    rules.sweep(db, now=WED + timedelta(days=5))
    with db.reading() as s:
        missed = set(
            s.execute(select(FollowUp.id).where(FollowUp.state == FollowUpState.MISSED)).scalars()
        )
        audited = set(
            s.execute(
                select(AuditEvent.entity_id).where(AuditEvent.action == "followup.missed")
            ).scalars()
        )
        meeting = set(
            s.execute(
                select(AuditEvent.entity_id).where(AuditEvent.action == "meeting.missed")
            ).scalars()
        )
    assert len(missed) >= 2 and audited == {str(i) for i in missed}
    assert meeting == {str(world.meeting)}
