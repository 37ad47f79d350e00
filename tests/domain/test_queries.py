"""Day view, lead detail and lead search queries."""

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import event

from leadms_tui.domain.audit import SYSTEM
from leadms_tui.domain.leads.intake import LeadCreate, create_lead
from leadms_tui.domain.models import CallOutcome, Meeting
from leadms_tui.domain.queries.dayview import load_day_view
from leadms_tui.domain.queries.lead_detail import load_lead_detail
from leadms_tui.domain.queries.leads import LeadFilter, search_leads
from leadms_tui.domain.work.calls import log_call

DAY = date(2026, 11, 25)
NOW = datetime(2026, 11, 25, 11, 0, tzinfo=UTC)


def _seed(db, team):
    ana, bruno = team["ana"], team["bruno"]

    def lead(name, phone, owner, hours_ago, channel="website", email=None):
        data = LeadCreate(
            name=name,
            phone=phone,
            email=email,
            channel=channel,
            owner_id=owner.id if owner else None,
        )
        return create_lead(db, data, actor=ana.actor, now=NOW - timedelta(hours=hours_ago)).lead_id

    ids = {
        "old": lead("Olga Old", "07700 900001", ana, 30),
        "fresh": lead("Fred Fresh", "07700 900002", ana, 2),
        "free": lead("Una Unassigned", "07700 900003", None, 1),
        "bruno": lead("Bea Bruno", "07700 900004", bruno, 3),
        "again": lead("Olga O.", "447700900001", ana, 0, channel="whatsapp"),
    }
    db.write(
        lambda s: log_call(
            s,
            ids["old"],
            CallOutcome.NO_ANSWER,
            actor=ana.actor,
            next_followup_at=NOW - timedelta(hours=1),
            now=NOW - timedelta(hours=5),
        )
    )
    db.write(
        lambda s: s.add(
            Meeting(lead_id=ids["fresh"], owner_id=ana.id, starts_at=NOW + timedelta(hours=3))
        )
    )
    return ids


def test_day_view_for_a_rep(db, team):
    ids = _seed(db, team)
    with db.reading() as session:
        view = load_day_view(
            session=session, day=DAY, timezone="Europe/London", owner_id=team["ana"].id
        )
    assert [f.lead_id for f in view.followups] == [ids["old"]]
    assert view.followups[0].attempts == 1
    # oldest first; the rep sees unassigned new leads but not another rep's
    assert [n.lead_id for n in view.new_leads] == [ids["fresh"], ids["free"], ids["again"]]
    assert view.new_leads[-1].is_repeat
    assert [m.lead_id for m in view.meetings] == [ids["fresh"]]
    assert [c.lead_id for c in view.calls] == [ids["old"]]


def test_day_view_for_the_team_and_another_day(db, team):
    _seed(db, team)
    with db.reading() as session:
        team_view = load_day_view(session=session, day=DAY, timezone="Europe/London", owner_id=None)
        yesterday = load_day_view(
            session=session, day=DAY - timedelta(days=1), timezone="Europe/London", owner_id=None
        )
    assert team_view.new_leads_total == 4
    assert yesterday.calls == [] and yesterday.meetings == [] and yesterday.followups == []


def test_day_view_statement_count_does_not_grow_with_data(db, team):
    _seed(db, team)
    statements = []
    event.listen(db.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    with db.reading() as session:
        load_day_view(session=session, day=DAY, timezone="Europe/London", owner_id=None)
    assert len([s for s in statements if not s.startswith("BEGIN")]) <= 10


def test_lead_detail_has_repeat_links_and_timeline(db, team):
    ids = _seed(db, team)
    with db.reading() as session:
        detail = load_lead_detail(session=session, lead_id=ids["again"], viewer=SYSTEM)
        first = load_lead_detail(session=session, lead_id=ids["old"], viewer=SYSTEM)
    assert detail.repeat_of == first.lead.number
    assert [r.id for r in detail.related] == [ids["old"]]
    assert [r.id for r in first.related] == [ids["again"]]
    kinds = [e.kind for e in first.timeline]
    assert kinds[0] in {"call", "change", "followup"} and "inquiry" in kinds
    assert any(e.kind == "call" and "no answer by ana" in e.title for e in first.timeline)
    assert [e.at for e in first.timeline] == sorted((e.at for e in first.timeline), reverse=True)


def test_search_by_number_name_phone_email_and_filters(db, team):
    ids = _seed(db, team)

    def find(text="", **filters):
        with db.reading() as session:
            rows = search_leads(
                session=session,
                where=LeadFilter(text=text, **filters),
                phone_region="GB",
                viewer=SYSTEM,
            )
        return [r.id for r in rows]

    assert find() == sorted(ids.values(), reverse=True)  # newest first
    assert find("07700 900001") == [ids["again"], ids["old"]]  # national format, matched on E.164
    assert find("+44 7700 900001") == [ids["again"], ids["old"]]
    assert find("900003") == [ids["free"]]  # partial digits
    assert find("olga") == [ids["again"], ids["old"]]
    assert find("LEAD-20261124-001") == [ids["old"]]
    assert find("20261124-001") == [ids["old"]]
    assert find("lead-20261125") == [i for i in find() if i != ids["old"]]
    assert find("una", unassigned=True) == [ids["free"]]
    assert find(repeats_only=True) == [ids["again"]]
    assert find(owner_id=team["bruno"].id) == [ids["bruno"]]
    assert find(channel="whatsapp") == [ids["again"]]
    assert find(status="contacted") == [ids["old"]]
    assert find(date_from=DAY, date_to=DAY) == [i for i in find() if i != ids["old"]]


def test_search_pages_by_keyset(db, team):
    ids = _seed(db, team)
    with db.reading() as session:
        first = search_leads(
            session=session, where=LeadFilter(), phone_region="GB", viewer=SYSTEM, limit=2
        )
        second = search_leads(
            session=session,
            where=LeadFilter(),
            phone_region="GB",
            viewer=SYSTEM,
            limit=2,
            before_id=first[-1].id,
        )
    assert [r.id for r in first + second] == sorted(ids.values(), reverse=True)[:4]
