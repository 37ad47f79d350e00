"""`c`: log a call. One key per outcome, an optional note, the next follow-up prefilled.

The prefill is what the rules would do; left as it is, the rules decide in the saving
transaction. A time typed over it (or cleared) is the rep's choice and wins. From the
day view, "no answer, try again later" is `c`, `n`, `enter`.
"""

import os
import shlex
import subprocess

from rich.style import Style
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Digits, Input, Label, OptionList
from textual.widgets.option_list import Option

from leadms_tui import formatting
from leadms_tui.domain.errors import ValidationError
from leadms_tui.domain.events import Effects
from leadms_tui.domain.models import CallOutcome
from leadms_tui.domain.phone.bridge import PhoneCallView
from leadms_tui.domain.phone.dialing import request_dial
from leadms_tui.domain.queries.lead_detail import lead_phone, phone_words
from leadms_tui.domain.text import visible
from leadms_tui.domain.work.calls import BY_RULES, CallLogged, log_call, preview_call
from leadms_tui.domain.work.outcomes import MEANINGS
from leadms_tui.looks import OUTCOME_KEYS, OUTCOME_LOOKS
from leadms_tui.screens.with_app import WithApp
from leadms_tui.widgets.key_footer import KeyFooter
from leadms_tui.widgets.when_field import WhenField

DIAL_COMMAND_ENV = "LEADMS_DIAL_COMMAND"  # per terminal, never from the shared database


def phone_call_words(call: PhoneCallView) -> Text:
    """ "Phone: outbound, 2:31, busy · recording" with the recording as a link."""
    words = Text(visible(phone_words(call)))
    if call.recording_url:
        url = visible(call.recording_url)
        words.append(" · ")
        words.append("recording", style=Style(link=url) if url.startswith("http") else "")
    return words


SHORT_TERMINAL = 34  # rows below which the modal packs its fields into one line each


class CallModal(WithApp, ModalScreen[CallLogged | None]):
    HELP_NAME = "Log a call"
    DEFAULT_CSS = """
    CallModal { align: center middle; }
    CallModal > Vertical { width: 64; max-width: 100%;
        height: auto; max-height: 100%; border: round $accent;
        background: $surface; padding: 0 1; }
    CallModal OptionList { height: auto; max-height: 11; margin-bottom: 1; }
    CallModal Input { margin-bottom: 0; }
    CallModal #phone { width: auto; color: $text-accent; }
    CallModal .hint { color: $text-muted; }
    CallModal #call-status { width: 100%; height: auto; color: $error; }
    /* a short terminal (80x24): one-line fields, the phone in the dial hint, so the lines
       that say what will happen (→ when, Rules:) stay in view */
    CallModal.-short OptionList { border: none; margin-bottom: 0; }
    CallModal.-short Input { border: none; height: 1; padding: 0 1; background: $boost; }
    CallModal.-short Input:focus { background: $accent 30%; }
    """
    BINDINGS = [
        *(
            Binding(
                look.key,
                f"choose('{outcome.value}')",
                MEANINGS[outcome].words,
                show=False,
                id=f"call.{outcome.value}",
            )
            for outcome, look in OUTCOME_LOOKS.items()
        ),
        Binding(
            "enter,ctrl+s", "save", "Save", key_display="enter/^s", id="call.save", priority=True
        ),
        Binding("d", "dial", "Dial", id="call.dial"),
        Binding("escape", "cancel", "Cancel", id="call.cancel"),
        Binding("tab", "app.focus_next", "Next field", show=False, id="call.next"),
    ]

    def __init__(self, lead_id: int, label: str, phone_call: PhoneCallView | None = None) -> None:
        super().__init__()
        self.lead_id = lead_id
        self.label = label
        self.phone_call = phone_call  # the phone system's record of the call just ended
        self.outcome: CallOutcome | None = None
        self.phone: str | None = None  # E.164, once loaded
        self._prefilled = ""  # what the rules proposed; unchanged at save = let the rules decide
        self._armed = False  # the list's own first highlight is not the rep's choice
        self._saving = False  # a save is on its way: keys typed meanwhile wait (takes_keys)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(formatting.titled("Log call", self.label))
            yield Digits("", id="phone")
            yield Label("", id="dial-hint", classes="hint")
            if self.phone_call is not None:
                yield Label(phone_call_words(self.phone_call), id="phone-call", classes="hint")
            yield OptionList(
                *(
                    Option(
                        Text.assemble(
                            (f" {look.key} ", "bold reverse"), "  ", MEANINGS[outcome].words
                        ),
                        id=outcome.value,
                    )
                    for outcome, look in OUTCOME_LOOKS.items()
                ),
                id="outcomes",
            )
            yield Label("Note", classes="hint")
            yield Input(placeholder="optional", id="note")
            yield Label(
                "Next follow-up (tomorrow 15:00, +2d, mon 10:00; empty: none)", classes="hint"
            )
            yield WhenField("", timezone=self.signed_in.settings.timezone, input_id="followup",
                            empty_means="no follow-up")  # fmt: skip
            yield Label("", id="rule-effects", classes="hint", markup=False)
            yield Label("", id="call-status", markup=False)
        yield KeyFooter()

    def on_resize(self) -> None:
        self._fit_height()

    def _fit_height(self) -> None:
        short = self.size.height < SHORT_TERMINAL
        self.set_class(short, "-short")
        self.query_one("#phone", Digits).display = bool(self.phone) and not short

    def on_mount(self) -> None:
        outcomes = self.query_one("#outcomes", OptionList)
        outcomes.focus()
        outcomes.highlighted = None
        self.call_after_refresh(self._arm)
        self.query_one("#phone", Digits).display = False
        self._load_phone()

    def _arm(self) -> None:
        self._armed = True
        proposed = self.phone_call.proposed_outcome if self.phone_call else None
        if proposed is not None:  # what the phone system knows: `enter` saves it
            self.action_choose(proposed.value)

    def _load_phone(self) -> None:
        self.load(
            lambda session: lead_phone(session=session, lead_id=self.lead_id), self._show_phone,
            group="call-phone", description="Loading the phone",
        )  # fmt: skip

    def _show_phone(self, phone: tuple[str | None, str | None]) -> None:
        e164, raw = phone
        self.phone = e164
        shown = formatting.phone(e164) if e164 else ""
        self.query_one("#phone", Digits).update(shown)
        self._fit_height()
        hint = (
            f"d dials {shown}"
            if e164
            else (
                f"no number to dial{f' ({raw})' if raw else ''}: t logs a chat contact, "
                "u marks the lead unreachable, e on the lead adds a phone"
            )
        )
        self.query_one("#dial-hint", Label).update(visible(hint))
        self.refresh_bindings()

    def action_dial(self) -> None:
        """A rep with an extension: ask the phone bridge (it rings their phone, then dials).
        Else run the terminal's dial command (LEADMS_DIAL_COMMAND, e.g. a softphone's CLI
        with {phone}), else copy the number and show it as a tel: link a terminal can open."""
        if not self.phone:
            return
        hint = self.query_one("#dial-hint", Label)
        extension = self.signed_in.user.extension
        if extension:  # the phone bridge rings the rep's phone, then dials the lead
            actor = self.signed_in.actor
            self.commit(
                lambda session: request_dial(session, self.lead_id, actor=actor),
                lambda _request: hint.update(
                    visible(f"your phone ({extension}) rings, then {self.phone} is dialled…")
                ),
                group="call-dial", description="Asking the phone system to dial",
            )  # fmt: skip
            return
        command = os.environ.get(DIAL_COMMAND_ENV, "").strip()
        if command:
            try:  # the number is E.164 (+ and digits): safe as an argument, no shell involved
                subprocess.Popen(
                    shlex.split(command.replace("{phone}", self.phone)),
                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL, start_new_session=True,
                )  # fmt: skip
            except (OSError, ValueError) as exc:
                hint.update(visible(f"dial command failed: {exc}"))
                return
            hint.update(f"dialling {self.phone}…")
            return
        self.app.copy_to_clipboard(self.phone)
        hint.update(
            Text.assemble(
                "copied; open ", (f"tel:{self.phone}", f"link tel:{self.phone}"),
                f" (set {DIAL_COMMAND_ENV} to dial from here)",
            )
        )  # fmt: skip

    @property
    def takes_keys(self) -> bool:
        """Keys typed ahead wait until the outcome list is armed, and while the call is being
        saved: the rest of a burst belongs to the screen after it (see LeadMSApp.on_event)."""
        return self._armed and not self._saving

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "dial":
            return None if not self.phone else not isinstance(self.focused, Input)
        if action == "choose" and isinstance(self.focused, Input):
            return False  # letters typed into the note are text, not outcomes
        return True

    def action_choose(self, value: str) -> None:
        outcomes = self.query_one("#outcomes", OptionList)
        outcomes.highlighted = outcomes.get_option_index(value)
        self._select(CallOutcome(value))

    @on(OptionList.OptionHighlighted, "#outcomes")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if self._armed and event.option.id:
            self._select(CallOutcome(event.option.id))

    def _select(self, outcome: CallOutcome) -> None:
        if outcome == self.outcome:
            return
        self.outcome = outcome
        self.query_one("#rule-effects", Label).update("")
        self.query_one("#call-status", Label).update("")  # "choose an outcome first" is done
        self._preview(outcome)

    def _preview(self, outcome: CallOutcome) -> None:
        self.load(
            lambda session: preview_call(session, self.lead_id, outcome),
            lambda effects: self._show_preview(outcome, effects),
            group="call-preview", description="Asking the rules",
        )  # fmt: skip

    def _show_preview(self, outcome: CallOutcome, effects: Effects) -> None:
        if outcome != self.outcome:
            return  # the rep already chose another outcome
        timezone = self.signed_in.settings.timezone
        due = effects.followup_due
        field = self.query_one("#followup", Input)
        if field.value == self._prefilled:  # don't overwrite what the rep typed
            field.value = formatting.format_local_datetime(due, timezone) if due else ""
        self._prefilled = field.value
        rules = "; ".join(effects.descriptions) or "no rule applies"
        self.query_one("#rule-effects", Label).update(f"Rules: {rules}")

    @on(Input.Changed, "#followup")
    def _followup_changed(self) -> None:
        status = self.query_one("#call-status", Label)
        if str(status.render()).startswith("Next follow-up:"):
            status.update("")  # the time it was about changed: the error no longer applies

    def action_save(self) -> None:
        if self.outcome is None:
            self.query_one("#call-status", Label).update(
                f"Choose an outcome first ({OUTCOME_KEYS})"
            )
            return
        field = self.query_one(WhenField)
        try:
            due = BY_RULES if field.text == self._prefilled.strip() else field.moment()
        except ValidationError as exc:
            self.query_one("#call-status", Label).update(f"Next follow-up: {exc}")
            self.query_one("#followup", Input).focus()
            return
        self.query_one("#call-status", Label).update("Saving…")
        self._saving = True
        self._save(self.outcome, self.query_one("#note", Input).value, due)

    def _save(self, outcome: CallOutcome, note: str, due: object) -> None:
        actor = self.signed_in.actor
        phone_call = self.phone_call
        self.commit(
            lambda session: log_call(
                session,
                self.lead_id,
                outcome,
                actor=actor,
                note=note,
                next_followup_at=due,
                called_at=phone_call.started_at if phone_call else None,
                phone_call_id=phone_call.id if phone_call else None,
            ),
            self._saved,
            group="call",
            description="Saving the call",
            # the app says why in a toast; what was typed stays here
            failed=self._not_saved,
        )

    def _not_saved(self, _error: Exception) -> None:
        self._saving = False  # what was typed stays here, and keys reach the form again
        self.query_one("#call-status", Label).update("Not saved")

    def _saved(self, logged: CallLogged) -> None:
        next_step = ""
        if logged.followup_due:
            tz = self.signed_in.settings.timezone
            next_step = f"; next try {formatting.format_local_datetime(logged.followup_due, tz)}"
        effects = f" ({'; '.join(logged.rule_effects)})" if logged.rule_effects else ""
        self.leadms.call_saved(logged.call_id, self.lead_id)
        self.app.notify(
            f"{logged.lead_number}: call saved, {logged.status.value}{next_step}{effects}"
            " (ctrl+z undoes it for a minute)"
        )
        self.dismiss(logged)

    def action_cancel(self) -> None:
        self.dismiss(None)
