"""Team settings stored in the database: typed, validated, audited, with sensible defaults."""

import os
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlmodel import Session, select

from leadms_tui.domain import audit, clock, numbers, recent
from leadms_tui.domain.business_time import BusinessCalendar
from leadms_tui.domain.errors import ValidationError
from leadms_tui.domain.leads.phones import is_valid_region
from leadms_tui.domain.models import Setting


@dataclass(frozen=True)
class TeamSettings:
    """The settings every service reads; a missing row means the default."""

    timezone: str = "UTC"
    phone_region: str = "US"
    business_hours: str = "09:00-18:00"
    business_days: str = "mon-fri"
    holidays: str = ""  # comma-separated YYYY-MM-DD
    import_max_mb: str = "200"  # an import file, and a chat inside a zip once expanded
    currency: str = "USD"  # ISO 4217: deal values and commission
    number_format: str = ""  # 1,234.50 or 1.234,50; blank: what the phone region writes
    file_max_mb: str = "10"  # an image or document in a field
    response_target_minutes: str = "15"  # business minutes to the first call, for reports
    response_ladder: str = "5:owner,10:managers,15:offer,20:reassign"  # speed to lead
    response_clock_since: str = ""  # set by migration 0012 only: older leads have no clock
    assignment_mode: str = "off"  # off, suggest, auto
    assignment_weights: str = "workload=0.35,performance=0.25,fit=0.25,fairness=0.15"
    reps_see: str = "team"  # team: every lead; own: a rep's own leads and unassigned ones

    @property
    def weights(self) -> dict[str, float]:
        return parse_weights(self.assignment_weights)

    @property
    def numbers(self) -> str:
        """The number format amounts are typed and read in (see domain/numbers.py)."""
        return self.number_format or numbers.default_format(self.phone_region)

    @property
    def ladder(self) -> tuple["LadderStep", ...]:
        return parse_ladder(self.response_ladder)

    @property
    def file_max_bytes(self) -> int:
        return int(self.file_max_mb) * 1024 * 1024

    @property
    def import_max_bytes(self) -> int:
        return int(self.import_max_mb) * 1024 * 1024

    def calendar(self) -> "BusinessCalendar":
        """Business hours and holidays in the team timezone, for rules and missed commitments."""
        return BusinessCalendar.from_settings(
            self.timezone, self.business_hours, self.business_days, self.holidays
        )


@dataclass(frozen=True)
class SettingSpec:
    description: str
    parse: Callable[[str], str]  # returns the canonical value or raises ValidationError


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


def _parse_with_calendar(field: str) -> Callable[[str], str]:
    """Validate one business-calendar setting by building a calendar with it."""

    def parse(value: str) -> str:
        parts = {"hours": "09:00-18:00", "workdays": "mon-fri", "holidays": ""}
        parts[field] = value.strip()
        try:
            calendar = BusinessCalendar.from_settings(
                "UTC", parts["hours"], parts["workdays"], parts["holidays"]
            )
        except ValueError as exc:
            raise ValidationError(str(exc)) from None
        for holiday in sorted(calendar.holidays):
            clock.plausible_day(holiday, "holiday")
        return value.strip()

    return parse


SPECS: dict[str, SettingSpec] = {
    "timezone": SettingSpec("Team timezone (IANA name); sets business dates", _parse_timezone),
    "phone_region": SettingSpec("Region for phone numbers written without +", _parse_region),
    "business_hours": SettingSpec("Opening hours, e.g. 09:00-18:00", _parse_with_calendar("hours")),
    "business_days": SettingSpec("Working days, e.g. mon-fri", _parse_with_calendar("workdays")),
    "holidays": SettingSpec(
        "Closed dates, e.g. 2026-12-25,2026-12-26", _parse_with_calendar("holidays")
    ),
}
DEFAULTS = TeamSettings()


def _parse_megabytes(value: str) -> str:
    text = value.strip()
    if not text.isdigit() or not 1 <= int(text) <= 100_000:
        raise ValidationError(f"{value!r} is not a size in MB between 1 and 100000")
    return str(int(text))


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


def _parse_minutes(value: str) -> str:
    text = value.strip()
    if not text.isdigit() or not 1 <= int(text) <= 10_000:
        raise ValidationError(f"{value!r} is not a number of minutes between 1 and 10000")
    return str(int(text))


SPECS["response_target_minutes"] = SettingSpec(
    "First-response target for reports, in business minutes", _parse_minutes
)
SPECS["response_ladder"] = SettingSpec(
    "Untouched new lead: MINUTES:ACTION steps (owner, managers, offer, reassign) or off",
    _parse_ladder_setting,
)
SPECS["assignment_mode"] = SettingSpec(
    "Assignment: off, suggest (people decide) or auto (intake assigns)", _parse_mode
)
SPECS["assignment_weights"] = SettingSpec(
    "Assignment signal weights: workload, performance, fit, fairness", _parse_weights_setting
)


def _parse_reps_see(value: str) -> str:
    choice = value.strip().lower()
    if choice not in ("team", "own"):
        raise ValidationError(f"reps_see {value!r}: use team or own")
    return choice


SPECS["reps_see"] = SettingSpec(
    "What a rep may open: team (every lead) or own (their own and unassigned leads)",
    _parse_reps_see,
)
SPECS["file_max_mb"] = SettingSpec("Largest image or document in a field, in MB", _parse_megabytes)
SPECS["import_max_mb"] = SettingSpec(
    "Largest import file, and chat in a zip once expanded, in MB", _parse_megabytes
)


def load_settings(session: Session) -> TeamSettings:
    """The team settings (remembered for a couple of seconds: every intake reads them)."""

    def load() -> TeamSettings:
        stored = dict(session.execute(select(Setting.key, Setting.value)).all())
        known = {f.name for f in fields(TeamSettings)}
        return TeamSettings(**{k: v for k, v in stored.items() if k in known})

    return recent.remembered(session, "settings", load)


def describe_settings(session: Session) -> list[tuple[str, str, str]]:
    """(key, value, description) for every setting, defaults included."""
    current = load_settings(session)
    shown = {"number_format": current.numbers}  # the format in use, when left to the region
    return [
        (key, shown.get(key, getattr(current, key)), spec.description)
        for key, spec in SPECS.items()
    ]


def set_setting(session: Session, key: str, value: str, *, actor: audit.Actor) -> str:
    """Validate and store one setting; returns the canonical value stored."""
    spec = SPECS.get(key)
    if spec is None:
        raise ValidationError(f"unknown setting {key!r}: choose one of {', '.join(SPECS)}")
    canonical = spec.parse(value)
    row = session.get(Setting, key)
    before = row.value if row else getattr(DEFAULTS, key)
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
