"""Merging two leads of one person: how long `people merge` takes when each has many calls.

On the big database, each run takes in two fresh leads of one made-up person (a form lead and
a chat lead, same email) and gives each `calls` logged calls (inserted in one statement: the
benchmark is the merge, not the logging), then times `merge_leads` in its own transaction,
commit included: every child table moved, the field values, clocks and waits looked at, the
merge record with every moved id, the audit row. The baseline moves the same rows of another
fresh pair by hand: one `UPDATE ... SET lead_id` per child table and the `merged_into_id`,
in one transaction, with no record and no audit (what a merge that cannot be undone costs).
"""

import time
from datetime import datetime, timedelta

from sqlalchemy import insert, update

from bench.common import Result, engine_of, median
from leadms_tui import bootstrap
from leadms_tui.domain import clock
from leadms_tui.domain.audit import SYSTEM
from leadms_tui.domain.db import Database
from leadms_tui.domain.leads.intake import LeadCreate, create_lead, receive_message
from leadms_tui.domain.models import Call, CallOutcome, Channel, Lead, table_of
from leadms_tui.domain.people.merge import _BY_LEAD_ID, merge_leads

NAME = "people: merge two leads"  # each with `calls` calls (the note says how many)
TARGET_MS = 200  # the issue: on SQLite
CALLS = table_of(Call)
LEADS = table_of(Lead)


def run(url: str, *, moment: datetime, calls: int, runs: int) -> list[Result]:
    engine = engine_of(url)
    clock.set_clock(None)
    db = bootstrap.database(url)
    try:
        merges, manual = [], []
        for n in range(runs):
            keep, other = _pair(db, f"m{n}", calls, moment)
            started = time.perf_counter()
            db.write(lambda s, k=keep, o=other: merge_leads(s, k[1], o[1], actor=SYSTEM))
            merges.append((time.perf_counter() - started) * 1000)
            keep, other = _pair(db, f"b{n}", calls, moment)
            started = time.perf_counter()
            db.write(lambda s, k=keep, o=other: _by_hand(s, k[0], o[0]))
            manual.append((time.perf_counter() - started) * 1000)
    finally:
        db.dispose()
    figure, baseline = median(merges), median(manual)
    on_sqlite = engine == "sqlite"
    return [
        Result(
            engine,
            NAME,
            figure,
            "ms",
            baseline=baseline,
            versus="the same rows moved by hand-written UPDATEs",
            target=f"< {TARGET_MS} ms on SQLite" if on_sqlite else "",
            met=figure < TARGET_MS if on_sqlite else None,
            note=(
                f"{calls:,} calls on each lead; median of {runs} merges (worst "
                f"{max(merges):.0f} ms), each in its own transaction with the merge record and "
                f"audit; the baseline's worst {max(manual):.0f} ms"
            ),
        )
    ]


def _pair(db: Database, tag: str, calls: int, moment: datetime) -> tuple[tuple[int, str], ...]:
    """Two fresh leads of one person, `calls` calls each: ((id, number), (id, number))."""
    email = f"merge.{tag}.{time.time_ns()}@example.com"
    form = create_lead(
        db, LeadCreate(name="Mira Okafor", email=email, channel=Channel.WEBSITE), actor=SYSTEM
    )
    chat = db.write(
        lambda s: receive_message(
            s,
            LeadCreate(name="Mira", email=email, channel=Channel.WHATSAPP,
                       external_id=f"44{time.time_ns() % 10**10:010d}", message="Hi"),
            actor=SYSTEM,
        )
    )  # fmt: skip
    for lead_id in (form.lead_id, chat.lead_id):
        rows = [
            {"lead_id": lead_id, "outcome": CallOutcome.NO_ANSWER,
             "called_at": moment - timedelta(minutes=i), "created_at": moment}
            for i in range(calls)
        ]  # fmt: skip
        db.write(lambda s, r=rows: s.execute(insert(CALLS), r))
    return (form.lead_id, form.number), (chat.lead_id, chat.number)


def _by_hand(session, keep_id: int, other_id: int) -> None:  # type: ignore[no-untyped-def]
    for table in _BY_LEAD_ID.values():
        session.execute(update(table).where(table.c.lead_id == other_id).values(lead_id=keep_id))
    session.execute(update(LEADS).where(LEADS.c.id == other_id).values(merged_into_id=keep_id))
