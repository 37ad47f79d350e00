"""How each variant looks on screen: a call outcome's key and colour, a chat reply's state, a
field type's input and hints. The UI half of the variant tables; what each variant means is in
the domain (`domain/work/outcomes.py`, `domain/fields/kinds.py`, `domain/chat/outbox.py`). The
call modal's keys and hint, the reports' colours, the conversation and the field forms are made
from these tables, and `tests/test_variants.py` checks that each covers its enum exactly."""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from leadms_tui import formatting
from leadms_tui.domain.models import CallOutcome, FieldKind, MessageState
from leadms_tui.domain.numbers import DEFAULT_FORMAT, format_number


@dataclass(frozen=True)
class OutcomeLook:
    key: str  # chooses it in the call modal
    # its colour in the reports' calls chart: someone reached cool, nobody warm or grey; a
    # terminal colour 0-15, which plotext and Rich both understand, so the legend (a Label:
    # plotext's own sits on top of the first bars) shows the bars' colours
    colour: int


OUTCOME_LOOKS: dict[CallOutcome, OutcomeLook] = {
    CallOutcome.INTERESTED: OutcomeLook("i", 2),
    CallOutcome.NOT_INTERESTED: OutcomeLook("x", 5),
    CallOutcome.NO_ANSWER: OutcomeLook("n", 8),
    CallOutcome.BUSY: OutcomeLook("b", 3),
    CallOutcome.WRONG_NUMBER: OutcomeLook("w", 13),
    CallOutcome.CALLBACK_REQUESTED: OutcomeLook("r", 6),
    CallOutcome.VOICEMAIL: OutcomeLook("v", 7),
    CallOutcome.CHAT: OutcomeLook("t", 4),  # talked by chat: the contact of a lead with no phone
    CallOutcome.UNREACHABLE: OutcomeLook("u", 1),
}
OUTCOME_KEYS = " ".join(look.key for look in OUTCOME_LOOKS.values())  # "i x n b ..."


@dataclass(frozen=True)
class MessageLook:
    words: str  # a reply's state in the conversation and the CLI: "✓✓ read"
    style: str  # a Rich style, or a theme colour ("$accent", "$error"): see `theme_style`


MESSAGE_LOOKS: dict[MessageState, MessageLook] = {
    MessageState.QUEUED: MessageLook("… queued", "dim"),
    MessageState.SENDING: MessageLook("↑ sending", "dim"),
    MessageState.UNCONFIRMED: MessageLook("? not confirmed", "$warning"),
    MessageState.SENT: MessageLook("✓ sent", ""),
    MessageState.DELIVERED: MessageLook("✓✓ delivered", ""),
    MessageState.READ: MessageLook("✓✓ read", "$accent"),
    MessageState.FAILED: MessageLook("✗ failed", "$error"),
}


def theme_style(style: str, variables: dict[str, str]) -> str:
    """`style` with a theme colour ("$accent") made the theme's value (`App.get_css_variables`)."""
    if style.startswith("$"):
        return variables.get(style[1:], "")
    return style


class Entry(StrEnum):
    """The input a field type gets in a form."""

    LINE = "line"  # one line of text (Input)
    LINES = "lines"  # several lines (TextArea)
    PICK = "pick"  # one of the field's options (Select)
    YES_NO = "yes_no"  # yes or no (Select)
    TICKS = "ticks"  # any of the options (a list of boxes)
    FILE = "file"  # a path to attach, under the current file's name


@dataclass(frozen=True)
class KindLook:
    entry: Entry
    asks: str  # what the form preview says it takes (a template for `say`)
    placeholder: str = ""  # what its empty input shows (a template for `say`)


KIND_LOOKS: dict[FieldKind, KindLook] = {
    FieldKind.TEXT: KindLook(Entry.LINE, "a line of text"),
    FieldKind.LONG_TEXT: KindLook(Entry.LINES, "text, several lines"),
    FieldKind.INTEGER: KindLook(Entry.LINE, "a whole number", "a whole number"),
    FieldKind.DECIMAL: KindLook(Entry.LINE, "a number, e.g. 12.5", "a number, e.g. {number}"),
    FieldKind.MONEY: KindLook(
        Entry.LINE, "an amount in {currency}", "amount in {currency}, e.g. {amount}"
    ),
    FieldKind.DATE: KindLook(Entry.LINE, "a date: {day}, tomorrow, fri", "{day}, tomorrow, fri"),
    FieldKind.DATETIME: KindLook(
        Entry.LINE, "a date and time: {day} 15:00", "{day} 15:00, tomorrow 15:00"
    ),
    FieldKind.YES_NO: KindLook(Entry.YES_NO, "yes or no"),
    FieldKind.CHOICE: KindLook(Entry.PICK, "one of {one_of}"),
    FieldKind.MULTI_CHOICE: KindLook(Entry.TICKS, "any of {any_of}"),
    FieldKind.LINK: KindLook(Entry.LINE, "a link: https://…", "https://…"),
    FieldKind.EMAIL: KindLook(Entry.LINE, "an email address", "name@example.com"),
    FieldKind.PHONE: KindLook(Entry.LINE, "a phone number", "phone number"),
    FieldKind.IMAGE: KindLook(Entry.FILE, "an image file"),
    FieldKind.DOCUMENT: KindLook(Entry.FILE, "a document file"),
}


def say(
    template: str,
    *,
    currency: str = "",
    number_format: str = DEFAULT_FORMAT,
    options: Sequence[str] = (),
) -> str:
    """A hint template filled in: {currency}, {day} (a week ahead), {number} and {amount}
    (12.5 and 1,250.00 in the team's format), {one_of} and {any_of} (the options)."""
    return template.format(
        currency=currency,
        day=formatting.example_date(7),
        number=format_number(Decimal("12.5"), number_format),
        amount=format_number(Decimal("1250.00"), number_format, grouped=True),
        one_of=" / ".join(options),
        any_of=", ".join(options),
    )
