"""How a form's fields are saved (files attached by path are read, checked and stored), and
`e` on a client: its fields in a modal, refused if the client changed since it was shown."""

from pathlib import Path

from sqlmodel import Session
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import Label

from leadms_tui import formatting
from leadms_tui.domain.errors import ConflictError, LeadMSError, ValidationError
from leadms_tui.domain.fields import files
from leadms_tui.domain.fields.definitions import FieldSpec, list_fields
from leadms_tui.domain.fields.kinds import FILE_KINDS, Upload
from leadms_tui.domain.fields.values import FieldShown, context, parse_values, set_fields
from leadms_tui.domain.local_files import read_regular
from leadms_tui.domain.models import FieldEntity
from leadms_tui.domain.team.settings import load_settings
from leadms_tui.screens.with_app import WithApp
from leadms_tui.widgets.field_form import FieldForm, FormScroll, Raw
from leadms_tui.widgets.key_footer import KeyFooter


def refusal(exc: LeadMSError, shown_on: str) -> str:
    """What a refused edit says; a conflict names the key that reloads what was changed."""
    if isinstance(exc, ConflictError):
        return f"{exc} (escape closes this form; r on the {shown_on} reloads it)"
    return str(exc)


def checked_fields(session: Session, entity: FieldEntity, raw: Raw) -> Raw:
    """`raw` ready for `set_fields`: each file path read (within the size limit), checked and
    stored as an Upload, and every value valid, required ones filled. Otherwise one
    ValidationError names each bad field: "Label: reason; Label: reason"."""
    if not raw:
        return {}
    specs = {spec.key: spec for spec in list_fields(session, entity)}
    limit = load_settings(session).file_max_bytes
    values: Raw = {}
    errors = []
    for key, value in raw.items():
        spec = specs.get(key)
        if spec is not None and spec.kind in FILE_KINDS and isinstance(value, str) and value:
            try:
                values[key] = _stored(session, spec, Path(value.strip()).expanduser(), limit)
            except ValidationError as exc:
                errors.append(f"{spec.label}: {exc}")
        else:
            values[key] = value
    try:
        ctx = context(session)
        parse_values(session, entity, values, ctx, check_required=True, fields=list(specs.values()))
    except ValidationError as exc:
        errors.append(str(exc))
    if errors:
        raise ValidationError("; ".join(errors))
    return values


def _stored(session: Session, spec: FieldSpec, path: Path, limit: int) -> Upload:
    data = read_regular(path, limit)  # a LocalFileError is a ValidationError
    mime = files.check_file(data, path.name, spec.kind, max_bytes=limit)
    return Upload(files.store_file(session, data, mime).id, path.name)


class EditFieldsModal(WithApp, ModalScreen[bool]):
    HELP_NAME = "Edit fields"
    DEFAULT_CSS = """
    EditFieldsModal { align: center middle; }
    EditFieldsModal > FormScroll { width: 72; max-width: 100%;
        height: auto; max-height: 100%;
        border: round $accent; background: $surface; padding: 0 1; }
    EditFieldsModal #fields-status { width: 100%; color: $error; height: auto; }
    """
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", key_display="^s", id="fields.save", priority=True),
        Binding("escape", "cancel", "Cancel", id="fields.cancel"),
    ]

    def __init__(
        self,
        entity: FieldEntity,
        entity_id: int,
        title: str,
        fields: list[FieldShown],
        version: int,
    ) -> None:
        super().__init__()
        self.entity = entity
        self.entity_id = entity_id
        self.title_text = title
        self.fields = fields
        self.version = version  # of the record when its fields were read

    def compose(self) -> ComposeResult:
        settings = self.signed_in.settings
        with FormScroll():
            yield Label(formatting.titled("Edit fields", self.title_text, " (ctrl+s saves)"))
            yield Label("", id="fields-status", markup=False)
            yield FieldForm(
                [shown.field for shown in self.fields],
                self.fields,
                currency=settings.currency,
                timezone=settings.timezone,
                number_format=settings.numbers,
            )
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one(FieldForm).focus_first()

    def action_save(self) -> None:
        self.query_one("#fields-status", Label).update("Saving…")
        self._save(self.query_one(FieldForm).raw_values())

    def _save(self, raw: Raw) -> None:
        actor = self.signed_in.actor

        def save(session: Session) -> None:
            values = checked_fields(session, self.entity, raw)
            set_fields(
                session, self.entity, self.entity_id, values,
                actor=actor, expected_version=self.version,
            )  # fmt: skip

        self.commit(
            save, self._saved, group="edit-fields", description="Saving the fields",
            refused=lambda exc: self._refused(refusal(exc, self.entity.value)),
        )  # fmt: skip

    def _refused(self, reason: str) -> None:
        rest = self.query_one(FieldForm).show_errors(reason)
        status = rest or "Not saved: see the fields below"
        self.query_one("#fields-status", Label).update(formatting.shown(status))

    def _saved(self, _: None) -> None:
        self.app.notify(f"{self.title_text}: fields saved")
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)
