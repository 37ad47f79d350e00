"""The admin's automation rules: list, enable/disable, add, edit and preview them."""

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Header, Static

from leadms_tui import formatting
from leadms_tui.domain.models import (
    Role,
    Rule,
    RuleAction,
    RuleTrigger,
)
from leadms_tui.domain.work.rules import (
    describe_rule,
    list_rules,
    preview_rule,
    set_rule_enabled,
)
from leadms_tui.screens import goto
from leadms_tui.screens.with_app import WithApp
from leadms_tui.widgets.fitted import Fitted
from leadms_tui.widgets.key_footer import KeyFooter
from leadms_tui.widgets.text_table import TextTable

ADMIN_ONLY = ("add_rule", "edit_rule", "toggle_rule")


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
        if action in ADMIN_ONLY and self.signed_in.user.role != Role.ADMIN:
            return None  # shown greyed out: only admins change rules
        if action in ("edit_rule", "toggle_rule", "preview"):
            return self.current_rule() is not None or None
        return True

    # --- loading -------------------------------------------------------------------

    def reload(self) -> None:
        self.load(
            lambda session: list_rules(session=session), self._show,
            group="rules", description="Loading rules",
        )  # fmt: skip

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

    def _set_enabled(self, rule_id: int, enabled: bool) -> None:
        actor = self.signed_in.actor
        self.commit(
            lambda session: set_rule_enabled(session, rule_id, enabled, actor=actor),
            lambda _: self.reload(),
            group="rules-toggle", description="Changing the rule",
        )  # fmt: skip

    def action_add_rule(self) -> None:
        position = max((rule.position for rule in self.rules.values()), default=0) + 1
        blank = Rule(
            name="",
            position=position,
            trigger=RuleTrigger.CALL_OUTCOME,
            action=RuleAction.CREATE_FOLLOWUP,
        )
        self.go(goto.EditRule(blank, self._edited))

    def action_edit_rule(self) -> None:
        rule = self.current_rule()
        if rule is not None:
            self.go(goto.EditRule(rule, self._edited))

    def _edited(self, saved: bool | None) -> None:
        if saved:
            self.reload()

    def action_preview(self) -> None:
        rule = self.current_rule()
        if rule is not None:
            self._preview(rule)

    def _preview(self, rule: Rule) -> None:
        self.load(
            lambda session: preview_rule(session, rule),
            lambda lines: self._show_preview(rule, lines),
            group="rules-preview", description="Previewing the rule",
        )  # fmt: skip


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
