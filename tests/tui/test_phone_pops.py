"""The phone bridge on screen (issue 29): a call on a rep's extension opens the person's lead
in their open TUI; an unknown caller opens the new-lead modal with the number filled in; a
call ending unlogged opens the call modal with what the phone system knows and the outcome
proposed, and `enter` saves it linked to the phone call. Events come from another
connection, as the bridge process writes them; both engines."""

from datetime import timedelta

from sqlalchemy import select

from leadms_tui import bootstrap
from leadms_tui.app import LeadMSApp
from leadms_tui.domain.audit import SYSTEM
from leadms_tui.domain.models import Call, CallDirection, CallOutcome, PhoneCallState
from leadms_tui.domain.phone.bridge import (
    EndStatus,
    PhoneEvent,
    recent_calls_of,
    record_phone_event,
)
from leadms_tui.domain.team.users import update_user
from leadms_tui.phone_pops import PhonePops
from leadms_tui.screens.lead_detail import LeadDetailScreen
from leadms_tui.screens.modals.call_modal import CallModal
from leadms_tui.screens.modals.new_lead_modal import NewLeadModal
from tests.tui.conftest import NOW, settle
from tests.tui.test_live import _until


def _bridge(database, call_id, state, *, number="07700 900111", **values):
    values.setdefault("direction", CallDirection.OUTBOUND)
    event = PhoneEvent("asterisk", call_id, state, NOW + timedelta(seconds=values.pop("after", 0)),
                       extension="201", remote_number=number, **values)  # fmt: skip
    return database.write(lambda s: record_phone_event(s, event))


async def test_a_call_pops_the_lead_then_the_call_modal_prefilled(db, seeded):
    ana = db.write(lambda s: update_user(s, "ana", actor=SYSTEM, extension="201"))
    bridge = bootstrap.database(db.url)  # the bridge process's own connections
    app = LeadMSApp(db, signed_in=ana)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            _bridge(bridge, "c1", PhoneCallState.RINGING)
            await _until(pilot, lambda: isinstance(app.screen, LeadDetailScreen), "the lead")
            assert app.screen.lead_id == seeded["due"].lead_id
            _bridge(bridge, "c1", PhoneCallState.ENDED, after=20, end_status=EndStatus.BUSY,
                    recording_url="https://pbx.example/rec/c1.wav")  # fmt: skip
            await _until(pilot, lambda: isinstance(app.screen, CallModal), "the call modal")
            await settle(pilot)
            modal = app.screen
            assert modal.outcome == CallOutcome.BUSY
            assert "Phone: outbound" in str(modal.query_one("#phone-call").render())
            await pilot.press("enter")
            await _until(pilot, lambda: not isinstance(app.screen, CallModal), "saved")
            await settle(pilot)
            with db.reading() as session:
                call = session.execute(select(Call)).scalars().all()[-1]
            assert (call.outcome, call.phone_call_id, call.called_at) == (
                CallOutcome.BUSY, 1, NOW
            )  # fmt: skip
    finally:
        bridge.dispose()


async def test_an_unknown_caller_opens_the_new_lead_modal_with_the_number(db, seeded):
    ana = db.write(lambda s: update_user(s, "ana", actor=SYSTEM, extension="201"))
    app = LeadMSApp(db, signed_in=ana)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        _bridge(db, "c2", PhoneCallState.RINGING, number="+1 202 555 0143",
                direction=CallDirection.INBOUND)  # fmt: skip
        await _until(pilot, lambda: isinstance(app.screen, NewLeadModal), "the new-lead modal")
        await settle(pilot)
        assert app.screen.query_one("#phone").value == "+1 202 555 0143"


def test_each_call_pops_once_at_its_start_and_once_at_its_end_when_unlogged(db, seeded):
    db.write(lambda s: update_user(s, "ana", actor=SYSTEM, extension="201"))
    pops = PhonePops(since=NOW)
    ana_id = seeded["users"]["ana"].id

    def decide():
        with db.reading() as session:
            calls = recent_calls_of(session, ana_id, since=NOW)
        return [(pop.action, pop.call.id) for pop in pops.decide(calls)]

    first = _bridge(db, "a", PhoneCallState.RINGING)
    assert decide() == [("open_lead", first.phone_call_id)]
    _bridge(db, "a", PhoneCallState.ANSWERED, after=3)
    assert decide() == []
    _bridge(db, "a", PhoneCallState.ENDED, after=9)
    assert decide() == [("log_call", first.phone_call_id)]
    assert decide() == []
    ended_at_once = _bridge(db, "b", PhoneCallState.ENDED, after=30, end_status=EndStatus.NO_ANSWER)
    # ended before the terminal heard of it: no start pop after the end
    assert decide() == [("log_call", ended_at_once.phone_call_id)]
