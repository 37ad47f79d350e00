"""Sign-in: username and password checked against the configured database."""

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Button, Header, Input, Label

from leadms_tui.domain.errors import LeadMSError
from leadms_tui.domain.team.access import attempt_sign_in, sign_in_source
from leadms_tui.domain.team.settings import TeamSettings, load_settings
from leadms_tui.domain.team.users import UserInfo
from leadms_tui.screens.with_app import WithApp
from leadms_tui.widgets.key_footer import KeyFooter


class LoginScreen(WithApp, Screen[None]):
    HELP_NAME = "Sign in"
    DEFAULT_CSS = """
    LoginScreen { align: center middle; }
    LoginScreen #login-box { width: 50; height: auto; border: round $accent; padding: 1 2; }
    LoginScreen Input { margin-bottom: 1; }
    LoginScreen #login-error { width: 100%; color: $error; height: auto; }
    """

    def __init__(self, username: str | None = None) -> None:
        super().__init__()
        self._username = username or ""

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="login-box"):
            yield Label("Sign in to Lead MS")
            yield Input(self._username, placeholder="username", id="username")
            yield Input(placeholder="password", password=True, id="password")
            yield Label("", id="login-error", markup=False)
            yield Button("Sign in", variant="primary", id="sign-in")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#password" if self._username else "#username", Input).focus()

    @on(Input.Submitted, "#username")
    def _next_field(self) -> None:
        self.query_one("#password", Input).focus()

    @on(Input.Submitted, "#password")
    @on(Button.Pressed, "#sign-in")
    def _submit(self) -> None:
        username = self.query_one("#username", Input).value
        password = self.query_one("#password", Input).value
        self.query_one("#login-error", Label).update("Signing in…")
        self._check(username, password)

    def _check(self, username: str, password: str) -> None:
        database = self.leadms.database

        def check() -> tuple[UserInfo, TeamSettings]:
            # failures are recorded and throttled, as for `leadms login`
            outcome = attempt_sign_in(database, username, password, source=sign_in_source())
            if outcome.user is None:
                raise LeadMSError(outcome.refused or "not signed in")
            with database.reading() as session:
                return outcome.user, load_settings(session)

        self.in_thread(
            check, self._succeeded, group="login", description="Signing in", exclusive=True,
            refused=self._failed,
        )  # fmt: skip

    def _failed(self, error: LeadMSError) -> None:
        self.query_one("#login-error", Label).update(str(error))
        self.query_one("#password", Input).value = ""
        self.query_one("#password", Input).focus()

    def _succeeded(self, signed_in: tuple[UserInfo, TeamSettings]) -> None:
        self.leadms.sign_in(*signed_in)
