"""`o` and `S` on a detail screen's file fields: open the file under the cursor (else the
first) in the system viewer, or save it to a path asked for in a small prompt."""

import mimetypes
import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

from textual.binding import Binding

from leadms_tui.domain.errors import LeadMSError
from leadms_tui.domain.fields.files import read_file
from leadms_tui.domain.fields.values import FieldShown
from leadms_tui.domain.local_files import write_new
from leadms_tui.domain.text import visible
from leadms_tui.screens import goto
from leadms_tui.screens.with_app import WithApp
from leadms_tui.widgets.field_view import FieldsPanel

VIEWER_WAIT = 1.0  # seconds to catch a viewer command that fails at once
FILE_BINDINGS = [
    Binding("o", "open_file", "Open file", id="detail.open-file"),
    Binding("S", "save_file", "Save file", id="detail.save-file"),  # shift+s
]


def viewer_command() -> list[str]:
    """The command that opens a file: $LEADMS_OPEN_COMMAND, else the system's."""
    default = "open" if sys.platform == "darwin" else "xdg-open"
    return shlex.split(os.environ.get("LEADMS_OPEN_COMMAND") or default)


def safe_name(name: str) -> str:
    """A stored file's name as a file name here: no folders, no control characters."""
    cleaned = visible(Path(name.replace("\\", "/")).name).strip(". ")
    return cleaned or "file"


_EXTENSIONS = {"image/jpeg": ".jpg", "text/plain": ".txt", "text/csv": ".csv"}  # not system's


def viewer_name(mime_type: str) -> str:
    """The temporary copy's name for the viewer: its extension from the sniffed type."""
    extension = _EXTENSIONS.get(mime_type) or mimetypes.guess_extension(mime_type, strict=True)
    return "file" + (extension or ".bin")


class OpensFiles(WithApp):
    """Mixin of the detail screens that show a FieldsPanel (add FILE_BINDINGS)."""

    def current_file(self) -> FieldShown | None:
        panel = self.query_one(FieldsPanel)  # type: ignore[attr-defined]
        return panel.current_file(self.focused)  # type: ignore[attr-defined]

    def has_files(self) -> bool:
        panels = self.query(FieldsPanel)  # type: ignore[attr-defined]
        return bool(panels) and bool(panels.first().files())

    def action_open_file(self) -> None:
        shown = self.current_file()
        if shown is not None and shown.file_id is not None:
            self._open_file(shown.file_id, shown.text)

    def action_save_file(self) -> None:
        shown = self.current_file()
        if shown is None or shown.file_id is None:
            return
        file_id = shown.file_id

        def chosen(path: Path | None) -> None:
            if path is not None:
                self._save_file(file_id, path)

        self.go(goto.PickPath(safe_name(shown.text), chosen))

    def _open_file(self, file_id: int, name: str) -> None:
        database, viewer = self.signed_in.database, self.signed_in.actor

        def start() -> tuple[subprocess.Popen[bytes], str, str]:
            with database.reading() as session:
                info, data = read_file(session, file_id, viewer)
            # Named by the type sniffed from its bytes, never by its stored name: a PNG stored
            # as "evil.desktop" must not reach the viewer as a .desktop file.
            path = Path(tempfile.mkdtemp(prefix="leadms-")) / viewer_name(info.mime_type)
            write_new(path, data)
            command = viewer_command()
            try:
                process = subprocess.Popen(
                    [*command, str(path)],
                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL, start_new_session=True,
                )  # fmt: skip
            except (OSError, IndexError) as exc:
                raise LeadMSError(
                    f"cannot run {command[0] if command else 'the viewer'}: "
                    f"{getattr(exc, 'strerror', None) or exc}; "
                    "set LEADMS_OPEN_COMMAND to the command that opens a file"
                ) from None
            return process, command[0], path.name

        def started(opened: tuple[subprocess.Popen[bytes], str, str]) -> None:
            process, command, shown = opened
            self.leadms.notify(f"Opening {shown}")

            def wait() -> None:
                try:
                    code = process.wait(VIEWER_WAIT)
                except subprocess.TimeoutExpired:
                    return  # still running: the viewer is up
                if code:
                    raise LeadMSError(f"{command} could not open {shown} (exit code {code})")

            self.in_thread(wait, group="field-file", description="Opening the file")

        self.in_thread(start, started, group="field-file", description="Opening the file")

    def _save_file(self, file_id: int, path: Path) -> None:
        database, viewer = self.signed_in.database, self.signed_in.actor

        def save() -> None:
            with database.reading() as session:
                _, data = read_file(session, file_id, viewer)
            write_new(path, data)  # never over a file or symlink that appeared meanwhile

        self.in_thread(
            save, lambda _: self.leadms.notify(f"Saved {path}"),
            group="field-file", description="Saving the file",
        )  # fmt: skip
