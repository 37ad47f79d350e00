"""The Textual application: sign-in, then the rep's screens on top of the domain services."""

import gc
from collections.abc import Iterable

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.notifications import SeverityLevel
from textual.screen import Screen

from leadms_tui.domain.db import Database
from leadms_tui.domain.settings import TeamSettings, load_settings
from leadms_tui.domain.text import visible
from leadms_tui.domain.users import UserInfo
from leadms_tui.screens.failures import ReportsFailures

SWEEP_SECONDS = 60  # time rules and missed commitments, also when no cron runs them
NOTIFICATION_SECONDS = 30


class LeadMSApp(ReportsFailures, App[None]):
    TITLE = "Lead MS"
    BINDINGS = [
        Binding("question_mark", "help", "Keys", id="app.help"),
        Binding("slash", "search", "Search", id="app.search"),
        Binding("ctrl+q", "quit", "Quit", id="app.quit", priority=True),
    ]

    def __init__(
        self,
        database: Database,
        *,
        signed_in: UserInfo | None = None,
        username: str | None = None,
        welcome: str | None = None,
    ) -> None:
        super().__init__()
        self._welcome = welcome
        self.database = database
        self.user: UserInfo | None = None
        self.settings = TeamSettings()
        self._signed_in = signed_in
        self._username = username

    def on_mount(self) -> None:
        from leadms_tui.screens.login import LoginScreen

        self.sub_title = self.database.short_label
        if self._signed_in is not None:
            self._sign_in_known_user(self._signed_in)
        else:
            self.push_screen(LoginScreen(username=self._username))

    @work(thread=True, exit_on_error=False, description="Opening the database")
    def _sign_in_known_user(self, user: UserInfo) -> None:
        with self.database.reading() as session:
            settings = load_settings(session)
        self.call_from_thread(self.sign_in, user, settings)

    def sign_in(self, user: UserInfo, settings: TeamSettings) -> None:
        """Called with the authenticated user and the team settings: open the day view."""
        from leadms_tui.screens.day_view import DayViewScreen

        self.user = user
        self.settings = settings
        self.sub_title = visible(
            f"{user.display_name} ({user.role.value}) · {self.database.short_label}"
        )
        if len(self.screen_stack) > 1:
            self.switch_screen(DayViewScreen())
        else:
            self.push_screen(DayViewScreen())
        if self._welcome:
            self.notify(self._welcome, title="Welcome", timeout=15)
        # Start-up objects (modules, CSS, screens) live as long as the app: keep them out of
        # the collector's full passes, which otherwise pause the UI for 100+ ms at a time.
        self.call_after_refresh(gc.freeze)
        self._check_notifications()
        self.set_interval(NOTIFICATION_SECONDS, self._check_notifications)
        self.set_interval(SWEEP_SECONDS, self._sweep)

    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group="sweep",
        description="Running the time rules",
    )
    def _sweep(self) -> None:
        from leadms_tui.domain.rules import sweep

        sweep(self.database)

    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group="notifications",
        description="Checking notifications",
    )
    def _check_notifications(self) -> None:
        from leadms_tui.domain.notifications import mark_read, unread_notifications

        if self.user is None:
            return
        user_id = self.user.id
        with self.database.reading() as session:
            items = unread_notifications(session=session, user_id=user_id)
        if items:
            self.database.write(lambda s: mark_read(s, user_id, [item.id for item in items]))
            for item in items:
                self.call_from_thread(
                    self.notify, item.message, title="Lead MS", severity="warning", timeout=12
                )

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Every toast of the app: its text is data (a lead's name, an error about it), never
        markup, and no control character reaches the terminal."""
        super().notify(
            visible(message, lines=True),
            title=visible(title),
            severity=severity,
            timeout=timeout,
            markup=False,
        )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "search" and self.user is None:
            return False  # nothing to search before signing in
        return True

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """The palette offers every key of the current screen as a command, and the usual ones."""
        seen = set()
        for key, active in screen.active_bindings.items():
            binding = active.binding
            if not binding.description or not active.enabled or binding.action in seen:
                continue
            seen.add(binding.action)
            shown = binding.key_display or self.get_key_display(binding)
            yield SystemCommand(
                binding.description,
                f"key {shown or key}",
                lambda action=binding.action, node=active.node: self.call_later(
                    node.run_action, action
                ),
            )
        yield from super().get_system_commands(screen)

    def action_help(self) -> None:
        from leadms_tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    def action_search(self) -> None:
        from leadms_tui.screens.lead_list import LeadListScreen

        if isinstance(self.screen, LeadListScreen):
            self.screen.action_focus_search()
        else:
            self.push_screen(LeadListScreen())


def run_tui(
    database: Database,
    *,
    signed_in: UserInfo | None = None,
    username: str | None = None,
    welcome: str | None = None,
) -> int:
    """Run the TUI; returns its exit code (non-zero after a crash, so scripts can tell)."""
    app = LeadMSApp(database, signed_in=signed_in, username=username, welcome=welcome)
    app.run()
    return app.return_code or 0
