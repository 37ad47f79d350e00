"""PostgreSQL: a new lead's number, row, first inquiry and audit event in one statement.

The day's counter row stays locked from the number's upsert until commit, so every
round trip inside that window caps intake for the whole team (with seven statements
after the upsert, ~600 leads/s whatever the number of writers). Here the upsert and
the three inserts are one statement of data-modifying CTEs: the lock is held for that
statement and the commit. SQLite needs none of this (its write lock covers the whole
transaction), and takes the same steps one statement at a time (see `intake_lead`).
"""

from typing import Any

from sqlalchemy import JSON, Connection, String, bindparam, case, cast, func, insert, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import JSONB

from leadms_tui.domain.models import AuditEvent, DayCounter, Inquiry, Lead, table_of

_COUNTERS = table_of(DayCounter)
_LEADS = table_of(Lead)
_INQUIRIES = table_of(Inquiry)
_EVENTS = table_of(AuditEvent)
NUMBERED = ("number", "seq")  # the lead columns this statement fills in
_EVENT_COLUMNS = ("at", "actor_id", "actor", "action", "entity")


def _statement():  # type: ignore[no-untyped-def]
    counter = (
        postgresql.insert(_COUNTERS)
        .values(business_date=bindparam("day"), last_seq=1)
        .on_conflict_do_update(
            index_elements=[_COUNTERS.c.business_date],
            set_={"last_seq": _COUNTERS.c.last_seq + 1},
        )
        .returning(_COUNTERS.c.last_seq)
        .cte("counter")
    )
    seq = counter.c.last_seq
    digits = cast(seq, String)
    number = bindparam("prefix", type_=String) + case(
        (seq < 1000, func.lpad(digits, 3, "0")), else_=digits
    )  # format_lead_number in SQL: 007, 042, 999, 1000
    lead_columns = [c.key for c in _LEADS.columns if c.key not in ("id", *NUMBERED)]
    lead = (
        insert(_LEADS)
        .from_select(
            [*NUMBERED, *lead_columns],
            select(
                number,
                seq,
                *(bindparam(f"lead_{key}", type_=_LEADS.c[key].type) for key in lead_columns),
            ),
        )
        .returning(_LEADS.c.id, _LEADS.c.number, _LEADS.c.seq)
        .cte("lead")
    )
    inquiry_columns = [c.key for c in _INQUIRIES.columns if c.key not in ("id", "lead_id")]
    inquiry = insert(_INQUIRIES).from_select(
        ["lead_id", *inquiry_columns],
        select(
            lead.c.id,
            *(bindparam(f"inquiry_{k}", type_=_INQUIRIES.c[k].type) for k in inquiry_columns),
        ),
    )
    numbered_changes = func.jsonb_build_object(
        "id", func.jsonb_build_array(None, lead.c.id),
        "number", func.jsonb_build_array(None, lead.c.number),
        "seq", func.jsonb_build_array(None, lead.c.seq),
    )  # fmt: skip
    changes = cast(bindparam("changes", type_=_EVENTS.c.changes.type), JSONB).op("||")(
        numbered_changes
    )
    event_columns = list(_EVENT_COLUMNS)
    event = insert(_EVENTS).from_select(
        [*event_columns, "entity_id", "changes", "personal"],
        select(
            *(bindparam(f"event_{k}", type_=_EVENTS.c[k].type) for k in event_columns),
            cast(lead.c.id, String),
            cast(changes, JSON),
            bindparam("personal", type_=_EVENTS.c.personal.type),
        ),
    )
    return select(lead.c.id, lead.c.seq).add_cte(inquiry.cte("inquiry")).add_cte(event.cte("event"))


_INSERT_NUMBERED = _statement()


def insert_numbered(
    conn: Connection,
    *,
    prefix: str,
    lead: dict[str, Any],
    inquiry: dict[str, Any],
    event: dict[str, Any],
) -> tuple[int, int]:
    """Number and insert the lead, its inquiry and its audit event; returns (id, seq).

    `lead` holds every column but id, number and seq; `inquiry` every column but id and
    lead_id; `event` the audit event's at, actor_id, actor, action, entity, its changes
    without id, number and seq (added here once known) and its personal values.
    """
    params: dict[str, Any] = {"day": lead["business_date"], "prefix": prefix}
    params.update({f"lead_{key}": value for key, value in lead.items()})
    params.update({f"inquiry_{key}": value for key, value in inquiry.items() if key != "lead_id"})
    params.update({f"event_{key}": value for key, value in event.items() if key in _EVENT_COLUMNS})
    params["changes"] = event["changes"]
    params["personal"] = event["personal"]  # the name, phone, email... kept apart (audit.event)
    lead_id, seq = conn.execute(_INSERT_NUMBERED, params).one()
    return lead_id, seq
