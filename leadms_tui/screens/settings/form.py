"""What the settings screen's small forms share: labelled rows, a line that says why a save
was refused, ctrl+s (or enter) saves through the domain in a thread worker, escape cancels."""

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from rich.text import Text
from sqlmodel import Session
from textual import on
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Input, Label

from leadms_tui import formatting
from leadms_tui.screens.with_app import WithApp

T = TypeVar("T")


def row(label: str, *widgets: Widget) -> Horizontal:
    """One line of a form: the muted label, then its input(s)."""
    return Horizontal(Label(label), *widgets, classes="form-row")


def entry(value: object, id: str, placeholder: str = "", **kwargs: Any) -> Input:
    """A compact one-line input, prefilled with `value` (None: empty)."""
    shown = "" if value is None else str(value)
    return Input(shown, placeholder=placeholder, id=id, compact=True, **kwargs)


class FormModal(WithApp, ModalScreen[T], Generic[T]):
    """Subclasses compose rows, a `.form-error` Label with id "form-error", and implement
    `action_save`, which calls `write` with the domain change; the result dismisses."""

    DEFAULT_CSS = """
    FormModal { align: center middle; }
    FormModal > Vertical { width: 76; max-width: 100%; height: auto; max-height: 100%;
        border: round $accent; background: $surface; padding: 0 1; }
    FormModal .form-row { height: 1; }
    FormModal .form-row > Label { width: 14; color: $text-muted; }
    FormModal .form-row > Input, FormModal .form-row > Select { width: 1fr; }
    FormModal .form-row > Checkbox { margin-left: 0; }
    FormModal .form-note { width: 100%; height: auto; color: $text-muted; }
    FormModal #form-error { width: 100%; height: auto; color: $error; }
    """
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", key_display="^s/enter", id="settings-form.save",
                priority=True),
        Binding("escape", "cancel", "Cancel", id="settings-form.cancel"),
    ]  # fmt: skip

    def say(self, text: str | Text) -> None:
        """The line under the form: why the save was refused (data, shown literally)."""
        self.query_one("#form-error", Label).update(formatting.shown(text))

    def value(self, id: str) -> str:
        return self.query_one(f"#{id}", Input).value.strip()

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_save()

    def action_save(self) -> None:
        raise NotImplementedError

    def write(self, change: Callable[[Session], object]) -> None:
        self.say("Saving…")
        self.commit(
            change,
            lambda result: self.dismiss(result),  # type: ignore[arg-type]
            group="settings-form",
            description="Saving the settings",
            # the domain's refusal: said in the form, the typing kept
            refused=lambda exc: self.say(str(exc)),
            # and the failure handler says it in a toast
            failed=lambda exc: self.say(f"Not saved: {type(exc).__name__}"),
        )

    def action_cancel(self) -> None:
        self.dismiss(None)  # type: ignore[arg-type]
