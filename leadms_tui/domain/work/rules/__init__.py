"""The rules engine: automation that keeps commitments from being missed.

- `engine`: event rules (a call outcome, a new lead, a meeting outcome), run inside the
  transaction of the write that triggered them, each occurrence claimed once;
- `actions`: what a fired rule does (follow-up, status, reassign, escalate, notify);
- `sweeper`: time rules (no activity, overdue follow-ups) and missed commitments, run by
  cron and every minute by a running TUI or intake service;
- `definitions`: describing, checking, saving and listing rules;
- `delays`: the follow-up delay a person types ("2bd@10:00") and its action params.

The names below are the package's public face: callers write `rules.sweep(...)`.
"""

from leadms_tui.domain.work.rules.definitions import (
    describe_rule,
    list_rules,
    rule_as_json,
    save_rule,
    set_rule_enabled,
    validate_rule,
)
from leadms_tui.domain.work.rules.delays import DELAY_HELP, format_delay, parse_delay
from leadms_tui.domain.work.rules.engine import (
    UNANSWERED,
    has_rules,
    on_call_saved,
    on_lead_created,
    on_meeting_outcome,
    preview_call_saved,
    unanswered_calls,
)
from leadms_tui.domain.work.rules.sweeper import SWEEP_LIMIT, SweepReport, preview_rule, sweep

__all__ = [
    "DELAY_HELP",
    "SWEEP_LIMIT",
    "UNANSWERED",
    "SweepReport",
    "describe_rule",
    "format_delay",
    "has_rules",
    "list_rules",
    "on_call_saved",
    "on_lead_created",
    "on_meeting_outcome",
    "parse_delay",
    "preview_call_saved",
    "preview_rule",
    "rule_as_json",
    "save_rule",
    "set_rule_enabled",
    "sweep",
    "unanswered_calls",
    "validate_rule",
]
