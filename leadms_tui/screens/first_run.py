"""First run: a database with no users yet gets its first admin and the team's basics."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from rich.text import Text
from sqlmodel import Session
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Header, Input, Label

from leadms_tui import formatting
from leadms_tui.domain.audit import SYSTEM
from leadms_tui.domain.errors import ConflictError, LeadMSError, ValidationError
from leadms_tui.domain.models import Role
from leadms_tui.domain.team.access import check_password_policy, has_users
from leadms_tui.domain.team.settings import (
    DEFAULTS,
    TeamSettings,
    detected_timezone,
    load_settings,
    set_setting,
)
from leadms_tui.domain.team.users import UserInfo, add_user
from leadms_tui.screens import goto
from leadms_tui.screens.settings.form import entry, row
from leadms_tui.screens.with_app import WithApp
from leadms_tui.widgets.key_footer import KeyFooter

T = TypeVar("T")
ADMIN_ROWS = (  # (field, label, placeholder)
    ("username", "Username", "lower-case, e.g. ada"),
    ("name", "Name", "shown on screens, e.g. Ada Lovelace"),
    ("password", "Password", "at least 10 characters"),
    ("again", "Again", "the same password"),
)
TEAM_ROWS = (  # (setting, label, placeholder): each read by the setting's own parser
    ("timezone", "Timezone", "IANA name, e.g. Europe/London"),
    ("phone_region", "Phone region", "for numbers without +, e.g. GB"),
    ("currency", "Currency", "ISO 4217, e.g. EUR"),
    ("business_hours", "Hours", "e.g. 09:00-18:00"),
    ("business_days", "Days", "e.g. mon-fri"),
)
PASSWORD_FIELDS = ("password", "again")


@dataclass(frozen=True)
class FirstAdmin:
    """What the form holds: the first admin and the team settings, as typed."""

    username: str
    display_name: str
    password: str
    settings: dict[str, str]


class FieldRefused(ValidationError):
    """A refusal that belongs to one field of the form (shown under it, the field focused)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class AlreadySetUp(ConflictError):
    """Another terminal created the first user meanwhile."""


def _in_field(field: str, step: Callable[[], T]) -> T:
    try:
        return step()
    except (ValidationError, ConflictError) as exc:
        raise FieldRefused(field, str(exc)) from exc


def set_up(session: Session, form: FirstAdmin) -> UserInfo:
    """The admin and the settings in one transaction: all of it is written, or none."""
    if has_users(session):
        raise AlreadySetUp("this database has users now: sign in")
    _in_field("password", lambda: check_password_policy(form.username, form.password))
    admin = _in_field(
        "username",
        lambda: add_user(
            session,
            form.username,
            role=Role.ADMIN,
            actor=SYSTEM,
            display_name=form.display_name,
            password=form.password,
        ),
    )
    for key, value in form.settings.items():
        _in_field(key, lambda key=key, value=value: set_setting(session, key, value, actor=SYSTEM))
    return admin


class FirstRunScreen(WithApp, Screen[None]):
    """Shown instead of sign-in while the database has no users."""

    HELP_NAME = "First run"
    DEFAULT_CSS = """
    FirstRunScreen { align: center middle; }
    FirstRunScreen #first-run-box { width: 76; max-width: 100%; height: auto;
        max-height: 100%; border: round $accent; padding: 0 1; }
    FirstRunScreen .form-row { height: 1; }
    FirstRunScreen .form-row > Label { width: 14; color: $text-muted; }
    FirstRunScreen .form-row > Input { width: 1fr; }
    FirstRunScreen .first-run-team { margin-top: 1; }
    FirstRunScreen .form-note { width: 100%; height: auto; color: $text-muted; }
    FirstRunScreen #first-run-error { width: 100%; height: auto; color: $error; }
    """
    BINDINGS = [
        Binding("ctrl+s", "save", "Set up", key_display="^s", priority=True, id="first-run.save"),
    ]

    def __init__(self, timezone: str | None = None) -> None:
        self._refused_with: dict[str, str] | None = None  # the form as it was refused
        super().__init__()
        self._timezone = timezone or detected_timezone()
        self._saving = False

    def compose(self) -> ComposeResult:
        prefilled = {
            "timezone": self._timezone,
            "phone_region": DEFAULTS.phone_region,
            "currency": DEFAULTS.currency,
            "business_hours": DEFAULTS.text["business_hours"],
            "business_days": DEFAULTS.text["business_days"],
        }
        yield Header()
        with Vertical(id="first-run-box"):
            yield Label(Text.assemble(("Welcome to Lead MS", "bold"), " — a new database"))
            yield Label("First its admin, who adds the team.", classes="form-note")
            for field, label, placeholder in ADMIN_ROWS:
                secret = field in PASSWORD_FIELDS
                yield row(label, entry("", f"first-run-{field}", placeholder, password=secret))
            yield Label(
                "Passwords: at least 10 characters, not the username, not a common one.",
                classes="form-note",
            )
            yield Label(
                Text.assemble(("The team", "bold"), " (change it later: S → Team)"),
                classes="first-run-team",
            )
            for key, label, placeholder in TEAM_ROWS:
                yield row(label, entry(prefilled[key], f"first-run-{key}", placeholder))
            yield Label(
                "enter: the next empty field, then set up; ctrl+s sets up at once",
                classes="form-note",
            )
            yield Label("", id="first-run-error")
        yield KeyFooter()

    def on_mount(self) -> None:
        self._field("username").focus()

    def _field(self, field: str) -> Input:
        return self.query_one(f"#first-run-{field}", Input)

    def say(self, text: str) -> None:
        self.query_one("#first-run-error", Label).update(formatting.shown(text))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "save":
            return not self._saving or None  # greyed out while it is written
        return True

    @on(Input.Submitted)
    def _next_empty_field(self) -> None:
        for field in [f for f, *_ in ADMIN_ROWS] + [key for key, *_ in TEAM_ROWS]:
            if not self._field(field).value.strip():
                self._field(field).focus()
                return
        self.action_save()

    def action_save(self) -> None:
        if self._saving:
            return
        password, again = self._field("password").value, self._field("again").value
        if password != again:
            self._refuse("the two passwords differ: type the new one twice", "password")
            return
        form = FirstAdmin(
            username=self._field("username").value.strip(),
            display_name=self._field("name").value.strip(),
            password=password,
            settings={key: self._field(key).value.strip() for key, *_ in TEAM_ROWS},
        )
        self._saving = True
        self.refresh_bindings()
        self.say("Setting up…")
        self._set_up(form)

    def _set_up(self, form: FirstAdmin) -> None:
        database = self.leadms.database

        def set_up_and_read() -> tuple[UserInfo, TeamSettings]:
            admin = database.write(lambda session: set_up(session, form))
            with database.reading() as session:
                return admin, load_settings(session)

        self.in_thread(
            set_up_and_read, self._set_up_done,
            group="first-run", description="Setting up the database", exclusive=True,
            refused=self._refused,
            # and the failure handler says it in a toast
            failed=lambda exc: self._refuse(f"Not set up: {type(exc).__name__}", None),
        )  # fmt: skip

    def _refused(self, error: LeadMSError) -> None:
        if isinstance(error, AlreadySetUp):
            self._taken()
        else:  # said under the form, the typing kept
            self._refuse(str(error), error.field if isinstance(error, FieldRefused) else None)

    def _refuse(self, reason: str, field: str | None) -> None:
        self._saving = False
        self.refresh_bindings()
        self.say(reason)
        if field in PASSWORD_FIELDS:  # a new password, typed twice again
            for name in PASSWORD_FIELDS:
                self._field(name).value = ""
        if field is not None:
            self._field(field).focus()
        self._refused_with = self._typed()

    def _typed(self) -> dict[str, str]:
        return {str(field.id): field.value for field in self.query(Input)}

    @on(Input.Changed)
    def _clear_stale_error(self) -> None:
        """A refusal stays until the person changes what was refused, then goes."""
        if self._refused_with is not None and self._typed() != self._refused_with:
            self._refused_with = None
            self.say("")

    def _taken(self) -> None:
        """The database has users now: it is for signing in."""
        self.go(goto.SignInAgain())
        self.app.notify("Another terminal set this database up meanwhile: sign in", timeout=10)

    def _set_up_done(self, done: tuple[UserInfo, TeamSettings]) -> None:
        admin, settings = done
        self.leadms.sign_in(admin, settings)  # as the sign-in screen does
        self.go(goto.WhatNext(admin))
