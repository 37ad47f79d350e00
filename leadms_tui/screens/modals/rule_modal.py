"""Add or edit one automation rule (the rules editor's `a` and `enter`)."""

from enum import StrEnum
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Checkbox, Input, Label, Select, Static

from leadms_tui.domain.audit import snapshot
from leadms_tui.domain.errors import ValidationError
from leadms_tui.domain.models import (
    CallOutcome,
    Channel,
    LeadStatus,
    MeetingOutcome,
    Rule,
    RuleAction,
    RuleTrigger,
)
from leadms_tui.domain.work.rules import describe_rule, save_rule
from leadms_tui.domain.work.rules.delays import DELAY_HELP, format_delay, parse_delay
from leadms_tui.screens.with_app import WithApp
from leadms_tui.widgets.fitted import Fitted
from leadms_tui.widgets.key_footer import KeyFooter

TRIGGER_VALUES: dict[RuleTrigger, type[StrEnum]] = {
    RuleTrigger.CALL_OUTCOME: CallOutcome,
    RuleTrigger.LEAD_CREATED: Channel,
    RuleTrigger.MEETING_OUTCOME: MeetingOutcome,
}


def _words(text: str, allowed: type[StrEnum] | None, what: str) -> list[str]:
    """A comma-separated list of enum values ("no answer, busy" → ["no_answer", "busy"])."""
    words = [w.strip().lower().replace(" ", "_") for w in text.split(",") if w.strip()]
    if allowed is not None:
        unknown = [w for w in words if w not in {v.value for v in allowed}]
        if unknown:
            raise ValidationError(f"unknown {what}: {', '.join(unknown)}")
    return words


class RuleModal(WithApp, ModalScreen[bool]):
    HELP_NAME = "Rule"
    """Add or edit one rule; a failed save keeps everything typed and says why."""

    DEFAULT_CSS = """
    RuleModal { align: center middle; }
    RuleModal > VerticalScroll { width: 90; max-width: 100%; height: auto; max-height: 100%;
        border: round $accent; background: $surface; padding: 0 1; }
    RuleModal Horizontal { height: 1; }
    RuleModal Horizontal > Label { width: 18; color: $text-muted; }
    RuleModal Horizontal > Input, RuleModal Horizontal > Select { width: 1fr; }
    RuleModal Horizontal > Checkbox { margin-left: 2; }
    RuleModal #rule-preview { color: $text-muted; height: auto; }
    RuleModal #rule-error { width: 100%; color: $error; height: auto; }
    """
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", key_display="^s/enter", id="rule.save", priority=True),
        Binding("escape", "cancel", "Cancel", id="rule.cancel"),
    ]

    def __init__(self, rule: Rule) -> None:
        super().__init__()
        self.rule = rule

    def compose(self) -> ComposeResult:
        rule = self.rule
        conditions, params = rule.conditions or {}, rule.action_params or {}

        def field(label: str, *widgets: Widget) -> Horizontal:
            return Horizontal(Label(label), *widgets)

        def entry(value: object, id: str, placeholder: str = "", **kwargs: Any) -> Input:
            shown = "" if value is None else str(value)
            return Input(shown, placeholder=placeholder, id=id, compact=True, **kwargs)

        def choice(enum: type[StrEnum], value: str, id: str) -> Select[str]:
            options = [(v.value.replace("_", " "), v.value) for v in enum]
            return Select(options, value=str(value), allow_blank=False, id=id, compact=True)

        digits = {"restrict": r"[0-9]*"}
        title = f"Edit rule {rule.id}" if rule.id else "New rule"
        with VerticalScroll():
            yield Label(f"[b]{title}[/b] (ctrl+s saves, escape cancels)")
            yield field("Name", entry(rule.name, "name", select_on_focus=False))
            yield field("Trigger", choice(RuleTrigger, rule.trigger, "trigger"))
            yield field(
                "Values",
                entry(", ".join(rule.trigger_values), "values", "outcomes or channels, or empty"),
            )
            yield field(
                "Hours",
                entry(rule.trigger_hours, "hours", "for time triggers", restrict=r"[0-9.]*"),
                Checkbox("Business time", rule.business_time, id="business-time", compact=True),
            )
            yield field("If statuses", entry(", ".join(conditions.get("statuses", [])), "statuses"))
            yield field("If channels", entry(", ".join(conditions.get("channels", [])), "channels"))
            yield field(
                "Unanswered tries",
                entry(conditions.get("min_attempts"), "min-attempts", "min", **digits),
                entry(conditions.get("max_attempts"), "max-attempts", "max", **digits),
            )
            always = Checkbox(
                "Always: no condition, on every event", bool(conditions.get("always")),
                id="always", compact=True,
            )  # fmt: skip
            yield field("", always)
            yield field("Action", choice(RuleAction, rule.action, "action"))
            yield field("Follow-up delay", entry(format_delay(params), "delay", DELAY_HELP))
            yield field(
                "Reason/message",
                entry(params.get("reason") or params.get("message"), "message", "empty: the name"),
            )
            yield field(
                "Set status",
                entry(params.get("status"), "status", "status"),
                entry(params.get("lost_reason"), "lost-reason", "lost reason"),
            )
            yield field("To", entry(params.get("to"), "to", "owner, managers or a username"))
            yield field("", Checkbox("Enabled", rule.enabled, id="enabled", compact=True))
            yield Fitted("", id="rule-preview")
            yield Label("", id="rule-error")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#name", Input).focus()
        self._update_preview()

    def _value(self, id: str) -> str:
        return self.query_one(f"#{id}", Input).value.strip()

    def build_rule(self) -> Rule:
        """The rule as typed; ValidationError for text that can't be read."""
        trigger = RuleTrigger(str(self.query_one("#trigger", Select).value))
        action = RuleAction(str(self.query_one("#action", Select).value))
        try:
            hours = float(self._value("hours")) if self._value("hours") else None
        except ValueError:
            raise ValidationError(f"hours {self._value('hours')!r} is not a number") from None
        conditions: dict[str, Any] = {
            key: value
            for key, value in (self.rule.conditions or {}).items()
            if key == "owner_roles"
        }
        if statuses := _words(self._value("statuses"), LeadStatus, "status(es)"):
            conditions["statuses"] = statuses
        if channels := _words(self._value("channels"), Channel, "channel(s)"):
            conditions["channels"] = channels
        for key in ("min_attempts", "max_attempts"):
            if value := self._value(key.replace("_", "-")):
                conditions[key] = int(value)
        if self.query_one("#always", Checkbox).value:
            conditions["always"] = True
        params: dict[str, Any] = {}
        message = self._value("message")
        if action == RuleAction.CREATE_FOLLOWUP:
            params = parse_delay(self._value("delay")) | ({"reason": message} if message else {})
        elif action == RuleAction.SET_STATUS:
            params = {"status": self._value("status").lower()}
            if lost_reason := self._value("lost-reason"):
                params["lost_reason"] = lost_reason
        elif action in (RuleAction.NOTIFY, RuleAction.REASSIGN):
            params = {"to": self._value("to")} if self._value("to") else {}
            if action == RuleAction.NOTIFY and message:
                params["message"] = message
        values = _words(self._value("values"), TRIGGER_VALUES.get(trigger), "value(s)")
        return Rule(
            id=self.rule.id,
            name=self._value("name"),
            enabled=self.query_one("#enabled", Checkbox).value,
            position=self.rule.position,
            trigger=trigger,
            trigger_values=[] if trigger.is_timed else values,
            trigger_hours=hours if trigger.is_timed else None,
            business_time=self.query_one("#business-time", Checkbox).value,
            conditions=conditions,
            action=action,
            action_params=params,
        )

    @on(Input.Changed)
    @on(Select.Changed)
    @on(Checkbox.Changed)
    def _update_preview(self) -> None:
        try:
            shown = describe_rule(self.build_rule())
        except Exception:
            shown = "incomplete"
        self.query_one("#rule-preview", Static).update(Text(shown))

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_save()

    def action_save(self) -> None:
        error = self.query_one("#rule-error", Label)
        try:
            rule = self.build_rule()
        except ValidationError as exc:
            error.update(Text(str(exc)))
            self.notify(str(exc), title="Not done", severity="error", timeout=8)
            return
        error.update("Saving…")
        self._save(rule)

    def _save(self, rule: Rule) -> None:
        actor = self.signed_in.actor
        self.commit(
            # a fresh copy per attempt: a retried transaction must not see a half-saved object
            lambda session: save_rule(session, Rule(**snapshot(rule)), actor=actor),
            lambda _: self._saved(rule.name),
            group="rule", description="Saving the rule",
            failed=lambda exc: self.query_one("#rule-error", Label).update(Text(str(exc))),
        )  # fmt: skip

    def _saved(self, name: str) -> None:
        self.app.notify(f"Rule saved: {name}")
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)
