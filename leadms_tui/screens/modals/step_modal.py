"""One step of an onboarding template (the template editor's `a` and `enter`)."""

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Select

from leadms_tui import formatting
from leadms_tui.domain.models import Role, StepOwner
from leadms_tui.domain.sales.onboarding import StepSpec
from leadms_tui.domain.team.users import UserInfo
from leadms_tui.screens.with_app import WithApp
from leadms_tui.widgets.key_footer import KeyFooter

ROLE_WORDS = {
    Role.REP.value: "a rep",
    Role.MANAGER.value: "a manager",
    Role.ADMIN.value: "an admin",
}


class StepModal(WithApp, ModalScreen[StepSpec | None]):
    """Add or edit one step: title, day (business days after the sale) and who does it."""

    HELP_NAME = "Onboarding step"
    DEFAULT_CSS = """
    StepModal { align: center middle; }
    StepModal > Vertical { width: 70; max-width: 100%; height: auto; max-height: 100%;
        border: round $accent; background: $surface; padding: 0 1; }
    StepModal Horizontal { height: 1; }
    StepModal Horizontal > Label { width: 8; color: $text-muted; }
    StepModal Horizontal > Input, StepModal Horizontal > Select { width: 1fr; }
    StepModal #step-hint { color: $text-muted; }
    StepModal #step-error { width: 100%; color: $error; height: auto; }
    """
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", key_display="^s/enter", id="step.save", priority=True),
        Binding("escape", "cancel", "Cancel", id="step.cancel"),
    ]

    def __init__(self, step: StepSpec | None, users: list[UserInfo]) -> None:
        super().__init__()
        self.step = step
        self.users = users

    def _owner_options(self) -> list[tuple[Text, str]]:
        options = [
            (Text("closing rep"), StepOwner.CLOSING_REP.value),
            (Text("account manager"), StepOwner.ACCOUNT_MANAGER.value),
        ]
        options += [(Text(f"{words} (the least busy)"), f"role:{role}")
                    for role, words in ROLE_WORDS.items()]  # fmt: skip
        named = self.step.owner_user_id if self.step and self.step.owner == StepOwner.USER else None
        for user in self.users:
            if user.active or user.id == named:
                label = f"{user.display_name or user.username} ({user.username}, {user.role})"
                options.append((formatting.shown(label), f"user:{user.id}"))
        return options

    def _owner_value(self) -> str:
        step = self.step
        if step is None or step.owner in (StepOwner.CLOSING_REP, StepOwner.ACCOUNT_MANAGER):
            return (step.owner if step else StepOwner.CLOSING_REP).value
        if step.owner == StepOwner.ROLE:
            return f"role:{step.owner_role}"
        return f"user:{step.owner_user_id}"

    def compose(self) -> ComposeResult:
        step = self.step
        after = " (ctrl+s saves, escape cancels)"
        heading = formatting.titled("Edit step", step.title, after) if step else None
        options = self._owner_options()
        value = self._owner_value()
        with Vertical():
            yield Label(heading or Text.assemble(("New step", "bold"), after))
            yield Horizontal(
                Label("Title"),
                Input(step.title if step else "", id="step-title", compact=True,
                      placeholder="e.g. Welcome call", select_on_focus=False),
            )  # fmt: skip
            yield Horizontal(
                Label("Day"),
                Input(str(step.offset_days) if step else "", id="step-day", compact=True,
                      placeholder="business days after the sale: 0 is its day",
                      restrict=r"[0-9]*"),
            )  # fmt: skip
            yield Horizontal(
                Label("Owner"),
                Select(options, value=value if value in {v for _, v in options} else options[0][1],
                       allow_blank=False, id="step-owner", compact=True),
            )  # fmt: skip
            yield Label("", id="step-error")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#step-title", Input).focus()

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_save()

    def action_save(self) -> None:
        title = self.query_one("#step-title", Input).value.strip()
        day = self.query_one("#step-day", Input).value.strip()
        error = self.query_one("#step-error", Label)
        if not title:
            error.update("A step needs a title")
            self.query_one("#step-title", Input).focus()
            return
        if not day.isdigit():
            error.update("The day is a whole number of business days after the sale (0: its day)")
            self.query_one("#step-day", Input).focus()
            return
        owner = str(self.query_one("#step-owner", Select).value)
        kind, _, which = owner.partition(":")
        self.dismiss(
            StepSpec(
                title=title,
                offset_days=int(day),
                owner=StepOwner(kind),
                owner_role=which if kind == StepOwner.ROLE else None,
                owner_user_id=int(which) if kind == StepOwner.USER else None,
            )
        )

    def action_cancel(self) -> None:
        self.dismiss(None)
