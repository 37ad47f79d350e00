"""The demo database: built from the files in data/demo, placed relative to today.

Leads go through the real intake service (numbering, repeat detection, audit);
their later history (calls, follow-ups, meetings) is seeded as it stands in the files.
A few interested leads are then sold through the real conversion service (`DEMO_SALES`).
"""

import csv
import os
from importlib import resources
from random import Random

try:
    import fcntl
except ImportError:  # Windows: no lock file; the rebuild check relies on the day alone
    fcntl = None  # type: ignore[assignment]
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, inspect, make_url, select, text
from sqlmodel import Session, SQLModel

from leadms_tui.domain import audit, clock
from leadms_tui.domain.chat import outbox
from leadms_tui.domain.chat.templates import save_quick_reply, store_templates
from leadms_tui.domain.db import Database, normalize_url, open_database
from leadms_tui.domain.errors import ValidationError
from leadms_tui.domain.events import Dispatcher
from leadms_tui.domain.fields.definitions import add_field, list_fields, parse_entity, parse_kind
from leadms_tui.domain.fields.files import check_file, store_file
from leadms_tui.domain.fields.kinds import Upload
from leadms_tui.domain.fields.values import context as field_context
from leadms_tui.domain.fields.values import set_fields
from leadms_tui.domain.leads.intake import LeadCreate, intake_lead, receive_message
from leadms_tui.domain.models import (
    Call,
    CallOutcome,
    Channel,
    Commission,
    CommissionState,
    FollowUp,
    FollowUpState,
    Lead,
    LeadStatus,
    Meeting,
    MeetingAttendee,
    MeetingKind,
    MeetingOutcome,
    MessageState,
    OnboardingTask,
    Role,
    Setting,
    TaskState,
    saved_id,
)
from leadms_tui.domain.sales.clients import client_by_number, set_client_status
from leadms_tui.domain.sales.commission import add_plan, move_commissions
from leadms_tui.domain.sales.conversion import (
    Conversion,
    ConversionRequest,
    convert_lead,
    reverse_conversion,
)
from leadms_tui.domain.sales.onboarding import finish_task, mark_missed_tasks
from leadms_tui.domain.team.settings import DEFAULTS, TeamSettings, read_settings, set_setting
from leadms_tui.domain.team.users import UserInfo, add_user

DEMO_MARKER = "demo_built_at"  # a settings row that says "this database may be rebuilt"
DEMO_TIMEZONE = "Europe/London"
DEMO_REGION = "GB"
DEMO_CURRENCY = "GBP"
DEMO_ACTOR = audit.Actor(None, "demo")
LAST_EVENT_MINUTE = 20 * 60  # today's leads and calls in the files end before 20:00
# The last half hour before the build is the live leads' alone: their response clocks run
# (the made-up history has none) and one is past the target, so the first sweep climbs the
# ladder with it. (minutes before the build, name, phone, channel, message, owner)
LIVE_WINDOW = timedelta(minutes=30)
LIVE_LEADS = (
    (22, "Grace Okafor", "+44 7700 900601", Channel.WEBSITE,
     "Saw the 3-month offer online, can someone call me today?", "ana"),
    (9, "Tomasz Nowak", "+44 7700 900602", Channel.META_ADS, "Personal training prices?", "chloe"),
    (3, "Priya Shah", "+44 7700 900603", Channel.WHATSAPP, "Hi! Is the pool open on Sundays?",
     "ana"),
)  # fmt: skip

# A WhatsApp lead with a short conversation (issue 28): the person wrote 26 hours ago; a reply
# queued in the window's last minutes reached Meta after it closed (131047, explained), a
# template was read, they wrote again 40 minutes ago and the answer was delivered.
CHAT_SENDER = "447700900604"
CHAT_TEMPLATES = [
    {
        "name": "follow_up",
        "language": "en_US",
        "category": "UTILITY",
        "status": "APPROVED",
        "components": [
            {
                "type": "BODY",
                "text": "Hi {{1}}, this is {{2}} from the club about your "
                "enquiry. Is now a good time for a quick chat?",
            }
        ],
    },
    {
        "name": "tour_reminder",
        "language": "en_US",
        "category": "UTILITY",
        "status": "APPROVED",
        "components": [{"type": "BODY", "text": "Hi {{1}}, see you at {{2}} for your tour!"}],
    },
    {
        "name": "seguimiento",
        "language": "es",
        "category": "UTILITY",
        "status": "APPROVED",
        "components": [{"type": "BODY", "text": "Hola {{1}}, soy {{2}} del club. ¿Hablamos?"}],
    },
    {
        "name": "summer_promo",
        "language": "en_US",
        "category": "MARKETING",
        "status": "PAUSED",
        "components": [{"type": "BODY", "text": "Summer offer: 3 months for the price of 2!"}],
    },
]
QUICK_REPLIES = [
    ("Opening hours", "Hi {first_name}! We are open 06:00-22:00 on weekdays and 08:00-20:00 "
     "at weekends."),
    ("Book a tour", "Would you like a free tour, {first_name}? Tell me a day and a time that "
     "suit you. {rep}"),
]  # fmt: skip

# Interested leads sold after their last call, in date order: (lead, day, time, value,
# product, closer: None for the lead's owner, split). L159 is L001's person coming back.
DEMO_SALES = [
    ("L008", -5, "14:00", "540.00", "Annual membership", None, None),
    ("L107", -5, "16:00", "540.00", "Annual membership", "maria", "60/40"),
    ("L001", -4, "16:00", "450.00", "Personal training (10 sessions)", None, None),
    ("L127", -3, "10:00", "49.00", "Monthly membership", None, None),
    ("L141", -2, "13:00", "540.00", "Annual membership", None, None),
    ("L159", -1, "18:00", "6000.00", "Corporate wellness", None, None),
]


def demo_data_dir() -> Path:
    """The demo data shipped inside the package (data/demo in the source tree, installed as
    leadms_tui.data and found with importlib.resources, so a pipx or uv tool install has it),
    or $LEADMS_DATA_DIR/demo."""
    root = os.environ.get("LEADMS_DATA_DIR")
    if root:
        return Path(root) / "demo"
    return Path(str(resources.files("leadms_tui.data").joinpath("demo")))  # installed unzipped


def build_demo(
    url: str, *, dispatcher: Dispatcher, now: datetime | None = None
) -> tuple[Database, str]:
    """Wipe and rebuild the demo database at `url`; refuses one the demo did not make.
    Its leads and sales go through the services, whose events reach `dispatcher`."""
    database = _fresh_database(url, dispatcher)
    moment = clock.as_utc(now or clock.now())
    summary = database.write(lambda session: _load(session, demo_data_dir(), moment))
    return database, summary


def open_demo(
    url: str, *, dispatcher: Dispatcher, rebuild: bool = False, now: datetime | None = None
) -> tuple[Database, str, "DemoLock"]:
    """The demo database at `url`, built when it is missing, from an earlier day, or when
    `rebuild` asks, but never while another process has it open. Returns it with a summary
    and the lock that tells later `leadms demo` runs it is in use (hold it while using it)."""
    moment = clock.as_utc(now or clock.now())
    probe = Database(url)
    try:
        built_at = _demo_built_at(probe)
        in_use_elsewhere = _open_elsewhere(probe)
    finally:
        probe.dispose()
    lock = DemoLock(url)
    stale = built_at is None or _demo_day(built_at) != _demo_day(moment)
    if not (rebuild or stale):
        lock.share()
        return (
            open_database(url, dispatcher),
            f"demo database of {built_at:%Y-%m-%d %H:%M} UTC reused",
            lock,
        )
    if in_use_elsewhere or not lock.take():
        if rebuild or built_at is None:
            raise ValidationError(
                "the demo database is open in another Lead MS: close it before rebuilding"
            )
        lock.share()
        return (
            open_database(url, dispatcher),
            "demo database from an earlier day (open elsewhere)",
            lock,
        )
    try:
        database, summary = build_demo(url, dispatcher=dispatcher, now=moment)
    finally:
        lock.share()
    return database, summary, lock


def _demo_day(moment: datetime) -> object:
    return clock.business_date(moment, DEMO_TIMEZONE)


def _demo_built_at(database: Database) -> datetime | None:
    """When the demo built this database; None when it is empty; refuses any other database."""
    with database.engine.connect() as conn:
        tables = set(inspect(conn).get_table_names())
        if not tables:
            return None
        marker = None
        if "settings" in tables:
            marker = conn.execute(select(Setting.value).where(Setting.key == DEMO_MARKER)).scalar()
    if marker is None:
        raise ValidationError(
            f"{database.label} was not made by `leadms demo`; refusing to touch it "
            "(the demo uses its own demo.db: leave out --database-url and LEADMS_DATABASE_URL, "
            "or name an empty database)"
        )
    return datetime.fromisoformat(marker)


def _open_elsewhere(database: Database) -> bool:
    """Another session on the same PostgreSQL database (SQLite files use `DemoLock`)."""
    if database.is_sqlite:
        return False
    with database.engine.connect() as conn:
        others = conn.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).scalar()
    return bool(others)


class DemoLock:
    """A lock file beside a SQLite demo database: every Lead MS using it holds it shared, and
    a rebuild needs it alone, so the file is never deleted under a running app."""

    def __init__(self, url: str) -> None:
        self._file = None
        parsed = make_url(normalize_url(url))
        path = parsed.database if parsed.get_backend_name() == "sqlite" else None
        if path and path != ":memory:" and fcntl is not None:
            self._file = open(f"{path}.lock", "a+b")  # noqa: SIM115 (held for the app's life)

    def take(self) -> bool:
        """Exclusive, without waiting: False when another process holds it."""
        if self._file is None:
            return True
        try:
            fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def share(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_SH)

    def release(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def _fresh_database(url: str, dispatcher: Dispatcher) -> Database:
    database = Database(url, dispatcher)
    _demo_built_at(database)  # refuses a database the demo did not make
    if database.is_sqlite:
        path = Path(database.engine.url.database or "")
        database.dispose()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return open_database(url, dispatcher)
    with database.engine.begin() as conn:
        SQLModel.metadata.drop_all(conn)
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    database.upgrade()
    return database


def _load(session: Session, folder: Path, now: datetime) -> str:
    if not (folder / "leads.csv").exists():
        raise ValidationError(f"demo data not found in {folder}")
    set_setting(session, "timezone", DEMO_TIMEZONE, actor=DEMO_ACTOR)
    set_setting(session, "phone_region", DEMO_REGION, actor=DEMO_ACTOR)
    set_setting(session, "currency", DEMO_CURRENCY, actor=DEMO_ACTOR)
    session.add(Setting(key=DEMO_MARKER, value=now.isoformat()))
    # the demo's history is made up: its untouched leads of past days would all climb the
    # speed-to-lead ladder at the first sweep (dozens reassigned); leads from now on do
    since = Setting(key="response_clock_since", value=now.isoformat())  # moved back below
    session.add(since)
    settings = read_settings({"timezone": DEMO_TIMEZONE, "phone_region": DEMO_REGION})
    zone = ZoneInfo(DEMO_TIMEZONE)
    today = now.astimezone(zone).date()

    local_now = now.astimezone(zone)
    minutes_so_far = local_now.hour * 60 + local_now.minute

    def at(day_offset: str, hhmm: str) -> datetime:
        local = datetime.combine(today + timedelta(days=int(day_offset)), time.fromisoformat(hhmm))
        return local.replace(tzinfo=zone).astimezone(UTC)

    def happened(day_offset: str, hhmm: str) -> datetime:
        """`at` for past events: today's are squeezed into the hours already gone, in order,
        before the live leads' last half hour."""
        moment = at(day_offset, hhmm)
        if int(day_offset) != 0 or moment <= now - LIVE_WINDOW:
            return moment
        minutes = time.fromisoformat(hhmm).hour * 60 + time.fromisoformat(hhmm).minute
        room = max(0, minutes_so_far - LIVE_WINDOW // timedelta(minutes=1))
        squeezed = minutes * room // LAST_EVENT_MINUTE
        return at("0", f"{squeezed // 60:02d}:{squeezed % 60:02d}")

    users = {}
    for row in _rows(folder / "users.csv"):
        user = add_user(
            session,
            row["username"],
            role=Role(row["role"]),
            actor=DEMO_ACTOR,
            display_name=row["display_name"],
            password=row["password"],
            capacity=int(row["capacity"] or 0),
            languages=row["languages"].split(","),
        )
        users[user.username] = user

    leads: dict[str, Lead] = {}
    created_times: dict[str, datetime] = {}
    rows = sorted(_rows(folder / "leads.csv"), key=lambda r: (int(r["day_offset"]), r["time"]))
    for row in rows:
        created = happened(row["day_offset"], row["time"])
        owner = users.get(row["owner"])
        channel = Channel(row["channel"])
        data = LeadCreate(
            name=row["name"],
            phone=row["phone"] or None,
            email=row["email"] or None,
            channel=channel,
            message=row["message"] or None,
            external_id=f"psid-{row['key']}" if channel == Channel.MESSENGER else None,
            dedupe_key=f"demo:{row['key']}",
            owner_id=owner.id if owner else None,
        )
        result = intake_lead(session, data, actor=DEMO_ACTOR, settings=settings, now=created)
        lead = session.get(Lead, result.lead_id)
        assert lead is not None
        lead.status = LeadStatus(row["status"])
        lead.lost_reason = row["lost_reason"] or None
        leads[row["key"]] = lead
        created_times[row["key"]] = created

    calls = 0
    for row in _rows(folder / "calls.csv"):
        lead = leads[row["lead_key"]]
        called = max(happened(row["day_offset"], row["time"]), created_times[row["lead_key"]])
        user = users.get(row["by"])
        session.add(
            Call(
                lead_id=lead.id,
                user_id=user.id if user else None,  # type: ignore[arg-type]
                outcome=CallOutcome(row["outcome"]),
                note=row["note"] or None,
                called_at=called,
            )
        )
        calls += 1

    for row in _rows(folder / "followups.csv"):
        owner = users.get(row["owner"])
        due = at(row["day_offset"], row["time"])
        state = FollowUpState(row["state"])
        session.add(
            FollowUp(
                lead_id=leads[row["lead_key"]].id,
                owner_id=owner.id if owner else None,  # type: ignore[arg-type]
                due_at=due,
                reason=row["reason"],
                attempt=int(row["attempt"] or 1),
                state=state,
                completed_at=due if state != FollowUpState.OPEN else None,
                created_at=min(due, now) - timedelta(days=1),
            )
        )

    for row in _rows(folder / "meetings.csv"):
        owner = users.get(row["owner"])
        meeting = Meeting(
            lead_id=leads[row["lead_key"]].id,  # type: ignore[arg-type]
            owner_id=owner.id if owner else None,
            kind=MeetingKind(row["kind"]),
            starts_at=at(row["day_offset"], row["time"]),
            duration_minutes=int(row["duration_minutes"] or 30),
            place=row["place"] or None,
            video_link=row["video_link"] or None,
            notes=row["notes"] or None,
            outcome=MeetingOutcome(row["outcome"]) if row["outcome"] else None,
        )
        session.add(meeting)
        session.flush()
        if owner:
            session.add(MeetingAttendee(meeting_id=meeting.id, user_id=owner.id))  # type: ignore[arg-type]

    session.flush()
    history = _load_history(session, users, settings, at)
    history |= _load_near_duplicates(session, users, settings, at)
    chat = _load_chat(session, users, settings, now)
    live, since_moment = _load_live_leads(session, users, settings, now)
    since.value = since_moment.isoformat()  # the made-up leads at or before; the live after
    sold = _load_sales(session, leads, users, at, today)
    _load_fields(session, folder, leads, sold, now)
    mark_missed_tasks(session, today, now)  # what the sweep would have done by now
    clients = len({conversion.client_number for conversion in sold.values()})

    repeats = sum(1 for lead in leads.values() if lead.repeat_of_id)
    leads = {**leads, **history, **chat, **live}
    return (
        f"demo database ready: {len(users)} users, {len(leads)} leads ({repeats} repeats), "
        f"{calls} calls, {len(sold)} sales to {clients} clients; sign in as "
        "ana/bruno/chloe/dev/emeka (reps), maria (manager) or admin, password 'demo'"
    )


def _load_sales(
    session: Session,
    leads: dict[str, Lead],
    users: dict[str, UserInfo],
    at: Callable[[str, str], datetime],
    today: date,
) -> dict[str, Conversion]:
    """Commission plans, `DEMO_SALES` through the real conversion, and what came after:
    commission approved and paid, one sale reversed, onboarding tasks done and skipped."""
    maria = users["maria"].actor
    add_plan(session, "Standard 7.5%", currency=DEMO_CURRENCY, rate="7.5", actor=maria)
    add_plan(
        session,
        "Corporate 5% capped",
        currency=DEMO_CURRENCY,
        rate="5",
        cap="250",
        product_filter="Corporate wellness",
        actor=maria,
    )
    owners = {user.id: user for user in users.values()}
    sold: dict[str, Conversion] = {}
    sold_at: dict[str, datetime] = {}
    for key, day, hhmm, value, product, closer, split in DEMO_SALES:
        lead = leads[key]
        closing = users[closer] if closer else owners[lead.owner_id]  # type: ignore[index]
        request = ConversionRequest(value=value, product=product, split=split)
        sold_at[key] = at(str(day), hhmm)
        lead_id: int = lead.id  # type: ignore[assignment]
        sold[key] = convert_lead(session, lead_id, request, actor=closing.actor, now=sold_at[key])

    def commissions(key: str) -> list[int]:
        of_sale = Commission.sale_id == sold[key].sale_id
        return list(session.execute(select(Commission.id).where(of_sale)).scalars())

    def finish(key: str, position: int, state: TaskState, who: str) -> None:
        """Worked in the afternoon of its day, and never before the sale."""
        task = session.execute(
            select(OnboardingTask).where(
                OnboardingTask.sale_id == sold[key].sale_id, OnboardingTask.position == position
            )
        ).scalar_one()
        worked = at(str((task.due_on - today).days), "16:00")
        when = max(worked, sold_at[key] + timedelta(hours=1))
        finish_task(session, saved_id(task), state, actor=users[who].actor, now=when)

    paid, approved = commissions("L008"), commissions("L001")
    move_commissions(
        session, paid + approved, CommissionState.APPROVED, actor=maria, now=at("-2", "10:00")
    )
    move_commissions(session, paid, CommissionState.PAID, actor=maria, now=at("-1", "10:00"))
    reverse_conversion(
        session,
        sold["L127"].sale_id,
        reason="card payment declined twice",
        actor=maria,
        now=at("-1", "11:00"),
    )
    # Sold on day -5 or -4: day-0 steps fell due by day -2, day-2 steps of day -5 by
    # yesterday, and day-10 steps are still ahead, whatever weekday today is.
    finish("L008", 0, TaskState.DONE, "chloe")
    finish("L008", 1, TaskState.DONE, "chloe")
    finish("L001", 0, TaskState.DONE, "dev")
    finish("L107", 0, TaskState.SKIPPED, "maria")  # L107's day-2 step is left to be missed
    robert = client_by_number(session, sold["L008"].client_number)
    set_client_status(
        session,
        robert.id,
        "active",
        actor=users["chloe"].actor,  # type: ignore[arg-type]
        at=at("-1", "17:00"),
    )
    return sold


def _load_chat(
    session: Session, users: dict[str, UserInfo], settings: TeamSettings, now: datetime
) -> dict[str, Lead]:
    """Templates, quick replies and one WhatsApp conversation, through the outbox as the
    intake service would move it (Meta's answers and statuses replayed)."""
    store_templates(session, CHAT_TEMPLATES, actor=DEMO_ACTOR, now=now - timedelta(days=3))
    for title, body in QUICK_REPLIES:
        save_quick_reply(session, title, body, actor=DEMO_ACTOR, now=now - timedelta(days=3))
    ana = users["ana"].actor
    wrote = now - timedelta(hours=26)

    def inbound(key: str, message: str, at: datetime) -> int:
        data = LeadCreate(
            name="Lucía Fernández",
            phone="+44 7700 900604",
            channel=Channel.WHATSAPP,
            external_id=CHAT_SENDER,
            message=message,
            dedupe_key=f"demo:chat:{key}",
            received_at=at,
            owner_id=users["ana"].id,
        )
        return receive_message(session, data, actor=DEMO_ACTOR, settings=settings, now=at).lead_id

    def moved(message_id: int | None, statuses: tuple[MessageState, ...], at: datetime) -> None:
        assert message_id is not None
        outbox.claim_due(session, now=at)
        outbox.record_sent(session, message_id, 1, f"wamid.demo{message_id}", now=at)
        for after, state in enumerate(statuses, start=1):
            report = outbox.StatusReport(
                Channel.WHATSAPP, state, at + timedelta(minutes=after),
                key=outbox.message_key(message_id, 1),
            )  # fmt: skip
            outbox.apply_status(session, report, now=at + timedelta(minutes=after))

    lead_id = inbound("1", "Hello! Do you have family memberships? We are two adults and two "
                      "kids.", wrote)  # fmt: skip
    late_at = wrote + timedelta(hours=23, minutes=58)
    late = outbox.send_text(
        session, lead_id, "Hi Lucía! Yes: the family membership covers two adults and up to "
        "three children.", actor=ana, now=late_at,
    )  # fmt: skip
    outbox.claim_due(session, now=late_at + timedelta(minutes=3))
    outbox.record_failed(
        session, saved_id(late), 1, code=131047, title="Re-engagement message",
        detail="More than 24 hours have passed since the customer last replied to this number.",
        now=late_at + timedelta(minutes=3),
    )  # fmt: skip
    template_at = late_at + timedelta(minutes=10)
    template = outbox.send_template(
        session, lead_id, "follow_up", {"1": "Lucía", "2": "Ana"}, actor=ana, now=template_at
    )
    read = (MessageState.DELIVERED, MessageState.READ)
    moved(template.id, read, template_at + timedelta(seconds=4))
    inbound("2", "Great, how much is it for the four of us?", now - timedelta(minutes=40))
    answer_at = now - timedelta(minutes=35)
    answer = outbox.send_text(
        session, lead_id, "It is £89 a month for the four of you, classes included. Would you "
        "like a tour this week?", actor=ana, now=answer_at,
    )  # fmt: skip
    moved(answer.id, (MessageState.DELIVERED,), answer_at + timedelta(seconds=4))
    lead = session.get(Lead, lead_id)
    assert lead is not None
    return {"chat:1": lead}


HISTORY_WEEKS = range(12, 2, -1)  # weeks ago, before the CSV files' two weeks
RULES_WEEK = 6  # the follow-up rules were switched on six weeks ago: fewer misses since
HISTORY_REPS = ("ana", "bruno", "chloe", "dev", "emeka")


def _load_live_leads(
    session: Session, users: dict[str, UserInfo], settings: TeamSettings, now: datetime
) -> tuple[dict[str, Lead], datetime]:
    """The leads of the last half hour, untouched, with running response clocks, and the
    moment after every made-up lead they follow (the `response_clock_since` to store)."""
    session.flush()
    newest = clock.as_utc(session.scalar(select(func.max(Lead.created_at))) or now)
    since = max(now - LIVE_WINDOW, newest)
    made: dict[str, Lead] = {}
    for index, (ago, name, phone, channel, message, owner) in enumerate(LIVE_LEADS, start=1):
        # after every made-up lead, and never later than now (a build just after midnight)
        received = min(now, max(now - timedelta(minutes=ago), since + timedelta(seconds=index)))
        data = LeadCreate(
            name=name,
            phone=phone,
            channel=channel,
            message=message,
            owner_id=users[owner].id,
            dedupe_key=f"demo:live:{index}",
        )
        result = intake_lead(session, data, actor=DEMO_ACTOR, settings=settings, now=received)
        lead = session.get(Lead, result.lead_id)
        assert lead is not None
        made[f"live:{index}"] = lead
    return made, since


def _load_history(
    session: Session,
    users: dict[str, UserInfo],
    settings: TeamSettings,
    at: Callable[[str, str], datetime],
) -> dict[str, Lead]:
    """Ten weeks of older, finished work (leads, calls, follow-ups kept or missed), so the
    reports' 12-week trend tells the story: missed commitments fall once the rules are on."""
    rng = Random(2026)
    made: dict[str, Lead] = {}
    for weeks_ago in HISTORY_WEEKS:
        missed_share = 0.4 if weeks_ago > RULES_WEEK else 0.28 - 0.04 * (RULES_WEEK - weeks_ago)
        for n in range(8):
            day = -7 * weeks_ago + rng.randrange(5) - 2  # around that week's Wednesday
            owner = users[HISTORY_REPS[(weeks_ago + n) % len(HISTORY_REPS)]]
            created = at(str(day), f"{9 + rng.randrange(8):02d}:{rng.randrange(60):02d}")
            data = LeadCreate(
                name=f"{rng.choice(HISTORY_FIRST)} {rng.choice(HISTORY_LAST)}",
                phone=f"07700 9{weeks_ago:02d}{n:03d}",
                channel=rng.choice([Channel.WEBSITE, Channel.WHATSAPP, Channel.META_ADS]),
                message="Hi, what does membership cost?",
                owner_id=owner.id,
                dedupe_key=f"demo:history:{weeks_ago}:{n}",
            )
            result = intake_lead(session, data, actor=DEMO_ACTOR, settings=settings, now=created)
            lead = session.get(Lead, result.lead_id)
            assert lead is not None
            first_call = created + timedelta(minutes=rng.choice([4, 9, 14, 25, 50, 120]))
            session.add(
                Call(
                    lead_id=lead.id,
                    user_id=owner.id,
                    called_at=first_call,
                    outcome=rng.choice([CallOutcome.NO_ANSWER, CallOutcome.INTERESTED]),
                )
            )
            for step in (1, 3):
                due = first_call + timedelta(days=step)
                missed = rng.random() < missed_share
                session.add(
                    FollowUp(
                        lead_id=lead.id,
                        owner_id=owner.id,
                        due_at=due,
                        reason="Call back",
                        state=FollowUpState.SKIPPED if missed else FollowUpState.DONE,
                        missed_at=due + timedelta(hours=10) if missed else None,
                        completed_at=due + timedelta(days=2 if missed else 0),
                        created_at=first_call,
                    )
                )
            lead.status = LeadStatus.LOST if n % 2 else LeadStatus.CONTACTED
            lead.lost_reason = "went elsewhere" if n % 2 else None
            made[f"H{weeks_ago:02d}{n}"] = lead
    return made


# People who came in twice in ways repeat detection cannot link (it matches the same E.164
# phone or the same email exactly): each pair is one person, by construction, for the
# duplicate finder to find (`people duplicates`). (name, email, channel) of the first lead,
# then of the second; each lead has a phone of its own. The last pairs are the hard and the
# easy cases: a name typo alone (the finder ranks it low), and two the repeat check already
# links (the same email with another phone; a name typo with the same phone).
_Seeded = tuple[str, str | None, Channel]  # name, email, channel
NEAR_DUPLICATES: tuple[tuple[_Seeded, _Seeded], ...] = (
    (("Mira Okafor", "mira.okafor@gmail.com", Channel.WEBSITE),
     ("Mira Okafor", "miraokafor@gmail.com", Channel.WHATSAPP)),
    (("Jonas Berg", "jonas.berg+gym@outlook.com", Channel.META_ADS),
     ("Jonas Berg", "jonas.berg@outlook.com", Channel.WEBSITE)),
    (("Elif Karaca", "elifkaraca@googlemail.com", Channel.WEBSITE),
     ("Elif Karaca", "elif.karaca@gmail.com", Channel.META_ADS)),
    (("Katarzyna Wójcik", "kasia.wojcik@gmail.com", Channel.WEBSITE),
     ("Katarzyna Wojcik", "kasiawojcik+promo@gmail.com", Channel.WHATSAPP)),
    (("Rafael Souza", "rafa.souza+ads@yahoo.co.uk", Channel.META_ADS),
     ("Rafael Sousa", "rafa.souza@yahoo.co.uk", Channel.WEBSITE)),
    (("Ingrid Halvorsen", "ingrid.h@gmail.com", Channel.WEBSITE),
     ("Ingrid Halvorson", "i.n.g.r.i.d.h@gmail.com", Channel.WEBSITE)),
    (("Tobias Lindqvist", "t.lindqvist@gmail.com", Channel.WHATSAPP),
     ("Tobias Lindqvist", "tlindqvist@gmail.com", Channel.WEBSITE)),
    (("Adaeze Okonkwo", "adaeze.okonkwo+fb@icloud.com", Channel.META_ADS),
     ("Adaeze Okonkwo", "adaeze.okonkwo@icloud.com", Channel.WEBSITE)),
    (("Henrik Dahl", "henrik.dahl@gmail.com", Channel.WEBSITE),
     ("Henrik Dahl", "henrikdahl+offer@googlemail.com", Channel.META_ADS)),
    (("Yara Haddad", "yara.haddad+spring@outlook.com", Channel.META_ADS),
     ("Yara Hadad", "yara.haddad+summer@outlook.com", Channel.META_ADS)),
    (("Niamh O'Brien", "niamh.obrien@gmail.com", Channel.WEBSITE),
     ("Niamh OBrien", "niamhobrien@gmail.com", Channel.WHATSAPP)),
    (("Matteo Ricci", "matteo.ricci@gmail.com", Channel.WEBSITE),
     ("Matteo Ricci", "m.atteo.ricci@gmail.com", Channel.WEBSITE)),
    (("Saoirse Kinsella", "saoirse+web@example.co.uk", Channel.WEBSITE),
     ("Saoirse Kinsella", "saoirse@example.co.uk", Channel.META_ADS)),
    (("Dmitri Volkov", "d.volkov@gmail.com", Channel.WHATSAPP),
     ("Dmitri Volkov", "dvolkov+gym@gmail.com", Channel.WEBSITE)),
    (("Leila Farouk", "leila.farouk+meta@yahoo.co.uk", Channel.META_ADS),
     ("Leila Farouk", "leila.farouk@yahoo.co.uk", Channel.WEBSITE)),
    (("Oskar Brandt", "oskar.brandt@googlemail.com", Channel.WEBSITE),
     ("Oscar Brandt", "oskarbrandt@gmail.com", Channel.WHATSAPP)),
    (("Zanele Dube", "zanele.dube@gmail.com", Channel.WEBSITE),
     ("Zanele Dube", "zaneledube@gmail.com", Channel.META_ADS)),
    (("Tarek Nassar", "tarek.nassar+trial@gmail.com", Channel.WEBSITE),
     ("Tarek Nassar", "tareknassar@gmail.com", Channel.WEBSITE)),
    (("Beatriz Lopes", "beatriz.lopes+class@outlook.com", Channel.META_ADS),
     ("Beatriz Lopes", "beatriz.lopes@outlook.com", Channel.WHATSAPP)),
    (("Callum Fraser", "callum.fraser@gmail.com", Channel.WEBSITE),
     ("Calum Fraser", "callumfraser@gmail.com", Channel.WEBSITE)),
    (("Rosalind Achterberg", None, Channel.WEBSITE),
     ("Rosalind Achterburg", None, Channel.META_ADS)),
    (("Gideon Ashworth", "gideon@ashworth.example", Channel.WEBSITE),
     ("Gideon Ashworth", "gideon@ashworth.example", Channel.WHATSAPP)),
    (("Priscilla Vance", None, Channel.WEBSITE),
     ("Priscila Vance", None, Channel.META_ADS)),
)  # fmt: skip
SAME_PHONE_PAIRS = 1  # the last pairs: the second lead has the first's phone


def near_duplicate_phone(pair: int, second: bool) -> str:
    """The phone of a seeded near-duplicate (unique to it, unless the pair shares one)."""
    if second and pair >= len(NEAR_DUPLICATES) - SAME_PHONE_PAIRS:
        second = False
    return f"07{'922' if second else '911'} 4{pair:05d}"


def _load_near_duplicates(
    session: Session,
    users: dict[str, UserInfo],
    settings: TeamSettings,
    at: Callable[[str, str], datetime],
) -> dict[str, Lead]:
    """`NEAR_DUPLICATES`: each person's two leads, weeks apart, contacted and left."""
    made: dict[str, Lead] = {}
    for pair, leads in enumerate(NEAR_DUPLICATES):
        for second, (name, email, channel) in enumerate(leads):
            day = -80 + 2 * pair + 20 * second
            owner = users[HISTORY_REPS[(pair + second) % len(HISTORY_REPS)]]
            data = LeadCreate(
                name=name,
                phone=near_duplicate_phone(pair, bool(second)),
                email=email,
                channel=channel,
                message="Do you have evening classes?",
                owner_id=owner.id,
                dedupe_key=f"demo:near-duplicate:{pair}:{second}",
            )
            created = at(str(day), f"{10 + pair % 7:02d}:{(7 * pair) % 60:02d}")
            result = intake_lead(session, data, actor=DEMO_ACTOR, settings=settings, now=created)
            lead = session.get(Lead, result.lead_id)
            assert lead is not None
            lead.status = LeadStatus.CONTACTED
            made[f"D{pair:02d}{second}"] = lead
    return made


HISTORY_FIRST = ("Sam", "Priya", "Tom", "Aisha", "Ben", "Chen", "Dana", "Omar", "Lucy", "Marek")
HISTORY_LAST = (
    "Walker",
    "Patel",
    "Hughes",
    "Khan",
    "Morris",
    "Li",
    "Evans",
    "Ali",
    "Price",
    "Nowak",
)


def _load_fields(
    session: Session,
    folder: Path,
    leads: dict[str, Lead],
    sold: dict[str, Conversion],
    now: datetime,
) -> None:
    """The fields of fields.csv and their values (files by name from the demo folder),
    through the same validation every path uses."""
    ctx = field_context(session, now)
    for row in _rows(folder / "fields.csv"):
        add_field(
            session,
            parse_entity(row["entity"]),
            row["key"],
            parse_kind(row["type"]),
            label=row["label"],
            options=[o for o in row["options"].split("|") if o],
            required=row["required"] == "yes",
            help_text=row["help"] or None,
            section=row["section"] or None,
            actor=DEMO_ACTOR,
            ctx=ctx,
        )
    grouped: dict[tuple[str, str], dict[str, str | Upload]] = {}
    limit = DEFAULTS.file_max_bytes
    kinds_by_key = {(f.entity.value, f.key): f.kind for f in list_fields(session)}
    for row in _rows(folder / "field_values.csv"):
        value: str | Upload = row["value"]
        if row["value"].startswith("@"):
            name = row["value"][1:]
            data = (folder / name).read_bytes()
            kind = kinds_by_key[(row["entity"], row["key"])]
            stored = store_file(session, data, check_file(data, name, kind, max_bytes=limit))
            value = Upload(stored.id, name)
        grouped.setdefault((row["entity"], row["record"]), {})[row["key"]] = value
    for (entity, record), raw in grouped.items():
        if entity == "lead":
            entity_id = leads[record].id
        else:  # a client, named by the lead it was sold from
            entity_id = client_by_number(session, sold[record].client_number).id
        set_fields(session, parse_entity(entity), entity_id, raw, actor=DEMO_ACTOR, now=now)  # type: ignore[arg-type]


def _rows(path: Path) -> Iterator[dict[str, str]]:
    if not path.exists():
        return
    with path.open(newline="", encoding="utf-8") as handle:
        yield from csv.DictReader(handle)
