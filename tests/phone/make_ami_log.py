"""Write a recorded AMI event log of a day's calls, as an Asterisk 18 with PJSIP sends them
(`timestampevents = yes`, CDRs to the manager), and what each call was.

    python -m tests.phone.make_ami_log [CALLS] [SEED]   # rewrites tests/phone/data/

Calls are inbound (a trunk rings a rep's extension) and outbound (a rep dials through the trunk),
answered, busy or not answered, interleaved in time; each has its legs' `Newchannel`, `DialBegin`,
`DialEnd`, `BridgeEnter`, `Hangup` and the `Cdr`, with other events (`Newstate`, `Newexten`,
`RTCPSent`, `VarSet`) as noise; answered calls are recorded (MixMonitor's `VarSet`). Two calls
come from a withheld number to an extension nobody has: the bridge skips them.
"""

import json
import random
import sys
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

DATA = Path(__file__).parent / "data"
START = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
EXTENSIONS = ("201", "202")  # ana, bruno
PEOPLE = 150  # distinct numbers: +44 7700 900000 .. 900149
UNKNOWN_FROM = 140  # people from here on have no lead (an unknown caller)


@dataclass(frozen=True)
class Expected:
    call_id: str
    person: int | None  # index into the numbers, None for a withheld number
    e164: str | None
    direction: str
    extension: str
    end_status: str
    talk_seconds: float  # answer to hang-up
    recording: str | None  # the file MixMonitor wrote


def number(person: int) -> str:
    return f"+44770090{person:04d}"


def _local(e164: str, chance: random.Random) -> str:
    """How a PBX writes a GB number: +44..., or 0 and the national number."""
    return e164 if chance.random() < 0.5 else "0" + e164[3:]


def make_log(calls: int = 200, seed: int = 29) -> tuple[str, list[Expected]]:
    chance = random.Random(seed)
    events: list[tuple[float, int, list[tuple[str, str]]]] = []  # (time, order, fields)
    expected: list[Expected] = []
    at = START
    for index in range(calls):
        at += timedelta(seconds=chance.uniform(20, 150))
        expected.append(_call(index, at, chance, events))
    events.sort(key=lambda item: (item[0], item[1]))
    blocks = []
    for stamp, _, fields in events:
        blocks.append(
            "\n".join(
                f"{k}: {v}" for k, v in [fields[0], ("Timestamp", f"{stamp:.6f}"), *fields[1:]]
            )
        )
    return "\n\n".join(blocks) + "\n\n", expected


def _call(index: int, at: datetime, chance: random.Random, events: list) -> Expected:
    """The events of one call appended to `events`; what the call was."""
    t0 = at.timestamp()
    channel_seq = 0x10 + index * 2
    linkedid = f"{int(t0)}.{index * 2 + 16}"
    dest_uid = f"{int(t0)}.{index * 2 + 17}"
    withheld = index in (57, 141)
    person = None if withheld else chance.randrange(PEOPLE)
    e164 = None if person is None else number(person)
    ext = "299" if withheld else chance.choice(EXTENSIONS)
    inbound = withheld or chance.random() < 0.55
    status = chance.choices(["answered", "busy", "no_answer"], weights=[70, 12, 18])[0]
    ring = chance.uniform(2, 25)
    talk = chance.uniform(8, 600) if status == "answered" else 0.0
    trunk = f"PJSIP/trunk-{channel_seq:08x}"
    phone = f"PJSIP/{ext}-{channel_seq + 1:08x}"
    shown = "anonymous" if e164 is None else _local(e164, chance)
    if inbound:
        first, first_num, second, second_num = trunk, shown, phone, ext
        exten_first, dial_string = "442071234567", ext
    else:
        first, first_num, second, second_num = phone, ext, trunk, shown
        exten_first, dial_string = shown, f"trunk/sip:{shown}@sip.provider.example"
    recording = None
    if status == "answered":
        direction = "in" if inbound else "out"
        stamp = at.strftime("%Y%m%d-%H%M%S")
        recording = f"{direction}-{ext}-{e164 or 'anonymous'}-{stamp}-{linkedid}.wav"
    order = 0

    def add(offset: float, fields: list[tuple[str, str]], at0: float = t0) -> None:
        nonlocal order
        order += 1
        events.append((at0 + offset, index * 1000 + order, fields))

    def chan(event: str, channel: str, cid: str, uid: str, **more: str):
        return [
            ("Event", event),
            ("Privilege", "call,all"),
            ("Channel", channel),
            ("ChannelState", more.pop("state", "4")),
            ("ChannelStateDesc", more.pop("desc", "Ring")),
            ("CallerIDNum", cid),
            ("CallerIDName", "<unknown>"),
            ("ConnectedLineNum", "<unknown>"),
            ("ConnectedLineName", "<unknown>"),
            ("Language", "en"),
            ("AccountCode", ""),
            ("Context", more.pop("context", "from-internal")),
            ("Exten", more.pop("exten", "s")),
            ("Priority", "1"),
            ("Uniqueid", uid),
            ("Linkedid", linkedid),
            *more.items(),
        ]

    context = "from-trunk" if inbound else "from-internal"
    add(
        0,
        chan(
            "Newchannel",
            first,
            first_num,
            linkedid,
            state="0",
            desc="Down",
            context=context,
            exten=exten_first,
        ),
    )
    add(
        0.01,
        chan(
            "Newexten",
            first,
            first_num,
            linkedid,
            context=context,
            exten=exten_first,
            Application="Dial",
            AppData=dial_string,
        ),
    )
    add(0.02, chan("Newchannel", second, "<unknown>", dest_uid, state="0", desc="Down"))
    dial = [
        *chan("DialBegin", first, first_num, linkedid, context=context, exten=exten_first)[1:],
        *[(f"Dest{k}", v) for k, v in chan("", second, second_num, dest_uid)[2:]],
        ("DialString", dial_string),
    ]
    add(0.03, [("Event", "DialBegin"), *dial])
    add(0.5, chan("Newstate", second, second_num, dest_uid, state="5", desc="Ringing"))
    dial_status = {"answered": "ANSWER", "busy": "BUSY", "no_answer": "NOANSWER"}[status]
    end_dial = [(k, v) for k, v in dial if k != "DialString"]
    add(ring, [("Event", "DialEnd"), *end_dial, ("DialStatus", dial_status)])
    if status == "answered":
        for channel, cid, uid in ((first, first_num, linkedid), (second, second_num, dest_uid)):
            add(
                ring + 0.01,
                chan(
                    "BridgeEnter",
                    channel,
                    cid,
                    uid,
                    state="6",
                    desc="Up",
                    BridgeUniqueid=f"b-{linkedid}",
                    BridgeType="basic",
                    BridgeNumChannels="2",
                ),
            )
        add(
            ring + 0.02,
            chan(
                "VarSet",
                first,
                first_num,
                linkedid,
                Variable="MIXMONITOR_FILENAME",
                Value=f"/var/spool/asterisk/monitor/2026/11/25/{recording}",
            ),
        )
        add(ring + 5, chan("RTCPSent", second, second_num, dest_uid, To="10.0.0.5:10001"))
    end = ring + talk
    cause = {
        "answered": ("16", "Normal Clearing"),
        "busy": ("17", "User busy"),
        "no_answer": ("19", "No answer"),
    }[status]
    add(
        end + 0.01,
        chan("Hangup", second, second_num, dest_uid, Cause=cause[0], **{"Cause-txt": cause[1]}),
    )
    add(
        end + 0.02,
        chan("Hangup", first, first_num, linkedid, Cause=cause[0], **{"Cause-txt": cause[1]}),
    )

    def wall(offset: float) -> str:
        return datetime.fromtimestamp(t0 + offset, UTC).strftime("%Y-%m-%d %H:%M:%S")

    billable = round(talk)
    add(
        end + 0.05,
        [
            ("Event", "Cdr"),
            ("Privilege", "cdr,all"),
            ("AccountCode", ""),
            ("Source", first_num),
            ("Destination", exten_first if not inbound else ext),
            ("DestinationContext", context),
            ("CallerID", f'"" <{first_num}>'),
            ("Channel", first),
            ("DestinationChannel", second),
            ("LastApplication", "Dial"),
            ("LastData", f"{dial_string},30"),
            ("StartTime", wall(0)),
            ("AnswerTime", wall(ring) if talk else ""),
            ("EndTime", wall(end)),
            ("Duration", str(round(end))),
            ("BillableSeconds", str(billable)),
            (
                "Disposition",
                {"answered": "ANSWERED", "busy": "BUSY", "no_answer": "NO ANSWER"}[status],
            ),
            ("AMAFlags", "DOCUMENTATION"),
            ("UniqueID", linkedid),
            ("UserField", ""),
        ],
    )
    return Expected(
        linkedid,
        person,
        e164,
        "inbound" if inbound else "outbound",
        ext,
        status,
        round(talk, 3),
        recording,
    )


def write(calls: int = 200, seed: int = 29) -> None:
    log, expected = make_log(calls, seed)
    DATA.mkdir(exist_ok=True)
    (DATA / f"ami_{calls}_calls.log").write_text(log)
    (DATA / f"ami_{calls}_calls.json").write_text(
        json.dumps([asdict(e) for e in expected], indent=1) + "\n"
    )


if __name__ == "__main__":
    write(*(int(a) for a in sys.argv[1:3]))
