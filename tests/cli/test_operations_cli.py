"""CLI for integrations: calls log, follow-ups, meetings (with an iCalendar export), rules."""

import json
from datetime import UTC, datetime, timedelta

import icalendar
from sqlalchemy import update
from typer.testing import CliRunner

from leadms_tui.cli import app
from leadms_tui.domain.audit import SYSTEM
from leadms_tui.domain.leads.intake import LeadCreate, create_lead
from leadms_tui.domain.models import Role, Rule
from leadms_tui.domain.team.users import add_user
from leadms_tui.domain.work.meetings import schedule_meeting
from tests.conftest import cli_token

runner = CliRunner()
WED_10 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def leadms(url, *args, token=None):
    env = {"LEADMS_TOKEN": token} if token else None
    return runner.invoke(app, ["--database-url", url, *args], env=env)


def _seed(db, db_url):
    leadms(db_url, "settings", "set", "timezone", "Europe/London")
    ana = db.write(
        lambda s: add_user(s, "ana", role=Role.REP, actor=SYSTEM, display_name="Ana Ruiz")
    )
    db.write(lambda s: s.execute(update(Rule).values(updated_at=WED_10 - timedelta(days=30))))
    lead = create_lead(
        db,
        LeadCreate(
            name='Dora; Due, "VIP"', phone="+447700900111", channel="website", owner_id=ana.id
        ),
        actor=SYSTEM,
        now=WED_10,
    )
    return ana, lead


def test_calls_log_follows_the_rules_like_the_tui(db_url, db):
    _, lead = _seed(db, db_url)
    result = leadms(
        db_url,
        "calls",
        "log",
        lead.number,
        "--outcome",
        "no_answer",
        "--at",
        "2026-11-25T10:00",
        token=cli_token(db, "ana"),
    )
    assert result.exit_code == 0, result.output
    assert "status contacted" in result.stdout and "next follow-up" in result.stdout
    listed = [
        json.loads(line)
        for line in leadms(
            db_url, "followups", "list", "--user", "ana", "--json"
        ).stdout.splitlines()
    ]
    assert [(f["lead"], f["state"], f["attempt"]) for f in listed] == [(lead.number, "open", 1)]

    callback = leadms(
        db_url,
        "calls",
        "log",
        lead.number,
        "--outcome",
        "callback_requested",
        "--callback-at",
        "2026-11-27T16:30",
        token=cli_token(db, "ana"),
    )
    assert callback.exit_code == 0, callback.output
    open_ = [
        json.loads(line)
        for line in leadms(
            db_url, "followups", "list", "--state", "open", "--json"
        ).stdout.splitlines()
    ]
    assert [f["due_at"] for f in open_] == ["2026-11-27T16:30:00+00:00"]


def test_calls_log_refuses_bad_input_in_one_line(db_url, db):
    _, lead = _seed(db, db_url)
    for args, message in [
        (["LEAD-20000101-001", "--outcome", "busy"], "no lead"),
        ([lead.number, "--outcome", "maybe"], "unknown outcome"),
        (
            [lead.number, "--outcome", "busy", "--callback-at", "2026-11-27T16:30"],
            "--callback-at goes with",
        ),
        ([lead.number, "--outcome", "busy", "--at", "someday"], "not a date or time"),
    ]:
        result = leadms(db_url, "calls", "log", *args, token=cli_token(db, "ana"))
        assert result.exit_code == 1 and message in result.stderr, (args, result.output)
        assert result.stderr.count("\n") == 1


def test_meetings_list_and_ics_export_opens_in_a_calendar_parser(db_url, db, tmp_path):
    ana, lead = _seed(db, db_url)
    db.write(
        lambda s: schedule_meeting(
            s,
            lead.lead_id,
            starts_at=WED_10 + timedelta(days=1),
            duration_minutes=45,
            place="Office, room 2",
            notes="Bring the price list",
            actor=ana.actor,
        )
    )
    listed = [
        json.loads(line)
        for line in leadms(db_url, "meetings", "list", "--json").stdout.splitlines()
    ]
    assert [(m["lead"], m["duration_minutes"], m["attendees"]) for m in listed] == [
        (lead.number, 45, ["Ana Ruiz"])
    ]
    target = tmp_path / "meetings.ics"
    result = leadms(
        db_url,
        "meetings",
        "export-ics",
        "--user",
        "ana",
        "--from",
        "2026-11-25",
        "--to",
        "2026-11-30",
        "--output",
        str(target),
    )
    assert result.exit_code == 0, result.output
    calendar = icalendar.Calendar.from_ical(target.read_bytes())
    (event,) = calendar.walk("VEVENT")
    assert event.decoded("DTSTART") == WED_10 + timedelta(days=1)
    assert event.decoded("DTEND") == WED_10 + timedelta(days=1, minutes=45)
    assert str(event["LOCATION"]) == "Office, room 2"
    assert lead.number in str(event["SUMMARY"]) and 'Dora; Due, "VIP"' in str(event["SUMMARY"])
    empty = leadms(db_url, "meetings", "export-ics", "--from", "2027-01-01")
    assert icalendar.Calendar.from_ical(empty.stdout_bytes).walk("VEVENT") == []
    again = leadms(db_url, "meetings", "export-ics", "--from", "2027-01-01", "-o", str(target))
    assert again.exit_code == 1 and "exists" in again.output  # never over a file unasked
    assert icalendar.Calendar.from_ical(target.read_bytes()).walk("VEVENT")
    forced = [*("meetings", "export-ics", "--from", "2027-01-01", "-o", str(target), "--force")]
    assert leadms(db_url, *forced).exit_code == 0
    assert icalendar.Calendar.from_ical(target.read_bytes()).walk("VEVENT") == []


def test_rules_list_run_twice_and_toggle(db_url, db):
    _seed(db, db_url)
    listed = leadms(db_url, "rules", "list").stdout
    assert "5 unanswered calls: lost as unreachable" in listed
    first = leadms(db_url, "rules", "run", "--now", "2026-11-25T11:00:00+00:00")
    again = leadms(db_url, "rules", "run", "--now", "2026-11-25T11:00:00+00:00")
    assert first.stdout.startswith("1 rule firing") and again.stdout.startswith("0 rule firing")
    refused = leadms(db_url, "rules", "disable", "5", token=cli_token(db, "ana"))
    assert refused.exit_code == 1 and "only an admin" in refused.stderr
    db.write(lambda s: add_user(s, "root", role=Role.ADMIN, actor=SYSTEM))
    admin = cli_token(db, "root")
    assert leadms(db_url, "rules", "disable", "5", token=admin).stdout == "rule 5 disabled\n"
    rules = json.loads(leadms(db_url, "rules", "list", "--json").stdout)
    assert [r["enabled"] for r in rules if r["id"] == 5] == [False]
    assert leadms(db_url, "rules", "enable", "99", token=admin).exit_code == 1


def test_bench_generate_fills_an_empty_database(db_url):
    made = leadms(db_url, "bench", "generate", "--leads", "60", "--calls", "200", "--reps", "3")
    assert made.exit_code == 0, made.output
    assert made.output.startswith("60 leads, 200 calls")
    again = leadms(db_url, "bench", "generate", "--leads", "60")
    assert again.exit_code == 1 and "already has leads" in again.output
    assert "Traceback" not in again.output
    unnamed = runner.invoke(app, ["bench", "generate"], env={"LEADMS_DATABASE_URL": ""})
    assert unnamed.exit_code == 2 and "--database-url" in unnamed.output


def test_bench_run_refuses_an_unknown_engine_before_doing_anything():
    refused = runner.invoke(app, ["bench", "run", "--engines", "mysql"])
    assert refused.exit_code == 2
    assert "sqlite and/or postgres, not mysql" in refused.output
