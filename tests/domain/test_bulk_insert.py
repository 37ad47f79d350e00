"""Bulk inserts at the driver store exactly what SQLAlchemy's own insert stores, and are
announced to live listeners like any other write."""

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text

from leadms_tui.domain import bulk_insert, live
from leadms_tui.domain.db import Database
from leadms_tui.domain.models import AuditEvent, Channel, Inquiry, Lead, LeadStatus

LEADS, INQUIRIES = Lead.__table__, Inquiry.__table__  # type: ignore[attr-defined]
EVENTS = AuditEvent.__table__  # type: ignore[attr-defined]
AT = datetime(2026, 3, 29, 0, 30, 15, 123456, tzinfo=UTC)
SEQS = [1, 2, 3, 11, 12, 13]
HOSTILE = "Ann\x1b[31m\tTab\r\nLine\u202eevil\x7f\x85 😀 é \\u0001"


def _lead(seq: int, **extra) -> dict:
    return {
        "number": f"LEAD-20260329-{seq:03d}",
        "business_date": date(2026, 3, 29),
        "seq": seq,
        "name": HOSTILE if seq % 2 else f"Person {seq % 10}",
        "phone_raw": "07700 900123",
        "phone_e164": f"+4477009{seq:05d}",
        "phone_flag": None,
        "email": None,
        "email_lower": None,
        "channel": Channel.WEBSITE,
        "external_id": None,
        "first_message": HOSTILE,
        "status": LeadStatus.NEW,
        "lost_reason": None,
        "owner_id": None,
        "repeat_of_id": None,
        "repeat_count": 0,
        "created_at": AT,
        "updated_at": AT.astimezone(timezone(timedelta(hours=-5))),  # any zone: stored as UTC
        "version": 1,
        "search_name": "person",
    } | extra


def _stored(db: Database, table, key: str, values: list) -> list[tuple]:
    """The rows as the database holds them (driver values, no type processing), id left out,
    in the order of their `key` in `values`."""
    names = [c.name for c in table.columns if c.name != "id"]
    with db.engine.connect() as conn:
        rows = conn.execute(text(f"SELECT {', '.join(names)} FROM {table.name}")).all()
    by_key = {getattr(row, key): tuple(row) for row in rows}
    return [by_key[value] for value in values]


def test_bulk_rows_are_stored_exactly_as_sqlalchemy_stores_them(db):
    by_sqlalchemy = [_lead(seq) for seq in (1, 2, 3)]
    in_bulk = [_lead(seq) for seq in (11, 12, 13)]  # pairs 1-11, 2-12, 3-13 hold the same

    def write(session):
        conn = session.connection()
        conn.execute(LEADS.insert(), by_sqlalchemy)
        returned = bulk_insert.insert_rows(
            conn, LEADS, in_bulk, returning=("seq", "id") if db.is_sqlite else ()
        )
        ids = dict(conn.execute(select(LEADS.c.seq, LEADS.c.id)).all())
        if db.is_sqlite:
            assert dict(returned) == {seq: ids[seq] for seq in (11, 12, 13)}
        inquiries = [
            {
                "lead_id": ids[seq],
                "channel": Channel.WEBSITE,
                "received_at": AT + timedelta(seconds=seq),
                "message": HOSTILE if seq % 2 else None,
                "dedupe_key": f"k{seq}",
                "payload_ref": None,
                "attributes": {"utm\x00": [HOSTILE, 1, None, True], "n": 2.5} if seq % 2 else {},
            }
            for seq in SEQS
        ]
        conn.execute(INQUIRIES.insert(), inquiries[:3])
        bulk_insert.insert_rows(conn, INQUIRIES, inquiries[3:])
        events = [
            {
                "at": AT,
                "actor_id": None,
                "actor": HOSTILE,
                "action": "lead.create",
                "entity": "lead",
                "entity_id": str(seq),
                "changes": {"name": [None, HOSTILE], "n": [None, 1.5], "at": [None, "x\x00"]},
            }
            for seq in SEQS
        ]
        conn.execute(EVENTS.insert(), events[:3])
        bulk_insert.insert_rows(conn, EVENTS, events[3:])

    db.write(write)
    leads = _stored(db, LEADS, "seq", SEQS)
    inquiries = _stored(db, INQUIRIES, "dedupe_key", [f"k{seq}" for seq in SEQS])
    events = _stored(db, EVENTS, "entity_id", [str(seq) for seq in SEQS])
    for stored, varying in ((leads, {0, 2, 5}), (inquiries, {0, 2, 4}), (events, {5})):
        assert len(stored) == 6
        for first, second in zip(stored[:3], stored[3:], strict=True):
            same = [i for i in range(len(first)) if i not in varying]
            assert [first[i] for i in same] == [second[i] for i in same]
    assert "\x1b" not in str(leads) and "\u202e" not in str(events)  # cleaned on both paths


def test_rows_without_a_column_that_has_a_default_are_refused(db):
    row = {k: v for k, v in _lead(1).items() if k != "version"}
    with pytest.raises(ValueError, match="version"):
        db.write(lambda s: bulk_insert.insert_rows(s.connection(), LEADS, [row]))


def test_a_bulk_insert_is_announced_when_it_commits(db):
    listener = live.Listener(db.url)
    try:
        listener.wait(0.1)
        db.write(lambda s: bulk_insert.insert_rows(s.connection(), LEADS, [_lead(1)]))
        seen: set[str] = set()
        for _ in range(15):
            seen |= listener.wait(0.2)
            if "leads" in seen:
                break
        assert "leads" in seen
    finally:
        listener.close()


def test_equal_values_are_processed_once_only_where_that_cannot_change_them():
    seen = []

    def process(value):
        seen.append(value)
        return repr(value)

    assert bulk_insert._processed(process, ["a", "a", None, "b"]) == ["'a'", "'a'", "None", "'b'"]
    assert len(seen) == 3
    instant = datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    elsewhere = instant.astimezone(timezone(timedelta(hours=2)))  # equal, another zone
    assert bulk_insert._processed(repr, [instant, elsewhere]) == [repr(instant), repr(elsewhere)]
    assert bulk_insert._processed(repr, [0.0, -0.0]) == ["0.0", "-0.0"]
    assert bulk_insert._processed(repr, [1, True]) == ["1", "True"]
    assert bulk_insert._processed(len, [{"a": 1}, {"a": 1}]) == [1, 1]
