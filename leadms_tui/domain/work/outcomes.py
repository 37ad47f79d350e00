"""What each call outcome means: the one table a new outcome is added to, next to its enum
in `models.py` and its looks (key, colour) in `leadms_tui/looks.py`. `tests/test_variants.py`
checks that both tables cover `CallOutcome` exactly; the database stores the value as text
(`calls.outcome`, 24 characters, no CHECK), so a new outcome needs no migration."""

from dataclasses import dataclass

from leadms_tui.domain.models import CallOutcome


@dataclass(frozen=True)
class Meaning:
    words: str  # how screens and reports say it
    connected: bool  # someone was reached: the coaching report's connect rate counts it
    ends_attempt: bool  # the rep is done with the person for now: the day view moves on
    closes_as: str | None = None  # closes the lead as lost, with this reason
    followup: str | None = None  # the reason of the follow-up booked after it (else "Follow up")
    qualifies: bool = False  # a new or contacted lead becomes qualified
    unanswered: bool = False  # nobody picked up: counts towards "N unanswered calls" rules


MEANINGS: dict[CallOutcome, Meaning] = {
    CallOutcome.INTERESTED: Meaning(
        "interested",
        connected=True,
        ends_attempt=False,
        followup="Book a meeting or demo",
        qualifies=True,
    ),
    CallOutcome.NOT_INTERESTED: Meaning(
        "not interested", connected=True, ends_attempt=True, closes_as="not interested"
    ),
    CallOutcome.NO_ANSWER: Meaning(
        "no answer",
        connected=False,
        ends_attempt=True,
        followup="Retry: no answer",
        unanswered=True,
    ),
    CallOutcome.BUSY: Meaning(
        "busy", connected=False, ends_attempt=True, followup="Retry: line busy", unanswered=True
    ),
    CallOutcome.WRONG_NUMBER: Meaning(
        "wrong number", connected=True, ends_attempt=True, closes_as="wrong number"
    ),
    CallOutcome.CALLBACK_REQUESTED: Meaning(
        "callback requested", connected=True, ends_attempt=False, followup="Callback requested"
    ),
    CallOutcome.VOICEMAIL: Meaning(
        "voicemail",
        connected=False,
        ends_attempt=True,
        followup="Retry: left a voicemail",
        unanswered=True,
    ),
    # a conversation by chat, no call (a Messenger lead with no phone): the next step is
    # about the same person, so the cursor stays on them
    CallOutcome.CHAT: Meaning("chat", connected=True, ends_attempt=False),
    # no way to reach the person
    CallOutcome.UNREACHABLE: Meaning(
        "unreachable", connected=False, ends_attempt=True, closes_as="unreachable"
    ),
}

CONNECTED = tuple(o for o, m in MEANINGS.items() if m.connected)
UNANSWERED = tuple(o for o, m in MEANINGS.items() if m.unanswered)
