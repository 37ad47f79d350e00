"""Speed to lead from the command line: `leadms rules run --now` climbs the ladder once,
`leads clock` and `leads show --json` show the clock, the ladder setting is validated."""

import json
from datetime import UTC, datetime, timedelta

from typer.testing import CliRunner

from leadms_tui.cli import app
from leadms_tui.domain import clock
from leadms_tui.domain.audit import SYSTEM
from leadms_tui.domain.leads.intake import LeadCreate, create_lead
from leadms_tui.domain.models import Role
from leadms_tui.domain.team.settings import set_setting
from leadms_tui.domain.team.users import add_user
from tests.conftest import cli_token

runner = CliRunner()
WED_10 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def leadms(url, *args, token=None):
    return runner.invoke(app, ["--database-url", url, *args], env={"LEADMS_TOKEN": token})


def _team(db):
    def seed(s):
        set_setting(s, "timezone", "Europe/London", actor=SYSTEM)
        users = {
            name: add_user(s, name, role=role, actor=SYSTEM, password="secret")
            for name, role in [("ana", Role.REP), ("bruno", Role.REP), ("maria", Role.MANAGER)]
        }
        add_user(s, "root", role=Role.ADMIN, actor=SYSTEM, password="secret")
        return users

    return db.write(seed)


def _lead(db, owner_id, n):
    data = LeadCreate(
        name=f"Lead {n}", email=f"l{n}@example.com", channel="website", owner_id=owner_id
    )
    return create_lead(db, data, actor=SYSTEM, now=WED_10).number


def test_rules_run_climbs_the_ladder_once_and_a_called_lead_gets_none(db_url, db):
    team = _team(db)
    untouched, called = _lead(db, team["ana"].id, 1), _lead(db, team["ana"].id, 2)
    ana = cli_token(db, "ana")
    clock.set_clock(lambda: WED_10 + timedelta(minutes=4))
    try:
        logged = leadms(db_url, "calls", "log", called, "--outcome", "no_answer", token=ana)
    finally:
        clock.set_clock(None)
    assert logged.exit_code == 0, logged.output
    fired = []
    for minute in range(0, 26):
        now = (WED_10 + timedelta(minutes=minute)).isoformat()
        out = leadms(db_url, "rules", "run", "--now", now).stdout
        if "0 speed-to-lead step(s)" not in out:
            fired.append((minute, out.rsplit("; ", 1)[1].strip()))
    assert fired == [(m, "1 speed-to-lead step(s) fired") for m in (5, 10, 15, 20)]
    clock.set_clock(lambda: WED_10 + timedelta(minutes=30))  # what "now" the clock shows
    shown = json.loads(leadms(db_url, "leads", "show", untouched, "--json").stdout)["clock"]
    assert (shown["state"], shown["business_minutes_used"], shown["minutes_left"]) == (
        "over",
        30,
        -15,
    )
    assert [h["what"].split(":")[0] for h in shown["history"]] == [
        "started",
        "step 5",
        "step 10",
        "step 15",
        "step 20",
    ]
    assert shown["history"][-1]["what"].endswith(
        "reassigned to bruno: untouched for 20 business minutes"
    )
    other = json.loads(leadms(db_url, "leads", "show", called, "--json").stdout)["clock"]
    assert (other["state"], other["business_minutes_used"], len(other["history"])) == (
        "touched",
        4,
        2,
    )
    text = leadms(db_url, "leads", "clock", called).stdout
    assert text.startswith(f"{called}: touched by call after 4 business minutes")
    assert "Wed 25 Nov 10:04     4m  stopped: call by ana" in text
    clock.set_clock(None)
    assert leadms(db_url, "leads", "clock", "LEAD-20261125-999").exit_code == 1
    maria = cli_token(db, "maria")
    args = ("reports", "response", "--from", "2026-11-25", "--to", "2026-11-25")
    rows = [
        json.loads(line)
        for line in leadms(db_url, *args, "--format", "json", token=maria).stdout.splitlines()
    ]
    by_rep = {r["rep"]: r for r in rows}
    assert by_rep["ana"] == {
        "rep": "ana",
        "received": 1,
        "touched": 1,
        "within_target": 1,
        "untouched": 0,
        "first_response_median_min": 4,
        "first_response_p90_min": 4,
        "rerouted_away": 1,
        "rerouted_to": 0,
        # by the hour it came in (team clock) and channel: [received, touched within target]
        "by_hour": {"10": [1, 1]},
        "by_channel": {"website": [1, 1]},
    }
    assert (by_rep["bruno"]["untouched"], by_rep["bruno"]["rerouted_to"]) == (1, 1)
    team = by_rep["TEAM"]
    assert (team["received"], team["within_target"], team["rerouted_away"]) == (2, 1, 1)
    csv_out = leadms(db_url, *args, "--format", "csv", token=maria).stdout.splitlines()
    assert csv_out[0].startswith("rep,received,touched,within_target")
    assert csv_out[-1] == "TEAM,2,1,1,1,4,4,1,1"
    clock.set_clock(lambda: WED_10 + timedelta(hours=1))
    sim = ("reports", "response", "--simulate", "--days", "1", "--format", "json")
    quick = json.loads(leadms(db_url, *sim, "--ladder", "3:owner,8:reassign", token=maria).stdout)
    assert quick == {
        "days": 1,
        "leads": 2,
        "ladder": "3:owner,8:reassign",
        "within_target_before": 0.5,
        "within_target_after": 1.0,  # ana answers in 4: 8 + 4 is inside 15
        "gini_before": 0.0,
        "gini_after": 0.5,
        "reassigned": 1,
    }
    default = json.loads(leadms(db_url, *sim, token=maria).stdout)
    assert (default["within_target_after"], default["reassigned"]) == (0.5, 1)  # 20 + 4 > 15
    bad = leadms(db_url, *sim, "--ladder", "9:owner,3:offer", token=maria)
    assert bad.exit_code != 0 and "minutes must increase" in bad.stderr
    assert "managers and admins" in leadms(db_url, *sim, token=ana).stderr


def test_ladder_setting_refused_with_the_reason(db_url, db):
    _team(db)
    root = cli_token(db, "root")
    bad = leadms(db_url, "settings", "set", "response_ladder", "5:owner,3:managers", token=root)
    assert bad.exit_code == 1 and bad.stdout == ""
    assert bad.stderr.count("\n") == 1 and "minutes must increase" in bad.stderr
    good = leadms(db_url, "settings", "set", "response_ladder", "3:owner, 30:reassign", token=root)
    assert good.stdout == "response_ladder = 3:owner,30:reassign\n"
