"""Settings → Team → `response_ladder`: the speed-to-lead ladder, read back in words as it is
typed, and refused with the domain's reason (minutes not increasing, a step past a day, an
unknown action) before and when it is saved. Saved through `set_setting`, the validator
`leadms settings set response_ladder` uses."""

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, Label

from leadms_tui.domain.errors import ValidationError
from leadms_tui.domain.team.settings import LadderStep, parse_ladder, set_setting
from leadms_tui.screens.settings.form import FormModal, entry, row
from leadms_tui.widgets.key_footer import KeyFooter

KEY = "response_ladder"
DOES = {
    "owner": "the owner is told",
    "managers": "the managers are told",
    "offer": "offered to the best other rep",
    "reassign": "reassigned to them",
}


def in_words(steps: tuple[LadderStep, ...]) -> str:
    if not steps:
        return "Off: untouched leads stay where they are, nobody is told."
    lines = [f"at {s.minute:>4} business minutes untouched: {DOES[s.action]}" for s in steps]
    return "\n".join(lines)


class LadderModal(FormModal[str | None]):
    """The ladder as MINUTES:ACTION steps, checked while typing."""

    HELP_NAME = "Speed-to-lead ladder"
    DEFAULT_CSS = """
    LadderModal #ladder-preview { width: 100%; height: auto; margin-top: 1; }
    """

    def __init__(self, value: str, description: str) -> None:
        super().__init__()
        self.stored, self.description = value, description

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text.assemble((KEY, "bold"), " (enter saves, escape cancels)"))
            yield Label(
                f"{self.description}. Minutes increase, each action once, none past a day; "
                "e.g. 5:owner,10:managers,15:offer,20:reassign",
                classes="form-note",
                markup=False,
            )
            yield row("Ladder", entry(self.stored, "ladder-value"))
            yield Label("", id="ladder-preview", markup=False)
            yield Label("", id="form-error")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#ladder-value", Input).focus()
        self._check(self.stored)

    @on(Input.Changed, "#ladder-value")
    def _changed(self, event: Input.Changed) -> None:
        self._check(event.value)

    def _check(self, value: str) -> None:
        """The steps in words, or why they would be refused (nothing is written)."""
        try:
            steps = parse_ladder(value)
        except ValidationError as exc:
            self.query_one("#ladder-preview", Label).update("")
            self.say(str(exc))
            return
        self.query_one("#ladder-preview", Label).update(in_words(steps))
        self.say("")

    def action_save(self) -> None:
        value = self.value("ladder-value")
        actor = self.leadms.user.actor  # type: ignore[union-attr]
        self.write(lambda session: set_setting(session, KEY, value, actor=actor))
