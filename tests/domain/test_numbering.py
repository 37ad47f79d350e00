"""Lead numbers: format, gapless per day, rollback, rollover, many processes at once."""

import time
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, date, datetime
from multiprocessing import get_context

import pytest
from sqlalchemy import func, select

from leadms_tui.domain.audit import SYSTEM
from leadms_tui.domain.leads.bulk_intake import intake_batch
from leadms_tui.domain.leads.intake import LeadCreate, create_lead, intake_lead
from leadms_tui.domain.leads.numbering import format_lead_number
from leadms_tui.domain.models import AuditEvent, DayCounter, Inquiry, Lead
from leadms_tui.domain.team.settings import load_settings, set_setting
from tests.workers import take_leads


def _lead(i: int = 0, **extra) -> LeadCreate:
    return LeadCreate(name=f"Lead {i}", email=f"lead{i}@example.com", channel="website", **extra)


def test_format_widens_past_999():
    assert format_lead_number(date(2026, 11, 25), 7) == "LEAD-20261125-007"
    assert format_lead_number(date(2026, 11, 25), 999) == "LEAD-20261125-999"
    assert format_lead_number(date(2026, 11, 25), 1000) == "LEAD-20261125-1000"


def test_numbers_follow_each_other_within_a_day(db):
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    numbers = [create_lead(db, _lead(i), actor=SYSTEM, now=now).number for i in range(3)]
    assert numbers == ["LEAD-20261125-001", "LEAD-20261125-002", "LEAD-20261125-003"]


def test_numbers_past_999_and_the_audit_event_of_each_lead(db):
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    db.write(lambda s: s.add(DayCounter(business_date=date(2026, 11, 25), last_seq=998)))
    created = [create_lead(db, _lead(i), actor=SYSTEM, now=now) for i in range(2)]
    assert [c.number for c in created] == ["LEAD-20261125-999", "LEAD-20261125-1000"]
    with db.reading() as session:
        lead = session.get(Lead, created[1].lead_id)
        event = session.execute(
            select(AuditEvent).where(AuditEvent.entity_id == str(lead.id))
        ).scalar_one()
        inquiry = session.execute(select(Inquiry).where(Inquiry.lead_id == lead.id)).scalar_one()
    assert (lead.number, lead.seq) == ("LEAD-20261125-1000", 1000)
    assert (event.action, event.entity) == ("lead.create", "lead")
    assert event.changes["id"] == [None, lead.id]
    assert event.changes["number"] == [None, "LEAD-20261125-1000"]
    assert event.changes["seq"] == [None, 1000]
    assert event.personal["email_lower"] == [None, "lead1@example.com"]  # kept apart
    assert event.changes["created_at"] == [None, "2026-11-25T12:00:00+00:00"]
    assert "lost_reason" not in event.changes  # only fields that have a value
    assert inquiry.channel == "website"


@pytest.mark.parametrize("last", [0, 6, 41, 998])
def test_the_stored_number_is_padded_as_the_returned_one(db, last):
    """PostgreSQL formats the stored number in SQL and the returned one in Python: the row
    and its audit event must hold the same text (007, 042, 999)."""
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    db.write(lambda s: s.add(DayCounter(business_date=date(2026, 11, 25), last_seq=last)))
    created = create_lead(db, _lead(last), actor=SYSTEM, now=now)
    expected = format_lead_number(date(2026, 11, 25), last + 1)
    with db.reading() as session:
        lead = session.get(Lead, created.lead_id)
        event = session.execute(
            select(AuditEvent).where(AuditEvent.entity_id == str(lead.id))
        ).scalar_one()
    assert created.number == lead.number == expected
    assert (event.changes["number"], event.changes["seq"]) == ([None, expected], [None, last + 1])


def test_a_batch_moves_only_its_days_counter_and_intake_goes_on_after_it(db):
    """A batch numbers its leads under the day's lock and then writes the last number given
    out; one-by-one intake continues from there, and another day's counter is left alone."""
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    db.write(lambda s: s.add(DayCounter(business_date=date(2026, 11, 24), last_seq=7)))
    create_lead(db, _lead(0), actor=SYSTEM, now=now)
    rows = [(n + 2, _lead(n + 1)) for n in range(3)]
    outcomes = db.write(
        lambda s: intake_batch(s, rows, actor=SYSTEM, settings=load_settings(s), now=now)
    )
    assert [o.result.number for o in outcomes] == [
        "LEAD-20261125-002",
        "LEAD-20261125-003",
        "LEAD-20261125-004",
    ]
    assert create_lead(db, _lead(9), actor=SYSTEM, now=now).number == "LEAD-20261125-005"
    with db.reading() as session:
        counters = dict(
            session.execute(select(DayCounter.business_date, DayCounter.last_seq)).all()
        )
    assert counters == {date(2026, 11, 24): 7, date(2026, 11, 25): 5}


def test_a_rolled_back_intake_leaves_no_gap(db):
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    create_lead(db, _lead(1), actor=SYSTEM, now=now)

    class Boom(Exception):
        pass

    def fails_after_numbering(session):
        intake_lead(session, _lead(2), actor=SYSTEM, now=now)
        raise Boom

    with pytest.raises(Boom):
        db.write(fails_after_numbering)
    assert create_lead(db, _lead(3), actor=SYSTEM, now=now).number == "LEAD-20261125-002"
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(Lead)) == 2
        assert session.get(DayCounter, date(2026, 11, 25)).last_seq == 2


def test_business_date_rolls_over_at_midnight_in_team_timezone(db):
    db.write(lambda s: set_setting(s, "timezone", "America/Sao_Paulo", actor=SYSTEM))
    # 02:59 UTC is 23:59 on the 24th in São Paulo (UTC-3); 03:00 UTC is midnight of the 25th.
    before = create_lead(db, _lead(1), actor=SYSTEM, now=datetime(2026, 11, 25, 2, 59, tzinfo=UTC))
    after = create_lead(db, _lead(2), actor=SYSTEM, now=datetime(2026, 11, 25, 3, 0, tzinfo=UTC))
    again = create_lead(db, _lead(3), actor=SYSTEM, now=datetime(2026, 11, 25, 3, 1, tzinfo=UTC))
    assert before.number == "LEAD-20261124-001"
    assert after.number == "LEAD-20261125-001"
    assert again.number == "LEAD-20261125-002"


def _run_writers(url: str, processes: int, per_process: int) -> tuple[list[str], list[str]]:
    start_at = time.monotonic() + 2.0  # every child has imported and connected by then
    with ProcessPoolExecutor(processes, mp_context=get_context("spawn")) as pool:
        futures = [
            pool.submit(take_leads, url, worker, per_process, start_at)
            for worker in range(processes)
        ]
        results = [future.result(timeout=600) for future in futures]
    numbers = [n for numbers, _ in results for n in numbers]
    errors = [e for _, errors in results for e in errors]
    return numbers, errors


def _assert_unique_and_gapless(numbers: list[str]) -> None:
    assert not [n for n, c in Counter(numbers).items() if c > 1], "duplicate numbers"
    by_day = defaultdict(list)
    for number in numbers:
        _, day, seq = number.split("-")
        by_day[day].append(int(seq))
    for seqs in by_day.values():
        assert sorted(seqs) == list(range(1, len(seqs) + 1)), "gap in a day's numbers"


@pytest.mark.slow
@pytest.mark.postgres
def test_eight_processes_on_postgresql_get_unique_gapless_numbers(pg_url):
    numbers, errors = _run_writers(pg_url, processes=8, per_process=200)
    assert errors == []
    assert len(numbers) == 1600
    _assert_unique_and_gapless(numbers)


@pytest.mark.slow
def test_four_processes_on_sqlite_get_unique_gapless_numbers(sqlite_url):
    from leadms_tui.domain.db import open_database

    open_database(sqlite_url).dispose()  # migrate once before the race
    numbers, errors = _run_writers(sqlite_url, processes=4, per_process=200)
    assert errors == [], "a 'database is locked' reached the caller"
    assert len(numbers) == 800
    _assert_unique_and_gapless(numbers)
