"""`leadms leads export` (issue 30): the list's filters, every dynamic lead field as a CSV
column or typed in JSON Lines, a formula-looking value defused, only leads the viewer may
open; streamed in pages. Both engines."""

import csv
import io
import json

from typer.testing import CliRunner

from leadms_tui.cli import app
from leadms_tui.domain.audit import SYSTEM
from leadms_tui.domain.fields.definitions import add_field
from leadms_tui.domain.fields.values import context, set_fields
from leadms_tui.domain.leads.intake import LeadCreate, create_lead
from leadms_tui.domain.models import FieldEntity, FieldKind
from leadms_tui.domain.queries.leads import LeadFilter, export_leads
from tests.conftest import cli_token

runner = CliRunner()


def _setup(db, team):
    db.write(
        lambda s: add_field(
            s, FieldEntity.LEAD, "plan", FieldKind.TEXT, actor=SYSTEM, ctx=context(s)
        )
    )
    db.write(
        lambda s: add_field(
            s, FieldEntity.LEAD, "budget", FieldKind.INTEGER, actor=SYSTEM, ctx=context(s)
        )
    )
    made = {}
    for name, plan, budget in [
        ("Ada Gold", "Gold", "1500"),
        ("Bo Silver", "=HYPERLINK(1)", "200"),
        ("Cy None", None, None),
    ]:
        lead = create_lead(
            db,
            LeadCreate(
                name=name,
                channel="website",
                email=f"{name.split()[0].lower()}@example.com",
                owner_id=team["ana"].id,
            ),
            actor=SYSTEM,
        )
        if plan:
            db.write(
                lambda s, i=lead.lead_id, p=plan, b=budget: set_fields(
                    s, FieldEntity.LEAD, i, {"plan": p, "budget": b}, actor=SYSTEM
                )
            )
        made[name] = lead
    return made


def test_the_csv_has_every_field_as_a_column_and_defuses_formulas(db, db_url, team, monkeypatch):
    _setup(db, team)
    monkeypatch.setenv("LEADMS_TOKEN", cli_token(db, "maria"))
    result = runner.invoke(app, ["--database-url", db_url, "leads", "export", "--csv"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["name"] for r in rows] == ["Cy None", "Bo Silver", "Ada Gold"]  # newest first
    assert list(rows[0])[-2:] == ["plan", "budget"]
    assert (rows[2]["plan"], rows[2]["budget"], rows[1]["plan"]) == (
        "Gold",
        "1500",
        "'=HYPERLINK(1)",
    )


def test_filters_and_json_lines(db, db_url, team, monkeypatch):
    _setup(db, team)
    monkeypatch.setenv("LEADMS_TOKEN", cli_token(db, "maria"))
    result = runner.invoke(
        app, ["--database-url", db_url, "leads", "export", "--json", "--field", "budget>=1000"]
    )
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["name"], r["fields"]["plan"]) for r in records] == [("Ada Gold", "Gold")]
    none = runner.invoke(
        app, ["--database-url", db_url, "leads", "export", "--search", "nobody-at-all"]
    )
    assert none.exit_code == 0 and none.stdout == "" and "no leads match" in none.output


def test_pages_stream_every_lead_once(db, team):
    made = _setup(db, team)
    with db.reading() as session:
        rows = list(export_leads(session=session, where=LeadFilter(), phone_region="GB",
                                 viewer=team["maria"].actor, page=2))  # fmt: skip
    assert sorted(row.id for row, _ in rows) == sorted(lead.lead_id for lead in made.values())


def test_export_with_a_saved_filter(db, db_url, team, monkeypatch):
    from leadms_tui.domain.leads.saved_filters import FilterCriteria, save_filter

    _setup(db, team)
    maria = team["maria"]
    db.write(
        lambda s: save_filter(s, "Big", FilterCriteria(fields="budget>=1000"), actor=maria.actor)
    )
    monkeypatch.setenv("LEADMS_TOKEN", cli_token(db, "maria"))
    base = ["--database-url", db_url, "leads", "export", "--json"]
    result = runner.invoke(app, [*base, "--filter", "Big"])
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["name"] for line in result.stdout.splitlines()] == ["Ada Gold"]
    both = runner.invoke(app, [*base, "--filter", "Big", "--search", "Ada"])
    assert both.exit_code == 2 and "leave out the other filters" in both.output
    monkeypatch.setenv("LEADMS_TOKEN", cli_token(db, "ana"))  # maria's, not ana's
    other = runner.invoke(app, [*base, "--filter", "Big"])
    assert other.exit_code != 0 and "no saved filter 'Big'" in other.output
