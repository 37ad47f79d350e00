"""Personal values kept apart from the audit trail (issue 30): every text column is listed as
personal or not, `audit.event()` (and the one-statement intake on PostgreSQL) writes
personal values to `personal` only, the database lets an update of an audit event only
clear them, and the trail's seals find a changed event. Both engines."""

import pytest
from sqlalchemy import JSON, String, Text, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlmodel import SQLModel

from leadms_tui.domain import audit, personal, trail
from leadms_tui.domain.audit import SYSTEM
from leadms_tui.domain.db import Database, _alembic_config
from leadms_tui.domain.leads.intake import LeadCreate, create_lead
from leadms_tui.domain.models import AuditEvent
from leadms_tui.domain.team.settings import set_setting


def _is_text(column) -> bool:
    kind = getattr(column.type, "impl_instance", column.type)
    return isinstance(kind, String | Text | JSON)


def test_every_text_and_json_column_is_listed_as_personal_or_not():
    """A new column must be placed: personal (the erase clears it, the trail keeps it
    apart) or not, with the reason."""
    found = {
        (table.name, column.name)
        for table in SQLModel.metadata.sorted_tables
        for column in table.columns
        if _is_text(column)
    }
    listed = {(table, column) for table, columns in personal.COLUMNS.items() for column in columns}
    assert sorted(found - listed) == []  # unlisted columns
    assert sorted(listed - found) == []  # listed columns that are no more
    assert all(why for columns in personal.COLUMNS.values() for why in columns.values())


def test_audit_event_writes_personal_fields_to_personal_only():
    row = audit.event(
        SYSTEM, "lead.update", "lead",
        before={"name": "Bo", "status": "new", "phone_e164": None},
        after={"name": "Bo Smith", "status": "contacted", "phone_e164": "+447700900123"},
    )  # fmt: skip
    assert row["changes"] == {
        "name": personal.MARK,
        "status": ["new", "contacted"],
        "phone_e164": personal.MARK,
    }
    assert row["personal"] == {"name": ["Bo", "Bo Smith"], "phone_e164": [None, "+447700900123"]}
    fields = audit.event(SYSTEM, "fields.update", "lead", after={"status": "vip"})
    assert fields["changes"] == {"status": personal.MARK}  # a field's value, whatever its key
    plain = audit.event(SYSTEM, "setting.set", "setting", after={"value": "GB"})
    assert plain["personal"] is None
    assert audit.changes_of(row["changes"], row["personal"])["name"] == ["Bo", "Bo Smith"]
    assert audit.changes_of(row["changes"], None)["name"] == ["erased", "erased"]


def test_intake_stores_the_name_phone_and_email_in_personal_only(db):
    """On PostgreSQL the lead, its inquiry and its audit event are one statement."""
    made = create_lead(
        db,
        LeadCreate(name="Dora Quist", email="dora@example.com", phone="+44 7700 900123",
                   channel="website", message="Call me"),
        actor=SYSTEM,
    )  # fmt: skip
    with db.engine.connect() as conn:
        changes, kept = conn.execute(
            text(
                "SELECT CAST(changes AS TEXT), CAST(personal AS TEXT) FROM audit_events "
                "WHERE action = 'lead.create' AND entity_id = :id"
            ),
            {"id": str(made.lead_id)},
        ).one()
    for secret in ("Dora", "dora@example.com", "+447700900123", "Call me"):
        assert secret not in changes and secret in kept
    assert made.number in changes and '"name": "personal"' in changes.replace('":"', '": "')


def test_the_database_lets_an_audit_event_only_have_its_personal_values_cleared(db):
    create_lead(
        db, LeadCreate(name="Eve", email="eve@example.com", channel="website"), actor=SYSTEM
    )
    refused = [
        update(AuditEvent).values(personal={"name": [None, "Mallory"]}),
        update(AuditEvent).values(personal=None, changes={}),
        update(AuditEvent).values(actor="someone else"),
    ]
    for statement in refused:
        with pytest.raises(DBAPIError, match="append-only"):
            db.write(lambda s, statement=statement: s.execute(statement))
    db.write(lambda s: s.execute(update(AuditEvent).values(personal=None)))
    with db.reading() as s:
        assert s.execute(select(AuditEvent.personal)).scalars().all() == [None]


def test_a_seal_finds_an_event_changed_after_it(db):
    db.write(lambda s: set_setting(s, "phone_region", "GB", actor=SYSTEM))
    sealed = db.write(lambda s: trail.seal(s, SYSTEM))
    db.write(lambda s: set_setting(s, "phone_region", "PT", actor=SYSTEM))  # after the seal: fine
    with db.reading() as s:
        assert trail.verify(s).ok and trail.check_unchanged(s, sealed)
    with db.engine.begin() as conn:  # what only someone past the application could do
        if db.is_sqlite:
            conn.exec_driver_sql("DROP TRIGGER audit_events_no_update")
        else:
            conn.exec_driver_sql("ALTER TABLE audit_events DISABLE TRIGGER USER")
        conn.exec_driver_sql(
            f"UPDATE audit_events SET actor = 'x' WHERE id = {sealed.last_event_id}"
        )
    with db.reading() as s:
        verified = trail.verify(s)
    assert not verified.ok and f"seal {sealed.id}" in verified.broken[0]


def test_migration_0020_moves_personal_values_of_existing_events(request, db_url):
    from alembic import command

    from tests.domain.test_migrations import _empty_database

    database: Database = _empty_database(request, "sqlite" if "sqlite" in db_url else "postgres")
    with database.engine.begin() as conn:
        command.upgrade(_alembic_config(conn), "0019")
        conn.execute(
            text(
                "INSERT INTO audit_events (at, actor, action, entity, entity_id, changes) VALUES "
                "('2026-11-25 10:00:00', 'system', 'lead.create', 'lead', '1', :changes)"
            ),
            {"changes": '{"name": [null, "Old Name"], "status": [null, "new"]}'},
        )
    database.upgrade()
    with database.reading() as s:
        event = s.execute(select(AuditEvent)).scalar_one()
    assert event.changes == {"name": personal.MARK, "status": [None, "new"]}
    assert event.personal == {"name": [None, "Old Name"]}
