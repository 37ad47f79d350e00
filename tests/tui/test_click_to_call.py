"""Click to call through the phone bridge (issue 29): `d` in a rep's call modal leaves a dial
request (audited); the bridge process takes it and sends `Originate` (the rep's extension,
then the lead's number) to the PBX on its live connection, recording the answer; a stale
request is not dialled; a rep without an extension is told. Both engines."""

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select

from leadms_tui.app import LeadMSApp
from leadms_tui.domain.audit import SYSTEM
from leadms_tui.domain.errors import ValidationError
from leadms_tui.domain.models import AuditEvent, DialRequest
from leadms_tui.domain.phone.dialing import STALE_AFTER, request_dial, take_pending
from leadms_tui.domain.team.users import update_user
from leadms_tui.phone.ami import AmiClient, AmiConfig, BridgeStats, EventWriter, dial_loop
from leadms_tui.screens.modals.call_modal import CallModal
from leadms_tui.standins.ami import AmiStandIn
from tests.tui.conftest import NOW, settle
from tests.tui.test_live import _until


def test_a_request_is_taken_once_and_a_stale_one_expires(db, seeded):
    ana = db.write(lambda s: update_user(s, "ana", actor=SYSTEM, extension="201"))
    lead_id = seeded["due"].lead_id
    db.write(lambda s: request_dial(s, lead_id, actor=ana.actor, now=NOW))
    db.write(lambda s: request_dial(s, lead_id, actor=ana.actor, now=NOW - STALE_AFTER * 2))
    taken = db.write(lambda s: take_pending(s, now=NOW + timedelta(seconds=1)))
    assert [(d.extension, d.number) for d in taken] == [("201", "+447700900111")]
    assert db.write(lambda s: take_pending(s, now=NOW + timedelta(seconds=2))) == []
    with db.reading() as session:
        states = sorted(session.execute(select(DialRequest.state)).scalars())
        audited = session.execute(
            select(AuditEvent.action).where(AuditEvent.action == "dial.request")
        ).all()
    assert states == ["expired", "sent"] and len(audited) == 2
    with pytest.raises(ValidationError, match="no extension"):
        db.write(lambda s: request_dial(s, lead_id, actor=seeded["users"]["bruno"].actor))


def test_the_bridge_originates_what_the_reps_asked_for(db, seeded):
    ana = db.write(lambda s: update_user(s, "ana", actor=SYSTEM, extension="201"))
    db.write(lambda s: request_dial(s, seeded["due"].lead_id, actor=ana.actor))

    async def run() -> AmiStandIn:
        stand_in = AmiStandIn([])
        port = await stand_in.start()
        writer = EventWriter(lambda event: None, BridgeStats())
        client = AmiClient(AmiConfig(port=port, username="leadms", secret="s3cret"), writer)
        stop = asyncio.Event()
        tasks = [asyncio.create_task(client.run(stop=stop)),
                 asyncio.create_task(dial_loop(client, db, context="from-internal", stop=stop,
                                               interval=0.05))]  # fmt: skip
        for _ in range(200):
            if stand_in.originated:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.2)
        stop.set()
        await asyncio.gather(*tasks)
        writer.close()
        await stand_in.stop()
        return stand_in

    stand_in = asyncio.run(run())
    [action] = stand_in.originated
    assert (action.get("Channel"), action.get("Exten"), action.get("Context")) == (
        "PJSIP/201", "+447700900111", "from-internal"
    )  # fmt: skip
    with db.reading() as session:
        request = session.execute(select(DialRequest)).scalar_one()
    assert (request.state, request.detail) == ("sent", "Originate successfully queued")


async def test_d_in_the_call_modal_asks_the_bridge(db, seeded):
    ana = db.write(lambda s: update_user(s, "ana", actor=SYSTEM, extension="201"))
    app = LeadMSApp(db, signed_in=ana)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.push_screen(CallModal(seeded["due"].lead_id, "Dora Due"))
        await settle(pilot)
        await pilot.press("d")
        await _until(pilot, lambda: "rings" in str(app.screen.query_one("#dial-hint").render()),
                     "the dial hint")  # fmt: skip
    with db.reading() as session:
        request = session.execute(select(DialRequest)).scalar_one()
    assert (request.extension, request.number, request.state) == ("201", "+447700900111", "pending")
