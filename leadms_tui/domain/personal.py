"""Which stored text is a person's own (identity and free text), in one table: the audit
trail keeps these values apart (`audit_events.personal`) so `people erase` can clear them
without touching the trail, and the erase clears the same columns in the base tables.

`COLUMNS` lists every text and JSON column of every table, each either `PERSONAL` or with
the reason it is not; a test walks the models and fails on a column missing here.
"""

from typing import Any

PERSONAL = "personal"
MARK = "personal"  # what `changes` holds for a personal field: its values are in `personal`
ERASED = "erased"  # what an erased NOT NULL text holds, and what an erased value reads as

_CONFIG = "team configuration, written by admins"
_STAFF = "a team member's account, not a lead's or client's"
_ENUM = "one of a fixed set of values"
_NUMBER = "a record number: kept so numbers are never reused or lost"

COLUMNS: dict[str, dict[str, str]] = {
    "leads": {
        "number": _NUMBER, "name": PERSONAL, "phone_raw": PERSONAL, "phone_e164": PERSONAL,
        "phone_flag": _ENUM, "email": PERSONAL, "email_lower": PERSONAL, "channel": _ENUM,
        "external_id": PERSONAL, "first_message": PERSONAL, "status": _ENUM,
        "lost_reason": "the reason from the team's list, counted in reports",
        "search_name": PERSONAL,
    },
    "inquiries": {
        "channel": _ENUM, "message": PERSONAL,
        "dedupe_key": PERSONAL,  # a WhatsApp message id (wamid) encodes the sender's number
        "payload_ref": PERSONAL, "attributes": PERSONAL,
    },
    "calls": {"outcome": _ENUM, "note": PERSONAL},
    "follow_ups": {"reason": PERSONAL, "state": _ENUM},
    "meetings": {
        "kind": _ENUM, "place": PERSONAL, "video_link": PERSONAL, "notes": PERSONAL,
        "outcome": _ENUM,
    },
    "clients": {
        "number": _NUMBER, "name": PERSONAL, "phone_raw": PERSONAL, "phone_e164": PERSONAL,
        "email": PERSONAL, "email_lower": PERSONAL, "status": _ENUM, "search_name": PERSONAL,
    },
    "sales": {
        "currency": _ENUM, "product": "the plan sold, from the team's price list (reports)",
        "previous_status": _ENUM, "reverse_reason": PERSONAL,
    },
    "commissions": {"state": _ENUM},
    "onboarding_tasks": {"title": "copied from the team's onboarding step", "state": _ENUM},
    "field_values": {"value_text": PERSONAL, "value_key": PERSONAL},
    "stored_files": {
        "sha256": "a digest of the content (the row goes with its field value)",
        "mime_type": _ENUM,
    },
    "notifications": {"message": PERSONAL},
    "outbound_messages": {
        "channel": _ENUM, "recipient": PERSONAL, "kind": _ENUM, "body": PERSONAL,
        "template_name": _CONFIG, "template_language": _ENUM, "parameters": PERSONAL,
        "tag": _ENUM, "state": _ENUM, "provider_id": "Meta's message id, to match statuses",
        "error_title": "Meta's error title for its code", "error_detail": PERSONAL,
    },
    "message_attempts": {"outcome": _ENUM, "provider_id": "Meta's message id"},
    "phone_calls": {
        "provider": _ENUM, "provider_call_id": "the phone system's call id",
        "direction": _ENUM, "extension": _STAFF, "remote_number": PERSONAL,
        "remote_e164": PERSONAL, "state": _ENUM, "end_status": _ENUM, "recording_url": PERSONAL,
    },
    "dial_requests": {
        "extension": _STAFF, "number": PERSONAL, "state": _ENUM, "detail": PERSONAL,
    },
    "lead_merges": {"moved": "row ids per table", "before": PERSONAL},
    "intake_rejects": {"channel": _ENUM, "reason": PERSONAL, "payload": PERSONAL},
    "response_steps": {"action": _ENUM, "detail": "which rep the ladder told or moved it to"},
    "response_clocks": {"touched_by": _ENUM},
    "rule_firings": {"subject": "a row's kind and id", "occurrence": _ENUM},
    "assignment_waits": {"reason": "why no rep was eligible (team terms)"},
    "audit_events": {
        "actor": _STAFF, "action": _ENUM, "entity": _ENUM, "entity_id": "a row id",
        "changes": "the trail: personal values are moved to `personal` by audit.event()",
        "personal": PERSONAL,
    },
    "audit_seals": {"digest": "a sha256 of the trail"},
    "users": {
        "username": _STAFF, "display_name": _STAFF, "role": _ENUM, "languages": _STAFF,
        "channels": _STAFF, "availability": _ENUM, "working_hours": _STAFF,
        "extension": _STAFF, "password_hash": _STAFF,
    },
    "access_tokens": {"kind": _ENUM, "name": _STAFF, "token_hash": _STAFF},
    "login_failures": {"username": _STAFF, "terminal": _STAFF},
    "settings": {"key": _CONFIG, "value": _CONFIG},
    "field_definitions": {
        "entity": _ENUM, "key": _CONFIG, "label": _CONFIG, "kind": _ENUM, "options": _CONFIG,
        "default": _CONFIG, "help_text": _CONFIG, "section": _CONFIG,
    },
    "commission_plans": {"name": _CONFIG, "product_filter": _CONFIG},
    "onboarding_templates": {"name": _CONFIG},
    "onboarding_steps": {"title": _CONFIG, "owner": _ENUM, "owner_role": _ENUM},
    "message_templates": {
        "name": _CONFIG, "language": _ENUM, "category": _ENUM, "status": _ENUM,
        "body": _CONFIG, "components": _CONFIG,
    },
    "quick_replies": {"title": _CONFIG, "body": _CONFIG},
    "rules": {
        "name": _CONFIG, "trigger": _ENUM, "trigger_values": _CONFIG, "conditions": _CONFIG,
        "action": _ENUM, "action_params": _CONFIG,
    },
    "sequence_counters": {"name": _CONFIG},
    "saved_filters": {
        "name": _STAFF,
        "criteria": "a team member's saved search (a search naming a person is not erased)",
    },
}  # fmt: skip

# audit entity → the table its rows are in (entities of other tables hold no personal field)
AUDITED_TABLES = {
    "lead": "leads", "inquiry": "inquiries", "call": "calls", "followup": "follow_ups",
    "meeting": "meetings", "client": "clients", "sale": "sales", "message": "outbound_messages",
    "phone_call": "phone_calls", "dial": "dial_requests", "duplicate": "duplicate_dismissals",
}  # fmt: skip
_ALL_PERSONAL_ACTIONS = ("fields.",)  # every key of a fields.update is a field's value


def personal_columns(table: str) -> frozenset[str]:
    """The personal columns of `table`."""
    return frozenset(c for c, why in COLUMNS.get(table, {}).items() if why == PERSONAL)


_BY_ENTITY = {entity: personal_columns(table) for entity, table in AUDITED_TABLES.items()}


def is_personal(action: str, entity: str, field: str) -> bool:
    """Whether an audit event's `field` holds a person's own values."""
    if action.startswith(_ALL_PERSONAL_ACTIONS):
        return True
    return field in _BY_ENTITY.get(entity, frozenset())


def split(
    action: str, entity: str, changes: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """`changes` as the trail keeps it (personal fields marked) and the personal values
    (None when there are none)."""
    personal = {k: v for k, v in changes.items() if is_personal(action, entity, k)}
    if not personal:
        return changes, None
    return {k: MARK if k in personal else v for k, v in changes.items()}, personal
