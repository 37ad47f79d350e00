"""Date-times as people type them ("tomorrow 3pm", "fri 10:00", "+2d") for every date field."""

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from leadms_tui.domain.clock import as_utc, local, plausible_day
from leadms_tui.domain.errors import ValidationError

_DAY_WORDS = {"today": 0, "tomorrow": 1, "tmrw": 1, "tmr": 1, "yesterday": -1}
_WEEKDAYS = {
    name: index
    for index, names in enumerate(
        [
            ("mon", "monday"),
            ("tue", "tues", "tuesday"),
            ("wed", "weds", "wednesday"),
            ("thu", "thur", "thurs", "thursday"),
            ("fri", "friday"),
            ("sat", "saturday"),
            ("sun", "sunday"),
        ]
    )
    for name in names
}
# Hours and minutes are elapsed time; days and weeks move the calendar and keep the wall clock.
_ELAPSED = {"m": 1, "min": 1, "mins": 1, "minute": 1, "minutes": 1}
_ELAPSED |= {"h": 60, "hr": 60, "hrs": 60, "hour": 60, "hours": 60}
_CALENDAR = {"d": 1, "day": 1, "days": 1, "w": 7, "wk": 7, "wks": 7, "week": 7, "weeks": 7}

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ISO_INSTANT = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}(:\d{2}(\.\d+)?)?(z|[+-]\d{2}:\d{2})")
_OFFSET = re.compile(r"(?:(?P<sign>[+-]) ?|in )(?P<n>\d{1,6}|an?) ?(?P<unit>[a-z]+)")
_AGO = re.compile(r"(?P<n>\d{1,6}|an?) ?(?P<unit>[a-z]+) ago")
_CLOCK = re.compile(
    r"(?P<hour>\d{1,2})(?::(?P<minute>\d{2})(?::(?P<second>\d{2}))?)? ?(?P<half>am|pm)?"
    r"|noon|midday|midnight|eod|end of day"
)
_DAY_NUMBERS = re.compile(r"\d+[/.]\d+")  # 26/11 or 11/26? 15.30 a time or 15 March?
_SHORT_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")  # not %a: locale-free
_SHORT_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class _Unreadable(Exception):
    """Why the text can't be read; parse_when adds what was typed and examples."""


def parse_when(
    text: str,
    *,
    now: datetime,
    timezone: str,
    default_time: time = time(10, 0),
    end_of_day: time = time(18, 0),
) -> datetime:
    """The moment `text` names, aware in `timezone` (the team's IANA zone), read against `now`.

    Accepted, case-insensitive, with any spacing, an optional "at" before the time:
    - `2026-11-26 10:00`, `2026-11-26T10:00`, `2026-11-26` (at default_time), and ISO with an
      offset (`2026-11-26T10:00Z`), shown in the team zone;
    - `today`, `tomorrow`/`tmrw`/`tmr`, `yesterday`, a weekday (`mon`, `friday`, `next mon`),
      `next week` (Monday), `next month` (the 1st): each at default_time or at the time given;
    - a time alone, meaning today even if already past: `15:00`, `3pm`, `3:30 pm`, `noon`,
      `midday`, `eod`/`end of day` (end_of_day);
    - `now`, `+30m`, `+3h`, `-2h`, `in 45 minutes`, `in an hour`, `2 hours ago`: exact elapsed time;
    - `+2d`, `+1w`, `in 2 days`, `in a week`, `3 days ago`: the same wall-clock time that many
      days later (across DST too), or the time given (`+2d 15:00`).

    Decisions: a weekday is the next such day after today (`mon` on a Monday is in 7 days) and
    `next mon` means the same; `9` alone, `midnight`, and `26/11`-style dates are refused as
    ambiguous. A time skipped by the clocks going forward moves forward by the gap (01:30 on
    London's spring-forward day is 02:30 BST); a time repeated by the clocks going back is its
    first occurrence (fold=0). Raises ValidationError with a one-line reason and examples.
    """
    zone = _zone(timezone)
    local_now = as_utc(now).astimezone(zone)
    typed = " ".join(text.split())
    said = re.sub(r"(\d{4}-\d{2}-\d{2})t(?=\d)", r"\1 ", typed.lower().replace(",", " "))
    said = " ".join(said.split())
    try:
        return _read(said, local_now, zone, default_time, end_of_day)
    except _Unreadable as unreadable:
        reason = str(unreadable)
    except OverflowError:
        reason = "is too far away"
    tomorrow = local_now.date() + timedelta(days=1)
    examples = f"{tomorrow:%Y-%m-%d} 15:00, tomorrow 3pm, fri 10:00, +2d or in 3 hours"
    if not typed:
        raise ValidationError(f"No date or time given; try {examples}")
    shown = typed if len(typed) <= 40 else typed[:39] + "…"
    raise ValidationError(f"{shown!r} {reason}; try {examples}")


_BARE_DAYS = re.compile(r"[+-]\d+")  # "+3", "-2": days from today, as the day prompts took
_DAY_SHORTCUTS = {"t": "today"}


def parse_day(
    text: str,
    today: date,
    *,
    what: str = "date",
    window: Callable[[date, str], date] = plausible_day,
) -> date:
    """The calendar day `text` names, read against `today` (the team's): the one reader of
    every typed day, in the CLI (`--from`, `--date`) and every TUI date prompt.

    Accepted: `2026-11-25`, `today` (`t`), `tomorrow`, `yesterday`, a weekday (`fri`, `next
    mon`: the next such day), `next week`, `next month`, `+3`/`-2` (days), `+2d`, `in a week`,
    `3 days ago`. The day must then pass `window` (clock.plausible_day by default;
    clock.historic_day where a birthday or a long report range makes sense). Raises
    ValidationError with a one-line reason and examples.
    """
    typed = " ".join(text.split())
    said = typed.lower()
    said = _DAY_SHORTCUTS.get(said, said)
    if _BARE_DAYS.fullmatch(said):
        said += "d"
    try:
        if _BARE_DAYS.fullmatch(said[:-1]) and len(said) > 8:
            raise _Unreadable("is too far from today")
        if said and _split_clock(said.split(" "))[1] is not None:
            raise _Unreadable("has a time of day: give the day only")
        day = _day(said, today) if said else None
    except _Unreadable as unreadable:
        reason = str(unreadable).replace("a date or time", "a day")
    except OverflowError:
        reason = "is too far away"
    else:
        if day is not None:
            return window(day, what)
        reason = ""
    examples = f"{today + timedelta(days=1):%Y-%m-%d}, today, tomorrow, fri, +3 or -2"
    if not typed:
        raise ValidationError(f"No {what} given; try {examples}")
    shown = typed if len(typed) <= 40 else typed[:39] + "…"
    raise ValidationError(f"{shown!r} {reason}; try {examples}")


def describe_when(moment: datetime, *, now: datetime, timezone: str) -> str:
    """`moment` as a person checks it before saving: "Thu 26 Nov 15:00 (tomorrow, Europe/London)".

    The year shows when it is not this year; the zone abbreviation shows when the wall-clock time
    happens twice that night (clocks going back), so "01:30 BST" and "01:30 GMT" differ.
    """
    zone = _zone(timezone)
    at = local(moment, timezone)
    local_now = local(now, timezone)
    year = f" {at.year}" if at.year != local_now.year else ""
    repeated = at.tzinfo is zone and at.replace(fold=1 - at.fold).utcoffset() != at.utcoffset()
    abbreviation = f" {at.tzname()}" if repeated else ""
    return (
        f"{_SHORT_DAYS[at.weekday()]} {at.day} {_SHORT_MONTHS[at.month - 1]}{year} "
        f"{at:%H:%M}{abbreviation} ({_relative_day(at, local_now)}, {zone.key})"
    )


def _read(
    said: str, now: datetime, zone: ZoneInfo, default_time: time, end_of_day: time
) -> datetime:
    """The moment `said` (lower-case, single-spaced) names; `now` is already in `zone`."""
    if said == "now":
        return now
    if _ISO_INSTANT.fullmatch(said):
        return _iso_instant(said).astimezone(zone)
    if offset := _offset(said):
        amount, minutes_each, days_each = offset
        if minutes_each:
            return (now.astimezone(UTC) + timedelta(minutes=amount * minutes_each)).astimezone(zone)
        return _on_wall_clock(now.date() + timedelta(days=amount * days_each), now.time(), zone)
    words, clock = _split_clock(said.split(" ") if said else [])
    if not words and clock is None:
        raise _Unreadable("is not a date or time I can read")
    day = _day(" ".join(words), now.date()) if words else now.date()
    at = _clock(clock, end_of_day) if clock is not None else default_time
    return _on_wall_clock(day, at, zone)


def _on_wall_clock(day: date, clock: time, zone: ZoneInfo) -> datetime:
    """`day` at `clock` in `zone`: a repeated time is its first occurrence, a skipped one moves
    forward by the gap."""
    # fold=0 reads a skipped time with the offset before the change, so the round trip through
    # UTC lands as far past the gap as the time was into it.
    moment = datetime.combine(day, clock.replace(tzinfo=None, fold=0), tzinfo=zone)
    return moment.astimezone(UTC).astimezone(zone)


def _iso_instant(said: str) -> datetime:
    try:
        return datetime.fromisoformat(said.upper())
    except ValueError:
        raise _Unreadable("is not a calendar date and time") from None


def _offset(said: str) -> tuple[int, int, int] | None:
    """(amount, minutes per unit, days per unit) for "+3h", "in 2 days", "2 weeks ago"; one of the
    two per-unit values is 0. None if `said` is not an offset at all."""
    ahead, ago = _OFFSET.fullmatch(said), _AGO.fullmatch(said)
    match = ahead or ago
    if not match:
        return None
    count = 1 if match["n"] in ("a", "an") else int(match["n"])
    if (ahead and ahead["sign"] == "-") or ago:
        count = -count
    unit = match["unit"]
    if unit not in _ELAPSED and unit not in _CALENDAR:
        raise _Unreadable(f"has an unknown unit {unit!r} (use m, h, d or w)")
    return count, _ELAPSED.get(unit, 0), _CALENDAR.get(unit, 0)


def _split_clock(words: list[str]) -> tuple[list[str], str | None]:
    """(day words, time words) with the time taken from the end: "fri at 3 pm" -> fri, 3 pm."""
    for size in (3, 2, 1):  # "end of day", "3:30 pm", "15:00"
        tail = " ".join(words[-size:])
        if len(words) >= size and _CLOCK.fullmatch(tail):
            rest = words[:-size]
            return (rest[:-1] if rest[-1:] == ["at"] else rest), tail
    return words, None


def _day(phrase: str, today: date) -> date:
    if phrase in _DAY_WORDS:
        return today + timedelta(days=_DAY_WORDS[phrase])
    if _ISO_DATE.fullmatch(phrase):
        try:
            return date.fromisoformat(phrase)
        except ValueError:
            raise _Unreadable("is not a calendar date") from None
    if phrase == "next week":
        return today + timedelta(days=7 - today.weekday())
    if phrase == "next month":
        return (today.replace(day=28) + timedelta(days=4)).replace(day=1)
    weekday = _WEEKDAYS.get(phrase.removeprefix("next "))
    if weekday is not None:
        # 1..7 days ahead: today's own weekday name means a week from today.
        return today + timedelta(days=(weekday - today.weekday() - 1) % 7 + 1)
    if offset := _offset(phrase):
        amount, minutes_each, days_each = offset
        if minutes_each:
            raise _Unreadable("adds hours or minutes, so it can't take a time of day too")
        return today + timedelta(days=amount * days_each)
    if _DAY_NUMBERS.search(phrase):
        raise _Unreadable("is ambiguous: write dates as YYYY-MM-DD and times as HH:MM")
    raise _Unreadable("is not a date or time I can read")


def _clock(said: str, end_of_day: time) -> time:
    if said in ("noon", "midday"):
        return time(12, 0)
    if said in ("eod", "end of day"):
        return end_of_day
    if said == "midnight":
        raise _Unreadable("is ambiguous (start or end of the day?): write 00:00 or 23:59")
    match = _CLOCK.fullmatch(said)
    assert match is not None  # _split_clock only hands over what _CLOCK matched
    hour, minute, second = int(match["hour"]), int(match["minute"] or 0), int(match["second"] or 0)
    if hour > 23:
        raise _Unreadable("is not a time of day (00:00 to 23:59)")
    if match["minute"] is None and match["half"] is None:
        hint = f"{hour}:00, {hour}am or {hour}pm" if 1 <= hour <= 12 else f"{hour:02d}:00"
        raise _Unreadable(f"has an hour without minutes or am/pm: write {hint}")
    if match["half"]:
        if not 1 <= hour <= 12:
            raise _Unreadable("is not a time of day (am/pm hours run 1 to 12)")
        hour = hour % 12 + (12 if match["half"] == "pm" else 0)
    if minute > 59 or second > 59:
        raise _Unreadable("is not a time of day (00:00 to 23:59)")
    return time(hour, minute, second)


def _relative_day(at: datetime, now: datetime) -> str:
    days = (at.date() - now.date()).days
    if days == 0:
        # Instants, not wall clocks: 01:30 GMT comes after 01:45 BST the night clocks go back.
        return "earlier today" if as_utc(at) < as_utc(now) else "today"
    if days in (1, -1):
        return "tomorrow" if days == 1 else "yesterday"
    return f"in {days} days" if days > 0 else f"{-days} days ago"


def _zone(timezone: str) -> ZoneInfo:
    try:
        return ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        message = f"Unknown timezone {timezone!r}: use an IANA name like Europe/London"
        raise ValidationError(message) from None
