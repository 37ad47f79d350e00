"""Issue 23's date findings, re-run as written on both engines: one window for every given
date, and no stored instant can stop intake, a lead or a report."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from leadms_tui.cli import app
from leadms_tui.domain import clock
from leadms_tui.domain.audit import SYSTEM
from leadms_tui.domain.leads.intake import LeadCreate, create_lead
from leadms_tui.domain.models import Availability, Role, User
from leadms_tui.domain.team.users import add_user
from tests.conftest import cli_token

runner = CliRunner()
NOW = datetime(2026, 12, 7, 9, 45, tzinfo=UTC)  # a Monday, in business hours in Europe


@pytest.fixture(autouse=True)
def frozen():
    clock.set_clock(lambda: NOW)
    yield
    clock.set_clock(None)


def leadms(url, *args, token=None):
    return runner.invoke(app, ["--database-url", url, *args], env={"LEADMS_TOKEN": token})


def _team(db):
    db.write(lambda s: add_user(s, "ada", role=Role.ADMIN, actor=SYSTEM, password="secret"))
    db.write(lambda s: add_user(s, "ana", role=Role.REP, actor=SYSTEM, password="secret"))
    return cli_token(db, "ada")


def _one_line_error(result, *words):
    assert result.exit_code != 0, result.output
    assert "unexpected" not in result.output and "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    assert all(word in lines[0] for word in words), lines[0]


def test_away_until_year_9999_is_refused_and_a_stored_one_cannot_stop_intake(db_url, db):
    ada = _team(db)
    refused = leadms(db_url, "users", "set", "ana", "--away-until", "9999-12-31 23:59", token=ada)
    _one_line_error(refused, "away until", "plausible range")
    # As a database written before the window existed holds it:
    db.write(
        lambda s: s.execute(
            update(User)
            .where(User.username == "ana")
            .values(availability=Availability.AWAY, away_until=datetime(9999, 12, 31, 23, 59))
        )
    )
    for key, value in (("timezone", "Europe/Berlin"), ("assignment_mode", "auto")):
        assert leadms(db_url, "settings", "set", key, value, token=ada).exit_code == 0
    added = leadms(
        db_url, "leads", "add", "--name", "Bob", "--phone", "+12025550100",
        "--channel", "phone", token=ada,
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    assert leadms(db_url, "users", "list", token=ada).exit_code == 0
    simulated = leadms(db_url, "assign", "suggest", added.stdout.split()[0], token=ada)
    assert "unexpected" not in simulated.output


def test_field_values_outside_the_window_are_refused_and_the_lead_still_opens(db_url, db):
    ada = _team(db)
    lead = create_lead(
        db, LeadCreate(name="Dora", phone="+12025550100", channel="website"), actor=SYSTEM
    )
    for key, kind in (("born", "date"), ("seen", "datetime")):
        assert (
            leadms(db_url, "fields", "add", "lead", key, "--type", kind, token=ada).exit_code == 0
        )
    for value in ("born=0001-01-01", "born=9999-12-31", "seen=0001-01-01 00:10"):
        refused = leadms(db_url, "leads", "set", lead.number, value, token=ada)
        _one_line_error(refused)
    kept = leadms(
        db_url, "leads", "set", lead.number, "born=1950-03-02", "seen=fri 10:00", token=ada
    )
    assert kept.exit_code == 0, kept.output
    assert (
        leadms(db_url, "settings", "set", "timezone", "America/New_York", token=ada).exit_code == 0
    )
    shown = leadms(db_url, "leads", "show", lead.number, token=ada)
    assert shown.exit_code == 0, shown.output
    assert "Born: Thu 02 Mar 1950" in shown.stdout and "Fri 11 Dec 2026 05:00" in shown.stdout


def test_report_ranges_reach_back_to_1900_and_no_further(db_url, db):
    ada = _team(db)
    far = leadms(db_url, "reports", "reps", "--from", "0001-01-01", "--to", "9999-12-31", token=ada)
    _one_line_error(far, "--from", "1900-01-01")
    assert far.exit_code == 2
    long = leadms(db_url, "reports", "reps", "--from", "1900-01-01", "--to", "fri", token=ada)
    assert long.exit_code == 0, long.output
    holiday = leadms(db_url, "settings", "set", "holidays", "9999-12-25", token=ada)
    _one_line_error(holiday, "holiday")


def test_the_cli_prints_team_local_times_with_the_offset(db_url, db):
    ada = _team(db)
    lead = create_lead(
        db, LeadCreate(name="Dora", phone="+12025550100", channel="website"), actor=SYSTEM
    )
    assert leadms(db_url, "settings", "set", "timezone", "Europe/Berlin", token=ada).exit_code == 0
    logged = leadms(
        db_url, "calls", "log", lead.number, "--outcome", "callback_requested",
        "--callback-at", "fri 15:00", token=ada,
    )  # fmt: skip
    assert logged.exit_code == 0, logged.output
    assert "next follow-up 2026-12-11 15:00+01:00" in logged.stdout
    listed = leadms(db_url, "followups", "list", "--date", "fri", token=ada)
    assert listed.stdout.startswith("2026-12-11 15:00+01:00  "), listed.output
    assert '"due_at": "2026-12-11T14:00:00+00:00"' in leadms(
        db_url, "followups", "list", "--json", token=ada
    ).stdout.replace(" ", " ")
