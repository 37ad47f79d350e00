"""Text from outside is data: no control character is stored or reaches a terminal.

Every write path (intake, import, webhooks, edits, the CLI) cleans stored text here, and the
screens and the CLI make what is shown visible again with `visible` (for data stored before).
Replaced, not refused, so a lead is never lost for a stray byte: C0 controls (tab and newline
kept where a field has lines), DEL, C1 (U+0080-U+009F), bidi overrides and isolates that
reorder what a reader sees, and lone surrogates (which no database can store).
"""

import json
import re
from typing import Any

REPLACEMENT = "\ufffd"
_CONTROLS = "\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff"
_IN_LINES = re.compile(f"[{_CONTROLS}]")
_IN_A_LINE = re.compile(f"[{_CONTROLS}\t\n]")
_LINE_ENDS = re.compile(r"\r\n?")


def clean_line(value: str) -> str:
    """One-line text (a name, a title): tabs and line breaks become spaces."""
    if not _IN_A_LINE.search(value) and "\r" not in value:
        return value  # nearly always: one scan instead of two substitutions
    value = _LINE_ENDS.sub("\n", value)
    return _IN_A_LINE.sub(lambda m: " " if m.group() in "\t\n" else REPLACEMENT, value)


def clean_text(value: str) -> str:
    """Text with lines (a message, a note): tabs and newlines kept, CR LF made LF."""
    if not _IN_LINES.search(value) and "\r" not in value:
        return value
    return _IN_LINES.sub(REPLACEMENT, _LINE_ENDS.sub("\n", value))


_SCALARS = (int, float, bool, type(None))
# What needs cleaning, as it looks in JSON text: the escapes JSON writes for C0 controls (tab
# and newline excepted) and the other characters raw. An escaped backslash before a "b" or
# "r" also matches; that only sends the value down the slow path, which is exact.
_DIRTY_JSON = re.compile(r"\\[bfr]|\\u00|[\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def clean_data(value: Any) -> Any:
    """Every string in a JSON-like value (keys included), cleaned as text with lines."""
    kind = type(value)
    if kind in _SCALARS:  # exact types first: every audit event's changes come through here
        return value
    if kind is str or isinstance(value, str):
        return clean_text(value)
    if kind is dict or kind is list:  # nearly always clean: one scan of its JSON in C
        try:
            if not _DIRTY_JSON.search(json.dumps(value, ensure_ascii=False)):
                return value
        except (TypeError, ValueError):
            pass  # not JSON as it is: cleaned piece by piece below
    return _clean_parts(value)


# The same, as `json.dumps` writes it by default (ASCII only: everything else is escaped). A
# surrogate pair (an emoji) or an escaped backslash before "u00" also match: the slow path.
_DIRTY_ASCII_JSON = re.compile(r"\\(?:[bfr]|u00[01]|u007f|u00[89]|u202[a-e]|u206[6-9]|ud[89a-f])")


def clean_json(value: Any) -> str:
    """The JSON text of `clean_data(value)` as `json.dumps` writes it, serialized once when
    nothing needs cleaning (what a JSON column stores; for bulk writes)."""
    try:
        dumped = json.dumps(value)
    except (TypeError, ValueError):
        return json.dumps(clean_data(value))
    if _DIRTY_ASCII_JSON.search(dumped):
        return json.dumps(clean_data(value))
    return dumped


def _clean_parts(value: Any) -> Any:
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_text(str(k)): _clean_parts(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean_parts(v) for v in value]
    return value


def visible(value: object, *, lines: bool = False) -> str:
    """`value` as text safe to print on a terminal (control characters replaced)."""
    text = "" if value is None else str(value)
    return clean_text(text) if lines else clean_line(text)
