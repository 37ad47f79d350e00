"""The dynamic fields of a lead or client on its detail screen: "Label: value" by section,
images previewed in the terminal, file lines the cursor can rest on (screens/field_files.py
opens and saves them).

Images need `prepare_image_previews()` before Textual starts (run_tui calls it when the
database has image fields): textual-image asks the terminal what it can draw, which cannot
be done once Textual reads the keyboard. Without it an image shows as its name only.
"""

import io
import logging
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rich.text import Text
from sqlmodel import Session
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widget import Widget
from textual.widgets import Label, Static

from leadms_tui import formatting
from leadms_tui.domain.audit import Actor
from leadms_tui.domain.errors import PermissionDeniedError
from leadms_tui.domain.fields.files import read_file
from leadms_tui.domain.fields.kinds import FILE_KINDS
from leadms_tui.domain.fields.values import FieldShown, values_for
from leadms_tui.domain.models import FieldEntity, FieldKind

if TYPE_CHECKING:
    from PIL import Image as PILImage

PREVIEW_PIXELS = (320, 320)  # decoded once, small: a preview is a few rows tall


@dataclass(frozen=True)
class LoadedFields:
    """What a detail screen's worker reads: the record's fields and its images, decoded
    (None: the bytes are not an image Pillow can read; the file's name is shown instead)."""

    fields: list[FieldShown] = field(default_factory=list)
    previews: "dict[int, PILImage.Image | None]" = field(default_factory=dict)


def load_fields(
    session: Session, entity: FieldEntity, entity_id: int, viewer: Actor
) -> LoadedFields:
    fields = values_for(session, entity, [entity_id])[entity_id]
    previews: dict[int, PILImage.Image | None] = {}
    for shown in fields:
        if shown.field.kind == FieldKind.IMAGE and shown.file_id is not None:
            try:
                previews[shown.file_id] = _decoded(read_file(session, shown.file_id, viewer)[1])
            except PermissionDeniedError:  # reps_see own: shown by name, never its bytes
                previews[shown.file_id] = None
    return LoadedFields(fields, previews)


def prepare_image_previews() -> None:
    """Import textual-image (it asks the terminal what it can draw): before Textual starts.
    Not done unconditionally: with numpy it costs ~75 ms of every start-up.

    A terminal that answers oddly (one reporting 0 columns makes textual-image divide by
    zero) or not at all costs the previews, never the start: images then show as their
    names, and nothing is printed."""
    # A terminal that does not answer its size query (tmux, many emulators) makes it log a
    # warning with a traceback, which Python prints to the user's terminal: its logs are
    # about the terminal's answers, not ours to show.
    logging.getLogger("textual_image").setLevel(logging.ERROR)
    try:
        import textual_image.widget  # noqa: F401
    except Exception:  # any failure of a third-party terminal probe
        sys.modules.pop("textual_image.widget", None)


def _image_widget(image: "PILImage.Image") -> Widget | None:
    """The preview widget, or None when previews were not prepared before start-up."""
    prepared = sys.modules.get("textual_image.widget")
    return None if prepared is None else prepared.Image(image)


def _decoded(data: bytes) -> "PILImage.Image | None":
    from PIL import Image as PILImage

    try:
        image = PILImage.open(io.BytesIO(data))
        image.thumbnail(PREVIEW_PIXELS)
        return image.convert("RGB")
    except (OSError, ValueError, PILImage.DecompressionBombError):
        return None


def _file_text(shown: FieldShown) -> Text:
    info = shown.value if isinstance(shown.value, dict) else {}
    kind = str(info.get("type", "")).rsplit("/", 1)[-1]
    return Text.assemble(
        (f"{shown.field.label}: ", "dim"), formatting.shown(shown.text, style="underline"),
        (f" ({kind}, {_size(int(info.get('size') or 0))})", "dim"),
    )  # fmt: skip


def _size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / 1048576:.1f} MB"


class FileLine(Static, can_focus=True):
    """A file field's line: with the cursor on it, `o` opens the file and `S` saves it."""

    DEFAULT_CSS = "FileLine:focus { background: $accent 30%; }"

    def __init__(self, shown: FieldShown) -> None:
        super().__init__(_file_text(shown))
        self.shown = shown


class FieldsPanel(Vertical):
    DEFAULT_CSS = """
    FieldsPanel { height: auto; display: none; }
    FieldsPanel.-filled { display: block; }
    FieldsPanel .fields-section { text-style: bold; margin-top: 1; }
    FieldsPanel .fields-section:first-child { margin-top: 0; }
    FieldsPanel Static, FieldsPanel Label { width: 100%; }
    FieldsPanel Image { height: 8; width: auto; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.loaded = LoadedFields()

    def show(self, loaded: LoadedFields) -> None:
        if loaded == self.loaded:
            return  # a reload changed nothing: keep the widgets (and the cursor)
        self.loaded = loaded
        self.set_class(bool(loaded.fields), "-filled")
        self.refresh(recompose=True)

    def compose(self) -> ComposeResult:
        section = None
        for shown in self.loaded.fields:
            if shown.field.section != section:
                section = shown.field.section
                yield Label(formatting.shown(section), classes="fields-section")
            yield from self._field(shown)

    def _field(self, shown: FieldShown) -> "list[Widget]":
        if shown.field.kind not in FILE_KINDS or shown.file_id is None:
            label = (f"{shown.field.label}: ", "dim")
            return [Static(Text.assemble(label, formatting.shown(shown.text or "—")))]
        widgets: list[Widget] = [FileLine(shown)]
        if shown.field.kind == FieldKind.IMAGE:
            preview = self.loaded.previews.get(shown.file_id)
            image = None if preview is None else _image_widget(preview)
            if image is None:
                why = "no preview: " if preview is None else "preview after a restart: "
                name = Text.assemble((why, "dim"), formatting.shown(shown.text))
                widgets.append(Static(name))
            else:
                widgets.append(image)
        return widgets

    def files(self) -> list[FieldShown]:
        return [s for s in self.loaded.fields if s.field.kind in FILE_KINDS and s.file_id]

    def current_file(self, focused: Widget | None) -> FieldShown | None:
        """The file field under the cursor, else the first with a file."""
        if isinstance(focused, FileLine) and focused.parent is self:
            return focused.shown
        return next(iter(self.files()), None)
