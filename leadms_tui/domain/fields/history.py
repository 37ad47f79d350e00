"""A `fields.update` audit event in words, for a record's timeline: the field's label and
its value before and after, a file by its name (and the start of its sha256 when only the
content changed). The one place field history is put into words."""

from typing import Any

from leadms_tui.domain.fields.definitions import FieldSpec

NOTHING = "—"
_SHOWN_CHARACTERS = 60  # a long text reads as its start; the trail keeps all of it


def describe(changes: dict[str, list[Any]], fields: dict[str, FieldSpec]) -> str:
    """`Budget: 100 → 200; Photo: roof.png → roof.png (new content)`."""
    parts = []
    for key, (before, after) in changes.items():
        field = fields.get(key)
        label = field.label if field is not None else key.replace("_", " ")
        parts.append(f"{label}: {_value(before, after)} → {_value(after, before)}")
    return "; ".join(parts)


def _value(value: Any, other: Any) -> str:
    if value in (None, "", []):
        return NOTHING
    if isinstance(value, dict):  # a file: {name, sha256}
        name = str(value.get("name") or "file")
        same_name = isinstance(other, dict) and other.get("name") == value.get("name")
        digest = str(value.get("sha256") or "")
        return f"{name} (sha256 {digest[:12]})" if same_name and digest else name
    text = str(value)
    return text if len(text) <= _SHOWN_CHARACTERS else text[: _SHOWN_CHARACTERS - 1] + "…"
