"""What a rep's terminal does when their phone rings or hangs up (the phone bridge, issue 29).

`PhonePops.decide` is plain logic over the rep's recent phone calls (`recent_calls_of`): each
call pops once when it starts (the lead's detail, or the new-lead modal for an unknown
number) and once when it ends unlogged (the call modal, prefilled). The app asks the database
when a live update names `phone_calls`, and acts on what this returns.
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from leadms_tui.domain.models import PhoneCallState
from leadms_tui.domain.phone.bridge import PhoneCallView

Action = Literal["open_lead", "new_lead", "log_call"]


@dataclass(frozen=True)
class Pop:
    action: Action
    call: PhoneCallView


@dataclass
class PhonePops:
    since: datetime  # calls changed before this were seen before this terminal signed in
    _started: set[int] = field(default_factory=set)
    _ended: set[int] = field(default_factory=set)

    def decide(self, calls: list[PhoneCallView]) -> list[Pop]:
        """The pops due for these calls (oldest first); each kind at most once per call."""
        pops = []
        for call in sorted(calls, key=lambda c: (c.started_at, c.id)):
            if call.state == PhoneCallState.ENDED:
                if call.id not in self._ended and not call.logged and call.lead_id is not None:
                    pops.append(Pop("log_call", call))
                self._ended.add(call.id)
                self._started.add(call.id)  # too late to pop the start
                continue
            if call.id in self._started:
                continue
            self._started.add(call.id)
            if call.lead_id is not None:
                pops.append(Pop("open_lead", call))
            elif call.client_id is None and call.remote_number:
                pops.append(Pop("new_lead", call))
        return pops
