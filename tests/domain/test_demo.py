"""The demo database: built from data/demo through the real services, never over real
data."""

from datetime import UTC, datetime, timedelta
from functools import partial

import pytest
from sqlalchemy import func, select
from sqlmodel import SQLModel

from leadms_tui import bootstrap
from leadms_tui.domain import clock, demo
from leadms_tui.domain.audit import SYSTEM
from leadms_tui.domain.db import Database
from leadms_tui.domain.errors import ValidationError
from leadms_tui.domain.leads.intake import LeadCreate, create_lead
from leadms_tui.domain.models import (
    AuditEvent,
    Call,
    Client,
    Commission,
    Lead,
    Meeting,
    OnboardingTask,
    ResponseStep,
    Role,
    Sale,
    User,
)
from leadms_tui.domain.team.users import add_user

# the demo's leads and sales go through the services: their events reach the product's table
build_demo = partial(demo.build_demo, dispatcher=bootstrap.default_dispatcher())
open_demo = partial(demo.open_demo, dispatcher=bootstrap.default_dispatcher())


def _count(db, model, *where):
    with db.reading() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def _emptied(db_url: str) -> str:
    """The test databases come migrated; the demo builds only on an empty one (or its own)."""
    database = Database(db_url)
    with database.engine.begin() as conn:
        SQLModel.metadata.drop_all(conn)
        conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    database.dispose()
    return db_url


def test_demo_builds_live_looking_data_and_rebuilds(db_url):
    now = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)  # early: today's data squeezes before now
    database, summary = build_demo(_emptied(db_url), now=now)
    assert "365 leads" in summary
    assert _count(database, User) == 7
    assert _count(database, Lead) == 365
    assert _count(database, Lead, Lead.repeat_of_id.is_not(None)) >= 20
    assert _count(database, Lead, Lead.business_date == now.date()) >= 15
    assert _count(database, Call) >= 300
    assert _count(database, Call, Call.called_at > now) == 0
    assert _count(database, Lead, Lead.created_at > now) == 0
    assert _count(database, Meeting, Meeting.starts_at > now) >= 5
    assert _count(database, AuditEvent, AuditEvent.action == "lead.create") == 365
    _has_a_whatsapp_conversation(database, now)
    database.dispose()
    rebuilt, _ = build_demo(db_url, now=now)  # a demo database may be rebuilt
    assert _count(rebuilt, Lead) == 365
    rebuilt.dispose()


def _has_a_whatsapp_conversation(database, now):
    """Lucía wrote twice; one reply failed with 131047 (explained), one read, one delivered."""
    from leadms_tui.domain.chat.meta_errors import NextStep
    from leadms_tui.domain.chat.outbox import conversation

    with database.reading() as s:
        lead_id = s.scalar(select(Lead.id).where(Lead.external_id == demo.CHAT_SENDER))
        thread = conversation(s, lead_id, viewer=SYSTEM)
    shown = [(item.inbound, item.state, item.next_step) for item in thread.items]
    assert shown == [
        (True, None, None),
        (False, "failed", NextStep.USE_TEMPLATE),
        (False, "read", None),
        (True, None, None),
        (False, "delivered", None),
    ]
    assert "only a template can reach them" in (thread.items[1].reason or "")
    assert thread.window is not None and thread.window.free_text(now)


def test_demo_refuses_a_database_with_real_leads(db_url, db):
    create_lead(
        db, LeadCreate(name="Real", email="real@example.com", channel="website"), actor=SYSTEM
    )
    with pytest.raises(ValidationError, match="not made by `leadms demo`"):
        build_demo(db_url)
    assert _count(db, Lead) == 1


def test_demo_refuses_a_team_database_that_has_no_leads_yet(db_url, db):
    """Users, settings and rules but no lead: a real team's new database, never wiped."""
    db.write(lambda s: add_user(s, "boss", role=Role.ADMIN, actor=SYSTEM, password="x" * 12))
    for attempt in (lambda: build_demo(db_url), lambda: open_demo(db_url, rebuild=True)):
        with pytest.raises(ValidationError, match="not made by `leadms demo`"):
            attempt()
    assert _count(db, User) == 1 and _count(db, User, User.username == "demo") == 0


def test_demo_is_reused_on_its_day_rebuilt_on_the_next_never_under_another_app(db_url):
    monday = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    database, summary, lock = open_demo(_emptied(db_url), now=monday)
    assert "365 leads" in summary
    database.dispose()
    lock.release()
    database, summary, first_app = open_demo(db_url, now=monday + timedelta(hours=3))
    assert "reused" in summary  # bin/demo twice on one day: the same data, nothing deleted
    if database.is_sqlite:
        with pytest.raises(ValidationError, match="open in another Lead MS"):
            open_demo(db_url, rebuild=True, now=monday)  # the first app still holds it
        _, summary, second = open_demo(db_url, now=monday + timedelta(days=1))
        assert "earlier day (open elsewhere)" in summary  # not rebuilt under the first app
        second.release()
    else:
        with database.engine.connect() as conn:  # a second terminal on the database
            conn.exec_driver_sql("SELECT 1")
            with pytest.raises(ValidationError, match="open in another Lead MS"):
                open_demo(db_url, rebuild=True, now=monday)
    first_app.release()
    database.dispose()
    _, summary, lock = open_demo(db_url, now=monday + timedelta(days=1))
    assert "365 leads" in summary  # a new day, nobody using it: built anew
    lock.release()


@pytest.mark.parametrize(
    "now",
    [
        datetime(2026, 11, 25, 9, 30, tzinfo=UTC),  # a Wednesday
        datetime(2026, 11, 23, 7, 0, tzinfo=UTC),  # a Monday before opening: weekends behind
    ],
    ids=["wednesday", "monday"],
)
def test_demo_has_clients_commissions_and_onboarding_in_every_state(db_url, now):
    database, summary = build_demo(_emptied(db_url), now=now)
    assert "6 sales to 5 clients" in summary
    with database.reading() as s:
        commissions = set(s.scalars(select(Commission.state)))
        tasks = list(s.execute(select(OnboardingTask.state, OnboardingTask.due_on)).all())
        clients = set(s.scalars(select(Client.status)))
        sales_per_client = list(
            s.scalars(select(func.count()).select_from(Sale).group_by(Sale.client_id))
        )
        shares_per_sale = list(
            s.scalars(select(func.count()).select_from(Commission).group_by(Commission.sale_id))
        )
        currencies = set(s.scalars(select(Sale.currency)))
        latest = [
            s.scalar(select(func.max(column)))
            for column in (
                Sale.created_at,
                Sale.reversed_at,
                Commission.paid_at,
                OnboardingTask.done_at,
            )
        ]
    assert commissions == {"pending", "approved", "paid", "void"}
    assert {"open", "done", "skipped", "missed", "cancelled"} == {state for state, _ in tasks}
    today = now.date()
    assert all(due >= today for state, due in tasks if state == "open")  # the sweep has run
    assert clients >= {"onboarding", "active", "churned"} and _count(database, Client) == 5
    assert sorted(sales_per_client)[-1] == 2  # a repeat client
    assert sorted(shares_per_sale)[-1] == 2  # a split sale
    assert currencies == {"GBP"}
    assert all(moment is not None and clock.as_utc(moment) <= now for moment in latest)
    database.dispose()


def test_demo_has_fields_with_values_and_files(db_url):
    from leadms_tui.domain.fields.definitions import list_fields
    from leadms_tui.domain.fields.values import values_for
    from leadms_tui.domain.models import FieldEntity, FieldValue, StoredFile

    database, _ = build_demo(_emptied(db_url), now=datetime(2026, 11, 25, 9, 30, tzinfo=UTC))
    with database.reading() as s:
        kinds = {(f.entity.value, f.kind.value) for f in list_fields(s)}
        client_id = s.scalar(select(Client.id).where(Client.status == "active"))
        shown = {f.key: f.value for f in values_for(s, FieldEntity.CLIENT, [client_id])[client_id]}
        mimes = set(s.scalars(select(StoredFile.mime_type)))
        lead_values = s.scalar(select(func.count()).select_from(FieldValue))
    assert {
        ("lead", "choice"),
        ("lead", "money"),
        ("lead", "date"),
        ("client", "image"),
        ("client", "document"),
        ("meeting", "choice"),
    } <= kinds
    assert shown["membership"] == "Premium" and shown["contract"]["type"] == "application/pdf"
    assert mimes == {"application/pdf", "image/png"} and lead_values > 100
    database.dispose()


def test_demo_history_shows_missed_commitments_falling_after_the_rules(db_url):
    from leadms_tui.domain.reports.coaching import weekly_missed

    now = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
    database, _ = build_demo(_emptied(db_url), now=now)
    with database.reading() as s:
        weeks = weekly_missed(s, weeks=12, today=now.date())
    before = sum(w.missed for w in weeks[:6]) / sum(w.due for w in weeks[:6])
    after = sum(w.missed for w in weeks[6:]) / sum(w.due for w in weeks[6:])
    assert before > 2 * after  # the seed's headline: missed commitments down
    database.dispose()


@pytest.mark.parametrize(
    "now",
    [
        datetime(2026, 11, 25, 14, 0, tzinfo=UTC),  # a Wednesday afternoon (London, GMT)
        datetime(2026, 11, 25, 0, 10, tzinfo=UTC),  # just after midnight: no live half hour yet
    ],
    ids=["afternoon", "midnight"],
)
def test_demo_shows_running_clocks_and_one_breached_lead_and_only_it_climbs(db_url, now):
    """The made-up history has no response clocks; the three live leads of the last half
    hour do, one past the target, and the first sweep climbs the ladder with that one alone."""
    from leadms_tui.domain.team.settings import load_settings
    from leadms_tui.domain.work.clock_face import clock_face
    from leadms_tui.domain.work.response_clock import sweep_ladder

    database, _ = build_demo(_emptied(db_url), now=now)
    with database.reading() as s:
        settings = load_settings(s)
        leads = s.execute(select(Lead.name, Lead.created_at, Lead.status)).all()
        calls = s.scalar(select(func.count()).select_from(Call))
    faces = {
        name: clock_face(settings, created, "", touched=status != "new", now=now)
        for name, created, status in leads
    }
    running = {name: face.minutes_left(now) for name, face in faces.items() if face}
    assert all(clock.as_utc(created) <= now for _, created, _ in leads) and calls >= 300
    if now.hour == 14:
        assert running == {"Grace Okafor": -7, "Tomasz Nowak": 6, "Priya Shah": 12}
        # Grace: owner, managers, offer, reassign; Tomasz (9 minutes): his owner is told
        assert sweep_ladder(database, now=now) == 5
        with database.reading() as s:
            steps = s.execute(select(Lead.name, ResponseStep.action).join(Lead)).all()
        assert sorted(steps) == [
            ("Grace Okafor", "managers"),
            ("Grace Okafor", "offer"),
            ("Grace Okafor", "owner"),
            ("Grace Okafor", "reassign"),
            ("Tomasz Nowak", "owner"),
        ]
    else:  # closed since 18:00: the clocks wait for the morning, nobody is breached
        assert running == {"Grace Okafor": 15, "Tomasz Nowak": 15, "Priya Shah": 15}
        assert sweep_ladder(database, now=now) == 0
    assert sweep_ladder(database, now=now) == 0  # each step once
    database.dispose()


def test_the_duplicate_finders_top_20_on_the_demo_are_true_duplicates(db_url):
    """The demo's seeded near-duplicates (`demo.NEAR_DUPLICATES`: one person each, by
    construction) against `people duplicates`: at least 95% of its top 20 are such pairs
    (issue 30). The pairs repeat detection already links are not proposed again."""
    from leadms_tui.domain.people.duplicates import find_duplicates
    from leadms_tui.domain.queries.leads import lead_id_by_number

    database, _ = build_demo(_emptied(db_url), now=datetime(2026, 11, 25, 12, 0, tzinfo=UTC))
    with database.reading() as session:
        number_of = dict(session.execute(select(Lead.phone_e164, Lead.number)).all())
        seeded = {
            frozenset(
                number_of["+44" + demo.near_duplicate_phone(pair, second)[1:].replace(" ", "")]
                for second in (False, True)
            )
            for pair in range(len(demo.NEAR_DUPLICATES) - demo.SAME_PHONE_PAIRS)
        }
        top = find_duplicates(session, limit=20)
        linked = session.scalar(
            select(func.count())
            .select_from(Lead)
            .where(Lead.email == "gideon@ashworth.example", Lead.repeat_of_id.is_not(None))
        )
        same_phone = session.scalar(
            select(func.count())
            .select_from(Lead)
            .where(Lead.name == "Priscila Vance", Lead.repeat_of_id.is_not(None))
        )
        assert lead_id_by_number(session=session, number=top[0].first_number)
    true = [p for p in top if frozenset((p.first_number, p.second_number)) in seeded]
    precision = len(true) / len(top)
    assert len(top) == 20 and precision >= 0.95, [(p.first_name, p.second_name) for p in top]
    assert (linked, same_phone) == (1, 1)  # already one person to the repeat check
    print(f"finder precision on the demo's top 20: {precision:.0%}")
