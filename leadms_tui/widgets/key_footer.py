"""The footer every screen uses: Textual's Footer, rebuilt only when its keys change."""

from typing import TypeAlias

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer

ShownKeys: TypeAlias = tuple[tuple[str, str, bool, str], ...]


class KeyFooter(Footer):
    """A Footer that skips the rebuild when a bindings refresh changes nothing it shows.

    Screens refresh bindings on every cursor move (an action may become enabled or
    disabled); Textual's Footer recomposes all its key widgets each time, which made
    layout and garbage collection grow slower over a long session on the day view.
    """

    def __init__(self) -> None:
        super().__init__()
        self._shown: ShownKeys | None = None

    def wanted_keys(self) -> ShownKeys:
        return tuple(
            (binding.key, binding.description, enabled, tooltip)
            for _node, binding, enabled, tooltip in self.screen.active_bindings.values()
            if binding.show
        )

    @property
    def is_current(self) -> bool:
        """True when the keys on display are the ones the screen's bindings ask for."""
        return self._shown == self.wanted_keys()

    def compose(self) -> ComposeResult:
        self._shown = self.wanted_keys() if self._bindings_ready else None
        yield from super().compose()

    def bindings_changed(self, screen: Screen) -> None:
        if screen is self.screen and self._shown is not None and self.is_current:
            return
        super().bindings_changed(screen)
