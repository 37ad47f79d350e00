"""Who may read what (issue 23): `reps_see own` lets a rep open only their own and unassigned
leads (detail, search, files), on both engines; `team`, the default, leaves every lead open.
Repeat markers still say the person has another lead, and whose."""

import base64

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadms_tui.domain.audit import SYSTEM
from leadms_tui.domain.errors import PermissionDeniedError, ValidationError
from leadms_tui.domain.fields import files
from leadms_tui.domain.fields.definitions import add_field
from leadms_tui.domain.fields.kinds import Upload
from leadms_tui.domain.fields.values import context, set_fields
from leadms_tui.domain.leads.intake import LeadCreate, create_lead
from leadms_tui.domain.models import FieldEntity, FieldKind
from leadms_tui.domain.queries.lead_detail import load_lead_detail
from leadms_tui.domain.queries.leads import LeadFilter, iter_leads, search_leads
from leadms_tui.domain.team.settings import load_settings, set_setting

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAQAAAADCAIAAAA7ljmRAAAAFElEQVR4nGM44WDAgASYkDkM+OQA9ucB"
    "TW4ALxEAAAAASUVORK5CYII="
)


@pytest.fixture
def leads(db, team):
    """ana's lead (with a photo), bruno's repeat of the same person, and an unassigned lead."""
    ana, bruno = team["ana"].id, team["bruno"].id

    def add(name, phone, owner):
        data = LeadCreate(name=name, phone=phone, channel="website", owner_id=owner)
        return create_lead(db, data, actor=SYSTEM).lead_id

    ids = {
        "ana": add("Olga", "+447700900001", ana),
        "bruno": add("Olga", "+447700900001", bruno),  # a repeat: the same phone
        "free": add("Ivo", "+447700900002", None),
    }

    def attach(session):
        ctx = context(session)
        add_field(session, FieldEntity.LEAD, "photo", FieldKind.IMAGE, label="Photo",
                  actor=SYSTEM, ctx=ctx)  # fmt: skip
        ids["file"] = files.store_file(session, PNG, "image/png").id
        set_fields(session, FieldEntity.LEAD, ids["bruno"], {"photo": Upload(ids["file"], "b.png")},
                   actor=SYSTEM)  # fmt: skip

    db.write(attach)
    return ids


def _set(db, value):
    db.write(lambda s: set_setting(s, "reps_see", value, actor=SYSTEM))


def _opens(db, viewer, lead_id):
    with db.reading() as session:
        try:
            load_lead_detail(session=session, lead_id=lead_id, viewer=viewer)
        except PermissionDeniedError:
            return False
    return True


def test_the_setting_defaults_to_team_and_takes_team_or_own(db):
    with db.reading() as session:
        assert load_settings(session).reps_see == "team"
    _set(db, " OWN ")
    with db.reading() as session:
        assert load_settings(session).reps_see == "own"
    with pytest.raises(ValidationError, match="use team or own"):
        _set(db, "mine")


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    mode=st.sampled_from(["team", "own"]),
    who=st.sampled_from(["ana", "bruno", "maria"]),
    lead=st.sampled_from(["ana", "bruno", "free"]),
)
def test_one_rule_for_detail_search_list_and_files(db, team, leads, mode, who, lead):
    _set(db, mode)
    viewer = team[who].actor
    allowed = mode == "team" or who == "maria" or lead in ("free", who)
    assert _opens(db, viewer, leads[lead]) is allowed
    with db.reading() as session:
        found = {r.id for r in search_leads(session=session, where=LeadFilter(), phone_region="GB",
                                            viewer=viewer)}  # fmt: skip
        listed = {r.id for r in iter_leads(session=session, viewer=viewer)}
        try:
            files.read_file(session, leads["file"], viewer)
            file_read = True
        except PermissionDeniedError:
            file_read = False
    assert (leads[lead] in found) is allowed and found == listed
    assert file_read is (mode == "team" or who in ("bruno", "maria"))


def test_a_repeat_marker_says_whose_the_other_lead_is(db, team, leads):
    _set(db, "own")
    with db.reading() as session:
        detail = load_lead_detail(session=session, lead_id=leads["ana"], viewer=team["ana"].actor)
    (other,) = detail.related
    assert (other.id, other.owner) == (leads["bruno"], "bruno")
    assert not _opens(db, team["ana"].actor, other.id)  # its contact and files stay closed
