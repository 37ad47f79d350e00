"""The duplicate finder (issue 30): pairs repeat detection did not link, found by blocks
(phone, normalized email, chat sender, names), scored with their reasons; a dismissed pair is
not proposed again; common names alone are not paired with everyone. Both engines."""

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select
from typer.testing import CliRunner

from leadms_tui.cli import app
from leadms_tui.domain.audit import SYSTEM
from leadms_tui.domain.errors import ValidationError
from leadms_tui.domain.leads.intake import LeadCreate, create_lead
from leadms_tui.domain.models import AuditEvent
from leadms_tui.domain.people.duplicates import dismiss_pair, find_duplicates, normalized_email
from tests.conftest import cli_token

runner = CliRunner()


def _lead(db, name, **values):
    values.setdefault("channel", "website")
    return create_lead(db, LeadCreate(name=name, **values), actor=SYSTEM).number


@pytest.fixture
def near(db, team):
    made = {
        "ana1": _lead(db, "Ana Lima", email="ana.lima@gmail.com"),
        "ana2": _lead(
            db, "Ana  Lima", email="AnaLima+promo@googlemail.com", phone="+55 11 98765 0001"
        ),
        "jose1": _lead(db, "José Pérez", phone="+34 612 345 678"),
        "jose2": _lead(db, "Jose Perez", phone="+34 699 000 111"),  # same name, other number
        "wa1": _lead(
            db, "Kim", channel="whatsapp", external_id="447700900777", phone="+44 7700 900777"
        ),
        "wa2": _lead(db, "Kimberly Stone", channel="whatsapp", external_id="447700900777"),
        "rep": _lead(db, "Ola Nowak", phone="+48 512 345 678"),
        "rep2": _lead(db, "Ola N.", phone="+48 512 345 678"),  # a repeat: already linked
    }
    for n in range(60):  # a common name: not a block to pair everyone in
        _lead(db, "Maria Silva", phone=f"+55 11 9{n:04d} 0000")
    return made


def test_the_finder_proposes_the_near_duplicates_with_their_reasons(db, near):
    with db.reading() as session:
        pairs = find_duplicates(session, limit=20)
    found = {(p.first_number, p.second_number): p for p in pairs}
    email = found[(near["ana1"], near["ana2"])]
    assert (
        "same email (ignoring case, +tags, Gmail dots)" in email.reasons
        and "same name" in email.reasons
    )
    assert found[(near["wa1"], near["wa2"])].reasons[0] == "same chat sender"
    assert "same name" in found[(near["jose1"], near["jose2"])].reasons
    assert (near["rep"], near["rep2"]) not in found  # repeats are one person already
    assert all("Maria Silva" not in (p.first_name, p.second_name) for p in pairs)
    assert email.score > found[(near["jose1"], near["jose2"])].score  # a name alone is weak


def test_a_dismissed_pair_is_not_proposed_again(db, near, team):
    db.write(lambda s: dismiss_pair(s, near["jose1"], near["jose2"], actor=team["maria"].actor))
    db.write(lambda s: dismiss_pair(s, near["jose2"], near["jose1"], actor=team["maria"].actor))
    with db.reading() as session:
        pairs = {(p.first_number, p.second_number) for p in find_duplicates(session)}
        audited = session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "duplicate.dismiss")
        )
    assert (near["jose1"], near["jose2"]) not in pairs and audited == 1
    with pytest.raises(ValidationError, match="already one person"):
        db.write(lambda s: dismiss_pair(s, near["rep"], near["rep2"], actor=SYSTEM))


@pytest.mark.parametrize(
    ("email", "normal"),
    [
        ("Ana.Lima+promo@GoogleMail.com", "analima@gmail.com"),
        ("a.b+x@example.com", "a.b@example.com"),
        ("+only@example.com", None),
        ("not-an-email", None),
    ],
)
def test_emails_are_normalized_as_the_providers_read_them(email, normal):
    assert normalized_email(email) == normal


@given(st.emails())
def test_a_normalized_email_is_stable(email):
    once = normalized_email(email)
    assert once is None or normalized_email(once) == once


def test_the_cli_lists_pairs_for_managers(db, db_url, near, monkeypatch):
    monkeypatch.setenv("LEADMS_TOKEN", cli_token(db, "maria"))
    result = runner.invoke(app, ["--database-url", db_url, "people", "duplicates", "--json"])
    assert result.exit_code == 0, result.output
    assert near["ana1"] in result.stdout
    monkeypatch.setenv("LEADMS_TOKEN", cli_token(db, "ana"))
    refused = runner.invoke(app, ["--database-url", db_url, "people", "duplicates"])
    assert refused.exit_code != 0 and "only a manager" in refused.output
