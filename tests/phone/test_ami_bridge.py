"""The AMI bridge against the stand-in manager on loopback, storing into both engines: a recorded
day of 200 calls replayed through the real client (matched to the right lead, durations, no
duplicates), a connection dropped mid-log, repeated and reordered events, a refused login, a
slow database, and the wire format's edges."""

import asyncio
import json
import logging
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from leadms_tui.domain.audit import SYSTEM
from leadms_tui.domain.leads.intake import LeadCreate, create_lead
from leadms_tui.domain.models import Lead, LeadStatus, PhoneCall
from leadms_tui.phone.ami import (
    AmiClient,
    AmiConfig,
    AmiLoginError,
    AmiParser,
    BridgeStats,
    CallTracker,
    EventWriter,
    Extensions,
    database_store,
)
from leadms_tui.standins.ami import AmiStandIn, ReplayPlan, read_log
from tests.phone.make_ami_log import DATA, UNKNOWN_FROM, make_log, number

LOG = DATA / "ami_200_calls.log"
EXPECTED = json.loads((DATA / "ami_200_calls.json").read_text())
RECORDINGS = "https://pbx.example/rec/{file}"


def test_the_shipped_log_is_what_the_script_writes():
    log, expected = make_log(200, 29)
    assert LOG.read_text() == log
    assert len(expected) == 200 and {e.direction for e in expected} == {"inbound", "outbound"}
    assert {e.end_status for e in expected} == {"answered", "busy", "no_answer"}


def _leads(db) -> dict[int, int]:
    """A lead for each known person (numbers written as people type them); every tenth also
    has an older, lost lead. The lead each person's calls must match."""
    right = {}
    at = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
    for person in range(UNKNOWN_FROM):
        e164 = number(person)
        typed = [e164, "0" + e164[3:], f"0{e164[3:7]} {e164[7:]}"][person % 3]
        if person % 10 == 0:
            old = create_lead(
                db, LeadCreate(name=f"Old {person}", phone=typed, channel="website"),
                actor=SYSTEM, now=at - timedelta(days=30),
            ).lead_id  # fmt: skip
            db.write(lambda s, old=old: setattr(s.get(Lead, old), "status", LeadStatus.LOST))
        data = LeadCreate(name=f"Person {person}", phone=typed, channel="website")
        right[person] = create_lead(
            db, data, actor=SYSTEM, now=at + timedelta(minutes=person)
        ).lead_id
    return right


async def _replay(db, plan: ReplayPlan, **config) -> tuple[BridgeStats, AmiStandIn]:
    """The recorded log through the stand-in into the real client, until all is stored."""
    stand_in = AmiStandIn(read_log(LOG), plan=plan)
    port = await stand_in.start()
    stats = BridgeStats()
    writer = EventWriter(database_store(db), stats)
    settings = dict(port=port, username="leadms", secret="s3cret", backoff_first=0.05,
                    events="call,cdr,dialplan", recording_url=RECORDINGS) | config  # fmt: skip
    client = AmiClient(AmiConfig(**settings), writer)
    stop = asyncio.Event()
    running = asyncio.create_task(client.run(stop=stop))
    await asyncio.wait_for(stand_in.finished.wait(), 120)
    seen = -1
    while seen != stats.received:  # until the client has read the last of it
        seen = stats.received
        await asyncio.sleep(0.3)
    stop.set()
    await running
    await asyncio.to_thread(writer.join)
    writer.close()
    await stand_in.stop()
    return stats, stand_in


def _check_calls(db, right: dict[int, int], team) -> dict[str, float]:
    with db.reading() as session:
        rows = {r.provider_call_id: r for r in session.execute(select(PhoneCall)).scalars()}
        total = session.scalar(select(func.count()).select_from(PhoneCall))
    assert total == len(rows)  # no duplicates
    stored = [e for e in EXPECTED if e["person"] is not None]
    assert set(rows) == {e["call_id"] for e in stored}  # the two withheld ones skipped
    matched = worst = 0.0
    users = {"201": team["ana"].id, "202": team["bruno"].id}
    for e in stored:
        row = rows[e["call_id"]]
        matched += row.lead_id == right.get(e["person"])
        assert (row.direction, row.extension, row.user_id) == (
            e["direction"], e["extension"], users[e["extension"]]
        )  # fmt: skip
        assert (row.state, row.end_status, row.remote_e164) == ("ended", e["end_status"], e["e164"])
        if e["end_status"] == "answered":
            worst = max(worst, abs(row.duration_seconds - e["talk_seconds"]))
            assert row.recording_url == RECORDINGS.format(file=e["recording"])
        else:
            assert row.duration_seconds == 0 and row.recording_url is None
    rate = matched / len(stored)
    assert rate >= 0.99
    assert worst <= 1
    return {"rate": rate, "worst": worst}


def test_a_recorded_day_of_200_calls_is_matched_timed_and_stored_once(db, phones, caplog):
    right = _leads(db)
    caplog.set_level(logging.WARNING, logger="leadms.phone.ami")
    stats, stand_in = asyncio.run(_replay(db, ReplayPlan()))
    figures = _check_calls(db, right, phones)
    print(f"AMI replay ({db.url.split(':')[0]}): {figures}, {stats}")
    assert figures == {"rate": 1.0, "worst": pytest.approx(figures["worst"])}
    assert stand_in.logins == ["leadms"] and stats.gaps == [] and stats.dropped == 0
    skipped = [r for r in caplog.records if r.getMessage().startswith("skipped")]
    assert len(skipped) == 2  # once per call, however many of its events were refused
    assert "no readable number anonymous" in skipped[0].getMessage()


def test_a_dropped_connection_repeated_and_reordered_events_lose_and_double_nothing(
    db, phones, caplog
):
    right = _leads(db)
    caplog.set_level(logging.WARNING, logger="leadms.phone.ami")
    plan = ReplayPlan(drop_after=(700, 1600), rewind=40, repeat=0.05, reorder=0.1)
    stats, stand_in = asyncio.run(_replay(db, plan))
    _check_calls(db, right, phones)
    assert stand_in.connections == 3 and stand_in.logins == ["leadms"] * 3
    assert len(stats.gaps) == 2 and all(gap < 5 for gap in stats.gaps)
    gaps = [r.getMessage() for r in caplog.records if "after a gap of" in r.getMessage()]
    assert len(gaps) == 2


def test_a_refused_login_stops_with_the_managers_reason(db):
    async def run():
        stand_in = AmiStandIn([])
        port = await stand_in.start()
        writer = EventWriter(lambda event: None, BridgeStats())
        client = AmiClient(AmiConfig(port=port, username="leadms", secret="wrong"), writer)
        try:
            with pytest.raises(AmiLoginError, match="refused user leadms: Authentication failed"):
                await asyncio.wait_for(client.run(), 10)
        finally:
            await stand_in.stop()
        return stand_in

    assert asyncio.run(run()).connections == 1  # not retried: a wrong secret stays wrong


def test_a_slow_database_never_holds_up_the_socket_reader():
    """Storing takes 50 ms an event: the reader still reads the whole log at once (and answers
    its pings), and the writer catches up afterwards."""
    stored = []

    def slow(event):
        time.sleep(0.05)
        stored.append(event)

    async def run():
        stand_in = AmiStandIn(read_log(LOG))
        port = await stand_in.start()
        stats = BridgeStats()
        writer = EventWriter(slow, stats, maxsize=100)
        client = AmiClient(AmiConfig(port=port, secret="s3cret", ping_seconds=0.2), writer)
        stop = asyncio.Event()
        running = asyncio.create_task(client.run(stop=stop))
        started = time.monotonic()
        await asyncio.wait_for(stand_in.finished.wait(), 30)
        while stats.received < 2000:
            await asyncio.sleep(0.05)
        reading = time.monotonic() - started
        await asyncio.sleep(0.5)
        stop.set()
        await running
        writer.close(timeout=0)
        await stand_in.stop()
        return stats, reading, stand_in

    stats, reading, stand_in = asyncio.run(run())
    assert reading < 5  # storing them all would take far longer than that
    assert stats.dropped > 0 and stats.events > len(stored)  # the queue was full: counted
    assert "ping" in stand_in.actions


def test_the_wire_format_bare_newlines_repeated_keys_and_unknown_events():
    parser = AmiParser()
    raw = (
        b"Asterisk Call Manager/7.0.3\r\n"
        b"Event: UserEvent\nChanVariable: A=1\nChanVariable: B=2\n\n"
        b"Event: Newchannel\r\nChannel: PJSIP/201-0000001a\r\nUniqueid: 1.1\r\n"
    )
    first = parser.feed(raw[:40]) + parser.feed(raw[40:])
    assert [m.event for m in first] == ["", "UserEvent"]  # the greeting, then the event
    assert first[1].all("chanvariable") == ["A=1", "B=2"]
    newchannel = parser.feed(b"Linkedid: 1.1\r\nExten: 07700900123\r\n\r\n")[0]
    events = CallTracker().events(newchannel)
    assert [(e.direction, e.extension, e.remote_number) for e in events] == [
        ("outbound", "201", "07700900123")
    ]
    assert CallTracker().events(first[1]) == []  # an unknown event is skipped
    with pytest.raises(ValueError, match="longer than 8 KiB"):
        AmiParser().feed(b"x" * 9000)


def test_which_channels_are_the_teams_phones():
    phones = Extensions()
    assert phones.of("PJSIP/201-0000001a") == "201"
    assert phones.of("SIP/4410-00ab") == "4410"
    assert phones.of("PJSIP/trunk-00000010") is None  # a trunk has a name
    assert phones.of("Local/201@from-internal-0001;1") is None  # not a configured technology
    assert Extensions(techs=("PJSIP",), pattern=r"ext\d+").of("PJSIP/ext7-01") == "ext7"
