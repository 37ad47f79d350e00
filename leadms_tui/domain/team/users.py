"""The user service: accounts, roles and argon2 password hashes."""

import functools
import re
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, select

from leadms_tui.domain import audit
from leadms_tui.domain.errors import ConflictError, NotFoundError, ValidationError
from leadms_tui.domain.models import Role, User

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_hasher = PasswordHasher()
MIN_PASSWORD_LENGTH = 4


@dataclass(frozen=True)
class UserInfo:
    """A user as screens and the CLI show it (no password hash)."""

    id: int
    username: str
    display_name: str
    role: Role
    active: bool
    capacity: int
    languages: list[str]

    @property
    def actor(self) -> audit.Actor:
        return audit.Actor(self.id, self.username, self.role.value)


def info(user: User) -> UserInfo:
    return UserInfo(
        id=user.id,  # type: ignore[arg-type]
        username=user.username,
        display_name=user.display_name,
        role=Role(user.role),
        active=user.active,
        capacity=user.capacity,
        languages=[code for code in user.languages.split(",") if code],
    )


def parse_role(value: str) -> Role:
    try:
        return Role(value.strip().lower())
    except ValueError:
        choices = ", ".join(r.value for r in Role)
        raise ValidationError(f"unknown role {value!r}: choose one of {choices}") from None


def add_user(
    session: Session,
    username: str,
    *,
    role: Role,
    actor: audit.Actor,
    display_name: str | None = None,
    password: str | None = None,
    capacity: int = 25,
    languages: list[str] | None = None,
) -> UserInfo:
    username = username.strip().lower()
    if not _USERNAME.match(username):
        raise ValidationError(
            f"invalid username {username!r}: use lower-case letters, digits, '.', '_' or '-'"
        )
    if session.exec(select(User.id).where(User.username == username)).first() is not None:
        raise ConflictError(f"user {username!r} already exists")
    if capacity < 0:
        raise ValidationError("capacity cannot be negative")
    user = User(
        username=username,
        display_name=(display_name or "").strip() or username,
        role=role,
        capacity=capacity,
        languages=",".join(code.strip().lower() for code in languages or [] if code.strip()),
        password_hash=hash_password(password) if password is not None else None,
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        actor,
        "user.create",
        "user",
        user.id,
        after=audit.snapshot(user, exclude=frozenset({"password_hash"})),
    )
    return info(user)


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(f"password must have at least {MIN_PASSWORD_LENGTH} characters")
    return _hasher.hash(password)


@functools.cache
def _decoy_hash() -> str:
    return _hasher.hash(secrets.token_urlsafe(16))


def authenticate(session: Session, username: str, password: str) -> UserInfo:
    """The active user with this password; one vague error for every failure."""
    user = session.exec(select(User).where(User.username == username.strip().lower())).first()
    failure = ValidationError("unknown user or wrong password")
    stored = user.password_hash if user is not None and user.active else None
    try:  # an unknown user costs one verification too: timing does not tell who exists
        _hasher.verify(stored or _decoy_hash(), password)
    except (VerificationError, InvalidHashError):
        raise failure from None
    if user is None or stored is None:
        raise failure
    return info(user)


def get_user(session: Session, username: str) -> UserInfo:
    user = session.exec(select(User).where(User.username == username.strip().lower())).first()
    if user is None:
        raise NotFoundError(f"no user {username!r}")
    return info(user)


def list_users(session: Session) -> list[UserInfo]:
    return [info(u) for u in session.exec(select(User).order_by(User.role, User.username))]
