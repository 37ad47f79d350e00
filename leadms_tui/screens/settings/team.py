"""The settings' Team tab: each team setting with its value and what it does; enter edits
the one under the cursor, checked by the domain."""

from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Input, Label

from leadms_tui import formatting
from leadms_tui.domain.team.settings import (
    TeamSettings,
    describe_settings,
    load_settings,
    set_setting,
)
from leadms_tui.screens.settings.form import FormModal, entry, row
from leadms_tui.screens.with_app import WithApp
from leadms_tui.widgets.key_footer import KeyFooter
from leadms_tui.widgets.text_table import TextTable

Described = tuple[str, str, str]  # (key, value, description)


@dataclass(frozen=True)
class TeamLoaded:
    rows: list[Described]
    settings: TeamSettings


class TeamTab(WithApp, Vertical):
    DEFAULT_CSS = """
    TeamTab #team { height: 1fr; border: round $panel; }
    TeamTab #team:focus { border: round $accent; }
    """
    BINDINGS = [
        Binding("e", "edit_setting", "Edit setting", id="settings.team.edit"),
        Binding("enter", "edit_setting", "Edit setting", show=False, id="settings.team.open"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, Described] = {}

    def compose(self) -> ComposeResult:
        table = TextTable(id="team", cursor_type="row", zebra_stripes=True)
        table.border_title = "Team settings (enter edits)"
        table.add_column("Setting")
        table.add_column("Value")
        table.add_column("What it does")
        yield table

    def on_mount(self) -> None:
        self.reload()

    def reload(self) -> None:
        self.load(
            lambda session: TeamLoaded(describe_settings(session), load_settings(session)),
            self._loaded, group="settings-team", description="Loading the team settings",
        )  # fmt: skip

    def _loaded(self, message: TeamLoaded) -> None:
        self.leadms.use_settings(message.settings)  # every open screen redraws with them
        table = self.query_one("#team", DataTable)
        row_index = table.cursor_row
        self.rows = {key: (key, value, what) for key, value, what in message.rows}
        table.clear()
        for key, value, what in message.rows:
            shown = formatting.shown(value) if value else Text("(none)", style="dim")
            table.add_row(key, shown, Text(what, style="dim"), key=key)
        if message.rows:
            table.move_cursor(row=min(max(row_index, 0), len(message.rows) - 1), animate=False)
        self.screen.refresh_bindings()

    def current(self) -> Described | None:
        table = self.query_one("#team", DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value
        return self.rows.get(key or "")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "edit_setting":
            return self.current() is not None or None
        return True

    @on(DataTable.RowSelected, "#team")
    def _selected(self) -> None:
        self.action_edit_setting()

    def action_edit_setting(self) -> None:
        current = self.current()
        if current is None:
            return

        def saved(value: str | None) -> None:
            if value is not None:
                self.app.notify(f"{current[0]} is now {value or '(none)'}", title="Saved")
                self.reload()
            self.query_one("#team", DataTable).focus()

        if current[0] == "response_ladder":  # read back in words while typed
            from leadms_tui.screens.settings.ladder import LadderModal

            self.app.push_screen(LadderModal(current[1], current[2]), saved)
            return
        self.app.push_screen(SettingModal(*current), saved)


class SettingModal(FormModal[str | None]):
    """One team setting: its new value, or the domain's reason it cannot be."""

    HELP_NAME = "Team setting"

    def __init__(self, key: str, value: str, description: str) -> None:
        super().__init__()
        self.setting, self.stored, self.description = key, value, description

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text.assemble((self.setting, "bold"), " (enter saves, escape cancels)"))
            yield Label(self.description, classes="form-note", markup=False)
            yield row("Value", entry(self.stored, "setting-value"))  # typing replaces it
            yield Label("", id="form-error")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#setting-value", Input).focus()

    def action_save(self) -> None:
        key, value = self.setting, self.query_one("#setting-value", Input).value
        actor = self.signed_in.actor
        self.write(lambda session: set_setting(session, key, value, actor=actor))
