"""Dynamic fields: every type validates the same on every path, values are stored typed and
audited, filters use the value indexes, files are sniffed and limited."""

import base64
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from leadms_tui.domain import clock
from leadms_tui.domain.audit import SYSTEM, Actor, changes_of
from leadms_tui.domain.errors import (
    ConflictError,
    PermissionDeniedError,
    ValidationError,
)
from leadms_tui.domain.fields import definitions, files, kinds, values
from leadms_tui.domain.fields.values import FieldFilter, filter_condition, set_fields, values_for
from leadms_tui.domain.leads.intake import LeadCreate, create_lead
from leadms_tui.domain.models import (
    AuditEvent,
    FieldEntity,
    FieldKind,
    FieldValue,
    Lead,
    Role,
    StoredFile,
)
from leadms_tui.domain.team.settings import set_setting

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
ADMIN = Actor(None, "admin", Role.ADMIN)
TINY_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAQAAAADCAIAAAA7ljmRAAAAFElEQVR4nGM44WDAgASYkDkM+OQA9ucB"
    "TW4ALxEAAAAASUVORK5CYII="
)
LEAD = FieldEntity.LEAD


@pytest.fixture(autouse=True)
def frozen():
    clock.set_clock(lambda: NOW)
    yield
    clock.set_clock(None)


@pytest.fixture(autouse=True)
def london(db):
    for key, value in [("timezone", "Europe/London"), ("phone_region", "GB")]:
        db.write(lambda s, k=key, v=value: set_setting(s, k, v, actor=SYSTEM))


def ctx(session=None):
    return kinds.Context("Europe/London", "GB", "USD", NOW)


def _add(db, key, kind, **kw):
    return db.write(
        lambda s: definitions.add_field(s, LEAD, key, kind, actor=ADMIN, ctx=ctx(), **kw)
    )


def _lead(db, n=1):
    data = LeadCreate(name=f"Lead {n}", phone=f"+4477009001{n:02d}", channel="website")
    return create_lead(db, data, actor=SYSTEM).lead_id


def _set(db, lead_id, **raw):
    return db.write(lambda s: set_fields(s, LEAD, lead_id, raw, actor=ADMIN))


@pytest.mark.parametrize(
    ("kind", "raw", "stored", "as_json"),
    [
        (FieldKind.TEXT, "  Roof  repair ", "Roof  repair", "Roof  repair"),
        (FieldKind.LONG_TEXT, "line 1\nline 2", "line 1\nline 2", "line 1\nline 2"),
        (FieldKind.INTEGER, "1,200", "1200", 1200),
        (FieldKind.DECIMAL, "3.14159", "3.14159", "3.14159"),
        (FieldKind.MONEY, "2500.5", "2500.5", "2500.5"),
        (FieldKind.DATE, "2026-12-24", "2026-12-24", "2026-12-24"),
        (FieldKind.DATE, "tomorrow", "2026-11-26", "2026-11-26"),
        (FieldKind.DATETIME, "2026-12-01 15:00", "2026-12-01T15:00:00+00:00", None),
        (FieldKind.YES_NO, "Yes", "yes", True),
        (FieldKind.YES_NO, "no", "no", False),
        (FieldKind.CHOICE, "gold", "Gold", "Gold"),
        (FieldKind.MULTI_CHOICE, "silver, gold, silver", "Silver, Gold", ["Silver", "Gold"]),
        (FieldKind.LINK, "example.com/a", "https://example.com/a", "https://example.com/a"),
        (FieldKind.EMAIL, "Ana@Example.com", "Ana@Example.com", "Ana@Example.com"),
        (FieldKind.PHONE, "07700 900123", "07700 900123", "+447700900123"),
    ],
)
def test_each_type_parses_and_stores_typed(db, kind, raw, stored, as_json):
    options = ["Gold", "Silver"] if kind in kinds.CHOICE_KINDS else None
    _add(db, "extra", kind, options=options)
    lead_id = _lead(db)
    (shown,) = _set(db, lead_id, extra=raw)
    assert shown.canonical == stored
    if as_json is not None:
        assert shown.value == as_json


@pytest.mark.parametrize(
    ("kind", "raw", "message"),
    [
        (FieldKind.TEXT, "x" * 501, "longer than 500"),
        (FieldKind.INTEGER, "1.5", "more than 0 decimals"),
        (FieldKind.INTEGER, "ten", "not a number"),
        (FieldKind.DECIMAL, "10000000000000000", "too large"),
        (FieldKind.MONEY, "12.345", "more than 2 decimals"),
        (FieldKind.DATE, "the 45th", ""),
        (FieldKind.YES_NO, "maybe", "not yes or no"),
        (FieldKind.CHOICE, "Platinum", "not one of the options"),
        (FieldKind.MULTI_CHOICE, "Gold, Bronze", "not one of the options"),
        (FieldKind.LINK, "javascript:alert(1)", "only http and https"),
        (FieldKind.LINK, "ftp://example.com", "only http and https"),
        (FieldKind.LINK, "https://", "not a web address"),
        (FieldKind.EMAIL, "not-an-email", ""),
        (FieldKind.PHONE, "12", "not a phone number"),
        (FieldKind.IMAGE, "photo.png", "give a file"),
    ],
)
def test_bad_values_are_refused_with_the_fields_label(db, kind, raw, message):
    options = ["Gold", "Silver"] if kind in kinds.CHOICE_KINDS else None
    _add(db, "extra", kind, options=options, label="Extra info")
    lead_id = _lead(db)
    with pytest.raises(ValidationError, match=f"Extra info: .*{message}"):
        _set(db, lead_id, extra=raw)
    with db.reading() as s:
        assert s.execute(select(func.count()).select_from(FieldValue)).scalar_one() == 0


def test_one_bad_field_writes_none_and_names_every_bad_one(db):
    _add(db, "budget", FieldKind.MONEY)
    _add(db, "visit", FieldKind.DATE)
    _add(db, "plan", FieldKind.CHOICE, options=["Gold"])
    lead_id = _lead(db)
    with pytest.raises(ValidationError) as raised:
        _set(db, lead_id, budget="100", visit="soon-ish", plan="Tin")
    assert "Visit:" in str(raised.value) and "Plan:" in str(raised.value)
    with db.reading() as s:
        assert s.execute(select(func.count()).select_from(FieldValue)).scalar_one() == 0
        assert s.get(Lead, lead_id).version == 1


def test_values_are_audited_and_bump_the_version_and_stale_edits_are_refused(db):
    _add(db, "budget", FieldKind.MONEY)
    lead_id = _lead(db)
    _set(db, lead_id, budget="100")
    with db.reading() as s:
        event = s.execute(
            select(AuditEvent).where(AuditEvent.action == "fields.update")
        ).scalar_one()
        shown = changes_of(event.changes, event.personal)  # a field's value is personal
        assert shown == {"budget": ["", "100"]} or shown == {"budget": [None, "100"]}
        assert s.get(Lead, lead_id).version == 2
    db.write(
        lambda s: set_fields(s, LEAD, lead_id, {"budget": "200"}, actor=ADMIN, expected_version=2)
    )
    with pytest.raises(ConflictError):  # a second editor who read version 2 too
        db.write(
            lambda s: set_fields(
                s, LEAD, lead_id, {"budget": "300"}, actor=ADMIN, expected_version=2
            )
        )
    with db.reading() as s:
        (shown,) = values_for(s, LEAD, [lead_id])[lead_id]
    assert shown.value == "200"


def test_definitions_are_for_admins_with_clean_keys(db):
    rep = Actor(1, "ana", Role.REP)
    with pytest.raises(PermissionDeniedError):
        db.write(
            lambda s: definitions.add_field(s, LEAD, "x", FieldKind.TEXT, actor=rep, ctx=ctx())
        )
    for key, message in [("Bad Key", "lowercase"), ("status", "built into"), ("9x", "lowercase")]:
        with pytest.raises(ValidationError, match=message):
            _add(db, key, FieldKind.TEXT)
    with pytest.raises(ValidationError, match="needs its options"):
        _add(db, "plan", FieldKind.CHOICE)
    with pytest.raises(ValidationError, match="not one of the options"):
        _add(db, "plan", FieldKind.CHOICE, options=["Gold"], default="Tin")
    _add(db, "plan", FieldKind.CHOICE, options=["Gold"])
    with pytest.raises(ConflictError):
        _add(db, "plan", FieldKind.TEXT)


def test_retiring_hides_but_keeps_values_and_history(db):
    _add(db, "budget", FieldKind.MONEY)
    lead_id = _lead(db)
    _set(db, lead_id, budget="100")
    db.write(lambda s: definitions.retire_field(s, LEAD, "budget", actor=ADMIN, now=NOW))
    with db.reading() as s:
        assert values_for(s, LEAD, [lead_id])[lead_id] == []
        kept = values_for(s, LEAD, [lead_id], include_retired=True)[lead_id]
    assert kept[0].value == "100"
    with pytest.raises(ValidationError, match="unknown lead field"):
        _set(db, lead_id, budget="5")
    db.write(
        lambda s: definitions.retire_field(s, LEAD, "budget", actor=ADMIN, now=NOW, restore=True)
    )
    _set(db, lead_id, budget="5")


def test_has_image_fields_counts_only_active_ones(db):
    """The TUI prepares image previews (a terminal query, ~75 ms) only when this is true."""

    def has_images():
        with db.reading() as s:
            return definitions.has_image_fields(s)

    _add(db, "budget", FieldKind.MONEY)
    assert not has_images()
    _add(db, "photo", FieldKind.IMAGE)
    assert has_images()
    db.write(lambda s: definitions.retire_field(s, LEAD, "photo", actor=ADMIN, now=NOW))
    assert not has_images()


def test_type_change_converts_or_is_refused(db):
    _add(db, "size", FieldKind.TEXT)
    a, b = _lead(db, 1), _lead(db, 2)
    _set(db, a, size="12")
    _set(db, b, size="large")
    with pytest.raises(ValidationError, match=r"1 value.*would not convert.*'large'"):
        db.write(
            lambda s: definitions.edit_field(
                s, LEAD, "size", kind=FieldKind.INTEGER, actor=ADMIN, ctx=ctx()
            )
        )
    _set(db, b, size="40")
    db.write(
        lambda s: definitions.edit_field(
            s, LEAD, "size", kind=FieldKind.INTEGER, actor=ADMIN, ctx=ctx()
        )
    )
    with db.reading() as s:
        numbers = s.execute(
            select(FieldValue.value_number).order_by(FieldValue.entity_id)
        ).scalars()
        assert list(numbers) == [Decimal(12), Decimal(40)]


def test_an_option_in_use_cannot_be_removed(db):
    _add(db, "plan", FieldKind.CHOICE, options=["Gold", "Silver", "Tin"])
    _set(db, _lead(db), plan="Gold")
    with pytest.raises(ValidationError, match="'Gold' on 1"):
        db.write(
            lambda s: definitions.edit_field(
                s, LEAD, "plan", options=["Silver"], actor=ADMIN, ctx=ctx()
            )
        )
    db.write(
        lambda s: definitions.edit_field(
            s, LEAD, "plan", options=["Gold", "Silver"], actor=ADMIN, ctx=ctx()
        )
    )


def test_reorder(db):
    for key in ("a", "b", "c"):
        _add(db, key, FieldKind.TEXT)
    db.write(lambda s: definitions.move_field(s, LEAD, "c", -1, actor=ADMIN, now=NOW))
    with db.reading() as s:
        assert [f.key for f in definitions.list_fields(s, LEAD)] == ["a", "c", "b"]


def _matching(db, text):
    with db.reading() as s:
        condition = filter_condition(s, LEAD, FieldFilter.parse(text), ctx())
        return sorted(s.execute(select(Lead.id).where(condition)).scalars())


def test_filters_by_choice_number_range_date_text_and_blank(db):
    _add(db, "plan", FieldKind.MULTI_CHOICE, options=["Gold", "Silver"])
    _add(db, "budget", FieldKind.MONEY)
    _add(db, "visit", FieldKind.DATE)
    _add(db, "notes", FieldKind.LONG_TEXT)
    a, b, c = _lead(db, 1), _lead(db, 2), _lead(db, 3)
    _set(db, a, plan="Gold, Silver", budget="100", visit="2026-12-01", notes="Leaky ROOF")
    _set(db, b, plan="Silver", budget="2500.50", visit="2026-12-20")
    assert _matching(db, "plan=gold") == [a]
    assert _matching(db, "plan=Gold,Silver") == [a, b]
    assert _matching(db, "budget>=1000") == [b]
    assert _matching(db, "budget=50..200") == [a]
    assert _matching(db, "visit=2026-12-10..") == [b]
    assert _matching(db, "notes~roof") == [a]
    assert _matching(db, "budget=") == [c]
    assert _matching(db, "plan!=Gold") == [b, c]
    with pytest.raises(ValidationError, match="no lead field"):
        _matching(db, "nope=1")


def test_files_are_sniffed_limited_and_stored_once(db):
    _add(db, "photo", FieldKind.IMAGE)
    _add(db, "contract", FieldKind.DOCUMENT)
    lead_id = _lead(db)
    mime = files.check_file(TINY_PNG, "front.png", FieldKind.IMAGE, max_bytes=10 * 2**20)
    assert mime == "image/png"
    with pytest.raises(ValidationError, match="not an image"):
        files.check_file(b"%PDF-1.4 fake", "photo.png", FieldKind.IMAGE, max_bytes=2**20)
    with pytest.raises(ValidationError, match="not an image"):
        files.check_file(b"just text", "photo.png", FieldKind.IMAGE, max_bytes=2**20)
    with pytest.raises(ValidationError, match="named like application/pdf"):
        files.check_file(TINY_PNG, "contract.pdf", FieldKind.DOCUMENT, max_bytes=2**20)
    with pytest.raises(ValidationError, match="the limit is 1 MB"):
        files.check_file(TINY_PNG + b"\0" * 2**20, "big.png", FieldKind.IMAGE, max_bytes=2**20)
    assert (
        files.check_file(b"a,b\n1,2\n", "list.csv", FieldKind.DOCUMENT, max_bytes=2**20)
        == "text/csv"
    )

    def upload(session):
        info = files.store_file(session, TINY_PNG, mime)
        again = files.store_file(session, TINY_PNG, mime)
        assert info.id == again.id
        set_fields(
            session, LEAD, lead_id, {"photo": kinds.Upload(info.id, "front.png")}, actor=ADMIN
        )
        return info

    info = db.write(upload)
    with db.reading() as s:
        (photo, contract) = values_for(s, LEAD, [lead_id])[lead_id]
        assert s.execute(select(func.count()).select_from(StoredFile)).scalar_one() == 1
        _, content = files.read_file(s, info.id, ADMIN)
    assert photo.value == {
        "id": info.id,
        "name": "front.png",
        "type": "image/png",
        "size": len(TINY_PNG),
        "sha256": info.sha256,
    }
    assert contract.value is None and content == TINY_PNG


def test_required_fields_and_defaults_in_forms(db):
    _add(db, "budget", FieldKind.MONEY, required=True)
    _add(db, "lang", FieldKind.CHOICE, options=["en", "es"], required=True, default="en")
    with db.reading() as s:
        with pytest.raises(ValidationError, match="Budget: required"):
            values.parse_values(s, LEAD, {}, ctx(), check_required=True)
        parsed = values.parse_values(s, LEAD, {"budget": "10"}, ctx(), check_required=True)
    assert len(parsed) == 1  # lang falls back to its default


def test_the_same_field_value_on_both_engines_sorts_numerically(db):
    _add(db, "budget", FieldKind.DECIMAL)
    ids = [_lead(db, n) for n in range(1, 4)]
    for lead_id, amount in zip(ids, ["9", "10", "100.5"], strict=True):
        _set(db, lead_id, budget=amount)
    assert _matching(db, "budget>9.5") == ids[1:]
    assert date(2026, 11, 25) == clock.now().date()


def test_filters_give_the_same_records_when_sqlite_probes_instead(db, monkeypatch):
    """A common value takes the correlated EXISTS on SQLite: the same answers."""
    monkeypatch.setattr(values, "COMMON", 1)
    test_filters_by_choice_number_range_date_text_and_blank(db)
