"""The follow-up delay a person types for a rule ("30m", "4bh", "2bd@10:00", "picked",
"picked|1bd@10:00") and the action params it stands for; the rules editor and the CLI
read and show delays through these two functions."""

import re
from typing import Any

from leadms_tui.domain.errors import ValidationError

_DELAY = re.compile(r"(\d+(?:\.\d+)?)(m|bh|bd)(?:@(\d{1,2}:\d{2}))?")
_DELAY_KEYS = {"m": "after_minutes", "bh": "after_business_hours", "bd": "after_business_days"}
DELAY_HELP = "30m, 4bh, 2bd@10:00, picked or picked|1bd@10:00"


def _number(text: str) -> int | float:
    value = float(text)
    return int(value) if value.is_integer() else value


def parse_delay(text: str) -> dict[str, Any]:
    """The follow-up delay mini-language → action params: "picked|2bd@10:00" and friends."""
    params: dict[str, Any] = {}
    text = text.strip().lower().replace(" ", "")
    if text.startswith("picked"):
        params["at_picked_time"] = True
        text = text.removeprefix("picked").removeprefix("|")
    if not text:
        return params
    match = _DELAY.fullmatch(text)
    if match is None or (match[3] and match[2] != "bd"):
        raise ValidationError(f"follow-up delay {text!r}: use {DELAY_HELP}")
    params[_DELAY_KEYS[match[2]]] = _number(match[1])
    if match[3]:
        params["at"] = match[3].zfill(5)
    return params


def format_delay(params: dict[str, Any]) -> str:
    """The inverse of `parse_delay`, to prefill the form."""
    delay = ""
    for unit, key in _DELAY_KEYS.items():
        if key in params:
            delay = f"{_number(str(params[key]))}{unit}"
    if "at" in params and delay[-1:] in ("", "d"):
        delay = (delay or "1bd") + f"@{params['at']}"
    if params.get("at_picked_time"):
        delay = "picked" + (f"|{delay}" if delay else "")
    return delay
