"""The admin's onboarding templates: the steps a sale turns into dated tasks, edited and saved."""

from dataclasses import dataclass
from datetime import date

from rich.text import Text
from sqlmodel import Session
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Header, Label, Static

from leadms_tui import formatting
from leadms_tui.domain import clock
from leadms_tui.domain.models import StepOwner
from leadms_tui.domain.sales.onboarding import StepSpec, TemplateInfo, list_templates, save_template
from leadms_tui.domain.team.settings import load_settings
from leadms_tui.domain.team.users import UserInfo, list_users
from leadms_tui.screens import goto
from leadms_tui.screens.modals.step_modal import ROLE_WORDS
from leadms_tui.screens.with_app import WithApp
from leadms_tui.widgets.fitted import Fitted
from leadms_tui.widgets.key_footer import KeyFooter
from leadms_tui.widgets.text_table import TextTable

NAME_WIDTH = 26  # the templates pane (32) less its border, padding and a scrollbar
PREVIEW_DAYS = 365  # the furthest day a step may name (as the domain checks)


@dataclass
class Draft:
    """A template as the admin is editing it; ctrl+s replaces the stored steps with these."""

    name: str
    steps: list[StepSpec]
    is_default: bool = False  # as stored
    make_default: bool = False  # `D` was pressed: becomes the default on save
    stored: list[StepSpec] | None = None  # None: not saved yet

    @classmethod
    def of(cls, template: TemplateInfo) -> "Draft":
        return cls(template.name, list(template.steps), template.is_default, False, template.steps)

    @property
    def changed(self) -> bool:
        return self.make_default or self.steps != self.stored


def owner_words(step: StepSpec, names: dict[int, str]) -> str:
    """Who a step goes to, as a person says it: "closing rep", "a manager", "Ana"."""
    if step.owner == StepOwner.CLOSING_REP:
        return "closing rep"
    if step.owner == StepOwner.ACCOUNT_MANAGER:
        return "account manager"
    if step.owner == StepOwner.ROLE:
        return ROLE_WORDS.get(step.owner_role or "", f"role {step.owner_role}")
    return names.get(step.owner_user_id or 0, f"user #{step.owner_user_id}")


@dataclass(frozen=True)
class TemplatesLoaded:
    """The templates, the users a step may name, and the business day of each day offset."""

    templates: list[TemplateInfo]
    users: list[UserInfo]
    days: list[date]


class OnboardingEditor(WithApp, Vertical):
    """The templates, the steps of the one under the cursor and what a sale today would make:
    on OnboardingTemplatesScreen (`O`) and in the settings screen's Onboarding tab."""

    DEFAULT_CSS = """
    OnboardingEditor { height: 1fr; }
    OnboardingEditor #onboarding-body { height: 1fr; }
    OnboardingEditor #templates { width: 32; height: 1fr; border: round $panel; }
    OnboardingEditor #steps { height: 1fr; border: round $panel; }
    OnboardingEditor #templates:focus, OnboardingEditor #steps:focus {
        border: round $accent; }
    OnboardingEditor #onboarding-preview { height: auto; max-height: 8;
        border: round $panel; padding: 0 1; }
    OnboardingEditor #onboarding-error { width: 100%; height: auto; color: $error;
        padding: 0 1; display: none; }
    """
    BINDINGS = [
        Binding("a", "add_step", "Add step", id="onboarding.add-step"),
        Binding("e", "edit_step", "Edit step", show=False, id="onboarding.edit-step"),  # enter too
        Binding("delete,x", "remove_step", "Remove step", key_display="del/x",
                id="onboarding.remove-step"),
        Binding("ctrl+up,K", "move_step(-1)", "Move up", key_display="^↑/K",
                id="onboarding.move-up"),
        Binding("ctrl+down,J", "move_step(1)", "Move down", key_display="^↓/J", show=False,
                id="onboarding.move-down"),
        Binding("ctrl+s", "save", "Save", id="onboarding.save"),
        Binding("escape", "back", "Back", id="onboarding.back"),  # warns once if unsaved
        Binding("n", "new_template", "New template", id="onboarding.new"),
        Binding("D", "make_default", "Make default", id="onboarding.make-default"),
    ]  # fmt: skip

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.drafts: dict[str, Draft] = {}  # in the order of the list on the left
        self.current: str | None = None
        self.users: list[UserInfo] = []
        self.days: list[date] = []  # days[n]: business day n after a sale today
        self._warned = False  # escape said "unsaved changes" once: the next escape leaves

    def compose(self) -> ComposeResult:
        with Horizontal(id="onboarding-body"):
            templates = TextTable(id="templates", cursor_type="row")
            templates.border_title = "Templates"
            # A set width: measured on idle, the column was caught 4 wide in snapshots.
            templates.add_column("Name", width=NAME_WIDTH)
            yield templates
            with Vertical():
                steps = TextTable(id="steps", cursor_type="row", zebra_stripes=True)
                steps.border_title = "Steps"
                steps.add_column("#")
                steps.add_column("Day")
                steps.add_column("Title")
                steps.add_column("Owner")
                yield steps
                preview = Fitted("", id="onboarding-preview")
                preview.border_title = "A sale today would make"
                yield preview
                yield Label("", id="onboarding-error")

    def on_mount(self) -> None:
        self._load()

    # --- loading -------------------------------------------------------------------

    def _load(self) -> None:
        def query(session: Session) -> TemplatesLoaded:
            templates = list_templates(session)
            users = list_users(session)
            settings = load_settings(session)
            calendar = settings.calendar()
            today = clock.business_date(clock.now(), settings.timezone)
            days = [calendar.business_day_from(today, 0)]
            while len(days) <= PREVIEW_DAYS:
                days.append(calendar.business_day_from(days[-1], 1))
            return TemplatesLoaded(templates, users, days)

        self.load(
            query, self._loaded, group="onboarding", description="Loading onboarding templates"
        )

    def _loaded(self, message: TemplatesLoaded) -> None:
        self.users, self.days = message.users, message.days
        self.drafts = {template.name: Draft.of(template) for template in message.templates}
        self._show_templates(next(iter(self.drafts), None))

    # --- what is shown -------------------------------------------------------------

    @property
    def draft(self) -> Draft | None:
        return self.drafts.get(self.current or "")

    def _names(self) -> dict[int, str]:
        return {user.id: user.display_name or user.username for user in self.users}

    def _show_templates(self, select: str | None, row: int | None = None) -> None:
        table = self.query_one("#templates", DataTable)
        table.clear()
        for name, draft in self.drafts.items():
            marks = []
            if draft.is_default or draft.make_default:
                marks.append((" ★ default", "bold green"))
            if draft.changed:
                marks.append((" • unsaved", "yellow"))
            table.add_row(Text.assemble(formatting.shown(name), *marks), key=name)
        if select in self.drafts:
            table.move_cursor(row=table.get_row_index(select), animate=False)
        self.current = select
        self._show_steps(row)

    @on(DataTable.RowHighlighted, "#templates")
    def _template_highlighted(self, event: DataTable.RowHighlighted) -> None:
        table = event.data_table  # where the cursor is now: a redraw also sends these
        if not table.row_count:
            return
        name = table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value
        if name != self.current and name in self.drafts:
            self.current = name
            self._show_steps(row=0)

    def _show_steps(self, row: int | None = None) -> None:
        table = self.query_one("#steps", DataTable)
        row = table.cursor_row if row is None else row
        table.clear()
        draft, names = self.draft, self._names()
        table.border_title = formatting.titled("Steps", draft.name) if draft else "Steps"
        for position, step in enumerate(draft.steps if draft else [], start=1):
            table.add_row(
                str(position),
                Text(str(step.offset_days), justify="right"),
                step.title,
                owner_words(step, names),
                key=str(position),
            )
        if table.row_count:
            table.move_cursor(row=min(max(row, 0), table.row_count - 1), animate=False)
        self._show_preview()
        self.screen.refresh_bindings()

    def _show_preview(self) -> None:
        draft, names = self.draft, self._names()
        lines: list[Text] = []
        for step in draft.steps if draft else []:
            if 0 <= step.offset_days < len(self.days):
                when = f"{self.days[step.offset_days]:%a %d %b}"
            else:
                when = f"day {step.offset_days}: no such day"
            lines.append(
                Text.assemble(
                    formatting.shown(step.title),
                    f" — {when}, ",
                    formatting.shown(owner_words(step, names)),
                )
            )
        shown = Text("\n").join(lines) if lines else Text("no steps yet: a adds one", style="dim")
        self.query_one("#onboarding-preview", Static).update(shown)

    def _step_index(self) -> int | None:
        table = self.query_one("#steps", DataTable)
        draft = self.draft
        if draft is None or not draft.steps or not table.row_count:
            return None
        return min(table.cursor_row, len(draft.steps) - 1)

    @on(DataTable.RowHighlighted, "#steps")
    def _step_highlighted(self) -> None:
        self.screen.refresh_bindings()

    @on(DataTable.RowSelected, "#steps")
    def _step_selected(self) -> None:
        self.action_edit_step()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        draft, index = self.draft, self._step_index()
        if action == "add_step":
            return draft is not None or None
        if action in ("edit_step", "remove_step"):
            return index is not None or None
        if action == "move_step":
            delta = int(parameters[0]) if parameters else 0  # type: ignore[call-overload]
            return (index is not None and draft and 0 <= index + delta < len(draft.steps)) or None
        if action == "make_default":
            return (draft is not None and not (draft.is_default or draft.make_default)) or None
        if action == "save":
            return (draft is not None and draft.changed) or None
        return True

    def _say(self, text: str | Text) -> None:
        """The line under the preview: saving, why a save was refused, unsaved changes."""
        label = self.query_one("#onboarding-error", Label)
        label.update(formatting.shown(text))
        label.display = bool(str(text))

    def _changed(self, row: int | None = None) -> None:
        """A step or the default changed: redraw, and escape warns again before leaving."""
        self._warned = False
        self._say("")
        self._show_templates(self.current, row)

    # --- editing -------------------------------------------------------------------

    def action_add_step(self) -> None:
        draft = self.draft
        if draft is None:
            return

        def added(step: StepSpec | None) -> None:
            if step is not None:
                draft.steps.append(step)
                self._changed(row=len(draft.steps) - 1)

        self.go(goto.EditStep(None, self.users, added))

    def action_edit_step(self) -> None:
        draft, index = self.draft, self._step_index()
        if draft is None or index is None:
            return

        def edited(step: StepSpec | None) -> None:
            if step is not None and step != draft.steps[index]:
                draft.steps[index] = step
                self._changed(row=index)

        self.go(goto.EditStep(draft.steps[index], self.users, edited))

    def action_remove_step(self) -> None:
        draft, index = self.draft, self._step_index()
        if draft is not None and index is not None:
            del draft.steps[index]
            self._changed(row=index)

    def action_move_step(self, delta: int) -> None:
        draft, index = self.draft, self._step_index()
        if draft is None or index is None or not 0 <= index + delta < len(draft.steps):
            return
        steps = draft.steps
        steps[index], steps[index + delta] = steps[index + delta], steps[index]
        self._changed(row=index + delta)

    def action_new_template(self) -> None:
        def named(name: str | None) -> None:
            if not name:
                return
            if name in self.drafts:
                self.notify(f"There is already a template named {name}", severity="warning")
            else:
                self.drafts[name] = Draft(name, [])
                self._warned = False
            self._show_templates(name)
            self.query_one("#steps", DataTable).focus()

        self.go(goto.NameTemplate(named))

    def action_make_default(self) -> None:
        draft = self.draft
        if draft is not None and not draft.is_default:
            draft.make_default = True
            self._changed()

    # --- saving and leaving --------------------------------------------------------

    def action_save(self) -> None:
        draft = self.draft
        if draft is None:
            return
        self._say("Saving…")
        self._save(draft.name, list(draft.steps), draft.make_default)

    def _save(self, name: str, steps: list[StepSpec], make_default: bool) -> None:
        actor = self.signed_in.actor
        self.commit(
            lambda session: save_template(
                session, name, steps, actor=actor, make_default=make_default
            ),
            self._saved,
            group="onboarding-save",
            description="Saving the onboarding template",
            failed=lambda exc: self._say(str(exc)),  # and the failure handler says it in a toast
        )

    def _saved(self, saved: TemplateInfo) -> None:
        if saved.is_default:  # the domain took the mark off the other templates
            for other in self.drafts.values():
                other.is_default = False
        draft = self.drafts.get(saved.name)
        steps = draft.steps if draft is not None else list(saved.steps)  # edits made meanwhile
        self.drafts[saved.name] = Draft(saved.name, steps, saved.is_default, False, saved.steps)
        self._say("")
        self.notify(f"Onboarding template saved: {saved.name}", title="Saved")
        self._warned = False
        self._show_templates(self.current)

    def may_leave(self) -> bool:
        """True when nothing is unsaved, or escape was pressed again after the warning."""
        unsaved = [name for name, draft in self.drafts.items() if draft.changed]
        if unsaved and not self._warned:
            self._warned = True
            message = f"Unsaved changes in {', '.join(unsaved)}: ctrl+s saves, escape again leaves"
            self._say(message)
            self.notify(message, title="Not saved", severity="warning")
            return False
        return True

    def action_back(self) -> None:
        """Leave the screen the editor is on, once nothing is unsaved (or escape again)."""
        if self.may_leave():
            self.app.pop_screen()


class OnboardingTemplatesScreen(WithApp, Screen[None]):
    HELP_NAME = "Onboarding templates"
    BINDINGS = [  # the editor's escape, for when nothing in it has focus
        Binding("escape", "back", "Back", show=False, id="onboarding.leave"),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        yield OnboardingEditor()
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#steps", DataTable).focus()

    def action_back(self) -> None:
        self.query_one(OnboardingEditor).action_back()
