"""The demo database: built from data/demo through the real services, never over real data."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from leadms_tui.domain.audit import SYSTEM
from leadms_tui.domain.demo import build_demo
from leadms_tui.domain.errors import ValidationError
from leadms_tui.domain.intake import LeadCreate, create_lead
from leadms_tui.domain.models import AuditEvent, Call, Lead, Meeting, User


def _count(db, model, *where):
    with db.reading() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def test_demo_builds_live_looking_data_and_rebuilds(db_url):
    now = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)  # early: today's data squeezes before now
    database, summary = build_demo(db_url, now=now)
    assert "235 leads" in summary
    assert _count(database, User) == 7
    assert _count(database, Lead) == 235
    assert _count(database, Lead, Lead.repeat_of_id.is_not(None)) >= 20
    assert _count(database, Lead, Lead.business_date == now.date()) >= 15
    assert _count(database, Call) >= 300
    assert _count(database, Call, Call.called_at > now) == 0
    assert _count(database, Lead, Lead.created_at > now) == 0
    assert _count(database, Meeting, Meeting.starts_at > now) >= 5
    assert _count(database, AuditEvent, AuditEvent.action == "lead.create") == 235
    database.dispose()
    rebuilt, _ = build_demo(db_url, now=now)  # a demo database may be rebuilt
    assert _count(rebuilt, Lead) == 235
    rebuilt.dispose()


def test_demo_refuses_a_database_with_real_leads(db_url, db):
    create_lead(
        db, LeadCreate(name="Real", email="real@example.com", channel="website"), actor=SYSTEM
    )
    with pytest.raises(ValidationError, match="refusing to overwrite"):
        build_demo(db_url)
    assert _count(db, Lead) == 1
