"""The composition root: the one module that joins the services to who reacts to their events.

Services publish events without knowing their subscribers (`domain/events.py`); the table
of who reacts to what is `domain/subscribers.py`. Here the table becomes a dispatcher and
the dispatcher goes into the database, which attaches it to every session it opens. Every
entry point (the TUI and the CLI through `cli/common.py`, the intake service, the demo,
the tests' `db` fixture) opens its database here; a test may pass its own dispatcher,
an empty one included (cosmicpython's `bootstrap.py`).
"""

from leadms_tui.domain import subscribers
from leadms_tui.domain.db import Database
from leadms_tui.domain.db import open_database as _open_database
from leadms_tui.domain.events import Dispatcher


def default_dispatcher() -> Dispatcher:
    """The subscriber table as a dispatcher: what happens in the product."""
    return Dispatcher(handlers=subscribers.HANDLERS, previews=subscribers.PREVIEWS)


def database(url: str, *, dispatcher: Dispatcher | None = None) -> Database:
    """`url` as it is (no migration), publishing to `dispatcher`, by default the product's."""
    return Database(url, _chosen(dispatcher))


def open_database(url: str, *, dispatcher: Dispatcher | None = None) -> Database:
    """`url` opened as `domain.db.open_database` does (a SQLite file migrated), publishing
    to `dispatcher`, by default the product's."""
    return _open_database(url, _chosen(dispatcher))


def _chosen(given: Dispatcher | None) -> Dispatcher:
    # an empty Dispatcher is a choice too: only None means "the product's"
    return default_dispatcher() if given is None else given
