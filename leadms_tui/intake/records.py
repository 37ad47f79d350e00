"""What every channel parser produces: lead records to take in, or rejected rows to report.

Parsers are pure functions from bytes to an iterator of `LeadRecord | RejectedRow`;
they never touch the database. Input that cannot be read at all (wrong format,
undecodable file) raises `UnusableInput` before the first record.
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from leadms_tui.domain.models import Channel


class UnusableInput(Exception):
    """The whole input is unreadable or of the wrong format (the CLI exits with 2)."""


@dataclass(frozen=True)
class LeadRecord:
    row: int  # 1-based position in the source (data row, message, payload), for reports
    channel: Channel
    name: str | None = None
    phone: str | None = None
    email: str | None = None
    message: str | None = None
    external_id: str | None = None  # the sender on its channel: wa_id, PSID
    dedupe_key: str | None = None  # same key on the same channel = same delivery, taken once
    received_at: datetime | None = None  # aware; when the contact really happened
    attributes: dict[str, Any] = field(default_factory=dict)  # utm_*, campaign, answers, ...
    payload_ref: str | None = None  # where it came from, e.g. "leads.csv#row=12"
    fields: dict[str, str] = field(default_factory=dict)  # dynamic lead fields by key


@dataclass(frozen=True)
class RejectedRow:
    row: int
    reason: str
    column: str | None = None


ParsedItem = LeadRecord | RejectedRow
