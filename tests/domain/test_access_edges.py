"""The edges of team/access.py that `bin/mutate access` found no test for (issue 26): token
secrets, kinds, names and ends; the throttle's exact waits and long names and sources;
acting for another user; where a sign-in comes from."""

import os
import socket
from datetime import timedelta

import pytest
from sqlalchemy import select

from leadms_tui.domain import clock
from leadms_tui.domain.audit import SYSTEM, Actor
from leadms_tui.domain.errors import NotFoundError, PermissionDeniedError, ValidationError
from leadms_tui.domain.models import AccessToken, AuditEvent, LoginFailure, Role
from leadms_tui.domain.team import access
from leadms_tui.domain.team.access import (
    FAILURE_WINDOW,
    acting_for,
    check_password_policy,
    has_users,
    issue_token,
    list_tokens,
    revoke_token,
    sign_in,
    sign_in_delay,
    unlock_user,
    user_for_token,
)
from leadms_tui.domain.team.users import add_user, update_user

PASSWORD = "purple monkey dishwasher"


@pytest.fixture
def people(db):
    def seed(session):
        return {
            name: add_user(session, name, role=role, actor=SYSTEM, password=PASSWORD)
            for name, role in [("ada", Role.ADMIN), ("ana", Role.REP), ("bea", Role.REP)]
        }

    return db.write(seed)


def _try(db, username, password, source, now=None):
    return db.write(lambda s: sign_in(s, username, password, terminal=source, now=now))


def _fail(db, source, at, username="ana"):
    return _try(db, username, "wrong guess here", source, now=at)


# -- the password policy -------------------------------------------------------------------


def test_a_password_longer_than_zxcvbn_reads_is_judged_by_its_start():
    """zxcvbn refuses more than 72 characters: the policy hands it only the first 72."""
    check_password_policy("ana", "purple monkey dishwasher " * 4)  # 100 characters, strong
    with pytest.raises(ValidationError, match="too easy to guess"):
        check_password_policy("ana", "a" * 72 + "purple monkey dishwasher")  # weak start


def test_the_refusal_gives_zxcvbns_warning_and_its_first_suggestion():
    with pytest.raises(ValidationError) as refused:
        check_password_policy("ana", "Password2024")
    assert str(refused.value) == (
        "that password is too easy to guess: This is similar to a commonly used password. "
        "Add another word or two. Uncommon words are better."
    )


def test_a_password_holding_the_username_is_refused_whatever_its_case():
    with pytest.raises(ValidationError) as refused:
        check_password_policy(" Ana ", "purple ANA dishwasher")
    assert str(refused.value) == "a password must not contain the username"


# -- tokens ----------------------------------------------------------------------------------


def test_a_token_is_a_prefixed_256_bit_secret_kept_only_as_its_hash(db, people):
    ana = people["ana"]
    secret = db.write(lambda s: issue_token(s, ana, kind="api", name="dialer", actor=ana.actor))
    assert secret.startswith("lms_") and len(secret) == 4 + 43  # 32 random bytes, base64
    with db.reading() as session:
        (row,) = session.execute(select(AccessToken)).scalars().all()
    assert row.token_hash == access._hash(secret) != secret
    assert (row.kind, row.name, row.created_by_id) == ("api", "dialer", ana.id)


@pytest.mark.parametrize("kind", ["session", "api"])
def test_the_two_kinds_of_token_are_accepted(db, people, kind):
    ana = people["ana"]
    db.write(lambda s: issue_token(s, ana, kind=kind, name="x", actor=ana.actor))
    assert [t.kind for t in _tokens(db)] == [kind]


def test_an_unknown_kind_or_an_empty_name_is_refused(db, people):
    ana = people["ana"]
    with pytest.raises(ValidationError) as refused:
        db.write(lambda s: issue_token(s, ana, kind="cookie", name="x", actor=ana.actor))
    assert str(refused.value) == "unknown token kind 'cookie'"
    with pytest.raises(ValidationError) as refused:
        db.write(lambda s: issue_token(s, ana, kind="api", name="  ", actor=ana.actor))
    assert str(refused.value) == "a token needs a name (what uses it, e.g. dialer)"
    assert _tokens(db) == []


def test_a_long_token_name_is_cut_to_100_characters_and_the_end_is_exact(db, people):
    ana = people["ana"]
    at = clock.now().replace(microsecond=0)
    db.write(
        lambda s: issue_token(
            s, ana, kind="api", name="d" * 150, actor=ana.actor,
            expires_in=timedelta(days=30), now=at,
        )
    )  # fmt: skip
    (token,) = _tokens(db)
    assert token.name == "d" * 100
    assert clock.as_utc(token.expires_at) == at + timedelta(days=30)
    assert clock.as_utc(token.created_at) == at


def test_a_token_names_its_user_until_it_expires_to_the_instant(db, people):
    ana = people["ana"]
    at = clock.now().replace(microsecond=0)
    secret = db.write(
        lambda s: issue_token(
            s, ana, kind="api", name="dialer", actor=ana.actor,
            expires_in=timedelta(hours=1), now=at,
        )
    )  # fmt: skip
    just_before = at + timedelta(minutes=59, seconds=59)
    user = db.write(lambda s: user_for_token(s, f"  {secret}\n", now=just_before))
    assert user.username == "ana"
    with pytest.raises(PermissionDeniedError) as ended:
        db.write(lambda s: user_for_token(s, secret, now=at + timedelta(hours=1)))
    assert str(ended.value) == "the api 'dialer' has ended: sign in again with `leadms login`"


def test_using_a_token_stamps_that_token_only(db, people):
    ana, bea = people["ana"], people["bea"]
    mine = db.write(lambda s: issue_token(s, ana, kind="api", name="mine", actor=ana.actor))
    db.write(lambda s: issue_token(s, bea, kind="api", name="hers", actor=bea.actor))
    used = clock.now().replace(microsecond=0)
    db.write(lambda s: user_for_token(s, mine, now=used))
    stamps = {t.name: t.last_used_at for t in _tokens(db)}
    assert clock.as_utc(stamps["mine"]) == used and stamps["hers"] is None
    assert db.write(lambda s: user_for_token(s, mine)).username == "ana"  # now: the clock's


def test_a_revoked_token_or_an_unknown_one_or_an_inactive_user_is_refused(db, people):
    ada, ana = people["ada"], people["ana"]
    revoked = db.write(lambda s: issue_token(s, ana, kind="session", name="tty", actor=ana.actor))
    live = db.write(lambda s: issue_token(s, ana, kind="api", name="dialer", actor=ana.actor))
    db.write(lambda s: revoke_token(s, actor=ana.actor, secret=revoked))
    with pytest.raises(PermissionDeniedError) as ended:
        db.write(lambda s: user_for_token(s, revoked))
    assert str(ended.value) == "the session 'tty' has ended: sign in again with `leadms login`"
    with pytest.raises(PermissionDeniedError) as unknown:
        db.write(lambda s: user_for_token(s, "lms_nothing"))
    assert str(unknown.value) == "unknown token: sign in again with `leadms login USERNAME`"
    db.write(lambda s: update_user(s, "ana", actor=ada.actor, active=False))
    with pytest.raises(PermissionDeniedError) as inactive:
        db.write(lambda s: user_for_token(s, live))
    assert str(inactive.value) == "user 'ana' is not active"


def test_tokens_are_listed_per_user_in_the_order_made(db, people):
    ada, ana = people["ada"], people["ana"]
    for user, name in [(ana, "one"), (ada, "two"), (ana, "three")]:
        db.write(
            lambda s, user=user, name=name: issue_token(
                s, user, kind="api", name=name, actor=ada.actor
            )
        )
    assert [(t.user, t.name) for t in _tokens(db)] == [
        ("ana", "one"),
        ("ada", "two"),
        ("ana", "three"),
    ]
    with db.reading() as session:
        assert [t.name for t in list_tokens(session=session, username=" ANA ")] == ["one", "three"]
        assert list_tokens(session=session, username="bea") == []


def test_a_rep_revoking_anothers_token_is_told_exactly_why(db, people):
    ana, bea = people["ana"], people["bea"]
    db.write(lambda s: issue_token(s, bea, kind="api", name="hers", actor=bea.actor))
    (token,) = _tokens(db)
    with pytest.raises(PermissionDeniedError) as refused:
        db.write(lambda s: revoke_token(s, actor=ana.actor, token_id=token.id))
    assert str(refused.value) == "only an admin can revoke another user's token"
    assert [(t.revoked) for t in _tokens(db)] == [False]
    with db.reading() as session:
        (event,) = session.execute(
            select(AuditEvent).where(AuditEvent.entity == "access_token")
        ).scalars()  # only the creation
    assert event.action == "api.create"


def _tokens(db):
    with db.reading() as session:
        return list_tokens(session=session)


# -- throttling ------------------------------------------------------------------------------


def test_the_wait_is_counted_from_the_failure_that_reached_the_limit(db, people):
    """Failures at 0, 3, 6, 9 and 12 minutes: at 12 the fifth is the newest, and the lock
    lasts until the first of the five (the fifth newest) is 15 minutes old."""
    start = clock.now()
    for minute in (0, 3, 6, 9, 12):
        _fail(db, "web:203.0.113.9", start + timedelta(minutes=minute))
    locked = _try(db, "ana", PASSWORD, "web:203.0.113.9", now=start + timedelta(minutes=12))
    assert locked.refused is not None and locked.refused.startswith(
        "too many failed sign-ins from here: try again in 3 minutes, or ask an admin"
    )


def test_the_minutes_left_are_rounded_up(db, people):
    """61 seconds left is 2 minutes, 60 is 1."""
    start = clock.now()
    for _ in range(5):
        _fail(db, "web:203.0.113.9", start)
    for seconds, minutes in [(61, 2), (60, 1)]:
        now = start + FAILURE_WINDOW - timedelta(seconds=seconds)
        refused = _try(db, "ana", PASSWORD, "web:203.0.113.9", now=now).refused
        assert refused == (
            f"too many failed sign-ins from here: try again in {minutes} minutes, "
            "or ask an admin to run `leadms users unlock ana`"
        )


def test_a_source_guessing_many_names_is_not_offered_an_unlock(db, people):
    start = clock.now()
    for number in range(20):
        _fail(db, "web:203.0.113.9", start, username=f"guess{number}")
    refused = _try(db, "ana", PASSWORD, "web:203.0.113.9", now=start).refused
    assert refused == "too many failed sign-ins from here: try again in 15 minutes"


def test_other_sources_slow_a_user_for_exactly_the_window(db, people):
    start = clock.now()
    for _ in range(5):
        _fail(db, "web:203.0.113.9", start)
    with db.reading() as session:
        assert sign_in_delay(session, "ana", "mine", now=start + FAILURE_WINDOW) == 1
        after = start + FAILURE_WINDOW + timedelta(minutes=1)
        assert sign_in_delay(session, "ana", "mine", now=after) == 0
        assert sign_in_delay(session, " ANA ", "mine", now=start) == 1  # the name as stored
        assert sign_in_delay(session, "ana", "web:203.0.113.9", now=start) == 0  # not itself
        assert sign_in_delay(session, "ana", "mine") == 1  # now: the clock's


def test_a_long_source_is_cut_alike_when_stored_and_when_compared(db, people):
    """A browser address longer than the column: its own failures lock it out and do not
    slow it, and a failure from it stores the first 128 characters."""
    source = "web:" + "f" * 200
    start = clock.now()
    for _ in range(5):
        _fail(db, source, start)
    with db.reading() as session:
        assert sign_in_delay(session, "ana", source, now=start) == 0
        assert sign_in_delay(session, "ana", "mine", now=start) == 1
        stored = session.execute(select(LoginFailure.terminal)).scalars().all()
    assert stored == [source[:128]] * 5
    assert _try(db, "ana", PASSWORD, source, now=start).refused is not None


def test_a_long_username_is_counted_by_its_first_64_characters(db, people):
    name = "x" * 100
    assert _fail(db, "web:203.0.113.9", clock.now(), username=name).refused == (
        "unknown user or wrong password"
    )
    with db.reading() as session:
        assert session.execute(select(LoginFailure.username)).scalars().all() == [name[:64]]


def test_unlocking_leaves_an_event_saying_how_many_failures_went(db, people):
    for _ in range(3):
        _fail(db, "web:203.0.113.9", clock.now())
    at = clock.now().replace(microsecond=0)
    assert db.write(lambda s: unlock_user(s, "ana", actor=people["ada"].actor, now=at)) == 3
    with db.reading() as session:
        event = session.execute(
            select(AuditEvent).where(AuditEvent.action == "user.unlock")
        ).scalar_one()
        assert session.execute(select(LoginFailure)).first() is None
    assert (event.entity, event.entity_id, event.changes) == (
        "user",
        str(people["ana"].id),
        {"failures_cleared": [None, 3]},
    )
    assert clock.as_utc(event.at) == at
    with pytest.raises(PermissionDeniedError) as refused:
        db.write(lambda s: unlock_user(s, "ana", actor=people["bea"].actor))
    assert str(refused.value) == "only an admin can unlock users"


def test_a_sign_in_asking_for_a_session_gets_one_named_after_its_source(db, people):
    outcome = db.write(
        lambda s: sign_in(s, "ana", PASSWORD, terminal="office:/dev/pts/3", token_kind="session")
    )
    assert outcome.user.username == "ana" and outcome.token.startswith("lms_")
    assert [(t.user, t.kind, t.name) for t in _tokens(db)] == [
        ("ana", "session", "office:/dev/pts/3")
    ]
    plain = _try(db, "ana", PASSWORD, "office:/dev/pts/3")
    assert plain.user.username == "ana" and plain.token is None
    assert len(_tokens(db)) == 1


# -- acting for another user, where a sign-in comes from, whether anyone exists ------------


def test_an_admin_acts_for_an_active_user_and_the_trail_names_both(db, people):
    ada, ana = people["ada"], people["ana"]
    with db.reading() as session:
        assert acting_for(ada, session, " ADA ") == ada.actor  # herself
        assert acting_for(ada, session, "ana") == Actor(ana.id, "ada for ana", "rep")
        with pytest.raises(PermissionDeniedError) as refused:
            acting_for(ana, session, "bea")
        assert str(refused.value) == "only an admin may act --as another user"
        assert acting_for(ana, session, "ana") == ana.actor  # a rep as herself
        with pytest.raises(NotFoundError):
            acting_for(ada, session, "nobody")
    db.write(lambda s: update_user(s, "bea", actor=ada.actor, active=False))
    with db.reading() as session, pytest.raises(ValidationError) as inactive:
        acting_for(ada, session, "bea")
    assert str(inactive.value) == "user 'bea' is not active"


def test_has_users(db):
    with db.reading() as session:
        assert has_users(session) is False
    db.write(lambda s: add_user(s, "ada", role=Role.ADMIN, actor=SYSTEM, password=PASSWORD))
    with db.reading() as session:
        assert has_users(session) is True


def test_a_sign_in_comes_from_the_browser_address_else_this_terminal(monkeypatch):
    monkeypatch.setenv("LEADMS_SIGN_IN_SOURCE", "web:203.0.113.9")
    assert access.sign_in_source() == "web:203.0.113.9"
    monkeypatch.delenv("LEADMS_SIGN_IN_SOURCE")
    assert access.sign_in_source() == access.terminal_name()


def _with_stdin(fd: int):
    """Run terminal_name with `fd` as standard input (fd 0), then put stdin back."""
    saved = os.dup(0)
    try:
        os.dup2(fd, 0)
        return access.terminal_name()
    finally:
        os.dup2(saved, 0)
        os.close(saved)


def test_the_terminal_is_the_host_and_the_tty_of_standard_input():
    host = socket.gethostname()
    primary, secondary = os.openpty()
    try:
        assert _with_stdin(secondary) == f"{host}:{os.ttyname(secondary)}"
    finally:
        os.close(primary)
        os.close(secondary)
    read, write = os.pipe()
    try:
        assert _with_stdin(read) == f"{host}:no-tty"
    finally:
        os.close(read)
        os.close(write)
