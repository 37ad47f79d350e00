"""A rep logging calls in a child process, for the touch-versus-ladder race test."""

import time
from datetime import datetime

from leadms_tui import bootstrap
from leadms_tui.domain.audit import Actor
from leadms_tui.domain.models import CallOutcome, Role
from leadms_tui.domain.work.calls import log_call


def log_calls(url: str, lead_ids: list[int], user_id: int, now_iso: str, start_at: float) -> int:
    database = bootstrap.database(url)
    actor = Actor(user_id, "ana", Role.REP)
    now = datetime.fromisoformat(now_iso)
    while time.monotonic() < start_at:  # one clock for every process here
        time.sleep(0.001)
    for lead_id in lead_ids:
        database.write(
            lambda s, lead_id=lead_id: log_call(
                s, lead_id, CallOutcome.NO_ANSWER, actor=actor, now=now
            )
        )
    database.dispose()
    return len(lead_ids)
