"""The dynamic fields of a lead, client or meeting as a form: one input per field type, grouped
by section, with a required mark, the help text and each field's error under it.

The form only collects what was typed (`raw_values`); the screen validates and saves it
through the domain and hands the domain's "Label: reason; Label: reason" back to
`show_errors`, which puts each reason under its field.
"""

import re
from collections.abc import Sequence

from rich.segment import Segment
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Input, Label, Select, SelectionList, TextArea
from textual.widgets.option_list import OptionDoesNotExist

from leadms_tui import formatting
from leadms_tui.domain.fields.definitions import FieldSpec
from leadms_tui.domain.fields.kinds import FILE_KINDS, NUMBER_KINDS, Upload, as_input
from leadms_tui.domain.fields.values import FieldShown
from leadms_tui.domain.models import FieldKind
from leadms_tui.domain.numbers import DEFAULT_FORMAT
from leadms_tui.looks import KIND_LOOKS, Entry, say

REMOVE_FILE = "-"  # typed as a file field's path: the file is taken off the record
Raw = dict[str, "str | Upload | None"]


class FormScroll(VerticalScroll, can_focus=False):
    """A modal's body that scrolls once a FieldForm is in it (the focused input scrolls into
    view). Without fields it is the plain box it always was."""

    DEFAULT_CSS = """
    FormScroll { overflow-y: hidden; }
    FormScroll.-fields { overflow-y: auto; }
    """


class TickList(SelectionList[str]):
    """A SelectionList whose boxes say on or off by a mark (☑ or ☐), not by colour alone."""

    def render_line(self, y: int) -> Strip:
        strip = super().render_line(y)
        try:
            selection = self.get_option_at_index(self.scroll_offset.y + y)
        except OptionDoesNotExist:
            return strip
        segments = list(strip)
        if len(segments) < 4:
            return strip
        mark = "☑" if selection.value in self.selected else "☐"
        # the three cells of Textual's coloured button become one marked box
        return Strip([Segment(f" {mark} ", segments[1].style), *segments[3:]])


def hint(kind: FieldKind, currency: str, number_format: str = DEFAULT_FORMAT) -> str:
    """The placeholder that says what a typed field accepts (numbers in the team's format)."""
    return say(KIND_LOOKS[kind].placeholder, currency=currency, number_format=number_format)


class FieldForm(Vertical):
    DEFAULT_CSS = """
    FieldForm { height: auto; }
    FieldForm .field-section { text-style: bold; color: $text-accent; margin-top: 1; }
    FieldForm .field-label { color: $text-muted; }
    FieldForm .field-help { color: $text-muted; text-style: italic; }
    FieldForm .field-error { color: $error; display: none; }
    FieldForm .field-error.-shown { display: block; }
    FieldForm Label { width: 100%; height: auto; }
    FieldForm .field-file { height: auto; }
    FieldForm TextArea { height: 5; }
    FieldForm SelectionList { height: auto; max-height: 6; }
    """

    def __init__(
        self,
        specs: Sequence[FieldSpec],
        values: Sequence[FieldShown] | None = None,
        *,
        currency: str,
        timezone: str,
        number_format: str = DEFAULT_FORMAT,
        id: str | None = None,
    ) -> None:
        """`values` of a record being edited; None for a new one (defaults are filled in)."""
        super().__init__(id=id)
        self.specs = list(specs)
        self._current = {shown.key: shown for shown in values or []}
        self._new = values is None
        self._currency = currency
        self._timezone = timezone
        self._number_format = number_format
        self._initial: dict[str, str] = {}  # what each typed input started with

    def compose(self) -> ComposeResult:
        section = None
        for spec in self.specs:
            if spec.section != section:
                section = spec.section
                yield Label(formatting.shown(section), classes="field-section")
            label = formatting.shown(spec.label)
            if spec.required:
                label.append(" *", style="bold red")
            yield Label(label, classes="field-label")
            yield self._input(spec)
            if spec.help_text:
                yield Label(formatting.shown(spec.help_text), classes="field-help")
            yield Label("", id=f"error-{spec.key}", classes="field-error", markup=False)

    def _initial_text(self, spec: FieldSpec) -> str:
        shown = self._current.get(spec.key)
        if shown is None:
            default = (spec.default or "") if self._new else ""
            return as_input(spec.kind, default, self._number_format)
        if spec.kind == FieldKind.DATETIME and shown.items and shown.items[0].moment:
            return formatting.format_local_datetime(shown.items[0].moment, self._timezone)
        return as_input(spec.kind, shown.canonical, self._number_format)

    def _input(self, spec: FieldSpec) -> Widget:
        key, text = f"field-{spec.key}", self._initial_text(spec)
        self._initial[spec.key] = text
        entry = KIND_LOOKS[spec.kind].entry
        if entry == Entry.LINES:
            return TextArea(text, id=key)
        if entry == Entry.PICK:
            options = [(formatting.shown(o), o) for o in spec.options]
            value = text if text in spec.options else Select.NULL
            return Select(options, value=value, prompt="—", id=key)
        if entry == Entry.YES_NO:
            value = text if text in ("yes", "no") else Select.NULL
            return Select([("yes", "yes"), ("no", "no")], value=value, prompt="—", id=key)
        if entry == Entry.TICKS:
            chosen = {part.strip() for part in text.split(",")}
            return TickList(*((formatting.shown(o), o, o in chosen) for o in spec.options), id=key)
        if entry == Entry.FILE:
            shown = self._current.get(spec.key)
            name = shown.text if shown is not None and shown.file_id else ""
            current = Text.assemble(("Now: ", "dim"), formatting.shown(name or "no file"))
            return Vertical(
                Label(current, id=f"file-{spec.key}"),
                Input(placeholder=f"path of a file to attach ({REMOVE_FILE} removes it)", id=key),
                classes="field-file",
            )
        return Input(text, placeholder=hint(spec.kind, self._currency, self._number_format), id=key)

    def on_mount(self) -> None:
        for scroll in self.ancestors:
            if isinstance(scroll, FormScroll):
                scroll.add_class("-fields")
                self.call_after_refresh(scroll.scroll_home, animate=False)  # the title in view

    def focus_first(self) -> None:
        if self.specs:
            self.query_one(f"#field-{self.specs[0].key}").focus()

    # --- what was typed ------------------------------------------------------------

    def raw_values(self) -> Raw:
        """Every field's value as the domain reads it: unchanged ones as stored (their
        canonical text, their file), a file field's new path as typed (the saver reads it)."""
        return {spec.key: self._raw(spec) for spec in self.specs}

    def _raw(self, spec: FieldSpec) -> "str | Upload | None":
        widget = self.query_one(f"#field-{spec.key}")
        shown = self._current.get(spec.key)
        if spec.kind in FILE_KINDS:
            path = widget.value.strip()  # type: ignore[attr-defined]
            if path == REMOVE_FILE:
                return ""
            if path:
                return path
            if shown is not None and shown.file_id is not None:
                return Upload(shown.file_id, shown.text)
            return None
        if isinstance(widget, Select):
            return "" if widget.is_blank() else str(widget.value)
        if isinstance(widget, SelectionList):
            chosen = set(widget.selected)
            return ", ".join(o for o in spec.options if o in chosen)
        text = widget.text if isinstance(widget, TextArea) else widget.value  # type: ignore[attr-defined]
        if shown is not None and text == self._initial[spec.key] and spec.kind not in NUMBER_KINDS:
            return shown.canonical  # untouched: exactly what is stored
        return text  # a number as shown: it reads back the same in the team's format

    # --- errors --------------------------------------------------------------------

    def clear_errors(self) -> None:
        for label in self.query(".field-error").results(Label):
            label.update("")
            label.remove_class("-shown")

    def show_errors(self, message: str) -> str:
        """Put each "Label: reason" of a domain error under its field (the first field with
        an error is scrolled to); returns the rest of the message, "" when all was placed."""
        self.clear_errors()
        by_label: dict[str, str] = {}
        for spec in self.specs:
            by_label.setdefault(spec.label, spec.key)
        if not by_label:
            return message
        labels = sorted(by_label, key=len, reverse=True)
        pattern = re.compile("(?:^|; )(" + "|".join(map(re.escape, labels)) + "): ")
        found = list(pattern.finditer(message))
        if not found:
            return message
        rest = [message[: found[0].start()]]
        reasons: dict[str, str] = {}
        for match, after in zip(found, [*found[1:], None], strict=True):
            end = after.start() if after is not None else len(message)
            reasons.setdefault(by_label[match.group(1)], message[match.end() : end])
        for key, reason in reasons.items():
            label = self.query_one(f"#error-{key}", Label)
            label.update(formatting.shown(reason))
            label.add_class("-shown")
        first = next(spec.key for spec in self.specs if spec.key in reasons)
        self.query_one(f"#error-{first}").scroll_visible(animate=False)
        return "".join(rest).strip().removesuffix(";")
