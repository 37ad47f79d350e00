"""What every screen, modal and settings tab shares: the app, typed; live reloads; loading
(see `loading.py`). A leaf: it imports no screen (the app imports them all, to open them)."""

import time
from typing import TYPE_CHECKING, ClassVar

from textual import getters
from textual.app import App
from textual.message import Message

from leadms_tui.domain.live import touches
from leadms_tui.screens.loading import Loads

if TYPE_CHECKING:
    from leadms_tui.app import LeadMSApp


CONFIRM_SECONDS = 5.0  # how long a destructive key's second press counts as "yes"


class WithApp(Loads):
    """Mixin of every Lead MS screen and modal: the app, typed, as `self.leadms`."""

    _asked: tuple[str, float] | None = None  # (what a destructive key asked, when)

    # The tables a screen shows: a write to one of them, by anyone, reloads it (see
    # `LeadMSApp._data_changed`). Screens showing nothing that others change leave it empty.
    LIVE_TABLES: ClassVar[frozenset[str]] = frozenset()

    # The running app. Checkers see LeadMSApp; at run time any App passes the check, since
    # importing app.py here would close a cycle (app.py imports every screen to open it).
    if TYPE_CHECKING:
        leadms = getters.app(LeadMSApp)
    else:
        leadms = getters.app(App)

    def go(self, where: Message) -> None:
        """Ask the app to open a screen or modal (a message of `leadms_tui.screens.goto`)."""
        self.leadms.post_message(where)

    def asked_once(self, what: str, question: str) -> bool:
        """A destructive key that cannot be undone asks once: the first press says what a
        second press does (`question`); the same press again on the same thing (`what`)
        within CONFIRM_SECONDS returns True."""
        now = time.monotonic()
        asked = self._asked
        if asked is not None and asked[0] == what and now - asked[1] <= CONFIRM_SECONDS:
            self._asked = None
            return True
        self._asked = (what, now)
        self.leadms.notify(question, title="Press again", timeout=CONFIRM_SECONDS)
        return False

    def why_not(self, action: str) -> str | None:
        """Why `action` (its key) does nothing here now, said in a toast; None: say nothing."""
        return None

    def data_changed(self, changes: frozenset[str]) -> None:
        """Someone committed a write to `changes` (table names) while this screen is shown."""
        if touches(changes, self.LIVE_TABLES):
            self.reload()

    def reload(self) -> None:
        """Fetch the screen's data again (in a worker), keeping the cursor where it was."""

    def settings_changed(self) -> None:
        """The team settings changed (here or in another terminal) and `leadms.settings` holds
        the new ones: redraw what depends on them (times in the team's timezone, money)."""
        self.reload()
