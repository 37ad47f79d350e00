"""The admin's automation rules: list, enable/disable, add, edit and preview them."""

from enum import StrEnum
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widget import Widget
from textual.widgets import Checkbox, DataTable, Header, Input, Label, Select, Static

from leadms_tui import formatting
from leadms_tui.domain.audit import snapshot
from leadms_tui.domain.errors import ValidationError
from leadms_tui.domain.models import (
    CallOutcome,
    Channel,
    LeadStatus,
    MeetingOutcome,
    Role,
    Rule,
    RuleAction,
    RuleTrigger,
)
from leadms_tui.domain.work.rules import (
    describe_rule,
    list_rules,
    preview_rule,
    save_rule,
    set_rule_enabled,
)
from leadms_tui.domain.work.rules.delays import DELAY_HELP, format_delay, parse_delay
from leadms_tui.screens.with_app import WithApp
from leadms_tui.widgets.fitted import Fitted
from leadms_tui.widgets.key_footer import KeyFooter
from leadms_tui.widgets.text_table import TextTable

TRIGGER_VALUES: dict[RuleTrigger, type[StrEnum]] = {
    RuleTrigger.CALL_OUTCOME: CallOutcome,
    RuleTrigger.LEAD_CREATED: Channel,
    RuleTrigger.MEETING_OUTCOME: MeetingOutcome,
}
ADMIN_ONLY = ("add_rule", "edit_rule", "toggle_rule")


def _words(text: str, allowed: type[StrEnum] | None, what: str) -> list[str]:
    """A comma-separated list of enum values ("no answer, busy" → ["no_answer", "busy"])."""
    words = [w.strip().lower().replace(" ", "_") for w in text.split(",") if w.strip()]
    if allowed is not None:
        unknown = [w for w in words if w not in {v.value for v in allowed}]
        if unknown:
            raise ValidationError(f"unknown {what}: {', '.join(unknown)}")
    return words


class RulesEditor(WithApp, Vertical):
    """The rules in the order they run, with a preview: on RulesScreen (the day view's `s`)
    and in the settings screen's Rules tab."""

    DEFAULT_CSS = """
    RulesEditor { height: 1fr; }
    RulesEditor #rules { height: 1fr; border: round $panel; }
    RulesEditor #rules:focus { border: round $accent; }
    RulesEditor #preview { height: auto; min-height: 3; max-height: 12;
        border: round $panel; padding: 0 1; }
    """
    BINDINGS = [
        Binding("space", "toggle_rule", "Enable/disable", id="rules.toggle"),
        Binding("a", "add_rule", "Add rule", id="rules.add"),
        Binding("e", "edit_rule", "Edit rule", id="rules.edit"),
        Binding("enter", "edit_rule", "Edit rule", show=False, id="rules.open"),
        Binding("p", "preview", "Preview", id="rules.preview"),
        Binding("r", "reload", "Refresh", id="rules.refresh"),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rules: dict[int, Rule] = {}

    def compose(self) -> ComposeResult:
        table = TextTable(id="rules", cursor_type="row", zebra_stripes=True)
        table.border_title = "Rules, in the order they run"
        table.add_column("On")
        table.add_column("Name", width=36)
        table.add_column("What it does")
        yield table
        preview = Fitted("", id="preview")
        preview.border_title = "Preview"
        yield preview

    def on_mount(self) -> None:
        self.reload()

    def current_rule(self) -> Rule | None:
        table = self.query_one("#rules", DataTable)
        if not table.row_count:
            return None
        row_key = table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value
        return self.rules.get(int(row_key or 0))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        user = self.leadms.user
        if action in ADMIN_ONLY and (user is None or user.role != Role.ADMIN):
            return None  # shown greyed out: only admins change rules
        if action in ("edit_rule", "toggle_rule", "preview"):
            return self.current_rule() is not None or None
        return True

    # --- loading -------------------------------------------------------------------

    def reload(self) -> None:
        self._load()

    @work(
        thread=True, exclusive=True, exit_on_error=False, group="rules", description="Loading rules"
    )
    def _load(self) -> None:
        with self.leadms.database.reading() as session:
            rules = list_rules(session=session)
        self.app.call_from_thread(self._show, rules)

    def _show(self, rules: list[Rule]) -> None:
        table = self.query_one("#rules", DataTable)
        kept = self.current_rule()
        old_row = table.cursor_row
        table.clear()
        self.rules = {rule.id: rule for rule in rules if rule.id is not None}
        for rule in rules:
            on = Text("✓", style="bold green") if rule.enabled else Text("·", style="dim")
            table.add_row(on, Text(rule.name), Text(describe_rule(rule)), key=str(rule.id))
        if kept is not None and kept.id in self.rules:
            table.move_cursor(row=table.get_row_index(str(kept.id)), animate=False)
        elif rules:
            table.move_cursor(row=min(max(old_row, 0), len(rules) - 1), animate=False)
        self.screen.refresh_bindings()

    @on(DataTable.RowHighlighted)
    def _highlighted(self) -> None:
        rule = self.current_rule()
        if rule is not None:
            self._show_preview(rule, [describe_rule(rule), "p shows what it would do now"])
        self.screen.refresh_bindings()

    def _show_preview(self, rule: Rule, lines: list[str]) -> None:
        text = Text.assemble(
            formatting.shown(rule.name, "bold"), "\n", formatting.shown("\n".join(lines))
        )
        self.query_one("#preview", Static).update(text)

    @on(DataTable.RowSelected)
    def _selected(self) -> None:
        if self.check_action("edit_rule", ()):
            self.action_edit_rule()

    # --- actions -------------------------------------------------------------------

    def action_reload(self) -> None:
        self.reload()

    def action_toggle_rule(self) -> None:
        rule = self.current_rule()
        if rule is not None and rule.id is not None:
            self._set_enabled(rule.id, not rule.enabled)
            done = "disabled: space enables it again" if rule.enabled else "enabled"
            self.app.notify(f"Rule {rule.name!r} {done}", title="Rules")

    @work(thread=True, exit_on_error=False, group="rules-toggle", description="Changing the rule")
    def _set_enabled(self, rule_id: int, enabled: bool) -> None:
        app = self.leadms
        actor = app.user.actor  # type: ignore[union-attr]
        app.database.write(lambda session: set_rule_enabled(session, rule_id, enabled, actor=actor))
        app.call_from_thread(self.reload)

    def action_add_rule(self) -> None:
        position = max((rule.position for rule in self.rules.values()), default=0) + 1
        blank = Rule(
            name="",
            position=position,
            trigger=RuleTrigger.CALL_OUTCOME,
            action=RuleAction.CREATE_FOLLOWUP,
        )
        self.app.push_screen(RuleModal(blank), self._edited)

    def action_edit_rule(self) -> None:
        rule = self.current_rule()
        if rule is not None:
            self.app.push_screen(RuleModal(rule), self._edited)

    def _edited(self, saved: bool | None) -> None:
        if saved:
            self.reload()

    def action_preview(self) -> None:
        rule = self.current_rule()
        if rule is not None:
            self._preview(rule)

    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group="rules-preview",
        description="Previewing the rule",
    )
    def _preview(self, rule: Rule) -> None:
        with self.leadms.database.reading() as session:
            lines = preview_rule(session, rule)
        self.app.call_from_thread(self._show_preview, rule, lines)


class RulesScreen(WithApp, Screen[None]):
    HELP_NAME = "Automation rules"
    BINDINGS = [Binding("escape", "back", "Back", id="rules.back")]

    def compose(self) -> ComposeResult:
        yield Header()
        yield RulesEditor()
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#rules", DataTable).focus()

    @property
    def editor(self) -> RulesEditor:
        return self.query_one(RulesEditor)

    def current_rule(self) -> Rule | None:
        return self.editor.current_rule()

    def reload(self) -> None:
        self.editor.reload()

    def action_toggle_rule(self) -> None:
        self.editor.action_toggle_rule()

    def action_back(self) -> None:
        self.app.pop_screen()


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

    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group="rule",
        description="Saving the rule",
    )
    def _save(self, rule: Rule) -> None:
        app = self.leadms
        actor = app.user.actor  # type: ignore[union-attr]
        try:
            # a fresh copy per attempt: a retried transaction must not see a half-saved object
            app.database.write(
                lambda session: save_rule(session, Rule(**snapshot(rule)), actor=actor)
            )
        except Exception as exc:
            app.call_from_thread(self.query_one("#rule-error", Label).update, Text(str(exc)))
            raise
        app.call_from_thread(self._saved, rule.name)

    def _saved(self, name: str) -> None:
        self.app.notify(f"Rule saved: {name}")
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)
