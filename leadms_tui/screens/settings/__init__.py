"""`S`: the admin's settings in one screen, a tab each (keys 1-7): fields, users and roles,
team settings, rules, onboarding templates, commission plans, and chat (quick replies and
WhatsApp's message templates)."""

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Header, TabbedContent, TabPane

from leadms_tui.screens.settings.chat import ChatTab
from leadms_tui.screens.settings.commission import PlansTab
from leadms_tui.screens.settings.fields import FieldsTab
from leadms_tui.screens.settings.onboarding_templates import OnboardingEditor
from leadms_tui.screens.settings.rules import RulesEditor
from leadms_tui.screens.settings.team import TeamTab
from leadms_tui.screens.settings.users import UsersTab
from leadms_tui.screens.with_app import WithApp
from leadms_tui.widgets.key_footer import KeyFooter

TAB_FOCUS = {  # each tab's pane id → the table that takes the keys when the tab shows
    "fields-tab": "#fields",
    "users-tab": "#users",
    "team-tab": "#team",
    "rules-tab": "#rules",
    "onboarding-tab": "#steps",
    "plans-tab": "#plans",
    "chat-tab": "#quick-replies",
}

# not the onboarding drafts
RELOADED_ON_SHOW = "FieldsTab, UsersTab, TeamTab, PlansTab, ChatTab"


class SettingsScreen(WithApp, Screen[None]):
    HELP_NAME = "Settings"
    DEFAULT_CSS = """
    SettingsScreen #settings-tabs { height: 1fr; }
    SettingsScreen #settings-tabs > ContentSwitcher { height: 1fr; }
    SettingsScreen TabPane { height: 1fr; padding: 0; }
    """
    BINDINGS = [
        Binding("1", "show_tab('fields-tab')", "Fields tab", show=False, id="settings.fields"),
        Binding("2", "show_tab('users-tab')", "Users tab", show=False, id="settings.users"),
        Binding("3", "show_tab('team-tab')", "Team tab", show=False, id="settings.team"),
        Binding("4", "show_tab('rules-tab')", "Rules tab", show=False, id="settings.rules"),
        Binding("5", "show_tab('onboarding-tab')", "Onboarding tab", show=False,
                id="settings.onboarding"),
        Binding("6", "show_tab('plans-tab')", "Commission tab", show=False,
                id="settings.commission"),
        Binding("7", "show_tab('chat-tab')", "Chat tab", show=False, id="settings.chat"),
        Binding("escape", "back", "Back", id="settings.back"),
    ]  # fmt: skip

    def compose(self) -> ComposeResult:
        yield Header()
        with TabbedContent(id="settings-tabs"):
            with TabPane("1 Fields", id="fields-tab"):
                yield FieldsTab()
            with TabPane("2 Users", id="users-tab"):
                yield UsersTab()
            with TabPane("3 Team", id="team-tab"):
                yield TeamTab()
            with TabPane("4 Rules", id="rules-tab"):
                yield RulesEditor()
            with TabPane("5 Onboarding", id="onboarding-tab"):
                yield OnboardingEditor()
            with TabPane("6 Commission", id="plans-tab"):
                yield PlansTab()
            with TabPane("7 Chat", id="chat-tab"):
                yield ChatTab()
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#fields").focus()

    @property
    def tab(self) -> str:
        """The pane id of the tab on show."""
        return self.query_one("#settings-tabs", TabbedContent).active

    def action_show_tab(self, pane: str) -> None:
        self.query_one("#settings-tabs", TabbedContent).active = pane
        self._focus_tab(pane)

    @on(TabbedContent.TabActivated)
    def _activated(self, event: TabbedContent.TabActivated) -> None:
        if not event.pane.id:
            return
        self._focus_tab(event.pane.id)  # after a click on the tab too: its keys work at once
        for tab in event.pane.query(RELOADED_ON_SHOW):
            tab.reload()  # type: ignore[attr-defined]  # what other tabs changed (the currency)

    def _focus_tab(self, pane: str) -> None:
        self.query_one(TAB_FOCUS[pane]).focus()
        self.refresh_bindings()

    def action_back(self) -> None:
        """Leave, once the onboarding tab has nothing unsaved (or escape was pressed again)."""
        if self.query_one(OnboardingEditor).may_leave():
            self.app.pop_screen()
        else:
            self.action_show_tab("onboarding-tab")
