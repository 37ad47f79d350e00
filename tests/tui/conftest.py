"""TUI fixtures: a frozen clock, a seeded database and a helper that waits for workers."""

from datetime import UTC, datetime, timedelta

import pytest
from textual.widgets import DataTable
from textual.worker import WorkerCancelled

from leadms_tui.app import LeadMSApp
from leadms_tui.domain import clock
from leadms_tui.domain.audit import SYSTEM
from leadms_tui.domain.leads.intake import LeadCreate, create_lead
from leadms_tui.domain.models import FollowUp, Role
from leadms_tui.domain.team.settings import set_setting
from leadms_tui.domain.team.users import add_user
from leadms_tui.widgets.field_view import prepare_image_previews
from leadms_tui.widgets.key_footer import KeyFooter

prepare_image_previews()  # as run_tui does when the database has image fields

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)  # a Wednesday, 10:00 in London


@pytest.fixture
def frozen_clock():
    clock.set_clock(lambda: NOW)
    yield NOW
    clock.set_clock(None)


@pytest.fixture
def seeded(db, frozen_clock):
    """Two reps and a manager; ana owns a lead with a follow-up due today and a new lead."""

    def seed(session):
        set_setting(session, "timezone", "Europe/London", actor=SYSTEM)
        set_setting(session, "phone_region", "GB", actor=SYSTEM)
        users = {
            name: add_user(
                session,
                name,
                role=role,
                actor=SYSTEM,
                password="secret",
                display_name=name.capitalize(),
            )
            for name, role in [("ana", Role.REP), ("bruno", Role.REP), ("maria", Role.MANAGER)]
        }
        return users

    users = db.write(seed)
    ana = users["ana"]
    due = create_lead(
        db,
        LeadCreate(name="Dora Due", phone="07700 900111", channel="website", owner_id=ana.id),
        actor=ana.actor,
        now=NOW - timedelta(days=2),
    )
    fresh = create_lead(
        db,
        LeadCreate(name="Nina New", phone="07700 900222", channel="whatsapp", owner_id=ana.id),
        actor=ana.actor,
        now=NOW - timedelta(hours=2, minutes=10),
    )
    other = create_lead(
        db,
        LeadCreate(
            name="Otto Other", phone="07700 900333", channel="meta_ads", owner_id=users["bruno"].id
        ),
        actor=ana.actor,
        now=NOW - timedelta(hours=1),
    )
    db.write(
        lambda s: s.add(
            FollowUp(
                lead_id=due.lead_id,
                owner_id=ana.id,
                reason="Call back",
                due_at=NOW - timedelta(hours=1),
            )
        )
    )
    return {"users": users, "due": due, "fresh": fresh, "other": other}


@pytest.fixture
def make_app(db, seeded):
    def make(username: str = "ana", **kwargs) -> LeadMSApp:
        return LeadMSApp(db, signed_in=seeded["users"][username], **kwargs)

    return make


def _drawn(screen) -> bool:
    footers_current = all(footer.is_current for footer in screen.query(KeyFooter))
    tables_measured = not any(
        table._require_update_dimensions or table._updated_cells
        for table in screen.query(DataTable)
    )
    return footers_current and tables_measured


async def _workers_done(app) -> None:
    """Wait for every worker; one cancelled by a newer load (exclusive workers) is no error."""
    for _ in range(20):
        try:
            await app.workers.wait_for_complete()
            return
        except WorkerCancelled:
            continue


async def settle(pilot) -> None:
    """Let messages run and every thread worker finish (pilot.pause alone doesn't wait)."""
    for _ in range(3):
        await pilot.pause()
        await _workers_done(pilot.app)
    await pilot.pause()
    # The footer rebuilds its keys after the data arrives (actions become enabled), and a
    # DataTable measures its new rows when its queue is idle (under load, after the pause).
    for _ in range(500):  # up to 10 s: with several test workers the machine is busy
        if _drawn(pilot.app.screen):
            break
        await pilot.pause(0.02)
    for field in pilot.app.screen.query("Input, TextArea"):  # a blinking cursor: flaky snapshots
        field.cursor_blink = False
    await pilot.pause()
