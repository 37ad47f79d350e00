"""Audit events are written with every write, in the same transaction; settings are validated."""

import ast
from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.exc import DBAPIError

from leadms_tui.domain.audit import SYSTEM, Actor
from leadms_tui.domain.errors import ConflictError, ValidationError
from leadms_tui.domain.leads.intake import LeadCreate, create_lead, intake_lead
from leadms_tui.domain.models import AuditEvent, Role, Setting
from leadms_tui.domain.team.settings import (
    DEFAULT_TEXT,
    DEFAULTS,
    SPECS,
    LadderStep,
    OpeningHours,
    describe_settings,
    load_settings,
    read_settings,
    set_setting,
)
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
    """The only write paths for AuditEvent are the insert in audit.record and the erase's
    clearing of the kept-apart personal values (the database allows nothing else)."""
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and ast.unparse(node.func).rsplit(".", 1)[-1] in {"update", "delete"}
                and "AuditEvent" in ast.unparse(node)
                and not (path.name == "erase.py" and _clears_personal_only(node, tree))
            ):
                offenders.append(f"{path.name}:{node.lineno}")
    assert offenders == []


def _clears_personal_only(node: ast.Call, tree: ast.Module) -> bool:
    """`update(AuditEvent)` whose statement sets nothing but `personal=None`."""
    for parent in ast.walk(tree):
        if (
            isinstance(parent, ast.Call)
            and isinstance(parent.func, ast.Attribute)
            and parent.func.attr == "values"
            and node in ast.walk(parent.func.value)
        ):
            keywords = [(k.arg, ast.unparse(k.value)) for k in parent.keywords]
            return keywords == [("personal", "None")] and not parent.args
    return False


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


def test_settings_are_read_once_as_typed_values(db):
    """Consumers get ints, times, days, dates and steps; the text stays what was typed."""
    assert set(SPECS) < set(DEFAULT_TEXT)  # every setting has a default text
    assert read_settings({}) == DEFAULTS and DEFAULTS.text == DEFAULT_TEXT
    assert DEFAULTS.response_target_minutes == 15 and DEFAULTS.file_max_bytes == 10 * 1024 * 1024
    assert DEFAULTS.business_hours == OpeningHours(time(9), time(18))
    assert DEFAULTS.business_days == frozenset(range(5)) and DEFAULTS.holiday_region == ""
    for key, value in [
        ("response_target_minutes", " 30 "),
        ("business_hours", "08:30-17:00"),
        ("business_days", "mon-thu"),
        ("holidays", "2026-12-24, 2026-12-31"),
        ("holiday_region", "gb-sct"),
        ("response_ladder", "10:owner, 20:reassign"),
        ("import_max_mb", "50"),
    ]:
        db.write(lambda s, key=key, value=value: set_setting(s, key, value, actor=SYSTEM))
    db.write(
        lambda s: s.add(Setting(key="response_clock_since", value="2026-11-02T09:00:00+00:00"))
    )
    with db.reading() as session:
        settings = load_settings(session)
        described = {key: value for key, value, _ in describe_settings(session)}
    assert settings.response_target_minutes == 30 and settings.import_max_bytes == 50 * 1024**2
    assert settings.business_hours == OpeningHours(time(8, 30), time(17))
    assert str(settings.business_hours) == "08:30-17:00"
    assert settings.business_days == frozenset({0, 1, 2, 3})
    assert settings.holidays == {date(2026, 12, 24), date(2026, 12, 31)}
    assert settings.holiday_region == "GB-SCT"
    assert settings.ladder == (LadderStep(10, "owner"), LadderStep(20, "reassign"))
    assert settings.response_clock_since == datetime(2026, 11, 2, 9, tzinfo=UTC)
    calendar = settings.calendar()
    assert (calendar.opens, calendar.closes, calendar.holiday_region) == (
        time(8, 30),
        time(17),
        "GB-SCT",
    )
    assert not calendar.is_business_day(date(2026, 8, 3))  # Scotland's summer bank holiday
    assert settings.calendar("07:00-15:00").opens == time(7)  # a rep's own hours
    # what the screen and CLI show and edit is the text as stored, not a rebuilt one
    assert described["business_days"] == "mon-thu" and described["holiday_region"] == "GB-SCT"
    assert described["response_target_minutes"] == "30"


@pytest.mark.parametrize(
    ("key", "value", "reason"),
    [
        ("holiday_region", "XX", "unknown holiday region 'XX': start with a country code"),
        ("holiday_region", "GB-XYZ", "GB's subdivisions are ENG, NIR, SCT, WLS"),
        ("response_target_minutes", "soon", "'soon' is not a number of minutes"),
        ("business_hours", "18:00-09:00", "closing must be after opening"),
        ("business_days", "someday", "unknown day 'someday'"),
        ("holidays", "2026-02-30", "invalid holiday '2026-02-30'"),
        ("file_max_mb", "0", "not a size in MB between 1 and 100000"),
        ("response_ladder", "5:owner,3:managers", "minutes must increase"),
    ],
)
def test_an_invalid_setting_is_refused_with_the_reason_and_nothing_changes(db, key, value, reason):
    with pytest.raises(ValidationError, match=reason):
        db.write(lambda s: set_setting(s, key, value, actor=SYSTEM))
    with db.reading() as session:
        assert load_settings(session).text[key] == DEFAULT_TEXT[key]
    assert not [e for e in _events(db) if e.action == "setting.set"]


def test_the_holiday_region_is_audited_and_can_be_cleared(db):
    assert db.write(lambda s: set_setting(s, "holiday_region", "gb-eng", actor=SYSTEM)) == "GB-ENG"
    assert db.write(lambda s: set_setting(s, "holiday_region", " ", actor=SYSTEM)) == ""
    changes = [e.changes for e in _events(db) if e.action == "setting.set"]
    assert changes == [{"value": ["", "GB-ENG"]}, {"value": ["GB-ENG", ""]}]
    with db.reading() as session:
        assert load_settings(session).calendar().is_business_day(date(2026, 8, 31))


def test_a_stored_value_that_no_longer_reads_gives_the_default(db, caplog):
    """A row edited by hand in the database: every screen and intake keeps working."""
    db.write(lambda s: s.add(Setting(key="response_target_minutes", value="soon")))
    db.write(lambda s: s.add(Setting(key="holiday_region", value="Atlantis")))
    with db.reading() as session:
        settings = load_settings(session)
    assert settings.response_target_minutes == 15 and settings.holiday_region == ""
    assert "setting response_target_minutes: stored 'soon' is unreadable" in caplog.text


def test_users_sign_in_with_argon2_passwords(db):
    db.write(lambda s: add_user(s, "Maria", role=Role.MANAGER, actor=SYSTEM, password="pa55word"))
    with db.reading() as session:
        assert authenticate(session, "maria", "pa55word").role == Role.MANAGER
        with pytest.raises(ValidationError, match="wrong password"):
            authenticate(session, "maria", "nope")
    with pytest.raises(ConflictError):
        db.write(lambda s: add_user(s, "maria", role=Role.REP, actor=SYSTEM))
