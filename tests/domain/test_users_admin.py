"""Admins change users (role, state, capacity, languages, name) and reset passwords."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from leadms_tui.domain import clock
from leadms_tui.domain.audit import SYSTEM
from leadms_tui.domain.errors import NotFoundError, PermissionDeniedError, ValidationError
from leadms_tui.domain.models import AccessToken, AuditEvent, Role
from leadms_tui.domain.team.access import (
    issue_token,
    list_tokens,
    revoke_token,
    sign_in,
    user_for_token,
)
from leadms_tui.domain.team.users import add_user, get_user, reset_password, update_user

NEW_PASSWORD = "violet-harbour-42"


@pytest.fixture
def people(db):
    def seed(session):
        return {
            name: add_user(session, name, role=role, actor=SYSTEM, password="secret")
            for name, role in [("ada", Role.ADMIN), ("ana", Role.REP), ("maria", Role.MANAGER)]
        }

    return db.write(seed)


def _events(db, action):
    with db.reading() as session:
        query = select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        return session.execute(query).scalars().all()


def _user(db, username):
    with db.reading() as session:
        return get_user(session, username)


def test_an_admin_changes_a_rep_and_the_change_is_audited(db, people):
    ada = people["ada"].actor
    changed = db.write(
        lambda s: update_user(
            s,
            "ana",
            actor=ada,
            role=Role.MANAGER,
            capacity=40,
            languages=["EN", " es", "en"],
            display_name=" Ana Ruiz ",
        )
    )
    assert (changed.role, changed.capacity, changed.languages, changed.display_name) == (
        Role.MANAGER,
        40,
        ["en", "es"],
        "Ana Ruiz",
    )
    assert _user(db, "ana") == changed
    (event,) = _events(db, "user.update")
    assert (event.actor, event.entity_id) == ("ada", str(changed.id))
    assert event.changes == {
        "role": ["rep", "manager"],
        "capacity": [25, 40],
        "languages": ["", "en,es"],
        "display_name": ["ana", "Ana Ruiz"],
    }
    assert "password_hash" not in event.changes


def test_nothing_changed_writes_no_event(db, people):
    db.write(lambda s: update_user(s, "ana", actor=people["ada"].actor, capacity=25))
    assert _events(db, "user.update") == []


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"capacity": -1}, "capacity must be between 0 and 10000"),
        ({"capacity": 10_001}, "capacity must be between 0 and 10000"),
        ({"languages": ["en", "xx", "english"]}, "unknown language code(s) xx, english"),
        ({"display_name": "  "}, "a user needs a display name"),
    ],
)
def test_bad_values_are_refused(db, people, changes, message):
    with pytest.raises(ValidationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        db.write(lambda s: update_user(s, "ana", actor=people["ada"].actor, **changes))
    assert _user(db, "ana") == people["ana"]


def test_only_admins_change_users(db, people):
    with pytest.raises(PermissionDeniedError, match="only an admin can change users"):
        db.write(lambda s: update_user(s, "ana", actor=people["maria"].actor, capacity=5))
    with pytest.raises(PermissionDeniedError, match="only an admin can reset passwords"):
        db.write(lambda s: reset_password(s, "ana", NEW_PASSWORD, actor=people["ana"].actor))
    with pytest.raises(NotFoundError, match="no user 'zoe'"):
        db.write(lambda s: update_user(s, "zoe", actor=people["ada"].actor, capacity=5))


def test_the_last_active_admin_stays(db, people):
    ada = people["ada"].actor
    for changes in ({"active": False}, {"role": Role.MANAGER}):
        with pytest.raises(ValidationError, match="ada is the last active admin"):
            db.write(lambda s, changes=changes: update_user(s, "ada", actor=ada, **changes))
    db.write(lambda s: update_user(s, "maria", actor=ada, role=Role.ADMIN))
    db.write(lambda s: update_user(s, "ada", actor=ada, active=False))
    assert not _user(db, "ada").active
    maria = _user(db, "maria").actor
    with pytest.raises(ValidationError, match="maria is the last active admin"):
        db.write(lambda s: update_user(s, "maria", actor=maria, role=Role.REP))
    db.write(lambda s: update_user(s, "ada", actor=maria, active=True))  # back: two again
    db.write(lambda s: update_user(s, "maria", actor=maria, role=Role.REP))
    assert [_user(db, name).role for name in ("ada", "maria")] == [Role.ADMIN, Role.REP]


def test_reset_password_checks_the_policy_and_ends_sessions(db, people):
    ada, ana = people["ada"], people["ana"]

    def sessions(session):
        old = issue_token(session, ana, kind="session", name="laptop", actor=ana.actor)
        api = issue_token(session, ana, kind="api", name="dialer", actor=ada.actor)
        return old, api

    old, api = db.write(sessions)
    for weak, why in [("short", "at least 10 characters"), ("ana-is-great-99", "username")]:
        with pytest.raises(ValidationError, match=why):
            db.write(lambda s, weak=weak: reset_password(s, "ana", weak, actor=ada.actor))

    ended = db.write(lambda s: reset_password(s, "ana", NEW_PASSWORD, actor=ada.actor))
    assert ended == 1
    with db.reading() as session:
        assert [(t.kind, t.revoked) for t in list_tokens(session=session, username="ana")] == [
            ("session", True),
            ("api", False),
        ]
        with pytest.raises(PermissionDeniedError, match="has ended"):
            user_for_token(session, old)
        assert user_for_token(session, api).username == "ana"
    signed = db.write(lambda s: sign_in(s, "ana", NEW_PASSWORD, terminal="t"))
    assert signed.user is not None and signed.user.username == "ana"
    refused = db.write(lambda s: sign_in(s, "ana", "secret", terminal="t"))
    assert refused.user is None
    (event,) = _events(db, "user.password")
    assert (event.actor, event.entity_id) == ("ada", str(ana.id))
    assert NEW_PASSWORD not in str(event.changes) and "$argon2" not in str(event.changes)
    assert [e.entity for e in _events(db, "session.revoke")] == ["access_token"]


def test_a_rep_revokes_only_her_own_tokens_an_admin_anyones(db, people):
    ada, ana = people["ada"], people["ana"]

    def tokens(session):
        mine = issue_token(session, ana, kind="api", name="dialer", actor=ada.actor)
        issue_token(session, ada, kind="api", name="reports", actor=ada.actor)
        return mine

    mine = db.write(tokens)
    ids = {t.name: t.id for t in _tokens(db)}
    with pytest.raises(PermissionDeniedError, match="only an admin can revoke"):
        db.write(lambda s: revoke_token(s, actor=ana.actor, token_id=ids["reports"]))
    db.write(lambda s: revoke_token(s, actor=ana.actor, secret=mine))  # her own
    db.write(lambda s: revoke_token(s, actor=ada.actor, token_id=ids["reports"]))
    assert [(t.name, t.revoked) for t in _tokens(db)] == [("dialer", True), ("reports", True)]
    events = _events(db, "api.revoke")
    assert [(e.actor, e.entity, e.entity_id) for e in events] == [
        ("ana", "access_token", str(ids["dialer"])),
        ("ada", "access_token", str(ids["reports"])),
    ]


def test_revoking_twice_changes_nothing_and_an_unknown_token_is_refused(db, people):
    ada, ana = people["ada"], people["ana"]
    db.write(lambda s: issue_token(s, ana, kind="session", name="laptop", actor=ana.actor))
    (token,) = _tokens(db)
    first = clock.now() - timedelta(hours=1)
    db.write(lambda s: revoke_token(s, actor=ada.actor, token_id=token.id, now=first))
    db.write(lambda s: revoke_token(s, actor=ada.actor, token_id=token.id))
    assert len(_events(db, "session.revoke")) == 1
    with db.reading() as session:
        stored = session.get(AccessToken, token.id)
        assert clock.as_utc(stored.revoked_at) == clock.as_utc(first)  # the first end stands
    with pytest.raises(NotFoundError, match="no token 999"):
        db.write(lambda s: revoke_token(s, actor=ada.actor, token_id=999))
    with pytest.raises(NotFoundError):
        db.write(lambda s: revoke_token(s, actor=ada.actor, secret="lms_not-a-token"))


def test_issuing_a_token_is_audited_with_whose_and_what_for(db, people):
    ada, ana = people["ada"], people["ana"]
    db.write(
        lambda s: issue_token(
            s, ana, kind="api", name="  dialer ", actor=ada.actor, expires_in=timedelta(days=30)
        )
    )
    (token,) = _tokens(db)
    (event,) = _events(db, "api.create")
    assert (event.actor, event.entity, event.entity_id) == ("ada", "access_token", str(token.id))
    assert event.changes["user"] == [None, "ana"] and event.changes["name"] == [None, "dialer"]
    assert event.changes["expires_at"][1] is not None
    assert token.expires_at is not None


def _tokens(db):
    with db.reading() as session:
        return list_tokens(session=session)
