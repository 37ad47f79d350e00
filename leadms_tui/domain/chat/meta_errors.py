"""What a Meta error code means to a rep: a sentence and what to do next. One table keyed by
the code; a code not in it shows Meta's own title and message."""

from dataclasses import dataclass
from enum import StrEnum


class NextStep(StrEnum):
    USE_TEMPLATE = "use_template"  # the window closed: pick an approved template
    CALL_INSTEAD = "call_instead"  # the number cannot receive WhatsApp: call, with a follow-up
    WAIT_AND_RETRY = "wait_and_retry"  # throttled: the service backs off and tries again
    FIX_TEMPLATE = "fix_template"  # a template or its parameters were refused
    TELL_ADMIN = "tell_admin"  # the access token or the account: managers are told once
    RETRY = "retry"  # anything else: read Meta's words, then retry or call


@dataclass(frozen=True)
class Meaning:
    sentence: str
    step: NextStep
    throttled: bool = False  # the service waits and sends the same attempt again by itself


MEANINGS: dict[int, Meaning] = {
    131047: Meaning(
        "More than 24 hours since their last message: only a template can reach them now.",
        NextStep.USE_TEMPLATE,
    ),
    131026: Meaning(
        "This number cannot receive WhatsApp messages (not on WhatsApp, or an old app).",
        NextStep.CALL_INSTEAD,
    ),
    130429: Meaning(
        "Meta's sending limit was reached: sent again shortly.",
        NextStep.WAIT_AND_RETRY,
        throttled=True,
    ),
    131056: Meaning(
        "Too many messages to this person in a short time: sent again shortly.",
        NextStep.WAIT_AND_RETRY,
        throttled=True,
    ),
    80007: Meaning(
        "Messenger's rate limit was reached: sent again shortly.",
        NextStep.WAIT_AND_RETRY,
        throttled=True,
    ),
    4: Meaning(
        "Meta's API call limit was reached: sent again shortly.",
        NextStep.WAIT_AND_RETRY,
        throttled=True,
    ),
    132000: Meaning(
        "The template's parameters do not match it (how many, or their kind).",
        NextStep.FIX_TEMPLATE,
    ),
    132001: Meaning("That template does not exist in this language.", NextStep.FIX_TEMPLATE),
    132005: Meaning("The filled template is too long.", NextStep.FIX_TEMPLATE),
    132007: Meaning("The filled template breaks WhatsApp's policy.", NextStep.FIX_TEMPLATE),
    132012: Meaning("A template parameter is not in the form it needs.", NextStep.FIX_TEMPLATE),
    132015: Meaning("The template is paused for low quality.", NextStep.FIX_TEMPLATE),
    132016: Meaning("The template is disabled.", NextStep.FIX_TEMPLATE),
    100: Meaning("Meta refused a parameter of the message.", NextStep.RETRY),
    190: Meaning(
        "The service's Meta access token expired or was revoked: an admin must renew it.",
        NextStep.TELL_ADMIN,
    ),
    10: Meaning(
        "Outside the 24-hour window, or the page lacks the permission for this message.",
        NextStep.USE_TEMPLATE,
    ),
    551: Meaning("This person is not available on Messenger now.", NextStep.CALL_INSTEAD),
}

STEP_WORDS: dict[NextStep, str] = {
    NextStep.USE_TEMPLATE: "pick an approved template (w)",
    NextStep.CALL_INSTEAD: "call them instead; a follow-up is offered",
    NextStep.WAIT_AND_RETRY: "nothing: the service sends it again",
    NextStep.FIX_TEMPLATE: "pick another template, or check its parameters",
    NextStep.TELL_ADMIN: "managers are told; retry once the token is renewed",
    NextStep.RETRY: "read Meta's words, then retry (ctrl+r) or call",
}


def explain(code: int | None, title: str | None, detail: str | None) -> tuple[str, NextStep]:
    """The failure in words and the next step; an unknown code in Meta's own words."""
    meaning = MEANINGS.get(code) if code is not None else None
    if meaning is not None:
        return meaning.sentence, meaning.step
    words = " — ".join(part for part in (title, detail) if part) or "Meta gave no reason"
    prefix = f"Meta error {code}: " if code is not None else ""
    return f"{prefix}{words}", NextStep.RETRY


def is_throttled(code: int | None) -> bool:
    meaning = MEANINGS.get(code) if code is not None else None
    return bool(meaning and meaning.throttled)
