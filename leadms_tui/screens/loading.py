"""One way to reach the database from a screen: the work runs off the UI thread, its
result comes back on it.

    self.load(query, show, group=..., description=...)     a read: query(session), then show
    self.commit(write, done, group=..., description=...)   a write: database.write(write)
    self.in_thread(job, done, ...)                         anything else slow (sign-in, a file)

(Not `run` for the write: the app mixes this in too, and `App.run` is what starts it.)

Each is a Textual worker on the screen (or widget) that starts it: a worker awaiting the job
in a thread, then calling back on the UI thread. So
- the UI never waits for the database, and `app.workers.wait_for_complete()` (the tests'
  `settle`) returns once the result is shown;
- a load is exclusive in its group: a newer load of the same group cancels the older one,
  whose result is then dropped (it would hide newer data);
- a screen closed meanwhile has its workers cancelled: nothing is shown on it;
- a failure reaches `ReportsFailures` as a toast, unless the call says otherwise:
  `refused` takes the domain's refusals (`refuses`, LeadMSError by default) to say them in
  the screen, without a toast; `failed` is told of any other failure before its toast.
"""

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar, cast

from sqlmodel import Session
from textual.dom import DOMNode
from textual.worker import Worker

from leadms_tui.domain.errors import LeadMSError
from leadms_tui.screens.failures import ReportsFailures
from leadms_tui.signed_in import SignedIn

if TYPE_CHECKING:
    from leadms_tui.app import LeadMSApp

T = TypeVar("T")
Refused = Callable[[LeadMSError], object]
Failed = Callable[[Exception], object]


class Loads(ReportsFailures):
    """Mixin of every Lead MS screen, modal and tab that reads or writes the database."""

    @property
    def _node(self) -> DOMNode:
        assert isinstance(self, DOMNode), "Loads is mixed into a screen or widget"
        return self

    @property
    def signed_in(self) -> SignedIn:
        """The database, user and team settings of the person signed in."""
        return cast("LeadMSApp", self._node.app).signed_in

    def load(
        self,
        query: Callable[[Session], T],
        show: Callable[[T], object],
        *,
        group: str,
        description: str,
        refused: Refused | None = None,
        refuses: type[LeadMSError] = LeadMSError,
        failed: Failed | None = None,
    ) -> Worker[None]:
        """`query(session)` in a read session off the UI thread, then `show(result)` on it,
        unless a newer load of `group` started meanwhile."""
        database = cast("LeadMSApp", self._node.app).database  # before sign-in too

        def read() -> T:
            with database.reading() as session:
                return query(session)

        return self.in_thread(
            read, show, group=group, description=description, exclusive=True,
            refused=refused, refuses=refuses, failed=failed,
        )  # fmt: skip

    def commit(
        self,
        write: Callable[[Session], T],
        done: Callable[[T], object] | None = None,
        *,
        group: str,
        description: str,
        refused: Refused | None = None,
        refuses: type[LeadMSError] = LeadMSError,
        failed: Failed | None = None,
    ) -> Worker[None]:
        """`write(session)` in one write transaction (retried: it must be safe to run
        again), then `done(result)` on the UI thread. Never dropped for a newer one."""
        database = cast("LeadMSApp", self._node.app).database
        return self.in_thread(
            lambda: database.write(write), done, group=group, description=description,
            refused=refused, refuses=refuses, failed=failed,
        )  # fmt: skip

    def in_thread(
        self,
        job: Callable[[], T],
        done: Callable[[T], object] | None = None,
        *,
        group: str,
        description: str,
        exclusive: bool = False,
        refused: Refused | None = None,
        refuses: type[LeadMSError] = LeadMSError,
        failed: Failed | None = None,
    ) -> Worker[None]:
        """`job()` in a thread, then `done(result)` on the UI thread; with `exclusive`,
        only the newest job of `group` is done."""

        async def work() -> None:
            try:
                result = await asyncio.to_thread(job)  # cancelled: nothing more happens
            except Exception as exc:
                if refused is not None and isinstance(exc, refuses):
                    refused(exc)
                    return
                if failed is not None:
                    failed(exc)
                raise  # ReportsFailures says it in a toast
            if done is not None:
                done(result)

        return self._node.run_worker(
            work, name=group, group=group, description=description,
            exclusive=exclusive, exit_on_error=False,
        )  # fmt: skip
