"""The Textual application: sign-in, then the rep's screens on top of the domain services."""

from textual.app import App
from textual.binding import Binding

from leadms_tui.domain.db import Database
from leadms_tui.domain.users import UserInfo


class LeadMSApp(App[None]):
    TITLE = "Lead MS"
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", id="quit", priority=True),
    ]

    def __init__(
        self,
        database: Database,
        *,
        signed_in: UserInfo | None = None,
        username: str | None = None,
    ) -> None:
        super().__init__()
        self.database = database
        self.user: UserInfo | None = None
        self._signed_in = signed_in
        self._username = username

    def on_mount(self) -> None:
        from leadms_tui.screens.login import LoginScreen

        if self._signed_in is not None:
            self.sign_in(self._signed_in)
        else:
            self.sub_title = self.database.label
            self.push_screen(LoginScreen(username=self._username))

    def sign_in(self, user: UserInfo) -> None:
        from leadms_tui.screens.home import HomeScreen

        self.user = user
        self.sub_title = f"{user.display_name} · {user.role.value} · {self.database.label}"
        if len(self.screen_stack) > 1:
            self.switch_screen(HomeScreen())
        else:
            self.push_screen(HomeScreen())


def run_tui(
    database: Database, *, signed_in: UserInfo | None = None, username: str | None = None
) -> None:
    LeadMSApp(database, signed_in=signed_in, username=username).run()
