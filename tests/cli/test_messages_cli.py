"""`leadms messages send|list` (issue 28): a reply queued inside the window, a template
outside it (the missing parameter named), refusals in one line that queue nothing, the list
with states and reasons, text from outside printed literally."""

import json
import shlex
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from leadms_tui.cli import app
from leadms_tui.domain import clock
from leadms_tui.domain.audit import SYSTEM
from leadms_tui.domain.chat import outbox
from leadms_tui.domain.chat.templates import store_templates
from leadms_tui.domain.leads.intake import LeadCreate, receive_message
from leadms_tui.domain.models import Channel, Lead, OutboundMessage, Role
from leadms_tui.domain.team.settings import set_setting
from leadms_tui.domain.team.users import add_user
from tests.conftest import cli_token

runner = CliRunner()
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
TEMPLATES = [
    {
        "name": "follow_up",
        "language": "en_US",
        "category": "UTILITY",
        "status": "APPROVED",
        "components": [{"type": "BODY", "text": "Hi {{1}}, this is {{2}} about your enquiry."}],
    },
    {
        "name": "old_promo",
        "language": "en_US",
        "category": "MARKETING",
        "status": "PAUSED",
        "components": [{"type": "BODY", "text": "Sale!"}],
    },
]


@pytest.fixture(autouse=True)
def frozen():
    clock.set_clock(lambda: NOW)
    yield
    clock.set_clock(None)


@pytest.fixture
def team(db):
    def seed(session):
        set_setting(session, "timezone", "Europe/London", actor=SYSTEM)
        store_templates(session, TEMPLATES, actor=SYSTEM, now=NOW)
        return {
            name: add_user(session, name, role=role, actor=SYSTEM)
            for name, role in [("ana", Role.REP), ("bruno", Role.REP)]
        }

    users = db.write(seed)
    return {"users": users} | {name: cli_token(db, name) for name in users}


def chat_lead(db, team, ago, *, sender="447700900123"):
    at = NOW - ago
    data = LeadCreate(
        name="Bruno \x1b[31mLima",
        channel=Channel.WHATSAPP,
        external_id=sender,
        message="Hi, the price?",
        dedupe_key=f"m-{sender}",
        received_at=at,
        owner_id=team["users"]["ana"].id,
    )
    lead_id = db.write(lambda s: receive_message(s, data, actor=SYSTEM, now=at)).lead_id
    with db.reading() as session:
        return lead_id, session.get(Lead, lead_id).number


def leadms(url, *parts, token=None):
    args = [arg for part in parts for arg in shlex.split(part)]
    return runner.invoke(app, ["--database-url", url, *args], env={"LEADMS_TOKEN": token})


def _rows(db):
    with db.reading() as session:
        return list(session.execute(select(OutboundMessage).order_by(OutboundMessage.id)).scalars())


def test_a_reply_inside_the_window_is_queued_and_listed(db, team):
    _lead_id, number = chat_lead(db, team, timedelta(hours=1))
    result = leadms(db.url, f"messages send {number}", "--text 'Hello \x1b]0;x\x07Bruno'",
                    token=team["ana"])  # fmt: skip
    assert result.exit_code == 0, result.output
    [row] = _rows(db)
    assert f"{number}: reply queued as message {row.id} to whatsapp 447700900123" in result.output
    assert (row.state, row.created_by_id) == ("queued", team["users"]["ana"].id)
    listed = leadms(db.url, f"messages list {number}", token=team["ana"])
    assert listed.exit_code == 0
    assert "… queued" in listed.output and "ana" in listed.output
    assert "\x1b" not in listed.output and "\x07" not in listed.output
    [line] = leadms(db.url, f"messages list {number} --json", token=team["ana"]).output.splitlines()
    item = json.loads(line)
    assert (item["state"], item["kind"], item["by"], item["reason"]) == (
        "queued",
        "text",
        "ana",
        None,
    )


def test_outside_the_window_free_text_is_refused_and_a_template_is_filled(db, team):
    _lead_id, number = chat_lead(db, team, timedelta(hours=30))
    refused = leadms(db.url, f"messages send {number} --text hi", token=team["ana"])
    assert refused.exit_code == 1
    assert refused.output.startswith("error: the whatsapp window closed")
    assert "Traceback" not in refused.output
    missing = leadms(db.url, f"messages send {number} --template follow_up", token=team["ana"])
    assert missing.exit_code == 1
    assert "parameter {{2}} is missing" in missing.output
    paused = leadms(db.url, f"messages send {number} --template old_promo", token=team["ana"])
    assert "is paused" in paused.output
    assert _rows(db) == []
    sent = leadms(db.url, f"messages send {number} --template follow_up --param 2=Ana",
                  token=team["ana"])  # fmt: skip
    assert sent.exit_code == 0, sent.output
    assert "template follow_up queued" in sent.output
    [row] = _rows(db)
    assert row.body == "Hi Bruno, this is Ana about your enquiry."


def test_refusals_are_one_line_and_queue_nothing(db, team):
    _lead_id, number = chat_lead(db, team, timedelta(hours=1))
    for args, says, code in [
        (f"messages send {number}", "give --text or --template", 2),
        (f"messages send {number} --text a --template b", "give --text or --template", 2),
        (f"messages send {number} --template follow_up --param x", "write NAME=VALUE", 2),
        (f"messages send {number} --template follow_up --param 9=x", "no parameter {{9}}", 1),
        (f"messages send {number} --text '{'x' * 4097}'", "at most 4,096 characters", 1),
        ("messages send LEAD-NOPE --text hi", "no lead", 1),
    ]:
        result = leadms(db.url, args, token=team["ana"])
        assert result.exit_code == code, (args, result.output)
        assert says in result.output and len(result.output.strip().splitlines()) == 1
    other = leadms(db.url, f"messages send {number} --text hi", token=team["bruno"])
    assert other.exit_code == 1 and "belongs to another rep" in other.output
    assert _rows(db) == []


def test_a_failed_reply_is_listed_with_its_reason_and_next_step(db, team):
    lead_id, number = chat_lead(db, team, timedelta(hours=1))
    ana = team["users"]["ana"].actor
    message_id = db.write(lambda s: outbox.send_text(s, lead_id, "Hi", actor=ana, now=NOW).id)
    db.write(lambda s: outbox.claim_due(s, now=NOW))
    db.write(
        lambda s: outbox.record_failed(
            s, message_id, 1, code=131047, title="Re-engagement message", detail=None, now=NOW
        )
    )
    listed = leadms(db.url, f"messages list {number}", token=team["ana"]).output
    assert "✗ failed" in listed
    assert "only a template can reach them now; next: pick an approved template" in listed
    item = json.loads(leadms(db.url, f"messages list {number} --json", token=team["ana"]).output)
    assert (item["error_code"], item["state"]) == (131047, "failed")
