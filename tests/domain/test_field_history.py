"""Every field value change is in the trail (a file by name + sha256) and on the lead's
timeline in words; definitions fit their columns on both engines; a type change converts
every value or is refused naming the ones that would not."""

import base64
import itertools
import string
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from leadms_tui.domain import clock
from leadms_tui.domain.audit import SYSTEM, Actor, changes_of
from leadms_tui.domain.errors import ValidationError
from leadms_tui.domain.fields import definitions, files, kinds
from leadms_tui.domain.fields.values import set_fields, values_for
from leadms_tui.domain.leads.edits import change_lead
from leadms_tui.domain.leads.intake import LeadCreate, create_lead
from leadms_tui.domain.models import AuditEvent, FieldEntity, FieldKind, Lead, LeadStatus, Role
from leadms_tui.domain.queries.lead_detail import load_lead_detail
from leadms_tui.domain.team.settings import set_setting
from leadms_tui.domain.team.users import add_user
from leadms_tui.domain.work.followups import add_followup

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
ADMIN = Actor(None, "admin", Role.ADMIN)
LEAD = FieldEntity.LEAD
TINY_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAQAAAADCAIAAAA7ljmRAAAAFElEQVR4nGM44WDAgASYkDkM+OQA9ucB"
    "TW4ALxEAAAAASUVORK5CYII="
)
OTHER_PNG = base64.b64decode(  # a 1x1 PNG: the same name, other content
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


@pytest.fixture(autouse=True)
def frozen():
    clock.set_clock(lambda: NOW)
    yield
    clock.set_clock(None)


@pytest.fixture(autouse=True)
def london(db):
    for key, value in [("timezone", "Europe/London"), ("phone_region", "GB")]:
        db.write(lambda s, k=key, v=value: set_setting(s, k, v, actor=SYSTEM))


def ctx():
    return kinds.Context("Europe/London", "GB", "USD", NOW)


def _add(db, key, kind, **kw):
    return db.write(
        lambda s: definitions.add_field(s, LEAD, key, kind, actor=ADMIN, ctx=ctx(), **kw)
    )


def _lead(db, n=1):
    data = LeadCreate(name=f"Lead {n}", phone=f"+4477009001{n:02d}", channel="website")
    return create_lead(db, data, actor=SYSTEM).lead_id


def _field_events(db, lead_id):
    """The lead's field changes as readers show them (the values are kept apart)."""
    with db.reading() as s:
        rows = (
            s.execute(
                select(AuditEvent.changes, AuditEvent.personal)
                .where(
                    AuditEvent.action == "fields.update",
                    AuditEvent.entity == "lead",
                    AuditEvent.entity_id == str(lead_id),
                )
                .order_by(AuditEvent.id)
            )
        ).all()
    return [changes_of(changes, kept) for changes, kept in rows]


def _upload(db, lead_id, data, name):
    def upload(session):
        info = files.store_file(session, data, "image/png")
        set_fields(session, LEAD, lead_id, {"photo": kinds.Upload(info.id, name)}, actor=ADMIN)
        return info.sha256

    return db.write(upload)


def test_a_file_replaced_under_the_same_name_is_audited_by_its_sha256(db):
    _add(db, "photo", FieldKind.IMAGE)
    lead_id = _lead(db)
    first = _upload(db, lead_id, TINY_PNG, "roof.png")
    second = _upload(db, lead_id, OTHER_PNG, "roof.png")  # was not audited at all
    _upload(db, lead_id, OTHER_PNG, "roof.png")  # the same file again: no change, no event
    db.write(lambda s: set_fields(s, LEAD, lead_id, {"photo": None}, actor=ADMIN))
    assert _field_events(db, lead_id) == [
        {"photo": [None, {"name": "roof.png", "sha256": first}]},
        {
            "photo": [
                {"name": "roof.png", "sha256": first},
                {"name": "roof.png", "sha256": second},
            ]
        },
        {"photo": [{"name": "roof.png", "sha256": second}, None]},
    ]


def test_field_changes_are_on_the_timeline_in_words(db):
    _add(db, "budget", FieldKind.MONEY, label="Budget")
    _add(db, "photo", FieldKind.IMAGE, label="Site photo")
    lead_id = _lead(db)
    db.write(lambda s: set_fields(s, LEAD, lead_id, {"budget": "100"}, actor=ADMIN))
    db.write(lambda s: set_fields(s, LEAD, lead_id, {"budget": "250.5"}, actor=ADMIN))
    first = _upload(db, lead_id, TINY_PNG, "roof.png")
    second = _upload(db, lead_id, OTHER_PNG, "roof.png")
    with db.reading() as s:
        changes = [
            e.detail for e in load_lead_detail(session=s, lead_id=lead_id, viewer=SYSTEM).timeline
        ]
    assert "Budget: — → 100" in changes
    assert "Budget: 100 → 250.5" in changes
    assert "Site photo: — → roof.png" in changes
    assert f"Site photo: roof.png (sha256 {first[:12]}) → roof.png (sha256 {second[:12]})" in (
        changes
    )


def test_the_timeline_says_owners_statuses_and_follow_ups_in_words(db):
    ana = db.write(lambda s: add_user(s, "ana", role=Role.REP, actor=SYSTEM, password="secret"))
    lead_id = _lead(db)

    def assign_and_schedule(session):
        lead = session.get(Lead, lead_id)
        change_lead(session, lead, ADMIN, NOW, owner_id=ana.id)
        change_lead(session, lead, ADMIN, NOW, status=LeadStatus.MEETING_SCHEDULED)
        for _ in range(3):
            add_followup(session, lead_id, due_at=NOW + timedelta(days=1), reason="x", actor=ADMIN)

    db.write(assign_and_schedule)
    with db.reading() as s:
        timeline = load_lead_detail(session=s, lead_id=lead_id, viewer=SYSTEM).timeline
    texts = [f"{e.title} {e.detail}" for e in timeline]
    assert any("owner: — → ana" in t for t in texts), texts
    assert any("status: new → meeting scheduled" in t for t in texts), texts
    assert sum("3rd follow-up (open)" in t for t in texts) == 1, texts
    assert not any("#" in t or "_" in t for t in texts), texts


# --- definitions fit their columns, on both engines ------------------------------------

LONG = "x" * 10_000


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"label": LONG}, "field label: at most 200 characters"),
        ({"section": LONG}, "field section: at most 100 characters"),
        ({"help_text": LONG}, "field help text: at most 500 characters"),
        ({"default": LONG}, "field default: at most 500 characters"),
    ],
)
def test_a_definition_longer_than_its_column_is_refused_in_one_line(db, changes, message):
    kind = FieldKind.LONG_TEXT if "default" in changes else FieldKind.TEXT
    with pytest.raises(ValidationError, match=message) as new:
        _add(db, "notes", kind, **changes)
    _add(db, "notes", kind)
    with pytest.raises(ValidationError, match=message) as edited:
        db.write(
            lambda s: definitions.edit_field(s, LEAD, "notes", actor=ADMIN, ctx=ctx(), **changes)
        )
    assert "\n" not in str(new.value) and "\n" not in str(edited.value)
    with db.reading() as s:
        (spec,) = definitions.list_fields(s, LEAD)
    assert len(spec.label) < 200 and spec.version == 1


def test_an_option_longer_than_a_value_key_is_refused(db):
    with pytest.raises(ValidationError, match="an option has at most 200 characters"):
        _add(db, "plan", FieldKind.CHOICE, options=["Gold", "y" * 201])
    _add(db, "plan", FieldKind.CHOICE, options=["Gold", "y" * 200])
    lead_id = _lead(db)
    db.write(lambda s: set_fields(s, LEAD, lead_id, {"plan": "y" * 200}, actor=ADMIN))
    with pytest.raises(ValidationError, match="an option has at most 200"):
        db.write(
            lambda s: definitions.edit_field(
                s, LEAD, "plan", options=["Gold", "y" * 200, "z" * 300], actor=ADMIN, ctx=ctx()
            )
        )


# --- a type change converts every value, or is refused naming those that would not -----

_KEYS = itertools.count()
CONVERTIBLE = [k for k in FieldKind if k not in kinds.FILE_KINDS]
OPTIONS = ["Gold", "12", "yes", "ana@example.com"]
SAMPLES = [
    "12",
    "-3",
    "1,200",
    "2500.5",
    "0.125",
    "yes",
    "no",
    "Gold",
    "Gold, 12",
    "2026-12-01",
    "2026-12-01 09:30",
    "tomorrow",
    "https://ana@example.com",
    "https://example.com/a?b=c",
    "example.com",
    "ana@example.com",
    "ana@example.com/x",
    "mailto:ana@example.com",
    "+44 7700 900123",
    "07700 900123",
    "Roof repair",
    "line 1\nline 2",
]
_EMAIL = st.from_regex(r"\A[a-z]{1,6}[.+]?[a-z]{0,3}@[a-z]{1,8}\.(com|co\.uk|es)\Z")
VALUES = st.one_of(
    st.sampled_from(SAMPLES),
    st.text(string.ascii_letters + string.digits + " .,:/@+-", min_size=1, max_size=30),
    _EMAIL,
    _EMAIL.map(lambda e: f"https://{e}"),
)


def _is_valid_as(kind, text):
    """An independent reading of the target type, for what the parsers must never accept."""
    if kind == FieldKind.EMAIL:
        local, _, domain = text.rpartition("@")
        return bool(local) and "/" not in text and ":" not in text and "." in domain
    if kind == FieldKind.LINK:
        return text.startswith(("http://", "https://"))
    return True


@pytest.mark.parametrize("old", CONVERTIBLE, ids=lambda k: k.value)
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(new=st.sampled_from(CONVERTIBLE), raw=st.lists(VALUES, min_size=1, max_size=3))
def test_a_type_change_converts_every_value_or_names_those_it_would_not(db, old, new, raw):
    _check_type_change(db, old, new, raw)


def _check_type_change(db, old, new, raw):
    key = f"f{next(_KEYS)}"  # one database serves every example
    options = OPTIONS if old in kinds.CHOICE_KINDS else None
    _add(db, key, old, options=options)
    stored = {}
    for n, text in enumerate(raw):
        try:
            items = kinds.parse(old, text, options or [], ctx())
        except ValidationError:
            continue  # not a value the old type holds
        if not items:
            continue
        lead_id = _lead(db, n)
        db.write(lambda s, i=lead_id, t=text: set_fields(s, LEAD, i, {key: t}, actor=ADMIN))
        stored[lead_id] = kinds.canonical(old, items)
    new_options = OPTIONS if new in kinds.CHOICE_KINDS else []
    try:
        db.write(
            lambda s: definitions.edit_field(
                s, LEAD, key, kind=new, options=new_options, actor=ADMIN, ctx=ctx()
            )
        )
    except ValidationError as refused:
        message = str(refused)
        assert "would not convert" in message or old == new, message
        bad = [text for text in stored.values() if _fails(new, text, new_options)]
        assert bad, f"refused though every value converts: {message}"
        assert all(repr(text) in message for text in bad[:5]), message
        return
    with db.reading() as s:
        shown = values_for(s, LEAD, list(stored))
    for lead_id, before in stored.items():
        (field,) = [f for f in shown[lead_id] if f.key == key]
        assert field.items, f"{before!r} lost converting {old.value} → {new.value}"
        assert _is_valid_as(new, field.canonical), (
            f"{before!r} kept as {field.canonical!r} after {old.value} → {new.value}"
        )
        again = kinds.parse(new, field.canonical, new_options, ctx())
        assert kinds.canonical(new, again) == field.canonical


def _fails(kind, text, options):
    try:
        return not kinds.parse(kind, text, options, ctx())
    except ValidationError:
        return True


@pytest.mark.parametrize(
    "value", ["https://ana@example.com", "http://ana@example.com/x", "ana@example.com/path"]
)
def test_link_to_email_refuses_what_is_not_an_email(db, value):
    _add(db, "site", FieldKind.LINK)
    lead_id = _lead(db)
    db.write(lambda s: set_fields(s, LEAD, lead_id, {"site": value}, actor=ADMIN))
    with pytest.raises(ValidationError, match=r"1 value.*would not convert to email"):
        db.write(
            lambda s: definitions.edit_field(
                s, LEAD, "site", kind=FieldKind.EMAIL, actor=ADMIN, ctx=ctx()
            )
        )
