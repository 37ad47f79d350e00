"""Audit events are written with every write, in the same transaction; settings are validated."""

import ast
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.exc import DBAPIError

from leadms_tui.domain.audit import SYSTEM, Actor
from leadms_tui.domain.errors import ConflictError, ValidationError
from leadms_tui.domain.leads.intake import LeadCreate, create_lead, intake_lead
from leadms_tui.domain.models import AuditEvent, Role
from leadms_tui.domain.team.settings import describe_settings, load_settings, set_setting
from leadms_tui.domain.team.users import add_user, authenticate

PACKAGE = Path(__file__).resolve().parents[2] / "leadms_tui"


def _events(db):
    with db.reading() as session:
        return session.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars().all()


def test_each_write_records_actor_action_and_diff(db):
    user = db.write(lambda s: add_user(s, "ana", role=Role.REP, actor=SYSTEM, password="secret1"))
    result = create_lead(
        db, LeadCreate(name="Bo", email="bo@example.com", channel="website"), actor=user.actor
    )
    db.write(lambda s: set_setting(s, "timezone", "Europe/Lisbon", actor=Actor(user.id, "ana")))

    created_user, created_lead, setting = _events(db)
    assert (created_user.action, created_user.entity, created_user.actor) == (
        "user.create",
        "user",
        "system",
    )
    assert "password_hash" not in created_user.changes
    assert (created_lead.action, created_lead.entity_id, created_lead.actor_id) == (
        "lead.create",
        str(result.lead_id),
        user.id,
    )
    assert created_lead.changes["number"] == [None, result.number]
    assert setting.changes == {"value": ["UTC", "Europe/Lisbon"]}


def test_a_failed_write_leaves_no_audit_event(db):
    def fails(session):
        intake_lead(
            session, LeadCreate(name="X", email="x@example.com", channel="website"), actor=SYSTEM
        )
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        db.write(fails)
    assert _events(db) == []


def test_application_code_never_updates_or_deletes_audit_events():
    """The only write path for AuditEvent is the insert in audit.record."""
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in {"update", "delete"}
                and "AuditEvent" in ast.unparse(node)
            ):
                offenders.append(f"{path.name}:{node.lineno}")
    assert offenders == []


def test_the_database_refuses_to_change_or_delete_audit_events(db):
    db.write(lambda s: set_setting(s, "phone_region", "GB", actor=SYSTEM))
    for statement in (update(AuditEvent).values(actor="someone else"), delete(AuditEvent)):
        with pytest.raises(DBAPIError, match="append-only"):
            db.write(lambda s, statement=statement: s.execute(statement))
    assert len(_events(db)) == 1


def test_settings_default_and_validate(db):
    with db.reading() as session:
        assert load_settings(session).timezone == "UTC"
        assert [key for key, _, _ in describe_settings(session)][:2] == ["timezone", "phone_region"]
    assert db.write(lambda s: set_setting(s, "phone_region", " gb ", actor=SYSTEM)) == "GB"
    with pytest.raises(ValidationError, match="unknown timezone 'Mars/Olympus'"):
        db.write(lambda s: set_setting(s, "timezone", "Mars/Olympus", actor=SYSTEM))
    with pytest.raises(ValidationError, match="unknown phone region"):
        db.write(lambda s: set_setting(s, "phone_region", "XX", actor=SYSTEM))
    with pytest.raises(ValidationError, match="unknown setting"):
        db.write(lambda s: set_setting(s, "colour", "blue", actor=SYSTEM))


def test_users_sign_in_with_argon2_passwords(db):
    db.write(lambda s: add_user(s, "Maria", role=Role.MANAGER, actor=SYSTEM, password="pa55word"))
    with db.reading() as session:
        assert authenticate(session, "maria", "pa55word").role == Role.MANAGER
        with pytest.raises(ValidationError, match="wrong password"):
            authenticate(session, "maria", "nope")
    with pytest.raises(ConflictError):
        db.write(lambda s: add_user(s, "maria", role=Role.REP, actor=SYSTEM))
