"""Repeat-lead detection: one person's later inquiries link back to their first lead."""

import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from leadms_tui.domain.audit import SYSTEM
from leadms_tui.domain.errors import ValidationError
from leadms_tui.domain.leads.intake import LeadCreate, create_lead
from leadms_tui.domain.models import Lead, PhoneFlag
from leadms_tui.domain.team.settings import set_setting
from tests.workers import take_leads


@pytest.fixture
def gb_db(db):
    db.write(lambda s: set_setting(s, "phone_region", "GB", actor=SYSTEM))
    return db


def test_same_phone_on_another_channel_in_another_format_is_a_repeat(gb_db):
    first = create_lead(
        gb_db, LeadCreate(name="Ana", phone="07700 900123", channel="website"), actor=SYSTEM
    )
    second = create_lead(
        gb_db, LeadCreate(name="Ana R", phone="447700900123", channel="whatsapp"), actor=SYSTEM
    )
    third = create_lead(
        gb_db, LeadCreate(name="Ana", phone="+44 (0)7700-900-123", channel="meta_ads"), actor=SYSTEM
    )
    assert first.repeat_of is None
    assert (second.repeat_of, second.repeat_count) == (first.number, 1)
    assert (third.repeat_of, third.repeat_count) == (first.number, 2)  # earliest, not latest


def test_email_matches_regardless_of_case(gb_db):
    first = create_lead(
        gb_db, LeadCreate(name="Li", email="Li.Wei@Example.com", channel="email"), actor=SYSTEM
    )
    second = create_lead(
        gb_db,
        LeadCreate(
            name="Li", email="li.wei@example.com", phone="+34 612 345 678", channel="website"
        ),
        actor=SYSTEM,
    )
    assert second.repeat_of == first.number


def test_a_different_person_is_not_a_repeat(gb_db):
    create_lead(gb_db, LeadCreate(name="A", phone="+12025550143", channel="phone"), actor=SYSTEM)
    other = create_lead(
        gb_db, LeadCreate(name="B", phone="+12025550144", channel="phone"), actor=SYSTEM
    )
    assert other.repeat_of is None and other.repeat_count == 0


def test_unreadable_phone_alone_is_refused_and_nothing_is_written(gb_db):
    with pytest.raises(ValidationError, match="invalid phone"):
        create_lead(gb_db, LeadCreate(name="X", phone="call me", channel="website"), actor=SYSTEM)
    with gb_db.reading() as session:
        assert session.execute(select(Lead)).first() is None


def test_unreadable_phone_with_an_email_is_kept_raw_and_flagged(gb_db):
    result = create_lead(
        gb_db,
        LeadCreate(name="X", phone="0770", email="x@example.com", channel="website"),
        actor=SYSTEM,
    )
    with gb_db.reading() as session:
        lead = session.get(Lead, result.lead_id)
    assert (lead.phone_raw, lead.phone_e164, lead.phone_flag) == ("0770", None, PhoneFlag.UNUSABLE)
    assert result.warnings


def test_a_messenger_sender_id_is_contact_enough(gb_db):
    result = create_lead(
        gb_db, LeadCreate(name="", external_id="6543210987", channel="messenger"), actor=SYSTEM
    )
    assert result.created


def test_no_contact_at_all_is_refused(gb_db):
    with pytest.raises(ValidationError, match="needs a phone"):
        create_lead(gb_db, LeadCreate(name="Nobody", channel="walk_in"), actor=SYSTEM)


def test_redelivery_with_the_same_dedupe_key_creates_nothing(gb_db):
    data = LeadCreate(
        name="Bruno", phone="5511987654321", channel="whatsapp", dedupe_key="wamid.ABC"
    )
    first = create_lead(gb_db, data, actor=SYSTEM)
    again = create_lead(gb_db, data, actor=SYSTEM)
    assert again.created is False and again.number == first.number
    with gb_db.reading() as session:
        assert len(session.execute(select(Lead.id)).all()) == 1


@pytest.mark.slow
def test_simultaneous_inquiries_from_one_phone_are_all_linked(db_url, db):
    start_at = time.monotonic() + 2.0
    with ProcessPoolExecutor(4, mp_context=get_context("spawn")) as pool:
        futures = [
            pool.submit(take_leads, db_url, w, 5, start_at, "+12025550199") for w in range(4)
        ]
        assert all(future.result(timeout=300)[1] == [] for future in futures)
    with db.reading() as session:
        leads = session.execute(select(Lead).order_by(Lead.id)).scalars().all()
    first, *repeats = leads
    assert len(leads) == 20 and first.repeat_of_id is None
    assert all(lead.repeat_of_id == first.id for lead in repeats)
    assert sorted(lead.repeat_count for lead in repeats) == list(range(1, 20))


def test_find_repeats_while_typing_matches_phone_in_any_format_and_email_in_any_case(gb_db):
    from leadms_tui.domain.leads.repeats import find_repeats

    first = create_lead(
        gb_db,
        LeadCreate(name="Ana", phone="07700 900123", email="Ana@X.com", channel="website"),
        actor=SYSTEM,
    )
    create_lead(gb_db, LeadCreate(name="Bo", phone="07700 900999", channel="phone"), actor=SYSTEM)
    with gb_db.reading() as session:

        def found(phone=None, email=None):
            return [
                (r.number, r.matched)
                for r in find_repeats(session, phone=phone, email=email, region="GB")
            ]

        assert found(phone="+44 7700-900123") == [(first.number, "phone")]
        assert found(email="ana@x.COM") == [(first.number, "email")]
        assert found(phone="07700900123", email="ana@x.com") == [(first.number, "phone and email")]
        assert found(phone="07700 9", email="ana@") == []  # half typed: nothing, no error
        assert found() == []


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    national=st.booleans(),
    separators=st.lists(st.sampled_from(["", " ", "-", "."]), min_size=10, max_size=10),
    upper=st.booleans(),
)
def test_find_repeats_reads_any_way_of_writing_the_same_phone_or_email(
    gb_db, national, separators, upper
):
    from leadms_tui.domain.leads.repeats import find_repeats

    with gb_db.reading() as session:
        first = session.execute(select(Lead.number).where(Lead.name == "Written")).scalar()
    if first is None:
        first = create_lead(
            gb_db,
            LeadCreate(name="Written", phone="07700 900555", email="w@x.io", channel="phone"),
            actor=SYSTEM,
        ).number
    digits = "7700900555"
    phone = ("0" if national else "+44") + "".join(
        sep + digit for sep, digit in zip(separators, digits, strict=True)
    )
    email = "W@X.IO" if upper else "w@x.io"
    with gb_db.reading() as session:
        by_phone = find_repeats(session, phone=phone, email=None, region="GB")
        by_email = find_repeats(session, phone=None, email=email, region="GB")
    assert [r.number for r in by_phone] == [first] and by_phone[0].matched == "phone"
    assert [r.number for r in by_email] == [first] and by_email[0].matched == "email"
