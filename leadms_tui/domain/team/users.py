"""The user service: accounts, roles and argon2 password hashes."""

import functools
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, select

from leadms_tui.domain import audit, clock
from leadms_tui.domain.business_time import BusinessCalendar
from leadms_tui.domain.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from leadms_tui.domain.models import AccessToken, Availability, Channel, Role, User, saved_id

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
    channels: list[str] = field(default_factory=list)  # empty: every channel
    availability: Availability = Availability.AVAILABLE
    away_until: datetime | None = None  # UTC; meaningful when away
    working_hours: str = ""  # empty: the team's hours
    extension: str | None = None  # their phone on the PBX (the phone bridge)

    @property
    def actor(self) -> audit.Actor:
        return audit.Actor(self.id, self.username, self.role.value)


def info(user: User) -> UserInfo:
    return UserInfo(
        id=saved_id(user),
        username=user.username,
        display_name=user.display_name,
        role=Role(user.role),
        active=user.active,
        capacity=user.capacity,
        languages=[code for code in user.languages.split(",") if code],
        channels=[name for name in user.channels.split(",") if name],
        availability=Availability(user.availability),
        away_until=clock.as_utc(user.away_until) if user.away_until else None,
        working_hours=user.working_hours,
        extension=user.extension,
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


_ISO_639_1 = """aa ab ae af ak am an ar as av ay az ba be bg bi bm bn bo br bs ca ce ch co cr
cs cu cv cy da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho
hr ht hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky
la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv ny oc oj
om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq sr ss st su sv sw
ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu"""
LANGUAGE_CODES = frozenset(_ISO_639_1.split())  # the two-letter codes of user languages
MAX_CAPACITY = 10_000
_SECRET = frozenset({"password_hash"})


def require_admin(actor: audit.Actor, what: str) -> None:
    if actor.role not in (None, Role.ADMIN):
        raise PermissionDeniedError(f"only an admin can {what}")


def parse_languages(codes: list[str]) -> list[str]:
    """ISO 639-1 codes, lower-cased and deduplicated ("EN, es" → ["en", "es"])."""
    cleaned = list(dict.fromkeys(code.strip().lower() for code in codes if code.strip()))
    unknown = [code for code in cleaned if code not in LANGUAGE_CODES]
    if unknown:
        raise ValidationError(
            f"unknown language code(s) {', '.join(unknown)}: use ISO 639-1, e.g. en, es, pt"
        )
    return cleaned


def parse_channels(names: list[str]) -> list[str]:
    """Channels a rep takes ("" for all), each one Lead MS knows."""
    cleaned = list(dict.fromkeys(n.strip().lower() for n in names if n.strip()))
    known = {c.value for c in Channel}
    unknown = [n for n in cleaned if n not in known]
    if unknown:
        raise ValidationError(
            f"unknown channel(s) {', '.join(unknown)}: use {', '.join(sorted(known))}"
        )
    return cleaned


def parse_working_hours(text: str) -> str:
    """'08:00-16:00', or '' for the team's business hours."""
    hours = text.strip()
    if hours:
        try:
            BusinessCalendar.from_settings("UTC", hours, "mon-sun", "")
        except ValueError as exc:
            raise ValidationError(f"working hours {text!r}: {exc}") from None
    return hours


def _free_extension(session: Session, text: str, user: User) -> str | None:
    """A PBX extension ('201', 'PJSIP/201' is read as '201'), unique per database; '' none."""
    extension = text.strip().rsplit("/", 1)[-1]
    if not extension:
        return None
    if len(extension) > 32 or not all(c.isalnum() or c in "-_." for c in extension):
        raise ValidationError(f"extension {text!r}: letters, digits, '-', '_' or '.', at most 32")
    holder = session.exec(
        select(User.username).where(User.extension == extension, User.id != user.id)
    ).first()
    if holder is not None:
        raise ValidationError(f"extension {extension} belongs to {holder}")
    return extension


def _user_row(session: Session, username: str) -> User:
    query = select(User).where(User.username == username.strip().lower()).with_for_update()
    user = session.exec(query).first()
    if user is None:
        raise NotFoundError(f"no user {username!r}")
    return user


def update_user(
    session: Session,
    username: str,
    *,
    actor: audit.Actor,
    role: Role | None = None,
    active: bool | None = None,
    capacity: int | None = None,
    languages: list[str] | None = None,
    display_name: str | None = None,
    channels: list[str] | None = None,
    availability: Availability | None = None,
    away_until: datetime | None = None,
    working_hours: str | None = None,
    extension: str | None = None,
) -> UserInfo:
    """Change a user's role, state, capacity, languages, name or assignment profile
    (channels, availability, working hours) (admins); the team always keeps one active admin."""
    require_admin(actor, "change users")
    user = _user_row(session, username)
    before = audit.snapshot(user, exclude=_SECRET)
    if capacity is not None and not 0 <= capacity <= MAX_CAPACITY:
        raise ValidationError(f"capacity must be between 0 and {MAX_CAPACITY}")
    if display_name is not None and not display_name.strip():
        raise ValidationError("a user needs a display name")
    stays_admin = (role or Role(user.role)) == Role.ADMIN and (
        user.active if active is None else active
    )
    if Role(user.role) == Role.ADMIN and user.active and not stays_admin:
        others = session.exec(
            select(User.id)
            .where(User.role == Role.ADMIN, User.active, User.id != user.id)
            .with_for_update()
        ).first()
        if others is None:
            raise ValidationError(
                f"{user.username} is the last active admin: make another admin first"
            )
    if role is not None:
        user.role = role
    if active is not None:
        user.active = active
    if capacity is not None:
        user.capacity = capacity
    if languages is not None:
        user.languages = ",".join(parse_languages(languages))
    if display_name is not None:
        user.display_name = display_name.strip()
    if channels is not None:
        user.channels = ",".join(parse_channels(channels))
    if availability is not None:
        user.availability = availability
        away = availability == Availability.AWAY and away_until is not None
        # The one window every given time passes: a year-9999 return would overflow the wall
        # clock of any zone east of UTC and stop intake for everyone.
        user.away_until = clock.plausible(away_until, "away until") if away else None
    if working_hours is not None:
        user.working_hours = parse_working_hours(working_hours)
    if extension is not None:
        user.extension = _free_extension(session, extension, user)
    session.flush()
    after = audit.snapshot(user, exclude=_SECRET)
    if after != before:
        audit.record(session, actor, "user.update", "user", user.id, before=before, after=after)
    return info(user)


def reset_password(
    session: Session, username: str, new_password: str, *, actor: audit.Actor
) -> int:
    """Give a user a new password (admins), checked against the password policy, and end
    the user's CLI sessions (their API tokens stay). Returns how many sessions ended."""
    from leadms_tui.domain.team.access import check_password_policy  # access builds on us

    require_admin(actor, "reset passwords")
    user = _user_row(session, username)
    check_password_policy(user.username, new_password)
    user.password_hash = hash_password(new_password)
    at = clock.as_utc(clock.now())
    audit.record(
        session, actor, "user.password", "user", user.id, after={"password": "reset"}, at=at
    )
    sessions = session.exec(
        select(AccessToken).where(
            AccessToken.user_id == user.id,
            AccessToken.kind == "session",
            AccessToken.revoked_at.is_(None),  # type: ignore[union-attr]
        )
    ).all()
    for token in sessions:  # as access.revoke_token does, for an admin
        token.revoked_at = at
        audit.record(session, actor, "session.revoke", "access_token", token.id, at=at)
    session.flush()
    return len(sessions)
