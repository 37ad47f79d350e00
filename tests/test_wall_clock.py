"""Time comes from `domain/clock.py` only: no other code in the package reads the wall clock.

A frozen test clock must never meet the real one: a direct `datetime.now()` in a service, or an
SQL `now()` in a query, makes a test pass on the day it was written and fail on the next (issue 9).
"""

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "leadms_tui"

# Calls that read the wall clock as a date or an instant. Monotonic clocks (time.monotonic,
# time.perf_counter) measure durations and are fine anywhere.
WALL_CLOCK_CALLS = {
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("datetime", "today"),
    ("date", "today"),
    ("time", "time"),
    ("time", "time_ns"),
    ("time", "localtime"),
    ("time", "gmtime"),
    ("time", "ctime"),
    ("time", "strftime"),
    ("func", "now"),
    ("func", "current_timestamp"),
    ("func", "current_date"),
    ("func", "localtimestamp"),
    ("func", "statement_timestamp"),
    ("func", "clock_timestamp"),
}
# The same, written as SQL text in a string (a query, a server default, a migration).
WALL_CLOCK_SQL = re.compile(
    r"\bnow\s*\(\s*\)|\bcurrent_(timestamp|date|time)\b|\blocaltimestamp\b|"
    r"'now'|\bclock_timestamp\b|\bstatement_timestamp\b|\bjulianday\s*\(\s*'now",
    re.IGNORECASE,
)

# Each entry: (path relative to leadms_tui, the call or SQL word) and why it may stay.
ALLOWED = {
    # The one source of time: the real clock behind `clock.now()`.
    ("domain/clock.py", "datetime.now"),
}


def _dotted(node: ast.expr) -> tuple[str, str] | None:
    """('datetime', 'now') for `datetime.now`, `dt.datetime.now` or `sa.func.now`."""
    if not isinstance(node, ast.Attribute):
        return None
    owner = node.value
    name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", None)
    return (name, node.attr) if name else None


def wall_clock_reads(source: str) -> list[tuple[int, str]]:
    """(line, what) for every read of the wall clock in Python source."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            dotted = _dotted(node.func)
            if dotted in WALL_CLOCK_CALLS:
                found.append((node.lineno, ".".join(dotted)))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            match = WALL_CLOCK_SQL.search(node.value)
            if match and not _is_prose(node.value):
                found.append((node.lineno, match.group(0)))
    return found


def _is_prose(text: str) -> bool:
    """A docstring or message that mentions 'now' is not SQL: SQL text has a keyword."""
    return not re.search(r"\b(select|insert|update|delete|default|where|values)\b", text, re.I)


def _package_reads() -> list[str]:
    offences = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        for line, what in wall_clock_reads(path.read_text(encoding="utf-8")):
            if (relative, what) not in ALLOWED:
                offences.append(f"leadms_tui/{relative}:{line}: {what}")
    return offences


def test_no_code_outside_the_clock_reads_the_wall_clock():
    assert _package_reads() == [], "read the time through leadms_tui.domain.clock"


@pytest.mark.parametrize(
    "source",
    [
        "from datetime import datetime, UTC\ndef f():\n    return datetime.now(UTC)",
        "import datetime\ndef f():\n    return datetime.datetime.now()",
        "from datetime import date\ntoday = date.today()",
        "import time\nstamp = time.time()",
        "import sqlalchemy as sa\ncolumn = sa.Column(sa.DateTime, server_default=sa.func.now())",
        "QUERY = 'SELECT id FROM leads WHERE created_at < CURRENT_TIMESTAMP'",
        'QUERY = "UPDATE leads SET updated_at = now() WHERE id = 1"',
        "QUERY = \"SELECT * FROM calls WHERE at < datetime('now')\"",
    ],
)
def test_the_scan_sees_each_kind_of_wall_clock_read(source):
    assert wall_clock_reads(source)


@pytest.mark.parametrize(
    "source",
    [
        "from leadms_tui.domain import clock\nat = clock.now()",
        "import time\nstarted = time.monotonic()",
        "import time\nstarted = time.perf_counter()",
        '"""Run the time rules now, whatever the hour."""',
        "MESSAGE = 'Saved: the follow-up is due now()'",
    ],
)
def test_the_scan_lets_the_clock_and_monotonic_timers_be(source):
    assert wall_clock_reads(source) == []
