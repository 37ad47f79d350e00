"""`leadms reports`: the JSON keys, CSV a spreadsheet opens, reps see only themselves."""

import csv
import io
import json
from datetime import UTC, datetime

from typer.testing import CliRunner

from leadms_tui.cli import app
from leadms_tui.domain.audit import SYSTEM
from leadms_tui.domain.leads.intake import LeadCreate, create_lead
from leadms_tui.domain.models import Call, CallOutcome, Role
from leadms_tui.domain.team.settings import set_setting
from leadms_tui.domain.team.users import add_user
from tests.conftest import cli_token

runner = CliRunner()
KEYS = {
    "rep",
    "calls",
    "outcomes",
    "connect_rate",
    "leads_received",
    "first_response_median_minutes",
    "followups_due",
    "followups_missed",
    "missed_commitment_rate",
    "meetings_held",
    "conversions",
}


def leadms(url, *args, token=None):
    return runner.invoke(app, ["--database-url", url, *args], env={"LEADMS_TOKEN": token})


def _seed(db):
    def seed(s):
        set_setting(s, "timezone", "Europe/London", actor=SYSTEM)
        users = {
            n: add_user(s, n, role=r, actor=SYSTEM, password="secret")
            for n, r in [("ana", Role.REP), ("bruno", Role.REP), ("maria", Role.MANAGER)]
        }
        return users

    users = db.write(seed)
    at = datetime(2026, 11, 24, 10, tzinfo=UTC)
    lead = create_lead(
        db,
        LeadCreate(name="X", phone="+447700900001", channel="website", owner_id=users["ana"].id),
        actor=SYSTEM,
        now=at,
    ).lead_id
    for minutes, outcome in [(5, CallOutcome.NO_ANSWER), (30, CallOutcome.INTERESTED)]:
        called = at.replace(minute=minutes)
        db.write(
            lambda s, c=called, o=outcome: s.add(
                Call(lead_id=lead, user_id=users["ana"].id, outcome=o, called_at=c)
            )
        )
    return cli_token(db, "maria"), cli_token(db, "ana")


def test_reps_json_csv_and_scope(db_url, db):
    maria, ana = _seed(db)
    args = ["reports", "reps", "--from", "2026-11-23", "--to", "2026-11-29"]
    rows = [
        json.loads(line)
        for line in leadms(db_url, *args, "--format", "json", token=maria).output.splitlines()
    ]
    assert [r["rep"] for r in rows] == ["ana", "bruno", "TEAM"]
    assert all(set(r) >= KEYS for r in rows)
    assert rows[0]["calls"] == 2 and rows[0]["outcomes"] == {"no_answer": 1, "interested": 1}
    assert rows[0]["connect_rate"] == 0.5 and rows[0]["first_response_median_minutes"] == 5
    sheet = list(
        csv.reader(io.StringIO(leadms(db_url, *args, "--format", "csv", token=maria).output))
    )
    assert sheet[0][0] == "rep" and sheet[1][0] == "ana" and sheet[1][5] == "2"
    mine = leadms(db_url, *args, "--format", "json", token=ana).output.splitlines()
    assert [json.loads(line)["rep"] for line in mine] == ["ana", "TEAM"]
    refused = leadms(db_url, *args, "--rep", "bruno", token=ana)
    assert refused.exit_code == 1 and "own report" in refused.output


def test_daily_and_weekly_commitments(db_url, db):
    maria, _ = _seed(db)
    daily = leadms(
        db_url,
        "reports",
        "daily",
        "--from",
        "2026-11-24",
        "--to",
        "2026-11-24",
        "--format",
        "csv",
        token=maria,
    ).output.splitlines()
    assert daily == ["day,outcome,calls", "2026-11-24,interested,1", "2026-11-24,no_answer,1"]
    weekly = leadms(
        db_url, "reports", "commitments", "--weeks", "12", "--format", "json", token=maria
    ).output.splitlines()
    assert len(weekly) == 12 and json.loads(weekly[-1])["due"] == 0
