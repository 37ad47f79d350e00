"""`leadms assign`: suggest (explained), assign by hand, assign the waiting, simulate."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from leadms_tui.cli import app
from leadms_tui.domain import clock
from leadms_tui.domain.audit import SYSTEM
from leadms_tui.domain.leads.intake import LeadCreate, create_lead
from leadms_tui.domain.models import Lead, Role, User
from leadms_tui.domain.team.settings import set_setting
from leadms_tui.domain.team.simulation import gini
from leadms_tui.domain.team.users import add_user
from tests.conftest import cli_token

runner = CliRunner()
WED = datetime(2026, 11, 25, 11, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen():
    clock.set_clock(lambda: WED)
    yield
    clock.set_clock(None)


def leadms(url, *args, token=None):
    return runner.invoke(app, ["--database-url", url, *args], env={"LEADMS_TOKEN": token})


def _team(db):
    def seed(s):
        set_setting(s, "timezone", "Europe/London", actor=SYSTEM)
        for name in ("ana", "bruno"):
            add_user(s, name, role=Role.REP, actor=SYSTEM, password="secret", languages=["en"])
        add_user(s, "maria", role=Role.MANAGER, actor=SYSTEM, password="secret")

    db.write(seed)
    return cli_token(db, "maria"), cli_token(db, "ana")


def _lead(db, n, *, at=WED, owner=None):
    data = LeadCreate(
        name=f"Lead {n}",
        phone=f"+4477009{n:05d}",
        channel="website",
        message="Hello, how much is a monthly membership?",
        owner_id=owner,
    )
    return create_lead(db, data, actor=SYSTEM, now=at).number


def test_suggest_explains_and_assign_by_hand(db_url, db):
    maria, ana = _team(db)
    number = _lead(db, 1)
    db.write(
        lambda s: s.execute(update(User).where(User.username == "bruno").values(availability="off"))
    )
    shown = json.loads(leadms(db_url, "assign", "suggest", number, "--json", token=ana).output)
    assert [r["rep"] for r in shown["suggestions"]] == ["ana"]
    assert set(shown["suggestions"][0]["signals"]) == {"workload", "performance", "fit", "fairness"}
    assert shown["excluded"] == [{"rep": "bruno", "why": "off"}]
    assert shown["language"] == "en"
    text = leadms(db_url, "assign", "suggest", number, token=ana).output
    assert "excluded: off" in text and "workload" in text
    refused = leadms(db_url, "assign", number, "--to", "ana", token=ana)
    assert refused.exit_code == 1 and "only a manager" in refused.output
    done = leadms(db_url, "assign", number, "--to", "bruno", token=maria)
    assert done.exit_code == 0 and "excluded by the rules" in done.output
    with db.reading() as s:
        owner = s.scalar(select(Lead.owner_id).where(Lead.number == number))
        assert owner == s.scalar(select(User.id).where(User.username == "bruno"))


def test_auto_assigns_waiting_and_simulate_reports_shares(db_url, db):
    maria, _ = _team(db)
    db.write(lambda s: set_setting(s, "assignment_mode", "auto", actor=SYSTEM))
    db.write(lambda s: s.execute(update(User).values(availability="off")))
    for n in range(4):
        _lead(db, n, at=WED - timedelta(days=1, minutes=n))
    db.write(lambda s: s.execute(update(User).values(availability="available")))
    result = leadms(db_url, "assign", "auto", token=maria)
    assert result.exit_code == 0 and "4 waiting lead(s) assigned" in result.output
    replay = json.loads(
        leadms(db_url, "assign", "simulate", "--days", "7", "--json", token=maria).output
    )
    assert replay["leads"] == 4 and replay["unassigned"] == 0
    assert sorted(r["simulated"] for r in replay["reps"]) == [2, 2]
    assert replay["gini_simulated"] == 0.0


def test_a_rep_cannot_run_auto_and_auto_says_when_the_mode_is_off(db_url, db):
    maria, ana = _team(db)
    db.write(lambda s: set_setting(s, "assignment_mode", "auto", actor=SYSTEM))
    db.write(lambda s: s.execute(update(User).values(availability="off")))
    _lead(db, 1, at=WED - timedelta(days=1))
    db.write(lambda s: s.execute(update(User).values(availability="available")))
    refused = leadms(db_url, "assign", "auto", token=ana)
    assert refused.exit_code == 1 and "only a manager or an admin" in refused.output
    db.write(lambda s: set_setting(s, "assignment_mode", "off", actor=SYSTEM))
    off = leadms(db_url, "assign", "auto", token=maria)
    assert off.exit_code == 1 and "assignment_mode is off" in off.output
    with db.reading() as s:
        assert s.scalar(select(Lead.owner_id)) is None


def test_gini():
    assert gini([5, 5, 5]) == 0.0
    assert gini([0, 0, 9]) == pytest.approx(2 / 3)


def test_users_set_the_assignment_profile(db_url, db):
    _team(db)
    root = db.write(lambda s: add_user(s, "root", role=Role.ADMIN, actor=SYSTEM, password="secret"))
    token = cli_token(db, root.username)
    number = _lead(db, 1)
    for args in (
        ["ana", "--off"],
        ["bruno", "--away-until", "2026-11-26T09:00"],
    ):
        result = leadms(db_url, "users", "set", *args, token=token)
        assert result.exit_code == 0, result.output
    shown = json.loads(leadms(db_url, "assign", "suggest", number, "--json", token=token).output)
    excluded = dict((e["rep"], e["why"]) for e in shown["excluded"])
    assert excluded["ana"] == "off" and excluded["bruno"].startswith("away until Thu 26 Nov")
    leadms(db_url, "users", "set", "ana", "--available", "--hours", "12:00-20:00", token=token)
    leadms(db_url, "users", "set", "bruno", "--available", "--channels", "whatsapp", token=token)
    shown = json.loads(leadms(db_url, "assign", "suggest", number, "--json", token=token).output)
    assert dict((e["rep"], e["why"]) for e in shown["excluded"]) == {
        "ana": "outside working hours (12:00-20:00)"
    }
    assert "channel website not taken" in shown["suggestions"][0]["signals"]["fit"]["why"]
    bad = leadms(db_url, "users", "set", "ana", "--channels", "fax", token=token)
    assert bad.exit_code == 1 and "unknown channel" in bad.output
    both = leadms(db_url, "users", "set", "ana", "--off", "--available", token=token)
    assert both.exit_code == 2
