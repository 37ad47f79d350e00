"""Failed workers become notifications: no traceback ever reaches the screen.

`Worker.StateChanged` does not bubble, so every screen that runs workers mixes this in.
"""

from textual.worker import Worker, WorkerState

from leadms_tui.domain.errors import LeadMSError


class ReportsFailures:
    """Mixin for a screen or app: turns a worker's exception into an error notification."""

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state != WorkerState.ERROR:
            return
        error = event.worker.error
        if isinstance(error, LeadMSError):
            message = str(error)
        else:
            what = event.worker.description or event.worker.name or "the last action"
            first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
            message = f"{what} failed: {type(error).__name__} {first_line}".strip()
        event.worker.node.app.notify(message, title="Not done", severity="error", timeout=8)
