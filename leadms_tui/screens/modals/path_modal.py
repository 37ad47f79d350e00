"""`S` on a detail screen's file field: where to save the file."""

from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from leadms_tui import formatting


class PathModal(ModalScreen[Path | None]):
    """`S`: where to save the file; a folder saves it there under its own name."""

    HELP_NAME = "Save file"
    DEFAULT_CSS = """
    PathModal { align: center middle; }
    PathModal > Vertical { width: 64; max-width: 100%; height: auto;
        border: round $accent; background: $surface; padding: 0 1; }
    PathModal #path-error { width: 100%; height: auto; color: $error; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="save-file.cancel")]

    def __init__(self, name: str) -> None:
        super().__init__()
        self._name = name

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(formatting.titled("Save file", self._name, " to (enter saves)"))
            yield Input(f"~/{self._name}", id="save-path", select_on_focus=False)
            yield Label("", id="path-error", markup=False)

    @on(Input.Submitted)
    def _submit(self, event: Input.Submitted) -> None:
        error = self.query_one("#path-error", Label)
        if not event.value.strip():
            error.update("type a path")
            return
        path = Path(event.value.strip()).expanduser()
        if path.is_dir():
            path = path / self._name
        if path.exists() or path.is_symlink():
            error.update(formatting.shown(f"{path} exists; choose another name"))
        elif not path.parent.is_dir():
            error.update(formatting.shown(f"no folder {path.parent}"))
        else:
            self.dismiss(path)

    def action_cancel(self) -> None:
        self.dismiss(None)
