"""Dynamic lead fields arriving with leads: a CSV column mapped to a field, a form input named
field.KEY. A bad value refuses that row (or that post) with the reason; nothing half-written."""

from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from leadms_tui.cli import app
from leadms_tui.domain.audit import Actor
from leadms_tui.domain.fields.definitions import add_field
from leadms_tui.domain.fields.kinds import Context
from leadms_tui.domain.fields.values import values_for
from leadms_tui.domain.models import FieldEntity, FieldKind, FieldValue, Lead, Role
from leadms_tui.intake.service import create_app
from tests.intake.test_service import CONFIG, serving

runner = CliRunner()
ADMIN = Actor(None, "admin", Role.ADMIN)


@pytest.fixture
def fields(db):
    ctx = Context("UTC", "US", "USD", datetime(2026, 11, 25, tzinfo=UTC))

    def define(session):
        add_field(session, FieldEntity.LEAD, "budget", FieldKind.MONEY, actor=ADMIN, ctx=ctx)
        add_field(
            session,
            FieldEntity.LEAD,
            "plan",
            FieldKind.CHOICE,
            options=["Gold", "Silver"],
            actor=ADMIN,
            ctx=ctx,
        )

    db.write(define)


def _lead_fields(db) -> dict[str, dict[str, object]]:
    with db.reading() as s:
        leads = dict(s.execute(select(Lead.id, Lead.name)).all())
        shown = values_for(s, FieldEntity.LEAD, list(leads))
    return {leads[i]: {f.key: f.value for f in fs} for i, fs in shown.items()}


def test_csv_column_mapped_to_a_field_and_bad_rows_rejected(db_url, db, fields, tmp_path):
    source = tmp_path / "leads.csv"
    source.write_text(
        "Name,Phone,Budget,Tier\n"
        "Ana,+12025550101,1200.50,gold\n"
        "Bo,+12025550102,lots,Silver\n"
        "Cy,+12025550103,,Tin\n"
        "Di,+12025550104,99,\n"
    )
    result = runner.invoke(
        app,
        [
            "--database-url",
            db_url,
            "import",
            "csv",
            str(source),
            "--json",
            "--map",
            "Budget=field:budget",
            "--map",
            "Tier=field:plan",
            "--rejects",
            str(tmp_path / "rejects.csv"),
        ],
    )
    assert result.exit_code == 1, result.output
    assert '"created": 2' in result.output and '"rejected": 2' in result.output
    assert "Budget: 'lots' is not a number" in result.output
    assert "Plan: 'Tin' is not one of the options" in result.output
    assert _lead_fields(db) == {
        "Ana": {"budget": "1200.5", "plan": "Gold"},
        "Di": {"budget": "99", "plan": None},
    }
    with db.reading() as s:  # nothing of the refused rows was written
        assert s.scalar(select(func.count()).select_from(Lead)) == 2
        assert s.scalar(select(func.count()).select_from(FieldValue)) == 3


def test_form_inputs_named_field_key_fill_lead_fields(db, fields):
    with serving(create_app(db, CONFIG)) as url:
        ok = httpx.post(
            f"{url}/forms/contact",
            data={
                "name": "Ana",
                "email": "ana@example.com",
                "field.budget": "300",
                "field.plan": "silver",
            },
        )
        bad = httpx.post(
            f"{url}/forms/contact",
            data={"name": "Bo", "email": "bo@example.com", "field.budget": "3.14159"},
        )
        unknown = httpx.post(
            f"{url}/forms/contact",
            data={"name": "Cy", "email": "cy@example.com", "field.nope": "x"},
        )
    assert ok.status_code == 200
    assert bad.status_code == 422 and "Budget:" in bad.json()["error"]
    assert unknown.status_code == 422 and "unknown lead field 'nope'" in unknown.json()["error"]
    assert _lead_fields(db) == {"Ana": {"budget": "300", "plan": "Silver"}}
