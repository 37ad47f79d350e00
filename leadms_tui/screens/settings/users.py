"""The settings' Users tab: the team's accounts, their roles, capacity and languages, their
assignment profile (channels, availability, working hours), and new passwords (which end the
user's CLI sessions)."""

from dataclasses import dataclass
from datetime import datetime

from rich.text import Text
from sqlmodel import Session
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Checkbox, DataTable, Input, Label, Select

from leadms_tui import formatting
from leadms_tui.domain import clock
from leadms_tui.domain.errors import ValidationError
from leadms_tui.domain.models import Availability, Role
from leadms_tui.domain.spoken_dates import parse_when
from leadms_tui.domain.team.access import check_password_policy
from leadms_tui.domain.team.users import (
    UserInfo,
    add_user,
    list_users,
    reset_password,
    update_user,
)
from leadms_tui.screens.settings.form import FormModal, entry, row
from leadms_tui.screens.with_app import WithApp
from leadms_tui.widgets.key_footer import KeyFooter
from leadms_tui.widgets.text_table import TextTable

ROLES = [(role.value, role.value) for role in Role]
AVAILABILITIES = [(state.value, state.value) for state in Availability]
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")  # not %a: locale-free
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class Profile:
    """What assignment reads of a user besides capacity and languages."""

    channels: list[str]  # empty: all channels
    availability: Availability
    away_until: datetime | None  # UTC; meaningful when away
    working_hours: str  # "08:00-16:00"; empty: the team's hours

    @classmethod
    def of(cls, user: UserInfo) -> "Profile":
        return cls(user.channels, user.availability, user.away_until, user.working_hours)


NO_PROFILE = Profile([], Availability.AVAILABLE, None, "")


def short_moment(moment: datetime, timezone: str, now: datetime) -> str:
    """ "Fri 27 Nov 09:00" in the team timezone (the year added when it is not this one)."""
    at = formatting.local(moment, timezone)
    year = f" {at.year}" if at.year != formatting.local(now, timezone).year else ""
    return f"{_DAYS[at.weekday()]} {at.day} {_MONTHS[at.month - 1]}{year} {at:%H:%M}"


def availability_cell(profile: Profile, timezone: str, now: datetime, style: str) -> Text:
    if profile.availability != Availability.AWAY:
        return formatting.shown(profile.availability.value, style)
    if profile.away_until is None:
        return formatting.shown("away", style)
    back = clock.as_utc(profile.away_until) <= clock.as_utc(now)  # back already: shown dim
    until = short_moment(profile.away_until, timezone, now)
    return formatting.shown(f"away until {until}", "dim" if back else style)


class UsersTab(WithApp, Vertical):
    DEFAULT_CSS = """
    UsersTab #users { height: 1fr; border: round $panel; }
    UsersTab #users:focus { border: round $accent; }
    """
    BINDINGS = [
        Binding("a", "add_user", "Add user", id="settings.users.add"),
        Binding("e", "edit_user", "Edit user", id="settings.users.edit"),
        Binding("p", "password", "New password", id="settings.users.password"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.users: dict[str, UserInfo] = {}
        self.profiles: dict[str, Profile] = {}
        self._select: str | None = None

    def compose(self) -> ComposeResult:
        table = TextTable(id="users", cursor_type="row", zebra_stripes=True)
        table.border_title = "Users and roles"
        labels = ("Username", "Name", "Role", "Active", "Capacity", "Languages")
        for label in (*labels, "Availability", "Channels", "Hours"):
            table.add_column(label)
        yield table

    def on_mount(self) -> None:
        self.reload()

    def reload(self, select: str | None = None) -> None:
        self._select = select
        self.load(list_users, self._loaded, group="settings-users", description="Loading the users")

    def _loaded(self, users: list[UserInfo]) -> None:
        table = self.query_one("#users", DataTable)
        current = self.current()
        select = self._select or (current.username if current else None)
        old_row = table.cursor_row
        self.users = {user.username: user for user in users}
        self.profiles = {user.username: Profile.of(user) for user in users}
        timezone, now = self.signed_in.settings.timezone, clock.now()
        table.clear()
        for user in users:
            style = "" if user.active else "dim"
            profile = self.profiles.get(user.username, NO_PROFILE)
            table.add_row(
                formatting.shown(user.username, style),
                formatting.shown(user.display_name, style),
                formatting.shown(user.role.value, style),
                Text("yes", style="green") if user.active else Text("no", style="dim"),
                Text(str(user.capacity), style=style, justify="right"),
                formatting.shown(",".join(user.languages) or "—", style),
                availability_cell(profile, timezone, now, style),
                formatting.shown(",".join(profile.channels) or "all", style),
                formatting.shown(profile.working_hours or "team", style),
                key=user.username,
            )
        if select in self.users:
            table.move_cursor(row=table.get_row_index(select), animate=False)
        elif users:
            table.move_cursor(row=min(max(old_row, 0), len(users) - 1), animate=False)
        self._select = None
        self.screen.refresh_bindings()

    def current(self) -> UserInfo | None:
        table = self.query_one("#users", DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value
        return self.users.get(key or "")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("edit_user", "password"):
            return self.current() is not None or None
        return True

    @on(DataTable.RowHighlighted, "#users")
    def _highlighted(self) -> None:
        self.screen.refresh_bindings()

    @on(DataTable.RowSelected, "#users")
    def _selected(self) -> None:
        self.action_edit_user()

    def action_add_user(self) -> None:
        self.app.push_screen(UserModal(None), self._edited)

    def action_edit_user(self) -> None:
        current = self.current()
        if current is not None:
            profile = self.profiles.get(current.username, NO_PROFILE)
            self.app.push_screen(UserModal(current, profile), self._edited)

    def _edited(self, saved: UserInfo | None) -> None:
        if saved is not None:
            if self.signed_in.user.id == saved.id:
                self.leadms.user_changed(saved)  # one's own role and name, as changed
            self.app.notify(f"User saved: {saved.username}", title="Saved")
            self.reload(select=saved.username)
        self.query_one("#users", DataTable).focus()

    def action_password(self) -> None:
        current = self.current()
        if current is None:
            return
        username = current.username

        def changed(ended: int | None) -> None:
            if ended is not None:
                sessions = f"; {ended} CLI session(s) ended" if ended else ""
                self.app.notify(f"Password of {username} changed{sessions}", title="Saved")
            self.query_one("#users", DataTable).focus()

        self.app.push_screen(PasswordModal(current), changed)


class UserModal(FormModal[UserInfo | None]):
    """A new user (username, name, role, password), or a user's name, role, capacity,
    languages, assignment profile (channels, availability, working hours) and state."""

    HELP_NAME = "User"

    def __init__(self, user: UserInfo | None, profile: Profile = NO_PROFILE) -> None:
        super().__init__()
        self.user = user
        self.profile = profile
        self._until_shown = ""  # the away-until time as prefilled: kept as is when untouched

    def compose(self) -> ComposeResult:
        user = self.user
        after = " (ctrl+s saves, escape cancels)"
        with Vertical():
            if user is None:
                yield Label(Text.assemble(("New user", "bold"), after))
                yield row("Username", entry("", "user-name", "lower-case, e.g. ana"))
                yield row("Name", entry("", "user-display", "shown on screens"))
                yield row("Role", Select(ROLES, value=Role.REP.value, allow_blank=False,
                                         id="user-role", compact=True))  # fmt: skip
                yield row("Password", entry("", "user-password", "empty: set it later with p",
                                            password=True))  # fmt: skip
                note = "Passwords: at least 10 characters, not the username, not a common one."
            else:
                yield Label(formatting.titled("Edit user", user.username, after))
                yield row("Name", entry(user.display_name, "user-display", select_on_focus=False))
                yield row("Role", Select(ROLES, value=user.role.value, allow_blank=False,
                                         id="user-role", compact=True))  # fmt: skip
                yield row("Capacity", entry(user.capacity, "user-capacity",
                                            "open leads, 0-10000", restrict=r"[0-9]*"))  # fmt: skip
                yield row("Languages", entry(",".join(user.languages), "user-languages",
                                             "ISO 639-1 codes, e.g. en,es"))  # fmt: skip
                yield from self._profile_rows()
                yield row("", Checkbox("Active: may sign in and be given leads", user.active,
                                       id="user-active", compact=True))  # fmt: skip
                note = "The team keeps one active admin at least."
            yield Label(note, classes="form-note", markup=False)
            yield Label("", id="form-error")
        yield KeyFooter()

    def _profile_rows(self) -> ComposeResult:
        profile = self.profile
        away = profile.availability == Availability.AWAY
        if away and profile.away_until is not None:
            timezone = self.signed_in.settings.timezone
            self._until_shown = formatting.format_local_datetime(profile.away_until, timezone)
        yield row("Channels", entry(",".join(profile.channels), "user-channels",
                                    "empty: all; e.g. whatsapp,website"))  # fmt: skip
        yield row("Availability", Select(AVAILABILITIES, value=profile.availability.value,
                                         allow_blank=False, id="user-availability",
                                         compact=True))  # fmt: skip
        yield row("Away until", entry(self._until_shown, "user-away-until",
                                      "when away: e.g. fri 09:00, +2d",
                                      disabled=not away))  # fmt: skip
        yield row("Hours", entry(profile.working_hours, "user-hours",
                                 "empty: the team's; e.g. 08:00-16:00"))  # fmt: skip
        extension = (self.user.extension if self.user else None) or ""
        yield row("Extension", entry(extension, "user-extension",
                                     "their phone on the PBX, e.g. 201"))  # fmt: skip

    def on_mount(self) -> None:
        self.query_one("#user-name" if self.user is None else "#user-display", Input).focus()

    @on(Select.Changed, "#user-availability")
    def _availability(self, event: Select.Changed) -> None:
        self.query_one("#user-away-until", Input).disabled = event.value != Availability.AWAY

    def _away_until(self, availability: Availability) -> datetime | None:
        """The moment an away user is back, read in the team timezone (ValidationError: why
        not); None unless away."""
        if availability != Availability.AWAY:
            return None
        text = self.value("user-away-until")
        if not text:
            raise ValidationError("Away until when? e.g. fri 09:00, tomorrow 08:00, +2d")
        if text == self._until_shown and self.profile.away_until is not None:
            return self.profile.away_until  # untouched: as stored, to the second
        timezone = self.signed_in.settings.timezone
        return clock.as_utc(parse_when(text, now=clock.now(), timezone=timezone))

    def action_save(self) -> None:
        actor = self.signed_in.actor
        role = Role(str(self.query_one("#user-role", Select).value))
        name = self.value("user-display")
        user = self.user
        if user is None:
            username, password = self.value("user-name"), self.query_one("#user-password", Input)

            def change(session: Session) -> UserInfo:
                if password.value:
                    check_password_policy(username, password.value)
                return add_user(
                    session, username, role=role, actor=actor, display_name=name,
                    password=password.value or None,
                )  # fmt: skip

            self.write(change)
            return
        capacity = self.value("user-capacity")
        if not capacity.isdigit():
            self.say("The capacity is a whole number of open leads, 0 to 10000")
            return
        languages = self.value("user-languages").split(",")
        active = self.query_one("#user-active", Checkbox).value
        channels = self.value("user-channels").split(",")
        availability = Availability(str(self.query_one("#user-availability", Select).value))
        try:
            away_until = self._away_until(availability)
        except ValidationError as exc:
            self.say(str(exc))
            self.query_one("#user-away-until", Input).focus()
            return
        hours, extension = self.value("user-hours"), self.value("user-extension")
        self.write(
            lambda session: update_user(
                session, user.username, actor=actor, role=role, active=active,
                capacity=int(capacity), languages=languages, display_name=name,
                channels=channels, availability=availability, away_until=away_until,
                working_hours=hours, extension=extension,
            )
        )  # fmt: skip


class PasswordModal(FormModal[int | None]):
    """`p`: a user's new password, typed twice and never shown."""

    HELP_NAME = "New password"

    def __init__(self, user: UserInfo) -> None:
        super().__init__()
        self.user = user

    def compose(self) -> ComposeResult:
        after = " (ctrl+s saves, escape cancels)"
        with Vertical():
            yield Label(formatting.titled("New password", self.user.username, after))
            yield row("Password", entry("", "password-new", password=True))
            yield row("Again", entry("", "password-again", password=True))
            yield Label(
                "At least 10 characters, not the username, not a common one. "
                "The user's CLI sessions end.",
                classes="form-note",
                markup=False,
            )
            yield Label("", id="form-error")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#password-new", Input).focus()

    @on(Input.Submitted, "#password-new")
    def _next(self, event: Input.Submitted) -> None:
        event.prevent_default()  # enter in the first field goes on to the second, not save
        self.query_one("#password-again", Input).focus()

    def action_save(self) -> None:
        new = self.query_one("#password-new", Input).value
        again = self.query_one("#password-again", Input).value
        if new != again:
            self.say("The two passwords differ")
            self.query_one("#password-again", Input).focus()
            return
        actor, username = self.signed_in.actor, self.user.username
        self.write(lambda session: reset_password(session, username, new, actor=actor))
