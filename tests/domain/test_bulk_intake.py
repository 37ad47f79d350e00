"""Bulk intake: the same numbering, dedupe and repeat rules as one-by-one intake, in batches."""

from datetime import UTC, datetime

from sqlalchemy import event, func, select

from leadms_tui.domain.audit import SYSTEM
from leadms_tui.domain.leads.bulk_intake import intake_batch, take_in_many
from leadms_tui.domain.leads.intake import LeadCreate, create_lead
from leadms_tui.domain.models import AuditEvent, Inquiry, Lead
from leadms_tui.domain.team.settings import load_settings

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def _row(i, **extra):
    fields = {"name": f"Person {i}", "phone": f"+1202555{i:04d}", "channel": "website"} | extra
    return (i + 2, LeadCreate(**fields))


def test_a_batch_numbers_dedupes_and_links_repeats(db):
    stored = create_lead(
        db, LeadCreate(name="Old", email="old@example.com", channel="email"), actor=SYSTEM, now=NOW
    )
    rows = [
        _row(0, dedupe_key="a"),
        _row(1, dedupe_key="b", email="OLD@example.com"),  # repeat of the stored lead
        _row(2, dedupe_key="a"),  # the same delivery as row 0
        _row(3, phone="+12025550000"),  # repeat of row 0, inside the batch
        _row(4, phone="call me"),  # refused: no usable contact
        _row(5, phone="+12025550000"),  # second repeat of row 0
    ]
    outcomes = db.write(
        lambda s: intake_batch(s, rows, actor=SYSTEM, settings=load_settings(s), now=NOW)
    )
    results = [o.result for o in outcomes]
    assert [r.created if r else None for r in results] == [True, True, False, True, None, True]
    assert results[0].number == "LEAD-20261125-002"
    assert [r.number for r in results if r and r.created] == [
        "LEAD-20261125-002",
        "LEAD-20261125-003",
        "LEAD-20261125-004",
        "LEAD-20261125-005",
    ]
    assert results[2].number == results[0].number
    assert results[1].repeat_of == stored.number
    assert (results[3].repeat_of, results[3].repeat_count) == (results[0].number, 1)
    assert results[5].repeat_count == 2
    assert "invalid phone" in outcomes[4].error
    with db.reading() as session:
        leads = {lead.number: lead for lead in session.execute(select(Lead)).scalars()}
        assert session.scalar(select(func.count()).select_from(Inquiry)) == 5
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == 5
    assert leads["LEAD-20261125-004"].repeat_of_id == leads["LEAD-20261125-002"].id
    assert leads["LEAD-20261125-003"].repeat_of_id == stored.lead_id


def test_a_batch_takes_a_handful_of_statements(db):
    statements = []
    event.listen(db.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    outcomes = list(take_in_many(db, [_row(i) for i in range(300)], actor=SYSTEM, batch_size=300))
    assert sum(o.result.created for o in outcomes) == 300
    assert len(statements) < 40  # not one round trip per row
