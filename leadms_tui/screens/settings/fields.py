"""The settings' Fields tab: the fields of leads, clients and meetings (add, edit, retype,
reorder, retire), with the form they make previewed as the edit form shows it."""

from collections.abc import Callable

from rich.text import Text
from sqlmodel import Session
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Checkbox, DataTable, Input, Label, Select, Static

from leadms_tui import formatting, looks
from leadms_tui.domain import clock
from leadms_tui.domain.errors import ValidationError
from leadms_tui.domain.fields import kinds
from leadms_tui.domain.fields.definitions import (
    FieldSpec,
    add_field,
    edit_field,
    list_fields,
    move_field,
    retire_field,
)
from leadms_tui.domain.fields.values import context
from leadms_tui.domain.models import FieldEntity, FieldKind
from leadms_tui.screens.settings.form import FormModal, entry, row
from leadms_tui.screens.with_app import WithApp
from leadms_tui.widgets.fitted import Fitted
from leadms_tui.widgets.key_footer import KeyFooter
from leadms_tui.widgets.text_table import TextTable

ENTITIES = list(FieldEntity)  # lead, client, meeting: the order `[` and `]` go through


def type_hint(kind: FieldKind, options: list[str], currency: str) -> str:
    """What a field asks for, as its input says it."""
    return looks.say(looks.KIND_LOOKS[kind].asks, currency=currency, options=options)


def form_preview(fields: list[FieldSpec], currency: str) -> Text:
    """The active fields as the edit form shows them: by section, each label with its
    required mark, what to type and the help text under it."""
    lines: list[Text] = []
    section = None
    for spec in (f for f in fields if f.active):
        if spec.section != section:
            section = spec.section
            if lines:
                lines.append(Text(""))
            lines.append(formatting.shown(section, "bold"))
        label = formatting.shown(spec.label)
        if spec.required:
            label.append(" *", style="bold red")
        lines.append(label)
        hint = type_hint(spec.kind, spec.options, currency)
        what = Text.assemble(("  ▏", "dim"), formatting.shown(hint, "dim"))
        if spec.default:
            what.append_text(formatting.shown(f" (default {spec.default})", "dim"))
        lines.append(what)
        if spec.help_text:
            lines.append(Text.assemble("  ", formatting.shown(spec.help_text, "italic")))
    if not lines:
        return Text("no fields yet: a adds one", style="dim")
    return Text("\n").join(lines)


class FieldsTab(WithApp, Vertical):
    DEFAULT_CSS = """
    FieldsTab #fields-top { height: 1; padding: 0 1; }
    FieldsTab #fields-top > Label { width: auto; color: $text-muted; }
    FieldsTab #field-entity { width: 16; margin: 0 1; }
    FieldsTab #fields-body { height: 1fr; }
    FieldsTab #fields { width: 1fr; height: 1fr; border: round $panel; }
    FieldsTab #fields:focus { border: round $accent; }
    FieldsTab #form-preview-box { width: 38%; max-width: 56; height: 1fr;
        border: round $panel; padding: 0 1; }
    FieldsTab.-narrow #fields-body { layout: vertical; }
    FieldsTab.-narrow #form-preview-box { width: 100%; max-width: 100%; height: 45%; }
    """
    NARROW = 110  # columns below which the preview goes under the table, not beside it
    BINDINGS = [
        Binding("a", "add_field", "Add field", id="settings.fields.add"),
        Binding("e", "edit_field", "Edit field", id="settings.fields.edit"),
        Binding("x", "retire_field", "Retire/restore", id="settings.fields.retire"),
        Binding("ctrl+up,K", "move_field(-1)", "Move up", key_display="^↑/K",
                id="settings.fields.up"),
        Binding("ctrl+down,J", "move_field(1)", "Move down", key_display="^↓/J", show=False,
                id="settings.fields.down"),
        Binding("right_square_bracket", "entity(1)", "Next entity", key_display="]",
                id="settings.fields.next-entity"),
        Binding("left_square_bracket", "entity(-1)", "Previous entity", key_display="[",
                show=False, id="settings.fields.prev-entity"),
    ]  # fmt: skip

    def __init__(self) -> None:
        super().__init__()
        self.entity = FieldEntity.LEAD
        self.fields: dict[str, FieldSpec] = {}  # by key, in the table's order
        self.ctx: kinds.Context | None = None
        self._select: str | None = None  # the key the cursor goes to after the next load

    def compose(self) -> ComposeResult:
        with Horizontal(id="fields-top"):
            yield Label("Fields of")
            options = [(entity.value, entity.value) for entity in ENTITIES]
            yield Select(options, value=self.entity.value, allow_blank=False,
                         id="field-entity", compact=True)  # fmt: skip
            yield Label("[ ] switch · retired fields at the end, dimmed", markup=False)
        with Horizontal(id="fields-body"):
            table = TextTable(id="fields", cursor_type="row", zebra_stripes=True)
            table.add_column("#")
            table.add_column("Key")
            table.add_column("Label")
            table.add_column("Type")
            table.add_column("Req")
            table.add_column("Options")
            table.add_column("Section")
            yield table
            with VerticalScroll(id="form-preview-box") as box:
                box.border_title = "Form preview"
                box.can_focus = False
                yield Fitted("", id="form-preview")

    def on_mount(self) -> None:
        self.reload()

    def on_resize(self, event: events.Resize) -> None:
        self.set_class(event.size.width < self.NARROW, "-narrow")

    # --- loading -------------------------------------------------------------------

    def reload(self, select: str | None = None) -> None:
        self._select = select
        entity = self.entity
        self.load(
            lambda session: (list_fields(session, entity, include_retired=True), context(session)),
            lambda loaded: self._loaded(entity, *loaded),
            group="settings-fields", description="Loading the fields",
        )  # fmt: skip

    def _loaded(self, entity: FieldEntity, fields: list[FieldSpec], ctx: kinds.Context) -> None:
        if entity != self.entity:
            return  # the admin already switched to another entity
        self.ctx = ctx
        table = self.query_one("#fields", DataTable)
        current = self.current()
        select = self._select or (current.key if current else None)
        old_row = table.cursor_row
        ordered = [f for f in fields if f.active] + [f for f in fields if not f.active]
        self.fields = {spec.key: spec for spec in ordered}
        table.clear()
        for place, spec in enumerate(ordered, start=1):  # place in the form, retired: none
            style = "" if spec.active else "dim"
            cells = [
                str(place) if spec.active else "-",
                spec.key,
                spec.label,
                kinds.KINDS[spec.kind].words + ("" if spec.active else " (retired)"),
                "✓" if spec.required else "",
                ", ".join(spec.options),
                spec.section,
            ]
            table.add_row(*(formatting.shown(cell, style) for cell in cells), key=spec.key)
        if select in self.fields:
            table.move_cursor(row=table.get_row_index(select), animate=False)
        elif ordered:
            table.move_cursor(row=min(max(old_row, 0), len(ordered) - 1), animate=False)
        self._select = None
        self._show_preview()
        self.screen.refresh_bindings()

    def _show_preview(self) -> None:
        currency = self.ctx.currency if self.ctx else self.signed_in.settings.currency
        box = self.query_one("#form-preview-box", VerticalScroll)
        box.border_title = f"Form preview: {self.entity.value}"
        preview = form_preview(list(self.fields.values()), currency)
        self.query_one("#form-preview", Static).update(preview)

    def current(self) -> FieldSpec | None:
        table = self.query_one("#fields", DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value
        return self.fields.get(key or "")

    def _active_keys(self) -> list[str]:
        return [key for key, spec in self.fields.items() if spec.active]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        current = self.current()
        if action in ("edit_field", "retire_field"):
            return current is not None or None
        if action == "add_field":
            return self.ctx is not None or None
        if action == "move_field":
            if current is None or not current.active:
                return None
            keys, delta = self._active_keys(), int(parameters[0])  # type: ignore[call-overload]
            return 0 <= keys.index(current.key) + delta < len(keys) or None
        return True

    @on(DataTable.RowHighlighted, "#fields")
    def _highlighted(self) -> None:
        self.screen.refresh_bindings()

    @on(DataTable.RowSelected, "#fields")
    def _selected(self) -> None:
        self.action_edit_field()

    # --- the entity ----------------------------------------------------------------

    def action_entity(self, delta: int) -> None:
        index = (ENTITIES.index(self.entity) + delta) % len(ENTITIES)
        self.query_one("#field-entity", Select).value = ENTITIES[index].value

    @on(Select.Changed, "#field-entity")
    def _entity_chosen(self, event: Select.Changed) -> None:
        entity = FieldEntity(str(event.value))
        if entity != self.entity:
            self.entity = entity
            self.fields = {}
            self.query_one("#fields", DataTable).clear()
            self.reload()

    # --- changes -------------------------------------------------------------------

    def action_add_field(self) -> None:
        if self.ctx is not None:
            self.app.push_screen(FieldModal(self.entity, None, self.ctx), self._edited)

    def action_edit_field(self) -> None:
        current = self.current()
        if current is not None and self.ctx is not None:
            self.app.push_screen(FieldModal(self.entity, current, self.ctx), self._edited)

    def _edited(self, saved: FieldSpec | None) -> None:
        if saved is not None:
            self.app.notify(f"Field saved: {saved.entity.value} {saved.key}", title="Saved")
            self.reload(select=saved.key)
        self.query_one("#fields", DataTable).focus()

    def action_retire_field(self) -> None:
        current = self.current()
        if current is None:
            return
        entity, key, restore = self.entity, current.key, not current.active
        actor = self.signed_in.actor
        self._change(
            lambda session: retire_field(
                session, entity, key, actor=actor, now=clock.now(), restore=restore
            ),
            key,
        )
        # one key both ways: the toast says what happened and how to take it back
        done = "restored: x retires it again" if restore else "retired: x restores it"
        self.app.notify(f"Field {current.label!r} {done}", title="Fields")

    def action_move_field(self, delta: int) -> None:
        current = self.current()
        if current is None or not self.check_action("move_field", (delta,)):
            return
        entity, key = self.entity, current.key
        actor = self.signed_in.actor
        self._change(
            lambda session: move_field(session, entity, key, delta, actor=actor, now=clock.now()),
            key,
        )

    def _change(self, change: Callable[[Session], object], key: str) -> None:
        self.commit(
            change, lambda _: self.reload(select=key),
            group="settings-fields-change", description="Changing the field",
        )  # fmt: skip


class FieldModal(FormModal[FieldSpec | None]):
    """Add a field, or edit one (its key stays); a type change the stored values would not
    survive is refused by the domain, and its reason shown here."""

    HELP_NAME = "Field"
    DEFAULT_CSS = """
    FieldModal #field-preview { margin-top: 1; }
    """

    def __init__(self, entity: FieldEntity, spec: FieldSpec | None, ctx: kinds.Context) -> None:
        super().__init__()
        self.entity, self.spec, self.ctx = entity, spec, ctx

    def compose(self) -> ComposeResult:
        spec = self.spec
        after = " (ctrl+s saves, escape cancels)"
        if spec is None:
            heading = Text.assemble((f"New {self.entity.value} field", "bold"), after)
        else:
            heading = formatting.titled(f"Edit {self.entity.value} field", spec.key, after)
        kinds_ = [(rules.words, kind.value) for kind, rules in kinds.KINDS.items()]
        kind = (spec.kind if spec else FieldKind.TEXT).value
        required = spec.required if spec else False
        key = entry(spec.key if spec else "", "field-key", "e.g. budget: a-z, 0-9 and _")
        key.disabled = spec is not None  # a field's key is how scripts and filters name it
        with Vertical():
            yield Label(heading)
            yield row("Key", key)
            label = entry(spec and spec.label, "field-label", "empty: made from the key")
            label.select_on_focus = False
            yield row("Label", label)
            yield row("Type", Select(kinds_, value=kind, allow_blank=False, id="field-kind",
                                     compact=True))  # fmt: skip
            yield row("Options", entry(", ".join(spec.options) if spec else "", "field-options",
                                       "choice types: Gold, Silver, Bronze"))  # fmt: skip
            yield row("Required", Checkbox("a record cannot be saved without it", required,
                                           id="field-required", compact=True))  # fmt: skip
            default = spec and kinds.as_input(spec.kind, spec.default or "", self.ctx.number_format)
            yield row("Default", entry(default, "field-default",
                                       "filled in on new records"))  # fmt: skip
            yield row("Help text", entry(spec and spec.help_text, "field-help",
                                         "shown under the field"))  # fmt: skip
            yield row("Section", entry(spec and spec.section, "field-section", "empty: Details"))
            yield Fitted("", id="field-preview", classes="form-note")
            yield Label("", id="form-error")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#field-label" if self.spec else "#field-key", Input).focus()
        self._update_preview()

    def _kind(self) -> FieldKind:
        return FieldKind(str(self.query_one("#field-kind", Select).value))

    def _options(self) -> list[str]:
        if self._kind() not in kinds.CHOICE_KINDS:
            return []  # only choice fields have options: what is typed there is not kept
        return [o.strip() for o in self.value("field-options").split(",") if o.strip()]

    @on(Input.Changed)
    @on(Select.Changed)
    @on(Checkbox.Changed)
    def _update_preview(self) -> None:
        """The field as the form will show it, and what its default reads as."""
        kind, options = self._kind(), self._options()
        self.query_one("#field-options", Input).disabled = kind not in kinds.CHOICE_KINDS
        key = self.value("field-key")
        typed = FieldSpec(
            0, self.entity, key, self.value("field-label") or key.replace("_", " ").capitalize(),
            kind, options, self.query_one("#field-required", Checkbox).value,
            self.value("field-default") or None, self.value("field-help") or None,
            self.value("field-section") or "Details", 0, True, 0,
        )  # fmt: skip
        preview = form_preview([typed], self.ctx.currency)
        default = self.value("field-default")
        if default:
            try:
                items = kinds.parse(kind, default, options, self.ctx)
                reads = kinds.as_text(
                    kind, items, currency=self.ctx.currency, timezone=self.ctx.timezone
                )
                preview.append_text(
                    Text.assemble("\nThe default reads as: ", formatting.shown(reads))
                )
            except ValidationError as exc:
                preview.append_text(formatting.shown(f"\nThe default: {exc}", "red"))
        self.query_one("#field-preview", Static).update(preview)

    def action_save(self) -> None:
        entity, spec, kind, options = self.entity, self.spec, self._kind(), self._options()
        label, default = self.value("field-label"), self.value("field-default")
        help_text, section = self.value("field-help"), self.value("field-section")
        required = self.query_one("#field-required", Checkbox).value
        actor = self.signed_in.actor
        if spec is None:
            key = self.value("field-key")

            def change(session: Session) -> FieldSpec:
                return add_field(
                    session, entity, key, kind, label=label or None, options=options,
                    required=required, default=default or None, help_text=help_text or None,
                    section=section or None, actor=actor, ctx=context(session),
                )  # fmt: skip
        else:

            def change(session: Session) -> FieldSpec:
                return edit_field(
                    session, entity, spec.key, expected_version=spec.version, label=label,
                    options=options, required=required, default=default, help_text=help_text,
                    section=section, kind=kind if kind != spec.kind else None, actor=actor,
                    ctx=context(session),
                )  # fmt: skip

        self.write(change)
