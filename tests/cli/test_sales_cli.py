"""CLI for sales: convert and unconvert leads, clients, commission plans and the payroll
list, onboarding tasks; refusals are one line and write nothing."""

import csv
import io
import json
import shlex
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, update
from typer.testing import CliRunner

from leadms_tui.cli import app
from leadms_tui.cli.commissions import CSV_HEADER
from leadms_tui.domain import clock
from leadms_tui.domain.audit import SYSTEM
from leadms_tui.domain.leads.intake import LeadCreate, create_lead
from leadms_tui.domain.models import AuditEvent, Client, Commission, Lead, Role, Sale
from leadms_tui.domain.team.settings import set_setting
from leadms_tui.domain.team.users import add_user
from tests.conftest import cli_token

runner = CliRunner()
WED = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)  # a Wednesday, London = UTC in winter


@pytest.fixture(autouse=True)
def frozen():
    clock.set_clock(lambda: WED)
    yield
    clock.set_clock(None)


@pytest.fixture
def team(db):
    """A London team: reps ana and bruno, manager maria; their CLI tokens by username."""

    def seed(session):
        set_setting(session, "timezone", "Europe/London", actor=SYSTEM)
        set_setting(session, "phone_region", "GB", actor=SYSTEM)
        return {
            name: add_user(session, name, role=role, actor=SYSTEM)
            for name, role in [("ana", Role.REP), ("bruno", Role.REP), ("maria", Role.MANAGER)]
        }

    users = db.write(seed)
    return {"users": users} | {name: cli_token(db, name) for name in users}


def leadms(url, *parts, token=None):
    """Run `leadms` in-process; each part is split as a shell would (quotes kept together)."""
    args = [arg for part in parts for arg in shlex.split(part)]
    env = {"LEADMS_TOKEN": token} if token else None
    return runner.invoke(app, ["--database-url", url, *args], env=env)


def ok(url, *parts, token=None) -> str:
    result = leadms(url, *parts, token=token)
    assert result.exit_code == 0, result.output
    return result.stdout


def refused(url, *parts, token=None) -> str:
    """The one line a refusal prints on stderr."""
    result = leadms(url, *parts, token=token)
    assert result.exit_code == 1, result.output
    assert result.stdout == "" and result.stderr.count("\n") == 1, result.output
    return result.stderr


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


def _lead(db, team, owner="ana", name="Ana Client", phone="+447700900123", email=None) -> str:
    data = LeadCreate(
        name=name, phone=phone, email=email, channel="website", owner_id=team["users"][owner].id
    )
    return create_lead(db, data, actor=SYSTEM).number


def _counts(db) -> dict:
    with db.reading() as s:
        return {
            model.__name__: s.scalar(select(func.count()).select_from(model))
            for model in (Client, Sale, Commission, AuditEvent)
        }


def _standard_plan(db_url, team):
    ok(db_url, "commissions plans add Standard --rate 7.5", token=team["maria"])


def test_convert_json_has_the_client_amounts_and_onboarding(db_url, db, team):
    _standard_plan(db_url, team)
    number = _lead(db, team)
    converted = json.loads(
        ok(db_url, "leads convert", number, "--value 1234.50 --plan Gold --json", token=team["ana"])
    )
    assert (converted["lead"], converted["client"], converted["new_client"]) == (
        number,
        "CL-000001",
        True,
    )
    sale = converted["sale"]
    assert (sale["value"], sale["currency"], sale["product"]) == ("1234.50", "USD", "Gold")
    assert converted["commission"]["plan"] == "Standard"
    assert converted["commission"]["total"] == "92.59"  # 92.5875 half-up
    assert converted["commission"]["shares"] == [{"user": "ana", "share": "100", "amount": "92.59"}]
    assert [(t["title"], t["owner"], t["due_on"]) for t in converted["onboarding"]] == [
        ("Welcome call", "ana", "2026-11-25"),
        ("Setup check", "ana", "2026-11-27"),
        ("First review", "ana", "2026-12-09"),
    ]
    with db.reading() as s:
        assert s.scalar(select(Lead.status)) == "won"


def test_refused_conversions_are_one_line_and_write_nothing(db_url, db, team):
    _standard_plan(db_url, team)
    number = _lead(db, team)
    lost = _lead(db, team, name="Lou Lost", phone="+447700900999")
    db.write(
        lambda s: s.execute(
            update(Lead).where(Lead.number == lost).values(status="lost", lost_reason="too dear")
        )
    )
    before = _counts(db)
    for args, message in [
        (f"{lost} --value 10", "is lost (too dear); reopen it before converting"),
        (f"{number} --value 12.345", "'12.345' has more than 2 decimals for USD"),
        (f"{number} --value 10 --commission-plan Platinum", "unknown commission plan"),
        (f"{number} --value 10 --template Nope", "unknown onboarding template"),
        (f"{number} --value 10 --split 60/40", "no other owner"),
        ("LEAD-20000101-001 --value 10", "no lead"),
    ]:
        error = refused(db_url, "leads convert", args, token=team["ana"])
        assert error.startswith("error: ") and message in error, (args, error)
    assert _counts(db) == before
    with db.reading() as s:
        assert s.scalar(select(Lead.status).where(Lead.number == number)) == "new"


def test_a_repeat_lead_adds_a_sale_to_the_same_client(db_url, db, team):
    _standard_plan(db_url, team)
    first = _lead(db, team)
    printed = ok(db_url, "leads convert", first, "--value 100", token=team["ana"])
    assert f"{first}: won; new client CL-000001 Ana Client\n" in printed
    assert "commission: 7.50 USD (plan Standard, 7.5% of the value)" in printed
    assert "2026-11-25  Welcome call" in printed
    again = _lead(db, team, name="Ana C.", phone="07700 900123", email="ana@example.com")
    printed = ok(db_url, "leads convert", again, "--value 50 --template none", token=team["ana"])
    assert "won; existing client CL-000001" in printed and "onboarding: none" in printed
    clients = json_lines(ok(db_url, "clients list --json"))
    assert [(c["number"], c["sales"], c["value"]) for c in clients] == [("CL-000001", 2, "150.00")]


def test_plans_add_and_list_the_first_is_the_default(db_url, team):
    maria = team["maria"]
    added = ok(db_url, "commissions plans add Base --rate 5", token=maria)
    assert added == "added plan Base: 5% of the value (default)\n"
    flat = "'PT flat' --flat 50 --plan-filter 'Personal training'"
    ok(db_url, "commissions plans add", flat, token=maria)
    plans = json.loads(ok(db_url, "commissions plans list --json"))
    assert [(p["name"], p["rate"], p["flat"], p["plan_filter"], p["default"]) for p in plans] == [
        ("Base", "5", None, None, True),
        ("PT flat", None, "50", "Personal training", False),
    ]
    ok(db_url, "commissions plans add Capped --rate 10 --cap 500 --default", token=maria)
    assert ok(db_url, "commissions plans list").splitlines() == [
        f"{'Base':<30}  5% of the value",
        f"{'Capped':<30}  10% of the value, capped at 500.00 USD  (default)",
        f"{'PT flat':<30}  flat 50.00 USD, for Personal training",
    ]
    for args, message in [
        ("Both --rate 5 --flat 5", "either a rate"),
        ("Base --rate 5", "exists"),
        ("'Flat cap' --flat 5 --cap 9", "percentage plan only"),
        ("Mine --rate 120", "at most 100"),
    ]:
        assert message in refused(db_url, "commissions plans add", args, token=maria)
    by_rep = refused(db_url, "commissions plans add Mine --rate 50", token=team["ana"])
    assert "only a manager or an admin" in by_rep


def test_commissions_csv_is_the_payroll_export(db_url, db, team):
    _standard_plan(db_url, team)
    formula = "--plan " + shlex.quote('=HYPERLINK("http://x")')
    ok(db_url, "leads convert", _lead(db, team), "--value 1234.50", formula, token=team["ana"])
    split = _lead(db, team, name="Bo Split", phone="+447700900200")
    ok(db_url, "leads convert", split, "--value 100.01 --split 60/40", token=team["maria"])
    exported = ok(db_url, "commissions list --month 2026-11 --csv", token=team["maria"])
    header, *rows = csv.reader(io.StringIO(exported))
    assert header == CSV_HEADER
    body = [dict(zip(header, row, strict=True)) for row in rows]
    assert [
        (r["rep"], r["sold_on"], r["value"], r["share_percent"], r["amount"], r["state"])
        for r in body
    ] == [
        ("ana", "2026-11-25", "1234.50", "100", "92.59", "pending"),
        ("ana", "2026-11-25", "100.01", "60", "4.50", "pending"),
        ("maria", "2026-11-25", "100.01", "40", "3.00", "pending"),
    ]
    assert body[0]["product"] == '\'=HYPERLINK("http://x")'  # shown in a sheet, never run
    table = ok(db_url, "commissions list --month 2026-11 --rep ana", token=team["maria"])
    assert table.splitlines()[-1] == "total 97.09 USD in 2 commission(s)"
    assert (
        ok(db_url, "commissions list --month 2026-10 --csv", token=team["maria"])
        == ",".join(CSV_HEADER) + "\n"
    )
    assert "YYYY-MM" in refused(db_url, "commissions list --month November")
    assert "unknown state" in refused(db_url, "commissions list --month 2026-11 --state owed")


def test_approve_and_pay_are_for_managers(db_url, db, team):
    _standard_plan(db_url, team)
    ok(db_url, "leads convert", _lead(db, team), "--value 100", token=team["ana"])
    (row,) = json_lines(ok(db_url, "commissions list --month 2026-11 --json", token=team["maria"]))
    commission = str(row["id"])
    denied = refused(db_url, "commissions approve", commission, token=team["ana"])
    assert "only a manager or an admin" in denied
    too_soon = refused(db_url, "commissions pay", commission, token=team["maria"])
    assert "only approved ones" in too_soon
    approved = ok(db_url, "commissions approve", commission, token=team["maria"])
    assert approved == "1 commission(s) approved\n"
    paying = ok(db_url, "commissions pay", commission, token=team["maria"])
    assert paying == "1 commission(s) paid\n"
    paid = json_lines(
        ok(db_url, "commissions list --month 2026-11 --state paid --json", token=team["maria"])
    )
    assert [(p["id"], p["amount"], p["state"]) for p in paid] == [(row["id"], "7.50", "paid")]
    assert "no commission #999" in refused(db_url, "commissions approve 999", token=team["maria"])


def test_unconvert_voids_the_commission_and_restores_the_lead(db_url, db, team):
    _standard_plan(db_url, team)
    number = _lead(db, team)
    db.write(lambda s: s.execute(update(Lead).values(status="qualified")))
    ok(db_url, "leads convert", number, "--value 200", token=team["ana"])
    by_rep = refused(db_url, "leads unconvert", number, "--reason oops", token=team["ana"])
    assert "only a manager" in by_rep
    reason = "--reason 'cheque bounced'"
    printed = ok(db_url, "leads unconvert", number, reason, token=team["maria"])
    assert "sale #1 reversed; the lead is qualified again" in printed
    detail = json.loads(ok(db_url, "clients show CL-000001 --json"))
    assert detail["status"] == "churned" and detail["sales"][0]["reversed"]
    assert {c["state"] for c in detail["sales"][0]["commissions"]} == {"void"}
    assert {t["state"] for t in detail["onboarding"]} == {"cancelled"}
    again = refused(db_url, "leads unconvert", number, "--reason twice", token=team["maria"])
    assert "no sale to reverse" in again


def test_clients_list_and_show(db_url, db, team):
    _standard_plan(db_url, team)
    hostile = "[bold]Eve[/] \x1b[2J"
    number = _lead(db, team, name=hostile, email="eve@example.com")
    ok(db_url, "leads convert", number, "--value 300 --plan Gold", token=team["ana"])
    _lead(db, team, name="Other", phone="+447700900555")
    (listed,) = json_lines(ok(db_url, "clients list --json"))
    assert listed == {
        "number": "CL-000001",
        "name": "[bold]Eve[/] \ufffd[2J",
        "phone": "+447700900123",
        "email": "eve@example.com",
        "status": "onboarding",
        "owner": "ana",
        "sales": 1,
        "value": "300.00",
        "open_tasks": 3,
    }
    table = ok(db_url, "clients list --search eve@example.com")
    assert "CL-000001  [bold]Eve[/]" in table and "300.00 USD" in table  # markup shown as is
    assert "\x1b" not in table
    assert ok(db_url, "clients list --search nobody") == ""
    detail = json.loads(ok(db_url, "clients show cl-000001 --json"))
    assert [s["lead"] for s in detail["sales"]] == [number]
    assert detail["sales"][0]["commissions"][0]["amount"] == "22.50"
    titles = [t["title"] for t in detail["onboarding"]]
    assert titles == ["Welcome call", "Setup check", "First review"]
    assert [lead["number"] for lead in detail["leads"]] == [number]
    shown = ok(db_url, "clients show CL-000001")
    assert "commission Standard: 22.50 USD" in shown and "onboarding: 0 of 3 finished" in shown
    assert "no client 'CL-000009'" in refused(db_url, "clients show CL-000009")
    active = ok(db_url, "clients status CL-000001 active", token=team["ana"])
    assert active == "CL-000001 is active\n"
    bad = refused(db_url, "clients status CL-000001 gone", token=team["ana"])
    assert "unknown client status" in bad


def test_onboarding_templates_tasks_done_and_skip(db_url, db, team):
    templates = json.loads(ok(db_url, "onboarding templates --json"))
    assert [(s["day"], s["title"], s["owner"]) for s in templates[0]["steps"]] == [
        (0, "Welcome call", "closing rep"),
        (2, "Setup check", "account manager"),
        (10, "First review", "account manager"),
    ]
    ok(db_url, "leads convert", _lead(db, team), "--value 10", token=team["ana"])
    tasks = json_lines(ok(db_url, "onboarding tasks --user ana --json"))
    assert [(t["title"], t["due_on"], t["state"]) for t in tasks] == [
        ("Welcome call", "2026-11-25", "open"),
        ("Setup check", "2026-11-27", "open"),
        ("First review", "2026-12-09", "open"),
    ]
    welcome, setup = str(tasks[0]["id"]), str(tasks[1]["id"])
    assert "only a manager" in refused(db_url, "onboarding done", welcome, token=team["bruno"])
    done = ok(db_url, "onboarding done", welcome, token=team["ana"])
    assert done == f"task #{welcome} Welcome call: done\n"
    ok(db_url, "onboarding skip", setup, token=team["ana"])
    assert "already done" in refused(db_url, "onboarding done", welcome, token=team["ana"])
    still_open = json_lines(ok(db_url, "onboarding tasks --json"))
    assert [t["title"] for t in still_open] == ["First review"]
    finished = ok(db_url, "onboarding tasks --state done")
    assert "Welcome call" in finished and "Setup check" not in finished
    assert "unknown state" in refused(db_url, "onboarding tasks --state late")


# --- issue 23: one parser for every amount; money needs two people ----------------------


def _team_writes(db, number_format):
    db.write(lambda s: set_setting(s, "number_format", number_format, actor=SYSTEM))


def _money_field(db):
    from leadms_tui.domain.fields.definitions import add_field
    from leadms_tui.domain.fields.values import context
    from leadms_tui.domain.models import FieldEntity, FieldKind

    db.write(
        lambda s: add_field(
            s, FieldEntity.LEAD, "budget", FieldKind.MONEY, actor=SYSTEM, ctx=context(s)
        )
    )


def test_a_comma_decimal_is_refused_with_its_reading_under_1_234_50(db_url, db, team):
    number = _lead(db, team)  # GB team: 1,234.50 by its phone region
    for typed, reading in [("1,5", "1.5"), ("1,50", "1.50"), ("1.234,50", "1,234.50")]:
        said = refused(db_url, "leads convert", number, f"--value {typed}", token=team["ana"])
        assert f"did you mean {reading}?" in said
    for typed in ["1_000", "\uff11\uff10\uff10\uff10", "1e3", "-5"]:
        refused(db_url, "leads convert", number, f"--value {typed}", token=team["ana"])
    assert _counts(db)["Sale"] == 0
    converted = ok(db_url, "leads convert", number, "--value 1,234.50 --json", token=team["ana"])
    assert json.loads(converted)["sale"]["value"] == "1234.50"


def test_the_same_typing_reads_as_the_team_writes_under_1_234_comma_50(db_url, db, team):
    _team_writes(db, "1.234,50")
    assert "did you mean 7,5?" in refused(
        db_url, "commissions plans add Other --rate 7.5", token=team["maria"]
    )
    ok(db_url, "commissions plans add Std --rate 7,5 --default", token=team["maria"])
    number = _lead(db, team)
    assert "did you mean 1,5?" in refused(
        db_url, "leads convert", number, "--value 1.5", token=team["ana"]
    )
    converted = json.loads(
        ok(db_url, "leads convert", number, "--value 1,5 --json", token=team["ana"])
    )
    assert (converted["sale"]["value"], converted["commission"]["total"]) == ("1.50", "0.11")


def test_a_money_field_reads_the_team_format_and_refuses_negatives(db_url, db, team):
    _money_field(db)
    number = _lead(db, team)
    assert "did you mean 1.5?" in refused(
        db_url, "leads set", number, "budget=1,5", token=team["ana"]
    )
    assert "negative" in refused(db_url, "leads set", number, "budget=-5", token=team["ana"])
    for typed in ["1_000", "\uff11\uff12"]:
        refused(db_url, "leads set", number, f"budget={typed}", token=team["ana"])
    ok(db_url, "leads set", number, "budget=1,234.50", token=team["ana"])
    _team_writes(db, "1.234,50")
    ok(db_url, "leads set", number, "budget=1,5", token=team["ana"])
    shown = json.loads(ok(db_url, "leads show", number, "--json", token=team["ana"]))
    assert shown["fields"]["budget"] == "1.5"


def _second_manager(db):
    db.write(lambda s: add_user(s, "olga", role=Role.MANAGER, actor=SYSTEM))
    return cli_token(db, "olga")


def test_nobody_approves_or_pays_their_own_commission(db_url, db, team):
    _standard_plan(db_url, team)
    own = _lead(db, team, owner="maria")
    ok(db_url, "leads convert", own, "--value 100", token=team["maria"])
    (row,) = json_lines(ok(db_url, "commissions list --month 2026-11 --json", token=team["maria"]))
    said = refused(db_url, "commissions approve", str(row["id"]), token=team["maria"])
    assert "is your own: another manager or admin approves it" in said
    olga = _second_manager(db)
    ok(db_url, "commissions approve", str(row["id"]), token=olga)
    said = refused(db_url, "commissions pay", str(row["id"]), token=team["maria"])
    assert "is your own: another manager or admin pays it" in said
    ok(db_url, "commissions pay", str(row["id"]), token=olga)


def test_a_split_of_anothers_lead_is_marked_and_needs_a_second_manager(db_url, db, team):
    _standard_plan(db_url, team)
    number = _lead(db, team, owner="ana")
    ok(db_url, "leads convert", number, "--value 100 --split 60/40", token=team["maria"])
    rows = json_lines(ok(db_url, "commissions list --month 2026-11 --json", token=team["maria"]))
    assert [(r["rep"], r["split_of_others_lead"]) for r in rows] == [
        ("ana", True),
        ("maria", True),
    ]
    for row in rows:  # neither her 40% nor the 60% she left ana
        said = refused(db_url, "commissions approve", str(row["id"]), token=team["maria"])
        assert "another manager or admin approves it" in said
    olga = _second_manager(db)
    ids = " ".join(str(r["id"]) for r in rows)
    assert ok(db_url, "commissions approve", ids, token=olga) == "2 commission(s) approved\n"


def test_a_rep_lists_only_their_own_commissions(db_url, db, team):
    _standard_plan(db_url, team)
    ok(db_url, "leads convert", _lead(db, team), "--value 100", token=team["ana"])
    other = _lead(db, team, owner="bruno", name="Bo", phone="+447700900200")
    ok(db_url, "leads convert", other, "--value 200", token=team["bruno"])
    exported = ok(db_url, "commissions list --month 2026-11 --csv", token=team["ana"])
    _, *rows = csv.reader(io.StringIO(exported))
    assert [row[2] for row in rows] == ["ana"]
    assert (
        len(json_lines(ok(db_url, "commissions list --month 2026-11 --json", token=team["maria"])))
        == 2
    )
    said = refused(db_url, "commissions list --month 2026-11 --rep bruno", token=team["ana"])
    assert "only their own commissions" in said


def test_an_import_reads_amounts_as_the_team_writes_them(db_url, db, team, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the rejects file is written beside the command
    _money_field(db)
    path = tmp_path / "leads.csv"
    path.write_text('Name,Phone,Budget\nAna,+447700900123,"1,5"\nBo,+447700900124,"1,234.50"\n')
    mapping = shlex.quote("Budget=field:budget")
    said = leadms(db_url, "import csv", str(path), f"--map {mapping}", token=team["maria"]).output
    assert "created 1" in said and "'1,5' is not how the team writes numbers" in said
    assert "did you mean 1.5?" in said
