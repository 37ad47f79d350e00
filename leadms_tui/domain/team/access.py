"""Who is acting: sign-in with throttling, CLI sessions and API tokens, the password policy.

A token is shown once and stored only as its SHA-256 (it is a random 256-bit secret, so a
slow hash adds nothing); a session is a token of kind "session" that `logout` revokes.
Failed sign-ins are recorded per user and source (a terminal, or a browser's address): the
source that failed five times is locked out of that user, others are only slowed, so nobody
can lock a user out from elsewhere. An unknown user costs the same argon2 verification as a
known one, so timing does not tell who exists.
"""

import hashlib
import math
import os
import secrets
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlmodel import Session

from leadms_tui.domain import audit, clock
from leadms_tui.domain.db import Database
from leadms_tui.domain.errors import NotFoundError, PermissionDeniedError, ValidationError
from leadms_tui.domain.models import AccessToken, LoginFailure, Role, User
from leadms_tui.domain.team.users import UserInfo, authenticate, get_user, info, require_admin

MIN_PASSWORD_LENGTH = 10
MIN_PASSWORD_SCORE = 3  # zxcvbn: 3 is "safely unguessable" (about 10^10 guesses)
ZXCVBN_MAX_LENGTH = 72
FAILURE_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_SOURCE = 5  # for one user from one source: that source is locked out
MAX_FAILURES_PER_TERMINAL = 20  # one source guessing many usernames
MAX_DELAY_SECONDS = 30  # the most other sources wait (sign_in_delay)
SOURCE_ENV = "LEADMS_SIGN_IN_SOURCE"  # set by `leadms web` for each tab: its browser's address
TOKEN_PREFIX = "lms_"


def check_password_policy(username: str, password: str) -> None:
    """At least 10 characters, not the username, and hard to guess: zxcvbn's score (its
    dictionaries hold tens of thousands of common passwords, names and words, and it sees
    keyboard runs, repeats, dates and l33t) at least 3 of 4."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    if username.strip().lower() in password.lower():
        raise ValidationError("a password must not contain the username")
    from zxcvbn import zxcvbn  # its dictionaries take a moment to load: only when needed

    # zxcvbn refuses to look past 72 characters (its matching slows down): the start decides
    verdict = zxcvbn(password[:ZXCVBN_MAX_LENGTH], user_inputs=[username.strip().lower()])
    if verdict["score"] < MIN_PASSWORD_SCORE:
        feedback = verdict["feedback"]
        advice = " ".join([feedback["warning"], *feedback["suggestions"][:1]]).strip()
        reason = "that password is too easy to guess"
        raise ValidationError(f"{reason}: {advice}" if advice else f"{reason}: choose another")


@dataclass(frozen=True)
class SignIn:
    """The outcome of a sign-in: the user (and a new token when one was asked), or why not."""

    user: UserInfo | None = None
    token: str | None = None
    refused: str | None = None


def attempt_sign_in(
    database: Database,
    username: str,
    password: str,
    *,
    source: str,
    token_kind: str | None = None,
    wait: Callable[[float], None] = time.sleep,
) -> SignIn:
    """Sign in from `source`, first waiting out the slowdown failures from other sources put
    on this user (outside the transaction: a wait never holds the database)."""
    with database.reading() as session:
        delay = sign_in_delay(session, username, source)
    if delay:
        wait(delay)
    return database.write(
        lambda session: sign_in(session, username, password, terminal=source, token_kind=token_kind)
    )


def sign_in_delay(
    session: Session, username: str, source: str, *, now: datetime | None = None
) -> float:
    """Seconds a sign-in for `username` from `source` waits first: once other sources have
    failed MAX_FAILURES_PER_SOURCE times for this user in the window, 1 s, doubling with each
    further failure, up to MAX_DELAY_SECONDS. Slowed, never locked: a source that has not
    failed always gets its turn, however many others guess."""
    at = clock.as_utc(now or clock.now())
    elsewhere = session.execute(
        select(func.count())
        .select_from(LoginFailure)
        .where(
            LoginFailure.username == _failure_name(username),
            LoginFailure.terminal != source[:128],
            LoginFailure.at >= at - FAILURE_WINDOW,
        )
    ).scalar_one()
    if elsewhere < MAX_FAILURES_PER_SOURCE:
        return 0.0
    return float(min(2 ** (elsewhere - MAX_FAILURES_PER_SOURCE), MAX_DELAY_SECONDS))


def sign_in(
    session: Session,
    username: str,
    password: str,
    *,
    terminal: str,
    token_kind: str | None = None,
    now: datetime | None = None,
) -> SignIn:
    """Check a password, throttled per user and source (`terminal`: this terminal, or a
    browser's address): the source that failed five times for a user is locked out of that
    user for the window; other sources are only slowed (attempt_sign_in). Returns (never
    raises) a refusal, so the failure it records commits with the transaction."""
    at = clock.as_utc(now or clock.now())
    name, source = _failure_name(username), terminal[:128]
    from_here = session.execute(  # this source's recent failures, newest first
        select(LoginFailure.username, LoginFailure.at)
        .where(LoginFailure.terminal == source, LoginFailure.at >= at - FAILURE_WINDOW)
        .order_by(LoginFailure.at.desc())  # type: ignore[union-attr]
    ).all()
    for_user = [row for row in from_here if row.username == name]
    for failures, limit in (
        (for_user, MAX_FAILURES_PER_SOURCE),
        (from_here, MAX_FAILURES_PER_TERMINAL),
    ):
        if len(failures) >= limit:  # locked until the failure that reached the limit is old
            left = clock.as_utc(failures[limit - 1].at) + FAILURE_WINDOW - at
            minutes = max(1, math.ceil(left.total_seconds() / 60))
            unlock = f", or ask an admin to run `leadms users unlock {name}`"
            return SignIn(
                refused=f"too many failed sign-ins from here: try again in {minutes} minutes"
                + (unlock if failures is for_user else "")
            )
    try:
        user = authenticate(session, name, password)
    except ValidationError as exc:
        session.add(LoginFailure(username=name, terminal=source, at=at))
        return SignIn(refused=str(exc))
    token = None
    if token_kind is not None:
        token = issue_token(session, user, kind=token_kind, name=terminal, actor=user.actor, now=at)
    return SignIn(user=user, token=token)


def unlock_user(
    session: Session, username: str, *, actor: audit.Actor, now: datetime | None = None
) -> int:
    """Forget a user's failed sign-ins (admins), so every source may try again at once.
    Returns how many were forgotten; the trail keeps the count."""
    require_admin(actor, "unlock users")
    user = get_user(session, username)
    failures = session.execute(
        delete(LoginFailure).where(LoginFailure.username == _failure_name(user.username))
    ).rowcount  # type: ignore[attr-defined]
    at = clock.as_utc(now or clock.now())
    audit.record(
        session, actor, "user.unlock", "user", user.id, after={"failures_cleared": failures}, at=at
    )
    return failures


def _failure_name(username: str) -> str:
    return username.strip().lower()[:64]


def issue_token(
    session: Session,
    user: UserInfo,
    *,
    kind: str,
    name: str,
    actor: audit.Actor,
    expires_in: timedelta | None = None,
    now: datetime | None = None,
) -> str:
    """A new secret for `user` (shown once; only its hash is kept)."""
    if kind not in ("session", "api"):
        raise ValidationError(f"unknown token kind {kind!r}")
    if not name.strip():
        raise ValidationError("a token needs a name (what uses it, e.g. dialer)")
    at = clock.as_utc(now or clock.now())
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = AccessToken(
        user_id=user.id,
        kind=kind,
        name=name.strip()[:100],
        token_hash=_hash(secret),
        created_at=at,
        expires_at=at + expires_in if expires_in else None,
        created_by_id=actor.user_id,
    )
    session.add(token)
    session.flush()
    audit.record(
        session,
        actor,
        f"{kind}.create",
        "access_token",
        token.id,
        after={"user": user.username, "name": token.name, "expires_at": token.expires_at},
        at=at,
    )
    return secret


def user_for_token(session: Session, secret: str, *, now: datetime | None = None) -> UserInfo:
    """The active user a live token belongs to; PermissionDeniedError otherwise."""
    at = clock.as_utc(now or clock.now())
    row = session.execute(
        select(AccessToken, User)
        .join(User, User.id == AccessToken.user_id)
        .where(AccessToken.token_hash == _hash(secret.strip()))
    ).first()
    if row is None:
        raise PermissionDeniedError("unknown token: sign in again with `leadms login USERNAME`")
    token, user = row
    if token.revoked_at is not None or (token.expires_at and token.expires_at <= at):
        raise PermissionDeniedError(
            f"the {token.kind} {token.name!r} has ended: sign in again with `leadms login`"
        )
    if not user.active:
        raise PermissionDeniedError(f"user {user.username!r} is not active")
    session.execute(update(AccessToken).where(AccessToken.id == token.id).values(last_used_at=at))
    return info(user)


@dataclass(frozen=True)
class TokenInfo:
    id: int
    user: str
    kind: str
    name: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked: bool


def list_tokens(*, session: Session, username: str | None = None) -> list[TokenInfo]:
    query = (
        select(AccessToken, User.username)
        .join(User, User.id == AccessToken.user_id)
        .order_by(AccessToken.id)
    )
    if username is not None:
        query = query.where(User.username == username.strip().lower())
    return [
        TokenInfo(
            t.id, name, t.kind, t.name, t.created_at, t.expires_at, t.last_used_at,
            t.revoked_at is not None,
        )
        for t, name in session.execute(query)
    ]  # fmt: skip


def revoke_token(
    session: Session,
    *,
    actor: audit.Actor,
    token_id: int | None = None,
    secret: str | None = None,
    now: datetime | None = None,
) -> None:
    """End a token: one's own, or anyone's for an admin."""
    at = clock.as_utc(now or clock.now())
    query = select(AccessToken)
    if secret is not None:
        query = query.where(AccessToken.token_hash == _hash(secret))
    else:
        query = query.where(AccessToken.id == token_id)
    token = session.execute(query).scalar_one_or_none()
    if token is None:
        raise NotFoundError(f"no token {token_id}")
    if token.user_id != actor.user_id and actor.role != Role.ADMIN:
        raise PermissionDeniedError("only an admin can revoke another user's token")
    if token.revoked_at is None:
        token.revoked_at = at
        audit.record(session, actor, f"{token.kind}.revoke", "access_token", token.id, at=at)


def acting_for(admin: UserInfo, session: Session, username: str) -> audit.Actor:
    """An admin acting for another user: the work is that user's, the trail names both."""
    if username.strip().lower() == admin.username:
        return admin.actor
    if admin.role != Role.ADMIN:
        raise PermissionDeniedError("only an admin may act --as another user")
    user = get_user(session, username)
    if not user.active:
        raise ValidationError(f"user {username!r} is not active")
    return audit.Actor(user.id, f"{admin.username} for {user.username}", user.role.value)


def sign_in_source() -> str:
    """Where a sign-in comes from, for throttling: the browser's address in a `leadms web`
    tab (the server sets it), else this terminal."""
    return os.environ.get(SOURCE_ENV) or terminal_name()


def terminal_name() -> str:
    """This terminal, for throttling failed sign-ins: host and tty."""
    try:
        tty = os.ttyname(0)
    except OSError:
        tty = "no-tty"
    return f"{socket.gethostname()}:{tty}"[:128]


def has_users(session: Session) -> bool:
    return session.execute(select(User.id).limit(1)).first() is not None


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
