"""A rule as an admin reads it (`describe_rule`), the checks it must pass (`validate_rule`),
word for word, and when its follow-up is due: no database, every trigger, action and
condition (issue 26)."""

from datetime import UTC, datetime, timedelta

import pytest

from leadms_tui.domain.business_time import BusinessCalendar
from leadms_tui.domain.errors import ValidationError
from leadms_tui.domain.models import Rule
from leadms_tui.domain.work.rules import describe_rule
from leadms_tui.domain.work.rules.actions import followup_due
from leadms_tui.domain.work.rules.definitions import validate_rule


@pytest.mark.parametrize(
    ("fields", "text"),
    [
        (
            dict(trigger="call_outcome", trigger_values=["no_answer", "wrong_number"],
                 conditions={"max_attempts": 3}, action="create_followup",
                 action_params={"after_business_hours": 4}),
            "when a call is no answer/wrong number (unanswered tries 1-3): "
            "follow-up in 4 business hours",
        ),
        (
            dict(trigger="lead_created", action="notify",
                 conditions={"owner_roles": ["rep"], "channels": ["website", "email"],
                             "statuses": ["new", "contacted"], "min_attempts": 2}),
            "when a lead arrives (any) (status new/contacted, channel website/email, "
            "unanswered tries 2-any, owner rep): notify owner",
        ),
        (
            dict(trigger="meeting_outcome", trigger_values=["no_show"], action="set_status",
                 action_params={"status": "lost", "lost_reason": "no show"}),
            "when a meeting is no show: set status lost (no show)",
        ),
        (
            dict(trigger="meeting_outcome", action="set_status",
                 action_params={"status": "contacted"}),
            "when a meeting is any: set status contacted",
        ),
        (
            dict(trigger="no_activity", trigger_hours=1.5, business_time=True,
                 action="escalate"),
            "when an open lead is untouched for 1.5 business hours: escalate to a manager",
        ),
        (
            dict(trigger="followup_overdue", trigger_hours=24, action="reassign",
                 action_params={"to": "bruno"}),
            "when a follow-up is overdue by 24 hours: reassign to bruno",
        ),
        (
            dict(trigger="no_activity", action="notify", action_params={"to": "managers"}),
            "when an open lead is untouched for 0 hours: notify managers",
        ),
        (
            dict(trigger="call_outcome", trigger_values=["busy"], action="create_followup",
                 action_params={"after_minutes": 30}),
            "when a call is busy: follow-up in 30 min",
        ),
        (
            dict(trigger="call_outcome", trigger_values=["busy"], action="create_followup"),
            "when a call is busy: follow-up 1 business day(s) later at 10:00",
        ),
        (
            dict(trigger="call_outcome", trigger_values=["callback_requested"],
                 action="create_followup",
                 action_params={"at_picked_time": True, "after_business_days": 2,
                                "at": "09:30"}),
            "when a call is callback requested: "
            "follow-up at the time picked (else 2 business day(s) later at 09:30)",
        ),
    ],
)  # fmt: skip
def test_a_rule_reads_as_one_line(fields, text):
    assert describe_rule(Rule(name="r", **fields)) == text


def _refusal(**fields) -> str:
    with pytest.raises(ValidationError) as refused:
        validate_rule(Rule(**{"name": "r", **fields}))
    return str(refused.value)


def test_a_rule_that_could_never_work_is_refused_with_why():
    busy = {"trigger": "call_outcome", "trigger_values": ["busy"]}
    assert _refusal(trigger="sometimes", action="notify") == (
        "'sometimes' is not a valid RuleTrigger"
    )
    assert _refusal(**busy, action="shout") == "'shout' is not a valid RuleAction"
    assert _refusal(name="  ", **busy, action="notify") == "a rule needs a name"
    for hours in (None, 0, -1):
        assert _refusal(trigger="no_activity", trigger_hours=hours, action="notify") == (
            "a time rule needs a number of hours above 0"
        )
    assert _refusal(trigger="call_outcome", trigger_values=["zz", "busy", "aa"],
                    action="notify") == "unknown call outcome(s): aa, zz"  # fmt: skip
    for params in ({}, {"status": "nope"}):
        assert _refusal(**busy, action="set_status", action_params=params) == (
            "set status needs a valid status"
        )
    assert _refusal(**busy, action="set_status", action_params={"status": "lost"}) == (
        "setting a lead lost needs a lost reason"
    )
    assert _refusal(**busy, action="reassign") == "reassign needs the username to assign to"
    assert _refusal(**busy, action="reassign", action_params={"to": ""}) == (
        "reassign needs the username to assign to"
    )
    for at, shown in (("25:00", "'25:00'"), (930, "930")):
        assert _refusal(**busy, action="create_followup", action_params={"at": at}) == (
            f"invalid time of day {shown}; use HH:MM"
        )
    every = (
        "this rule has no outcome, channel or condition, so it would act on every event: "
        "add one, or confirm with 'always'"
    )
    assert _refusal(trigger="lead_created", action="notify") == every
    assert _refusal(trigger="lead_created", action="notify", conditions={"channels": []}) == every
    assert _refusal(trigger="lead_created", action="notify", conditions={"always": False}) == every


@pytest.mark.parametrize(
    "fields",
    [
        dict(trigger="no_activity", trigger_hours=0.5, action="notify"),  # no narrowing needed
        dict(trigger="followup_overdue", trigger_hours=2, action="escalate"),
        dict(trigger="lead_created", action="notify", conditions={"min_attempts": 2}),
        dict(trigger="lead_created", action="notify", conditions={"always": True}),
        dict(trigger="call_outcome", trigger_values=["busy", "voicemail"], action="set_status",
             action_params={"status": "lost", "lost_reason": "unreachable"}),
        dict(trigger="meeting_outcome", trigger_values=["held"], action="set_status",
             action_params={"status": "qualified"}),
        dict(trigger="meeting_outcome", trigger_values=["held"], action="reassign",
             action_params={"to": "bruno"}),
        dict(trigger="call_outcome", trigger_values=["busy"], action="create_followup",
             action_params={"after_business_days": 1, "at": "09:05"}),
    ],
)  # fmt: skip
def test_a_rule_that_can_work_passes(fields):
    assert validate_rule(Rule(name="r", **fields)) is None


WED_10 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)  # a Wednesday; the calendar is UTC 9-18


@pytest.mark.parametrize(
    ("params", "picked", "due"),
    [
        ({"after_minutes": 30}, None, WED_10 + timedelta(minutes=30)),
        ({"after_minutes": 1.5}, None, WED_10 + timedelta(seconds=90)),
        ({"after_business_hours": 9}, None, datetime(2026, 11, 26, 10, 0, tzinfo=UTC)),
        ({}, None, datetime(2026, 11, 26, 10, 0, tzinfo=UTC)),  # a business day, at 10:00
        ({"after_business_days": 2, "at": "16:30"}, None,
         datetime(2026, 11, 27, 16, 30, tzinfo=UTC)),
        ({"at_picked_time": True, "after_minutes": 5}, WED_10 + timedelta(days=3),
         WED_10 + timedelta(days=3)),
        ({"at_picked_time": True, "after_minutes": 5}, None, WED_10 + timedelta(minutes=5)),
        ({"after_minutes": 5}, WED_10 + timedelta(days=3), WED_10 + timedelta(minutes=5)),
    ],
)  # fmt: skip
def test_a_rules_followup_is_due_by_its_delay_or_at_the_time_picked(params, picked, due):
    rule = Rule(name="r", trigger="call_outcome", action="create_followup", action_params=params)
    assert followup_due(rule, BusinessCalendar(), WED_10, picked) == due
