"""Domain events reach the dispatcher the database was given: `bootstrap` wires the product's
subscriber table (the `db` fixture has it); a test may hand its own table, or an empty one."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from leadms_tui import bootstrap
from leadms_tui.domain.audit import SYSTEM
from leadms_tui.domain.db import Database
from leadms_tui.domain.events import CallSaved, Dispatcher, LeadCreated
from leadms_tui.domain.leads.intake import LeadCreate, create_lead
from leadms_tui.domain.models import CallOutcome, Lead, Rule, RuleFiring
from leadms_tui.domain.work.calls import preview_call
from leadms_tui.domain.work.rules import save_rule

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


@pytest.fixture
def meta_to_bruno(db, team):
    """A rule the product's table runs when a lead arrives: Meta leads go to bruno."""
    rule = Rule(
        name="Meta leads go to bruno",
        trigger="lead_created",
        trigger_values=["meta_ads"],
        action="reassign",
        action_params={"to": "bruno"},
    )
    db.write(lambda s: save_rule(s, rule, actor=SYSTEM, now=NOW))


def _meta_lead(database: Database, name: str) -> int:
    data = LeadCreate(name=name, email=f"{name}@example.com", channel="meta_ads")
    return create_lead(database, data, actor=SYSTEM, now=NOW).lead_id


def _owner_and_firings(db: Database, lead_id: int) -> tuple[int | None, int]:
    with db.reading() as s:
        firings = s.scalar(select(func.count()).where(RuleFiring.lead_id == lead_id))
        return s.get(Lead, lead_id).owner_id, firings


def _opened_with(db: Database, dispatcher: Dispatcher | None) -> Database:
    """Another handle on the test's database, its events going to `dispatcher`."""
    if dispatcher is None:
        return Database(db.url)
    return bootstrap.database(db.url, dispatcher=dispatcher)


def test_the_products_dispatcher_runs_the_subscriber_table(db, team, meta_to_bruno):
    lead_id = _meta_lead(db, "wired")
    assert _owner_and_firings(db, lead_id) == (team["bruno"].id, 1)


def test_a_publish_reaches_a_fake_table_inside_the_writing_transaction(db, team, meta_to_bruno):
    heard = []

    def record(session, event, at, effects):
        # the lead is not committed yet: the handler runs in the service's transaction
        heard.append((event, at, session.get(Lead, event.lead_id).name))

    fake = _opened_with(db, Dispatcher(handlers={LeadCreated: [record]}))
    try:
        lead_id = _meta_lead(fake, "faked")
    finally:
        fake.dispose()
    assert heard == [(LeadCreated(lead_id, "meta_ads"), NOW, "faked")]
    assert _owner_and_firings(db, lead_id) == (None, 0)  # the product's rules never heard


def test_an_empty_dispatcher_runs_no_handler(db, team, meta_to_bruno):
    empty = _opened_with(db, Dispatcher())
    try:
        lead_id = _meta_lead(empty, "unheard")
        with empty.reading() as s:
            effects = preview_call(s, lead_id, CallOutcome.NO_ANSWER, now=NOW)
    finally:
        empty.dispose()
    assert _owner_and_firings(db, lead_id) == (None, 0)
    assert (effects.followup_due, effects.descriptions) == (None, [])


def test_a_preview_asks_the_previews_table_and_never_the_handlers(db, team):
    def must_not_run(session, event, at, effects):
        raise AssertionError("a preview ran a handler")

    def suggest(session, event, at, effects):
        effects.followup_due, effects.descriptions = at, [f"heard {event.outcome}"]

    dispatcher = Dispatcher(handlers={CallSaved: [must_not_run]}, previews={CallSaved: [suggest]})
    lead_id = _meta_lead(db, "previewed")
    fake = _opened_with(db, dispatcher)
    try:
        with fake.reading() as s:
            effects = preview_call(s, lead_id, CallOutcome.BUSY, now=NOW)
    finally:
        fake.dispose()
    assert (effects.followup_due, effects.descriptions) == (NOW, ["heard busy"])


def test_a_database_without_a_dispatcher_refuses_to_publish_and_writes_nothing(db, team):
    bare = _opened_with(db, None)
    try:
        with pytest.raises(RuntimeError, match="no event dispatcher"):
            _meta_lead(bare, "lost")
    finally:
        bare.dispose()
    with db.reading() as s:
        assert s.scalar(select(func.count()).select_from(Lead)) == 0
