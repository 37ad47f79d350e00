"""A realistic Lead MS database, fast: two years of leads, calls, follow-ups and meetings.

    python -m bench.generate --url sqlite:///big.db --leads 100000 --calls 1000000 --reps 20

The schema comes from the migrations, settings and users from the domain services; the
rest is written in bulk on the raw driver connection (executemany on SQLite, COPY on
PostgreSQL) in the shape the services leave it: lead numbers gapless per business day
and matching `day_counters` (later intake continues the day), repeats linked to the
person's first lead, calls spread over two years, follow-ups done, skipped, missed and
open, meetings past and in the coming weeks, an audit event per lead and status change.
"""

import argparse
import json
import math
import time as timer
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from random import Random
from zoneinfo import ZoneInfo

import psycopg
from sqlalchemy import text
from sqlmodel import Session, SQLModel

from bench.common import REGION, TIMEZONE, conninfo, log
from bench.people import email_of, has_email, has_phone, name_of, phone_of
from leadms_tui import bootstrap
from leadms_tui.domain import clock
from leadms_tui.domain.audit import SYSTEM
from leadms_tui.domain.db import Database
from leadms_tui.domain.errors import ValidationError
from leadms_tui.domain.leads.numbering import format_lead_number
from leadms_tui.domain.models import Role, lead_search_name
from leadms_tui.domain.team.settings import set_setting
from leadms_tui.domain.team.users import add_user

SPAN_DAYS = 730
REPEAT_SHARE = 0.15  # leads from a person who wrote in before, on any channel
RECENT_PEOPLE = 3_000  # most repeats come back within weeks
CHANNELS = {
    "whatsapp": 34,
    "website": 24,
    "meta_ads": 20,
    "messenger": 8,
    "phone": 6,
    "email": 4,
    "walk_in": 2,
    "other": 2,
}
HOUR_WEIGHTS = [0.2] * 7 + [1, 2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 2.5, 2, 1.5, 1, 0.6, 0.4]
EARLY_OUTCOMES = {
    "no_answer": 45,
    "voicemail": 18,
    "busy": 12,
    "callback_requested": 15,
    "interested": 10,
}
LAST_OUTCOMES = {
    "interested": 25,
    "not_interested": 20,
    "no_answer": 20,
    "callback_requested": 15,
    "voicemail": 10,
    "busy": 5,
    "wrong_number": 5,
}
UNANSWERED = {"no_answer", "busy", "voicemail"}
FOLLOWUP_REASON = {
    "no_answer": "Try again: no answer",
    "busy": "Try again: line busy",
    "voicemail": "Try again: left a voicemail",
    "callback_requested": "Call back as asked",
    "interested": "Book a meeting or demo",
}
MESSAGES = (
    "Hi, I'd like a quote please",
    "Do you deliver to my area?",
    "Interested in the premium plan",
    "Please call me back after 5pm",
    "How much for a team of 10?",
    "Saw your ad, want more info",
    "Can I book a demo next week?",
    "Is the offer still available?",
    None,
)
NOTES = (
    "Asked to call after lunch",
    "Wants pricing by email",
    "Decision maker is the partner",
    "Comparing with two competitors",
    "Very keen, budget approved",
)
REP_NAMES = (  # noqa: SIM905
    "ana bruno chloe dev emeka fiona gus hanna ines jon kemi luis mona nico olga pat rui "
    "sara theo uma"
).split()

# The tables written in bulk, and the columns each row gives (in order).
LEAD_COLUMNS = (  # noqa: SIM905
    "id number business_date seq name phone_raw phone_e164 phone_flag email email_lower "
    "channel external_id first_message status lost_reason owner_id repeat_of_id "
    "repeat_count created_at updated_at version search_name"
).split()
INQUIRY_COLUMNS = (  # noqa: SIM905
    "id lead_id channel received_at message dedupe_key payload_ref attributes"
).split()
AUDIT_COLUMNS = ["id", "at", "actor_id", "actor", "action", "entity", "entity_id", "changes"]
CALL_COLUMNS = ["id", "lead_id", "user_id", "outcome", "note", "called_at", "created_at"]
FOLLOWUP_COLUMNS = (  # noqa: SIM905
    "id lead_id owner_id due_at reason attempt state created_by_id rule_id call_id "
    "completed_at missed_at created_at version"
).split()
MEETING_COLUMNS = (  # noqa: SIM905
    "id lead_id owner_id kind starts_at duration_minutes place video_link notes outcome "
    "missed_at created_at version"
).split()


@dataclass(frozen=True)
class Generated:
    """What was generated, for the benchmarks that run on it."""

    url: str
    leads: int
    calls: int
    followups: int
    meetings: int
    inquiries: int
    people: int  # person numbers below this have leads in the database
    reps: list[str]
    seconds: float
    field_values: int = 0


@dataclass
class _Lead:
    id: int
    created: datetime
    person: int
    channel: str
    owner: int | None
    repeat_of: int | None
    repeat_count: int
    day: date = date.min
    seq: int = 0
    status: str = "new"
    lost_reason: str | None = None
    updated: datetime | None = None
    call_times: list[datetime] = field(default_factory=list)
    outcomes: list[str] = field(default_factory=list)
    callers: list[int] = field(default_factory=list)
    meeting: tuple[datetime, str, int, str | None] | None = None  # starts, kind, minutes, outcome


def ts(moment: datetime) -> str:
    """A naive-UTC timestamp as SQLAlchemy stores it on SQLite (PostgreSQL parses it too)."""
    return moment.isoformat(" ", "microseconds")


def generate(
    url: str, *, leads: int, calls: int, reps: int, seed: int = 6, now: datetime | None = None
) -> Generated:
    """Fill the empty database at `url` (migrated first); refuses one that has leads."""
    started = timer.perf_counter()
    db = bootstrap.database(url)
    try:
        db.upgrade()
        with db.reading() as session:
            if session.execute(text("SELECT count(*) FROM leads")).scalar():
                raise ValidationError(f"{db.label} already has leads; generate into an empty one")
        usernames = [REP_NAMES[i] if i < len(REP_NAMES) else f"rep{i:02d}" for i in range(reps)]
        rep_ids, manager_id = db.write(lambda session: _team(session, usernames))
        field_ids = db.write(_fields)
        moment = clock.as_utc(now or clock.now()).replace(tzinfo=None)
        planned, people = _plan(Random(seed), leads, calls, rep_ids, moment)
        bulk = _Bulk(db)
        bulk.field_ids = field_ids
        counts = bulk.load(planned, Random(seed + 1), manager_id, moment)
        db.refresh_statistics()  # SQLite: what a running Lead MS's sweep does within a minute
    finally:
        db.dispose()
    if not url.startswith("sqlite"):
        with psycopg.connect(conninfo(url), autocommit=True) as conn:
            conn.execute("VACUUM (ANALYZE)")  # what autovacuum does soon after a bulk load
    seconds = timer.perf_counter() - started
    return Generated(url=url, people=people, reps=usernames, seconds=seconds, **counts)


def _team(session: Session, usernames: list[str]) -> tuple[list[int], int]:
    set_setting(session, "timezone", TIMEZONE, actor=SYSTEM)
    set_setting(session, "phone_region", REGION, actor=SYSTEM)
    rep_ids = []
    for index, username in enumerate(usernames):
        display = f"{username.capitalize()} {name_of(index).split()[1]}"
        rep_ids.append(
            add_user(session, username, role=Role.REP, actor=SYSTEM, display_name=display)
        )
    manager = add_user(
        session, "maria", role=Role.MANAGER, actor=SYSTEM, display_name="Maria Costa"
    )
    add_user(session, "admin", role=Role.ADMIN, actor=SYSTEM, display_name="Admin")
    return [rep.id for rep in rep_ids], manager.id


# --- planning: who wrote in when, and what happened since --------------------------------


def _creation_times(rng: Random, count: int, now: datetime) -> list[datetime]:
    """Lead arrival times over two years, twice as many lately, mostly in waking hours."""
    zone = ZoneInfo(TIMEZONE)
    local_now = now.replace(tzinfo=UTC).astimezone(zone)
    first_day = local_now.date() - timedelta(days=SPAN_DAYS - 1)
    today_start = datetime.combine(local_now.date(), time(0), tzinfo=zone)
    times = []
    for _ in range(count):
        fraction = -1 + math.sqrt(1 + 3 * rng.random())  # density rises linearly 1 -> 2
        day = first_day + timedelta(days=min(SPAN_DAYS - 1, int(fraction * SPAN_DAYS)))
        hour = rng.choices(range(24), HOUR_WEIGHTS)[0]
        local = datetime.combine(day, time(hour, rng.randrange(60), rng.randrange(60)), zone)
        if local > local_now:  # later today: it has not happened yet, so earlier today
            local = today_start + (local_now - today_start) * rng.random()
        times.append(local.astimezone(UTC).replace(tzinfo=None, microsecond=rng.randrange(10**6)))
    times.sort()
    return times


def _plan(
    rng: Random, count: int, calls: int, rep_ids: list[int], now: datetime
) -> tuple[list[_Lead], int]:
    zone = ZoneInfo(TIMEZONE)
    channels, channel_weights = list(CHANNELS), list(CHANNELS.values())
    leads: list[_Lead] = []
    first_lead: dict[int, _Lead] = {}
    seen: dict[int, int] = {}
    day_seq: dict[date, int] = {}
    people = 0
    for index, created in enumerate(_creation_times(rng, count, now)):
        if people and rng.random() < REPEAT_SHARE:
            recent = rng.random() < 0.7
            person = rng.randrange(max(0, people - RECENT_PEOPLE) if recent else 0, people)
        else:
            person, people = people, people + 1
        channel = rng.choices(channels, channel_weights)[0]
        if channel == "whatsapp" and not has_phone(person):
            channel = "messenger"
        first = first_lead.get(person)
        fresh = now - created < timedelta(days=2)
        owner = first.owner if first else None
        if owner is None and not (fresh and rng.random() < 0.3):
            owner = rng.choice(rep_ids)
        lead = _Lead(
            id=index + 1,
            created=created,
            person=person,
            channel=channel,
            owner=owner,
            repeat_of=first.id if first else None,
            repeat_count=seen.get(person, 0),
        )
        lead.day = created.replace(tzinfo=UTC).astimezone(zone).date()
        lead.seq = day_seq[lead.day] = day_seq.get(lead.day, 0) + 1
        seen[person] = lead.repeat_count + 1
        first_lead.setdefault(person, lead)
        leads.append(lead)
    _plan_calls(rng, leads, calls, rep_ids, now)
    return leads, people


def _plan_calls(rng: Random, leads: list[_Lead], total: int, rep_ids: list[int], now: datetime):
    """Share `total` calls among the contacted leads (long-tailed), then what they led to."""
    contacted = []
    for lead in leads:
        age = now - lead.created
        if age < timedelta(hours=2):
            continue
        chance = 0.5 if age < timedelta(days=2) else 0.98  # a few old leads were never called
        if rng.random() < chance:
            contacted.append(lead)
    contacted = contacted[: max(1, total)]
    # a lead younger than a month has had fewer calls so far (keeps calls per day level)
    month = timedelta(days=30)
    weights = [rng.expovariate(1.0) * min(1.0, (now - lead.created) / month) for lead in contacted]
    scale = (total - len(contacted)) / (sum(weights) or 1)
    counts = [1 + int(w * scale) for w in weights]
    for _ in range(total - sum(counts)):
        counts[rng.randrange(len(counts))] += 1
    early, early_w = list(EARLY_OUTCOMES), list(EARLY_OUTCOMES.values())
    last, last_w = list(LAST_OUTCOMES), list(LAST_OUTCOMES.values())
    for lead, n in zip(contacted, counts, strict=True):
        window = (now - lead.created).total_seconds()
        offsets = [min(rng.expovariate(1 / 7200), window * 0.2)]
        for _ in range(n - 1):
            offsets.append(offsets[-1] + rng.expovariate(1 / 172_800))
        if offsets[-1] > window:
            squeeze = window * 0.999 / offsets[-1]
            offsets = [o * squeeze for o in offsets]
        lead.call_times = [lead.created + timedelta(seconds=o) for o in offsets]
        lead.outcomes = rng.choices(early, early_w, k=n - 1) + rng.choices(last, last_w)
        if lead.owner is None:
            lead.owner = rng.choice(rep_ids)  # whoever called first took it
        lead.callers = [lead.owner if rng.random() < 0.9 else rng.choice(rep_ids)] * n
        _settle(rng, lead, now)


def _settle(rng: Random, lead: _Lead, now: datetime) -> None:
    """The lead's status after its calls (and the meeting an interested lead booked)."""
    outcome, last_call = lead.outcomes[-1], lead.call_times[-1]
    lead.updated = last_call
    if outcome in ("not_interested", "wrong_number"):
        lead.status, lead.lost_reason = "lost", outcome.replace("_", " ")
    elif outcome in UNANSWERED and len(lead.outcomes) >= 5:
        lead.status, lead.lost_reason = "lost", "unreachable"
    elif outcome == "interested" and rng.random() < 0.6:
        starts = (last_call + timedelta(days=rng.uniform(1, 14))).replace(
            minute=rng.choice((0, 30)), second=0, microsecond=0
        )
        kind = "demo" if rng.random() < 0.4 else "meeting"
        minutes = rng.choice((30, 30, 45, 60))
        if starts > now:
            lead.meeting, lead.status = (starts, kind, minutes, None), "meeting_scheduled"
            return
        held = rng.choices(("held", "no_show", "cancelled", "rescheduled"), (70, 15, 10, 5))[0]
        lead.meeting, lead.updated = (starts, kind, minutes, held), starts
        if held == "held":
            lead.status = rng.choices(("won", "lost", "qualified"), (45, 25, 30))[0]
            lead.lost_reason = "chose a competitor" if lead.status == "lost" else None
        else:
            lead.status = "contacted" if held == "no_show" else "qualified"
    else:
        lead.status = "qualified" if outcome == "interested" else "contacted"


# --- writing ---------------------------------------------------------------------------


class _Bulk:
    """Rows into tables on the raw driver connection: executemany on SQLite, COPY on PostgreSQL."""

    def __init__(self, db: Database) -> None:
        self.sqlite = db.is_sqlite
        self.tables = SQLModel.metadata.tables
        self.raw = db.engine.raw_connection()
        self.conn = self.raw.driver_connection
        self.field_ids: dict[str, int] = {}

    def write(self, table: str, columns: list[str], rows: Iterable[tuple]) -> int:
        known = self.tables[table].c
        assert all(c in known for c in columns), f"unknown column in {table}"
        written = 0

        def counted() -> Iterator[tuple]:
            nonlocal written
            for row in rows:
                written += 1
                yield row

        names = ", ".join(columns)
        if self.sqlite:
            marks = ", ".join("?" * len(columns))
            self.conn.execute("BEGIN")
            self.conn.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", counted())
            self.conn.execute("COMMIT")
        else:
            with self.conn.cursor() as cur, cur.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in counted():
                    copy.write_row(row)
            self.conn.commit()
        return written

    def next_id(self, table: str) -> int:
        cur = self.conn.cursor()
        cur.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {table}")
        value = cur.fetchone()[0]
        cur.close()
        return value

    def load(
        self, leads: list[_Lead], rng: Random, manager_id: int, now: datetime
    ) -> dict[str, int]:
        if self.sqlite:
            self.conn.execute("PRAGMA synchronous=OFF")  # this connection only; data is rebuildable
        zone = ZoneInfo(TIMEZONE)
        today_start = datetime.combine(
            now.replace(tzinfo=UTC).astimezone(zone).date(), time(0), tzinfo=zone
        ).astimezone(UTC)
        today_start = today_start.replace(tzinfo=None)
        audit_start = self.next_id("audit_events")
        counts = {"leads": self.write("leads", LEAD_COLUMNS, _lead_rows(leads))}
        counts["inquiries"] = self.write(
            "inquiries", INQUIRY_COLUMNS, _inquiry_rows(leads, rng, now)
        )
        self.write("audit_events", AUDIT_COLUMNS, _audit_rows(leads, audit_start))
        days: dict[date, int] = {}
        for lead in leads:
            days[lead.day] = max(days.get(lead.day, 0), lead.seq)
        self.write(
            "day_counters",
            ["business_date", "last_seq"],
            ((day.isoformat(), seq) for day, seq in days.items()),
        )
        counts["calls"] = self.write("calls", CALL_COLUMNS, _call_rows(leads, rng))
        counts["followups"] = self.write(
            "follow_ups", FOLLOWUP_COLUMNS, _followup_rows(leads, rng, today_start)
        )
        counts["meetings"] = self.write("meetings", MEETING_COLUMNS, _meeting_rows(leads, rng))
        counts["field_values"] = self.write(
            "field_values", FIELD_VALUE_COLUMNS, _field_value_rows(leads, rng, self.field_ids)
        )
        self.write(
            "meeting_attendees",
            ["meeting_id", "user_id"],
            ((meeting, manager_id) for meeting in range(1, counts["meetings"] + 1, 7)),
        )
        if self.sqlite:
            self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        else:
            tables = (
                "leads",
                "inquiries",
                "audit_events",
                "calls",
                "follow_ups",
                "meetings",
                "field_values",
            )
            for table in tables:
                self.conn.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"coalesce(max(id), 1), max(id) IS NOT NULL) FROM {table}"
                )
            self.conn.commit()
        self.raw.invalidate()  # not back to the pool with bulk-load settings
        return counts


FIELD_VALUE_COLUMNS = (  # noqa: SIM905
    "definition_id entity_id item value_text value_key value_number"
).split()
PLANS = ("Basic", "Standard", "Premium", "Corporate")  # a choice field of every lead


def _fields(session: Session) -> dict[str, int]:
    """Two lead fields as a team would define them: a plan (choice) and a budget (money)."""
    from leadms_tui.domain.audit import SYSTEM
    from leadms_tui.domain.fields.definitions import add_field
    from leadms_tui.domain.fields.values import context
    from leadms_tui.domain.models import FieldEntity, FieldKind

    ctx = context(session)
    plan = add_field(
        session,
        FieldEntity.LEAD,
        "plan",
        FieldKind.CHOICE,
        options=list(PLANS),
        actor=SYSTEM,
        ctx=ctx,
    )
    budget = add_field(session, FieldEntity.LEAD, "budget", FieldKind.MONEY, actor=SYSTEM, ctx=ctx)
    return {"plan": plan.id, "budget": budget.id}


def _field_value_rows(leads: list[_Lead], rng: Random, ids: dict[str, int]) -> Iterator[tuple]:
    """Nine in ten leads have a plan, seven in ten a budget (100 to 20,000)."""
    for lead in leads:
        if rng.random() < 0.9:
            plan = rng.choice(PLANS)
            yield (ids["plan"], lead.id, 0, plan, plan, None)
        if rng.random() < 0.7:
            budget = rng.randrange(100, 20_000)
            yield (ids["budget"], lead.id, 0, str(budget), None, budget)


def _lead_rows(leads: list[_Lead]) -> Iterator[tuple]:
    for lead in leads:
        name = name_of(lead.person)
        phone = phone_of(lead.person) if has_phone(lead.person) else None
        email = email_of(lead.person) if has_email(lead.person) else None
        external = None
        if lead.channel == "whatsapp":
            external = phone[1:] if phone else None
        elif lead.channel == "messenger":
            external = str(10**15 + lead.person)
        created = ts(lead.created)
        yield (
            lead.id,
            format_lead_number(lead.day, lead.seq),
            lead.day.isoformat(),
            lead.seq,
            name,
            phone,
            phone,
            None,
            email,
            email.lower() if email else None,
            lead.channel,
            external,
            MESSAGES[lead.id % len(MESSAGES)],
            lead.status,
            lead.lost_reason,
            lead.owner,
            lead.repeat_of,
            lead.repeat_count,
            created,
            ts(lead.updated) if lead.updated else created,
            1 if lead.status == "new" else 2,
            lead_search_name(name, email),
        )


def _inquiry_rows(leads: list[_Lead], rng: Random, now: datetime) -> Iterator[tuple]:
    inquiry_id = 0
    keys = {"whatsapp": "wamid.", "messenger": "m_", "meta_ads": "leadgen:", "website": "form:"}
    for lead in leads:
        prefix = keys.get(lead.channel)
        extra = rng.randrange(1, 3) if prefix in ("wamid.", "m_") and rng.random() < 0.1 else 0
        utm = '{"utm_source": "google", "utm_campaign": "spring"}' if prefix == "form:" else "{}"
        for n in range(1 + extra):
            inquiry_id += 1
            at = min(now, lead.created + timedelta(minutes=7 * n))
            message = MESSAGES[(lead.id + n) % len(MESSAGES)]
            key = f"{prefix}{lead.id}.{n}" if prefix else None
            yield (inquiry_id, lead.id, lead.channel, ts(at), message, key, None, utm)


def _audit_rows(leads: list[_Lead], first_id: int) -> Iterator[tuple]:
    event_id = first_id
    for lead in leads:
        number = format_lead_number(lead.day, lead.seq)
        changes = {"id": [None, lead.id], "number": [None, number], "status": [None, "new"]}
        yield (
            event_id,
            ts(lead.created),
            None,
            "intake",
            "lead.create",
            "lead",
            str(lead.id),
            json.dumps(changes),
        )
        event_id += 1
        if lead.status != "new" and lead.updated is not None:
            changes = {"status": ["new", lead.status], "version": [1, 2]}
            if lead.lost_reason:
                changes["lost_reason"] = [None, lead.lost_reason]
            yield (
                event_id,
                ts(lead.updated),
                lead.owner,
                "rep",
                "lead.update",
                "lead",
                str(lead.id),
                json.dumps(changes),
            )
            event_id += 1


def _call_rows(leads: list[_Lead], rng: Random) -> Iterator[tuple]:
    call_id = 0
    for lead in leads:
        for at, outcome, caller in zip(lead.call_times, lead.outcomes, lead.callers, strict=True):
            call_id += 1
            note = rng.choice(NOTES) if rng.random() < 0.3 else None
            stamp = ts(at)
            yield (call_id, lead.id, caller, outcome, note, stamp, stamp)


def _followup_rows(leads: list[_Lead], rng: Random, today_start: datetime) -> Iterator[tuple]:
    """The follow-up each call booked: done by the next call, else as things stand today."""
    call_id = followup_id = 0
    for lead in leads:
        n = len(lead.call_times)
        for j, (at, outcome) in enumerate(zip(lead.call_times, lead.outcomes, strict=True)):
            call_id += 1
            if outcome not in FOLLOWUP_REASON:
                continue
            if outcome in UNANSWERED:
                due = at + timedelta(hours=4)
            elif outcome == "callback_requested":
                due = at + timedelta(days=rng.uniform(1, 10))
            else:
                due = at + timedelta(days=1)
            completed = missed = done_by = None
            if j < n - 1:
                state, completed, done_by = "done", lead.call_times[j + 1], call_id + 1
                if completed.date() > due.date():
                    missed = datetime.combine(due.date() + timedelta(days=1), time(0))
            elif lead.status in ("won", "lost") or lead.meeting is not None:
                state, completed = "skipped", lead.updated
            elif due >= today_start:
                state = "open"
            elif due >= today_start - timedelta(days=7):
                state, missed = "missed", datetime.combine(due.date() + timedelta(days=1), time(0))
            else:
                state, completed = "skipped", due + timedelta(days=1)
            followup_id += 1
            yield (
                followup_id,
                lead.id,
                lead.owner,
                ts(due),
                FOLLOWUP_REASON[outcome],
                j + 1,
                state,
                lead.callers[j],
                None,
                done_by,
                ts(completed) if completed else None,
                ts(missed) if missed else None,
                ts(at),
                1 if state == "open" else 2,
            )


def _meeting_rows(leads: list[_Lead], rng: Random) -> Iterator[tuple]:
    meeting_id = 0
    for lead in leads:
        if lead.meeting is None:
            continue
        starts, kind, minutes, outcome = lead.meeting
        meeting_id += 1
        video = rng.random() < 0.5
        place = None if video else "Office, 12 High Street"
        link = f"https://meet.example.com/{lead.id}" if video else None
        booked = ts(lead.call_times[-1])
        yield (
            meeting_id,
            lead.id,
            lead.owner,
            kind,
            ts(starts),
            minutes,
            place,
            link,
            None,
            outcome,
            None,
            booked,
            1 if outcome is None else 2,
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="an empty SQLite or PostgreSQL database")
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--reps", type=int, default=20)
    parser.add_argument("--seed", type=int, default=6)
    args = parser.parse_args(argv)
    made = generate(args.url, leads=args.leads, calls=args.calls, reps=args.reps, seed=args.seed)
    log(
        f"{made.leads} leads, {made.inquiries} inquiries, {made.calls} calls, "
        f"{made.followups} follow-ups, {made.meetings} meetings, {made.people} people, "
        f"{len(made.reps)} reps in {made.seconds:.1f} s"
    )


if __name__ == "__main__":
    main()
