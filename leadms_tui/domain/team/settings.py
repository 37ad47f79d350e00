"""Team settings stored in the database: typed, validated, audited, with sensible defaults."""

import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, NamedTuple, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlmodel import Session, select

from leadms_tui.domain import audit, clock, numbers, recent
from leadms_tui.domain.business_time import (
    BusinessCalendar,
    parse_holiday_region,
    parse_holidays,
    parse_hours,
    parse_workdays,
)
from leadms_tui.domain.errors import ValidationError
from leadms_tui.domain.leads.phones import is_valid_region
from leadms_tui.domain.models import Setting

log = logging.getLogger(__name__)
T = TypeVar("T")


class OpeningHours(NamedTuple):
    opens: time
    closes: time

    def __str__(self) -> str:
        return f"{self.opens:%H:%M}-{self.closes:%H:%M}"


@dataclass(frozen=True)
class TeamSettings:
    """The settings every service reads, typed: each stored text is read once, by
    `read_settings`; a missing row means the default (DEFAULT_TEXT, read: DEFAULTS)."""

    timezone: str
    phone_region: str
    business_hours: OpeningHours
    business_days: frozenset[int]  # Monday=0
    holidays: frozenset[date]  # hand-added closed dates
    holiday_region: str  # "GB-ENG": that region's public holidays are closed; "" none
    import_max_mb: int  # an import file, and a chat inside a zip once expanded
    currency: str  # ISO 4217: deal values and commission
    number_format: str  # 1,234.50 or 1.234,50; blank: what the phone region writes
    file_max_mb: int  # an image or document in a field
    response_target_minutes: int  # business minutes to the first call, for reports
    response_ladder: tuple["LadderStep", ...]  # speed to lead
    response_clock_since: datetime | None  # set by migration 0012: older leads have no clock
    assignment_mode: str  # off, suggest, auto
    assignment_weights: Mapping[str, float]  # normalized to 1
    reps_see: str  # team: every lead; own: a rep's own leads and unassigned ones
    log_unanswered_calls: bool  # the phone bridge logs unanswered outbound attempts itself
    text: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)
    """Each setting's stored text (its default where no row), as shown and edited."""

    @property
    def weights(self) -> Mapping[str, float]:
        return self.assignment_weights

    @property
    def numbers(self) -> str:
        """The number format amounts are typed and read in (see domain/numbers.py)."""
        return self.number_format or numbers.default_format(self.phone_region)

    @property
    def ladder(self) -> tuple["LadderStep", ...]:
        return self.response_ladder

    @property
    def file_max_bytes(self) -> int:
        return self.file_max_mb * 1024 * 1024

    @property
    def import_max_bytes(self) -> int:
        return self.import_max_mb * 1024 * 1024

    def calendar(self, working_hours: str | None = None) -> BusinessCalendar:
        """Business hours and closed days in the team timezone, for rules, clocks and missed
        commitments; `working_hours` ("08:00-16:00", a rep's own) replaces the team's."""
        opens, closes = parse_hours(working_hours) if working_hours else self.business_hours
        return BusinessCalendar(
            timezone=self.timezone,
            opens=opens,
            closes=closes,
            workdays=self.business_days,
            holidays=self.holidays,
            holiday_region=self.holiday_region,
        )


@dataclass(frozen=True)
class SettingSpec:
    description: str
    parse: Callable[[str], str]  # on write: the canonical text to store, or ValidationError
    read: Callable[[str], Any] | None = None  # on load: the typed value (None: as parse)


def _parse_timezone(value: str) -> str:
    name = value.strip()
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        hint = _closest_timezone(name)
        suffix = f" (did you mean {hint}?)" if hint else ""
        raise ValidationError(
            f"unknown timezone {value!r}: use an IANA name such as Europe/London{suffix}"
        ) from None
    return name


LOCALTIME = Path("/etc/localtime")  # a link to the machine's zone file on most systems


def detected_timezone() -> str:
    """The machine's IANA timezone, from TZ or /etc/localtime's link target (the clock is
    never read); UTC when neither names a zone."""
    candidates = [os.environ.get("TZ", "")]
    if LOCALTIME.is_symlink():  # not when missing, or a copy of the zone file
        candidates.append(str(LOCALTIME.readlink()))
    for candidate in candidates:
        name = _zone_name(candidate)
        if name is not None:
            return name
    return "UTC"


def _zone_name(text: str) -> str | None:
    """'Europe/London' from it, ':Europe/London' or '/usr/share/zoneinfo/Europe/London'."""
    name = text.strip().removeprefix(":")
    if "zoneinfo/" in name:
        name = name.rsplit("zoneinfo/", 1)[1]
    name = name.removeprefix("posix/").removeprefix("right/")
    if name in ("", "localtime"):
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # a POSIX rule, a path, a folder
        return None
    return name


def _closest_timezone(name: str) -> str | None:
    lowered = name.lower().replace(" ", "_")
    matches = sorted(tz for tz in available_timezones() if tz.lower().endswith(lowered))
    return matches[0] if matches else None


def _parse_region(value: str) -> str:
    region = value.strip().upper()
    if not is_valid_region(region):
        raise ValidationError(
            f"unknown phone region {value!r}: use a two-letter country code such as GB or US"
        )
    return region


def _refusing(read: Callable[[str], T]) -> Callable[[str], T]:
    """A business_time reader whose ValueError (the reason) becomes a ValidationError."""

    def checked(value: str) -> T:
        try:
            return read(value.strip())
        except ValueError as exc:
            raise ValidationError(str(exc)) from None

    return checked


_read_hours = _refusing(lambda text: OpeningHours(*parse_hours(text)))
_read_workdays = _refusing(parse_workdays)
_read_holidays = _refusing(parse_holidays)


def _read_region(value: str) -> str:
    return _refusing(parse_holiday_region)(value) if value.strip() else ""


def _kept_as_typed(read: Callable[[str], object]) -> Callable[[str], str]:
    """Check the text by reading it; store it as typed (stripped): "mon-fri" stays so."""

    def parse(value: str) -> str:
        read(value)
        return value.strip()

    return parse


def _parse_holidays(value: str) -> str:
    for holiday in sorted(_read_holidays(value)):
        clock.plausible_day(holiday, "holiday")  # on write only: a stored date never expires
    return value.strip()


SPECS: dict[str, SettingSpec] = {
    "timezone": SettingSpec("Team timezone (IANA name); sets business dates", _parse_timezone),
    "phone_region": SettingSpec("Region for phone numbers written without +", _parse_region),
    "business_hours": SettingSpec(
        "Opening hours, e.g. 09:00-18:00", _kept_as_typed(_read_hours), _read_hours
    ),
    "business_days": SettingSpec(
        "Working days, e.g. mon-fri", _kept_as_typed(_read_workdays), _read_workdays
    ),
    "holidays": SettingSpec(
        "Closed dates besides the region's, e.g. 2026-12-24,2026-12-31",
        _parse_holidays,
        _read_holidays,
    ),
    "holiday_region": SettingSpec(
        "Public holidays closed: country-subdivision, e.g. GB-ENG or US-CA (blank: none)",
        _read_region,
        _read_region,
    ),
}


def _read_megabytes(value: str) -> int:
    text = value.strip()
    if not text.isdigit() or not 1 <= int(text) <= 100_000:
        raise ValidationError(f"{value!r} is not a size in MB between 1 and 100000")
    return int(text)


def _parse_megabytes(value: str) -> str:
    return str(_read_megabytes(value))


def _parse_currency(value: str) -> str:
    code = value.strip().upper()
    if len(code) != 3 or not code.isascii() or not code.isalpha():
        raise ValidationError(f"currency {value!r} should be an ISO 4217 code such as USD or EUR")
    return code


SPECS["currency"] = SettingSpec(
    "Team currency (ISO 4217) of deal values and commission", _parse_currency
)
SPECS["number_format"] = SettingSpec(
    "How the team writes amounts: 1,234.50 or 1.234,50 (default: by phone region)",
    numbers.parse_format,
    lambda text: numbers.parse_format(text) if text.strip() else "",
)
SIGNALS = ("workload", "performance", "fit", "fairness")


def parse_weights(value: str) -> dict[str, float]:
    """'workload=0.4,fit=0.6': each signal's weight (0..1; missing ones 0), normalized to 1."""
    weights = dict.fromkeys(SIGNALS, 0.0)
    for part in value.split(","):
        name, sep, number = part.partition("=")
        name = name.strip().lower()
        if not part.strip():
            continue
        if not sep or name not in weights:
            raise ValidationError(
                f"weights read like workload=0.35,fit=0.25 (signals: {', '.join(SIGNALS)})"
            )
        try:
            weights[name] = float(number)
        except ValueError:
            raise ValidationError(f"weight {number.strip()!r} of {name} is not a number") from None
        if not 0 <= weights[name] <= 1:
            raise ValidationError(f"weight of {name} must be between 0 and 1")
    total = sum(weights.values())
    if total <= 0:
        raise ValidationError("at least one weight must be above 0")
    return {name: weight / total for name, weight in weights.items()}


def _parse_weights_setting(value: str) -> str:
    parse_weights(value)
    return ",".join(part.strip() for part in value.split(",") if part.strip())


def _parse_mode(value: str) -> str:
    mode = value.strip().lower()
    if mode not in ("off", "suggest", "auto"):
        raise ValidationError(f"assignment_mode {value!r}: use off, suggest or auto")
    return mode


LADDER_ACTIONS = ("owner", "managers", "offer", "reassign")
LADDER_MAX_MINUTES = 24 * 60  # no step past a day


@dataclass(frozen=True)
class LadderStep:
    """At `minute` business minutes untouched: tell the owner or the managers, offer the
    lead to the best other rep, or reassign it to them."""

    minute: int
    action: str

    def __str__(self) -> str:
        return f"{self.minute}:{self.action}"


def parse_ladder(value: str) -> tuple[LadderStep, ...]:
    """'5:owner,10:managers,15:offer,20:reassign' (or 'off'): increasing minutes, each
    known action at most once, none past a day."""
    if value.strip().lower() in ("", "off"):
        return ()
    steps: list[LadderStep] = []
    for part in value.split(","):
        minute, sep, action = part.strip().partition(":")
        action = action.strip().lower()
        if not sep or not minute.strip().isdigit():
            raise ValidationError(
                f"ladder step {part.strip()!r}: write MINUTES:ACTION, e.g. 5:owner"
            )
        if action not in LADDER_ACTIONS:
            raise ValidationError(
                f"ladder step {part.strip()!r}: unknown action {action!r} "
                f"(use {', '.join(LADDER_ACTIONS)})"
            )
        step = LadderStep(int(minute), action)
        if not 1 <= step.minute <= LADDER_MAX_MINUTES:
            raise ValidationError(
                f"ladder step {step}: minutes must be 1..{LADDER_MAX_MINUTES} (no step past a day)"
            )
        if steps and step.minute <= steps[-1].minute:
            raise ValidationError(
                f"ladder step {step} comes after {steps[-1]}: minutes must increase"
            )
        if any(earlier.action == step.action for earlier in steps):
            raise ValidationError(f"ladder step {step}: {action} appears twice")
        steps.append(step)
    return tuple(steps)


def _parse_ladder_setting(value: str) -> str:
    return ",".join(str(step) for step in parse_ladder(value)) or "off"


def _read_minutes(value: str) -> int:
    text = value.strip()
    if not text.isdigit() or not 1 <= int(text) <= 10_000:
        raise ValidationError(f"{value!r} is not a number of minutes between 1 and 10000")
    return int(text)


def _parse_minutes(value: str) -> str:
    return str(_read_minutes(value))


SPECS["response_target_minutes"] = SettingSpec(
    "First-response target for reports, in business minutes", _parse_minutes, _read_minutes
)
SPECS["response_ladder"] = SettingSpec(
    "Untouched new lead: MINUTES:ACTION steps (owner, managers, offer, reassign) or off",
    _parse_ladder_setting,
    parse_ladder,
)
SPECS["assignment_mode"] = SettingSpec(
    "Assignment: off, suggest (people decide) or auto (intake assigns)", _parse_mode, _parse_mode
)
SPECS["assignment_weights"] = SettingSpec(
    "Assignment signal weights: workload, performance, fit, fairness",
    _parse_weights_setting,
    parse_weights,
)


def _parse_reps_see(value: str) -> str:
    choice = value.strip().lower()
    if choice not in ("team", "own"):
        raise ValidationError(f"reps_see {value!r}: use team or own")
    return choice


SPECS["reps_see"] = SettingSpec(
    "What a rep may open: team (every lead) or own (their own and unassigned leads)",
    _parse_reps_see,
    _parse_reps_see,
)
SPECS["file_max_mb"] = SettingSpec(
    "Largest image or document in a field, in MB", _parse_megabytes, _read_megabytes
)
SPECS["import_max_mb"] = SettingSpec(
    "Largest import file, and chat in a zip once expanded, in MB",
    _parse_megabytes,
    _read_megabytes,
)


def _parse_yes_no(value: str) -> bool:
    choice = value.strip().lower()
    if choice in ("yes", "on", "true", "1"):
        return True
    if choice in ("no", "off", "false", "0", ""):
        return False
    raise ValidationError(f"{value!r}: use yes or no")


SPECS["log_unanswered_calls"] = SettingSpec(
    "Phone bridge: log unanswered outbound attempts (no answer, busy) without the rep: yes/no",
    lambda text: "yes" if _parse_yes_no(text) else "no",
    _parse_yes_no,
)

# Settings no one edits (set by a migration or the demo): read like the rest, never written.
READERS: dict[str, Callable[[str], Any]] = {
    **{key: spec.read or spec.parse for key, spec in SPECS.items()},
    "response_clock_since": lambda text: (
        clock.as_utc(datetime.fromisoformat(text)) if text else None
    ),
}
DEFAULT_TEXT: dict[str, str] = {
    "timezone": "UTC",
    "phone_region": "US",
    "business_hours": "09:00-18:00",
    "business_days": "mon-fri",
    "holidays": "",
    "holiday_region": "",
    "import_max_mb": "200",
    "currency": "USD",
    "number_format": "",
    "file_max_mb": "10",
    "response_target_minutes": "15",
    "response_ladder": "5:owner,10:managers,15:offer,20:reassign",
    "response_clock_since": "",
    "assignment_mode": "off",
    "assignment_weights": "workload=0.35,performance=0.25,fit=0.25,fairness=0.15",
    "reps_see": "team",
    "log_unanswered_calls": "no",
}


def read_settings(stored: Mapping[str, str]) -> TeamSettings:
    """The one reader: every setting's stored text (its default where none) as its typed
    value. A stored text that no longer reads (edited by hand in the database) gives the
    default, with a warning in the log, rather than failing every screen and intake."""
    text = {key: stored.get(key, default) for key, default in DEFAULT_TEXT.items()}
    values = {}
    for key, read in READERS.items():
        try:
            values[key] = read(text[key])
        except (ValidationError, ValueError) as exc:
            log.warning(
                "setting %s: stored %r is unreadable (%s); using %r",
                key,
                text[key],
                exc,
                DEFAULT_TEXT[key],
            )
            text[key] = DEFAULT_TEXT[key]
            values[key] = read(text[key])
    return TeamSettings(**values, text=text)


DEFAULTS = read_settings({})


def load_settings(session: Session) -> TeamSettings:
    """The team settings (remembered for a couple of seconds: every intake reads them)."""

    def load() -> TeamSettings:
        return read_settings(dict(session.execute(select(Setting.key, Setting.value)).all()))

    return recent.remembered(session, "settings", load)


def describe_settings(session: Session) -> list[tuple[str, str, str]]:
    """(key, value, description) for every setting, defaults included: the stored text."""
    current = load_settings(session)
    shown = {"number_format": current.numbers}  # the format in use, when left to the region
    return [
        (key, shown.get(key, current.text[key]), spec.description) for key, spec in SPECS.items()
    ]


def set_setting(session: Session, key: str, value: str, *, actor: audit.Actor) -> str:
    """Validate and store one setting; returns the canonical value stored."""
    spec = SPECS.get(key)
    if spec is None:
        raise ValidationError(f"unknown setting {key!r}: choose one of {', '.join(SPECS)}")
    canonical = spec.parse(value)
    row = session.get(Setting, key)
    before = row.value if row else DEFAULT_TEXT[key]
    if row is None:
        session.add(Setting(key=key, value=canonical))
    else:
        row.value = canonical
    recent.forget(session)
    audit.record(
        session,
        actor,
        "setting.set",
        "setting",
        key,
        before={"value": before},
        after={"value": canonical},
    )
    return canonical
