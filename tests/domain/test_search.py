"""Lead search: digits as written, accents and case ignored, number fragments, and the index."""

import unicodedata
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import event, text
from sqlmodel import SQLModel

from leadms_tui.domain.audit import SYSTEM
from leadms_tui.domain.db import Database, _alembic_config
from leadms_tui.domain.leads.bulk_intake import take_in_many
from leadms_tui.domain.leads.edits import LeadUpdate, change_lead, update_lead
from leadms_tui.domain.leads.intake import LeadCreate, create_lead
from leadms_tui.domain.models import _STROKES, Lead, fold, lead_search_name
from leadms_tui.domain.queries.leads import LeadFilter, search_leads
from leadms_tui.domain.text import clean_line

NOW = datetime(2026, 11, 29, 11, 0, tzinfo=UTC)


def _lead(db, name, phone=None, email=None):
    data = LeadCreate(name=name, phone=phone, email=email, channel="website")
    return create_lead(db, data, actor=SYSTEM, now=NOW).lead_id


def _find(db, query, **paging):
    with db.reading() as session:
        rows = search_leads(
            session=session,
            where=LeadFilter(text=query),
            phone_region="GB",
            viewer=SYSTEM,
            **paging,
        )
    return [row.id for row in rows]


def _index_in_step(db):
    """SQLite: the full-text table matches the leads it indexes (raises if not)."""
    if db.is_sqlite:
        with db.engine.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO lead_search(lead_search, rank) VALUES ('integrity-check', 1)"
            )


def test_digits_are_matched_as_written(db, team):
    zeros = _lead(db, "Zed Zeros", "07700 900019")  # +447700900019
    nineteen = _lead(db, "Nina Nineteen", "07700 901919")  # has 19, not 0019
    assert _find(db, "0019") == [zeros]
    assert _find(db, "19") == []  # two characters: read as a name
    assert _find(db, "1919") == [nineteen]
    assert _find(db, "07700 900019") == [zeros]  # a whole number: matched on E.164
    # the start of a national number, as a rep types it: the team's region (GB) makes it +447700
    assert sorted(_find(db, "07700")) == sorted([zeros, nineteen])
    assert sorted(_find(db, "07700 9019")) == [nineteen]


def test_accents_and_case_are_ignored_both_ways(db, team):
    accented = _lead(db, "Carla Jiménez", "07700 900001")
    plain = _lead(db, "Pablo JIMENEZ", "07700 900002")
    jim = _lead(db, "Jim Smith", "07700 900003")
    for query in ("JIMÉNEZ", "jimenez", "Jiménez", "  jiménez "):
        assert _find(db, query) == [plain, accented]
    assert _find(db, "carla  jimenez") == [accented]  # whitespace collapsed
    assert _find(db, "jim") == [jim, plain, accented]
    assert _find(db, "jim", limit=1) == [jim]  # keyset paging still applies
    assert _find(db, "jim", before_id=plain) == [accented]
    assert _find(db, "ji") == _find(db, "jim")  # too short for trigrams: scanned, same answer


def test_a_fragment_of_a_lead_number_finds_it(db, team):
    ids = [_lead(db, f"Person {i}", f"07700 90010{i}") for i in range(1, 6)]
    with db.reading() as session:
        assert session.get(Lead, ids[-1]).number == "LEAD-20261129-005"
    assert _find(db, "1129-005") == [ids[-1]]
    assert _find(db, "29-005") == [ids[-1]]
    assert _find(db, "LEAD-20261129-005") == [ids[-1]]


def test_an_edit_of_name_or_email_updates_the_search(db, team):
    lead_id = _lead(db, "Olga Old", "07700 900001")
    ana = team["ana"].actor
    db.write(
        lambda s: update_lead(
            s, lead_id, LeadUpdate(name="Zoë Núñez"), expected_version=1, actor=ana
        )
    )
    assert _find(db, "olga") == []
    assert _find(db, "nunez") == [lead_id]
    db.write(
        lambda s: update_lead(
            s, lead_id, LeadUpdate(email="kowalski@example.com"), expected_version=2, actor=ana
        )
    )
    assert _find(db, "kowal") == [lead_id]
    assert _find(db, "zoe") == [lead_id]
    db.write(lambda s: change_lead(s, s.get(Lead, lead_id), ana, NOW, name="Łucja Wróbel"))
    assert _find(db, "lucja wrobel") == [lead_id]
    assert _find(db, "nunez") == []
    _index_in_step(db)


def test_an_imported_lead_is_searchable(db, team):
    rows = [
        (1, LeadCreate(name="Søren Åström", phone="07700 900011", channel="website")),
        (2, LeadCreate(name="Ana Smith", email="ana.muller@example.com", channel="website")),
    ]
    outcomes = list(take_in_many(db, rows, actor=SYSTEM))
    soren, ana = (outcome.result.lead_id for outcome in outcomes)
    assert _find(db, "soren astrom") == [soren]
    assert _find(db, "MULLER") == [ana]  # the email is searched too
    _index_in_step(db)


def _plan(db, query):
    """The plan the database makes for the lead list's search for `query`."""
    executed = []
    event.listen(db.engine, "before_cursor_execute", lambda *a: executed.append(a[2:4]))
    _find(db, query)
    [(statement, parameters)] = [e for e in executed if e[0].lstrip().startswith("SELECT")]
    with db.engine.begin() as conn:
        if db.is_sqlite:
            rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            return "\n".join(row[-1] for row in rows)
        # A few test rows are cheaper to scan; forbid scans to see that the index can serve it.
        conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
        conn.exec_driver_sql("SET LOCAL enable_indexscan = off")
        return "\n".join(row[0] for row in conn.exec_driver_sql(f"EXPLAIN {statement}", parameters))


@pytest.mark.parametrize("query", ["jiménez", "1129-005", "0019"])
def test_the_search_uses_the_index(db, team, query):
    _lead(db, "Carla Jiménez", "07700 900019")
    plan = _plan(db, query)
    if db.is_sqlite:
        assert "SCAN lead_search VIRTUAL TABLE" in plan
        assert "SCAN leads" not in plan
    else:
        assert "Bitmap Index Scan on lead_search" in plan
        assert "Seq Scan" not in plan


def test_the_upgrade_fills_the_search_of_earlier_leads(request, db_url):
    database = Database(db_url)
    if not database.is_sqlite:  # the fixture's copy is migrated: empty it
        with database.engine.begin() as conn:
            SQLModel.metadata.drop_all(conn)
            conn.exec_driver_sql("DROP TABLE alembic_version")
    with database.engine.begin() as conn:
        command.upgrade(_alembic_config(conn), "0005")
        conn.execute(
            text(
                "INSERT INTO leads (number, business_date, seq, name, email, channel, status, "
                "repeat_count, created_at, updated_at, version) VALUES ('LEAD-20261129-001', "
                "'2026-11-29', 1, 'José Núñez', 'JN@example.com', 'website', 'new', 0, "
                ":at, :at, 1)"
            ),
            {"at": NOW.replace(tzinfo=None) - timedelta(hours=1)},
        )
    database.upgrade()
    with database.reading() as session:
        lead = session.get(Lead, 1)
        assert lead.search_name == lead_search_name("José Núñez", "JN@example.com")
    assert _find(database, "nunez") == [1]
    _index_in_step(database)
    database.dispose()


@given(st.text())
def test_folding_ascii_text_skips_nothing_it_should_drop(value):
    """`fold` skips the combining-mark pass for ASCII text; the result must not change."""
    decomposed = unicodedata.normalize("NFKD", clean_line(value)).casefold()
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    assert fold(value) == " ".join(bare.translate(_STROKES).split())
