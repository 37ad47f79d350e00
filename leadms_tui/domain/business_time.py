"""Business-hours arithmetic in the team's timezone, for follow-up rules.

"Retry in 4 business hours", "next business day at 10:00" and "untouched for 30
minutes of business time" all need the same thing: a calendar of open windows
(local wall-clock opening and closing times on workdays that are not holidays).

Rules:
- Every input is an aware datetime (a naive one is taken as UTC); every output
  is an aware datetime in UTC.
- Opening hours are wall-clock local times. Each business day's window is built
  with ``datetime.combine(day, t, tzinfo=zone)`` (fold=0) and converted to UTC,
  so on a DST-change day the window is as long as the clocks say, and business
  minutes are real elapsed minutes inside those windows.
- A window is half-open, ``[opens, closes)``: the opening instant is open, the
  closing instant is closed. Adding time may land *exactly* on a closing time
  (Friday 17:00 + 60 minutes is Friday 18:00, not Monday 09:00); adding zero
  minutes to a closed instant (closing included) moves it to the next opening.
- Going backwards is the mirror image: counting starts at the previous closing
  if the start is closed, and a result may land exactly on an opening time.
- Closed days are the non-workdays, the hand-added holidays and, when a holiday region is
  set (``GB-ENG``: ISO country, then subdivision), that region's public holidays from the
  `holidays` package (imported only then: it takes a moment).

No database, no UI.
"""

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MAX_GAP_DAYS = 366
"""How many consecutive days without a business day before we give up."""

_DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_HHMM = re.compile(r"(\d{1,2}):(\d{2})")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

Window = tuple[datetime, datetime]


def _utc(moment: datetime) -> datetime:
    """Aware UTC version of `moment`; naive means UTC."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def parse_hours(hours: str) -> tuple[time, time]:
    """ "09:00-18:00" as (opens, closes); closing must come after opening."""
    opening, sep, closing = hours.partition("-")
    if not sep:
        raise ValueError(
            f"invalid business hours {hours!r}: expected HH:MM-HH:MM, e.g. 09:00-18:00"
        )
    opens, closes = _parse_hhmm(opening, hours), _parse_hhmm(closing, hours)
    if closes <= opens:
        raise ValueError(f"invalid business hours {hours!r}: closing must be after opening")
    return opens, closes


def _parse_hhmm(text: str, hours: str) -> time:
    match = _HHMM.fullmatch(text.strip())
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise ValueError(
            f"invalid business hours {hours!r}: expected HH:MM-HH:MM, e.g. 09:00-18:00"
        )
    return time(int(match[1]), int(match[2]))


def _parse_day(token: str, workdays: str) -> int:
    for names in (_DAY_NAMES, _FULL_DAY_NAMES):
        if token in names:
            return names.index(token)
    raise ValueError(f"invalid workdays {workdays!r}: unknown day {token!r} (use mon..sun)")


def parse_workdays(workdays: str) -> frozenset[int]:
    """ "mon-fri", "sat,SUN", "fri-mon" (ranges wrap) as weekday numbers, Monday=0."""
    days: set[int] = set()
    for raw in workdays.lower().split(","):
        token = raw.strip()
        if not token:
            continue
        first, sep, last = token.partition("-")
        start = _parse_day(first.strip(), workdays)
        if not sep:
            days.add(start)
            continue
        end = _parse_day(last.strip(), workdays)
        span = (end - start) % 7  # ranges may wrap, e.g. "fri-mon"
        days.update((start + offset) % 7 for offset in range(span + 1))
    if not days:
        raise ValueError(f"invalid workdays {workdays!r}: at least one day is required")
    return frozenset(days)


def parse_holidays(holidays: str) -> frozenset[date]:
    """ "2026-12-24,2026-12-31": hand-added closed dates."""
    result: set[date] = set()
    for raw in holidays.split(","):
        token = raw.strip()
        if not token:
            continue
        try:
            if not _ISO_DATE.fullmatch(token):
                raise ValueError
            result.add(date.fromisoformat(token))
        except ValueError:
            raise ValueError(f"invalid holiday {token!r}: expected YYYY-MM-DD") from None
    return frozenset(result)


@dataclass(frozen=True)
class BusinessCalendar:
    """Open hours on workdays, in one IANA timezone, minus holidays (local dates)."""

    timezone: str = "UTC"
    opens: time = time(9, 0)
    closes: time = time(18, 0)
    workdays: frozenset[int] = frozenset({0, 1, 2, 3, 4})  # Monday=0 .. Sunday=6
    holidays: frozenset[date] = frozenset()  # hand-added closed dates
    holiday_region: str = ""  # "GB-ENG": that region's public holidays are closed too

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown timezone {self.timezone!r}") from None
        if self.closes <= self.opens:
            raise ValueError(
                f"closing time {self.closes:%H:%M} must be after opening time {self.opens:%H:%M}"
            )
        if any(not 0 <= day <= 6 for day in self.workdays):
            raise ValueError(f"workdays must be 0 (Monday) .. 6 (Sunday), got {set(self.workdays)}")
        if self.holiday_region and parse_holiday_region(self.holiday_region) != self.holiday_region:
            raise ValueError(f"holiday region {self.holiday_region!r} is not canonical")

    @classmethod
    def from_settings(
        cls, timezone: str, hours: str, workdays: str, holidays: str, holiday_region: str = ""
    ) -> "BusinessCalendar":
        """Build from settings text: "09:00-18:00", "mon-fri", "2026-12-25,2026-12-26",
        "GB-ENG"."""
        opens, closes = parse_hours(hours)
        return cls(
            timezone=timezone.strip(),
            opens=opens,
            closes=closes,
            workdays=parse_workdays(workdays),
            holidays=parse_holidays(holidays),
            holiday_region=parse_holiday_region(holiday_region) if holiday_region.strip() else "",
        )

    # -- basics -----------------------------------------------------------------------

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def _local_date(self, moment: datetime) -> date:
        return _utc(moment).astimezone(self.zone).date()

    def _at(self, day: date, at: time) -> datetime:
        """Local wall-clock `at` on `day` (fold=0), as UTC."""
        return datetime.combine(day, at, tzinfo=self.zone).astimezone(UTC)

    def is_business_day(self, day: date) -> bool:
        return day.weekday() in self.workdays and self.holiday_name(day) is None

    def holiday_name(self, day: date) -> str | None:
        """Why `day` is a holiday ("Christmas Day", or "holiday" for a hand-added date), or
        None when it is not one (a weekend day off is not a holiday)."""
        if self.holiday_region:
            name = region_holidays(self.holiday_region, day.year).get(day)
            if name is not None:
                return name
        return "holiday" if day in self.holidays else None

    def _window(self, day: date) -> Window | None:
        """The open window of `day` in UTC, or None when closed all day."""
        return _open_window(self, day)

    def _windows(self, day: date, step: int) -> Iterator[Window]:
        """Open windows from `day` onwards (step=1) or backwards (step=-1), endlessly."""
        idle = 0
        while True:
            window = self._window(day)
            if window is None:
                idle += 1
                if idle > MAX_GAP_DAYS:
                    raise ValueError(f"no business day within {MAX_GAP_DAYS} days of {day}")
            else:
                idle = 0
                yield window
            day += timedelta(days=step)

    def _next_business_day(self, day: date) -> date:
        """The first business day strictly after `day`."""
        for offset in range(1, MAX_GAP_DAYS + 1):
            candidate = day + timedelta(days=offset)
            if self.is_business_day(candidate):
                return candidate
        raise ValueError(f"no business day within {MAX_GAP_DAYS} days after {day}")

    def business_day_from(self, day: date, days: int) -> date:
        """The `days`-th business day after `day`; day 0 is `day` itself when it is a
        business day, else the next one (a sale on Saturday: day 0 is Monday)."""
        if not self.is_business_day(day):
            day = self._next_business_day(day)
        for _ in range(days):
            day = self._next_business_day(day)
        return day

    def is_open(self, moment: datetime) -> bool:
        moment = _utc(moment)
        window = self._window(self._local_date(moment))
        return window is not None and window[0] <= moment < window[1]

    # -- arithmetic -------------------------------------------------------------------

    def _add(self, start: datetime, amount: timedelta) -> datetime:
        start = _utc(start)
        day = self._local_date(start)
        if amount >= timedelta(0):
            remaining = amount
            for opening, closing in self._windows(day, 1):
                cursor = max(start, opening)
                if cursor >= closing:
                    continue
                if remaining <= closing - cursor:
                    return cursor + remaining
                remaining -= closing - cursor
        remaining = -amount
        for opening, closing in self._windows(day, -1):
            cursor = min(start, closing)
            if cursor <= opening:
                continue
            if remaining <= cursor - opening:
                return cursor - remaining
            remaining -= cursor - opening
        raise AssertionError("unreachable")  # pragma: no cover - _windows never ends

    def add_business_minutes(self, start: datetime, minutes: int) -> datetime:
        """`start` plus `minutes` of open time (negative: backwards), as UTC."""
        return self._add(start, timedelta(minutes=minutes))

    def add_business_hours(self, start: datetime, hours: float) -> datetime:
        """`start` plus `hours` of open time (negative: backwards), as UTC."""
        return self._add(start, timedelta(hours=hours))

    def next_business_day_at(self, start: datetime, at: time) -> datetime:
        """Local time `at` on the first business day strictly after start's local date."""
        return self._at(self._next_business_day(self._local_date(start)), at)

    def business_days_later_at(self, start: datetime, days: int, at: time) -> datetime:
        """Local time `at` on the `days`-th business day after start's local date."""
        if days < 1:
            raise ValueError(f"days must be at least 1, got {days}")
        day = self._local_date(start)
        for _ in range(days):
            day = self._next_business_day(day)
        return self._at(day, at)

    def business_minutes_between(self, start: datetime, end: datetime) -> int:
        """Whole minutes of open time in [start, end); 0 if end <= start."""
        start, end = _utc(start), _utc(end)
        if end <= start:
            return 0
        total = timedelta(0)
        day, last = self._local_date(start), self._local_date(end)
        while day <= last:
            window = self._window(day)
            if window is not None:
                overlap = min(end, window[1]) - max(start, window[0])
                total += max(overlap, timedelta(0))
            day += timedelta(days=1)
        return total // timedelta(minutes=1)


@lru_cache(maxsize=8192)  # reports ask for the same days thousands of times (first responses)
def _open_window(calendar: BusinessCalendar, day: date) -> Window | None:
    if not calendar.is_business_day(day):
        return None
    opening, closing = calendar._at(day, calendar.opens), calendar._at(day, calendar.closes)
    return (opening, closing) if opening < closing else None  # guards DST-gap oddities


@lru_cache(maxsize=64)  # every calendar built checks its region
def parse_holiday_region(text: str) -> str:
    """ "gb-eng" as "GB-ENG": an ISO 3166 country the `holidays` package knows, optionally with
    one of its subdivisions ("GB" alone: the holidays every part of the country shares)."""
    import holidays as public_holidays  # only when a region is used: a heavy import

    country, sep, subdivision = text.strip().partition("-")
    country, subdivision = country.strip().upper(), subdivision.strip()
    supported = public_holidays.list_supported_countries()
    if country not in supported:
        raise ValueError(
            f"unknown holiday region {text.strip()!r}: start with a country code such as GB "
            "or US, then a subdivision if any (GB-ENG, US-CA)"
        )
    if not sep:
        return country
    known = {code.upper(): code for code in supported[country]}
    if subdivision.upper() not in known:
        choices = ", ".join(sorted(supported[country])) or "none"
        raise ValueError(
            f"unknown holiday region {text.strip()!r}: {country}'s subdivisions are {choices}"
        )
    return f"{country}-{known[subdivision.upper()]}"


@lru_cache(maxsize=64)
def region_holidays(region: str, year: int) -> Mapping[date, str]:
    """The public holidays of `region` ("GB-ENG", "US") in `year`: date -> name."""
    import holidays as public_holidays

    country, _, subdivision = region.partition("-")
    table = public_holidays.country_holidays(country, subdiv=subdivision or None, years=year)
    return dict(table)
