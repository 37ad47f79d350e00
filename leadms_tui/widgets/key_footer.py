"""The footer every screen uses: Textual's Footer, cheaper to keep up to date."""

from typing import TypeAlias

from textual.app import ComposeResult
from textual.binding import ActiveBinding
from textual.screen import Screen
from textual.widgets import Footer
from textual.widgets._footer import FooterKey  # the Footer's own key widget (textual 8)

ShownKeys: TypeAlias = tuple[tuple[str, str, bool, str], ...]
# First in every footer: the keys that explain or reach the rest. A footer wider than the
# terminal loses its last keys, and these must never be the ones lost.
FIRST_KEYS = ("app.help", "app.search", "app.inbox")


def _footer_rank(binding_id: str | None) -> int:
    return FIRST_KEYS.index(binding_id) if binding_id in FIRST_KEYS else len(FIRST_KEYS)


class KeyFooter(Footer):
    """A Footer that rebuilds its keys only when they change, and builds them cheaply.

    Screens refresh bindings on every cursor move (an action may become enabled or
    disabled). Textual's Footer recomposes all its keys each time and binds each key's
    `compact` to its own, which restyles every key as it mounts (~2 ms a key) and keeps
    a watcher per key for the Footer's life. Lead MS has no compact footer and no
    binding groups, so the keys are plain `FooterKey`s.
    """

    def __init__(self) -> None:
        super().__init__()
        self._shown: ShownKeys | None = None
        self._rebuild_pending = False

    def wanted_keys(self, active: dict[str, ActiveBinding] | None = None) -> ShownKeys:
        return tuple(
            (binding.key, binding.description, enabled, tooltip)
            for _node, binding, enabled, tooltip in (active or self.screen.active_bindings).values()
            if binding.show
        )

    @property
    def is_current(self) -> bool:
        """True when the keys on display are the ones the screen's bindings ask for."""
        return self._shown == self.wanted_keys()

    def compose(self) -> ComposeResult:
        if not self._bindings_ready:
            return
        active = self.screen.active_bindings
        self._shown = self.wanted_keys(active)
        first_of_action = {}
        for _node, binding, enabled, tooltip in active.values():
            if binding.show:
                first_of_action.setdefault(binding.action, (binding, enabled, tooltip))
        self.styles.grid_size_columns = len(first_of_action)
        in_order = sorted(first_of_action.values(), key=lambda shown: _footer_rank(shown[0].id))
        for binding, enabled, tooltip in in_order:
            key = FooterKey(
                binding.key,
                self.app.get_key_display(binding),
                binding.description,
                binding.action,
                disabled=not enabled,
                tooltip=tooltip,
            )
            key.set_reactive(FooterKey.compact, False)  # what Footer's data_bind gives it
            yield key
        palette = active.get(self.app.COMMAND_PALETTE_BINDING)
        # a palette that cannot open (before sign-in) is not offered at all, not greyed
        if palette is not None and palette.enabled and self.show_command_palette:
            _node, binding, enabled, _tooltip = palette
            yield FooterKey(  # Footer leaves this one compact too
                binding.key,
                self.app.get_key_display(binding),
                binding.description,
                binding.action,
                classes="-command-palette",
                disabled=not enabled,
                tooltip=binding.tooltip or binding.description,
            )

    def bindings_changed(self, screen: Screen) -> None:
        """Rebuild after the next refresh if the keys differ by then (refreshes come in bursts)."""
        self._bindings_ready = True
        if not screen.app.app_focus or not self.is_attached or screen is not self.screen:
            return
        if not self._rebuild_pending:
            self._rebuild_pending = True
            self.call_after_refresh(self._rebuild)

    async def _rebuild(self) -> None:
        self._rebuild_pending = False
        if self.is_attached and not self.is_current:  # the screen may have gone meanwhile
            await self.recompose()
