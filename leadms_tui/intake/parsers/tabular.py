"""Shared helpers for tabular lead exports (CSV / TSV from form tools and Meta).

One place for each thing both parsers need:

- `read_table`: bytes -> header and numbered rows. Decodes UTF-8 (BOM or not), UTF-16 with
  a BOM, else the legacy encoding `encodings.decode_text` can tell (or is given); detects the
  `,` `;` or TAB delimiter; skips blank rows.
  Row numbers are what a spreadsheet shows: the header is row 1, so the first data record is
  row 2; blank rows still count, and a quoted multi-line field is one row.
- `normalise_header`: the key a header is matched on ("E-mail " -> "e_mail").
- `infer_day_first` / `parse_timestamp`: created-time values, made timezone-aware.
- `clean_phone` / `clean_email` / `NO_CONTACT`: the shallow "is there a contact" check; the
  domain validates phones properly later.
"""

import codecs
import csv
import io
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, tzinfo

from leadms_tui.intake.parsers.encodings import decode_text
from leadms_tui.intake.records import UnusableInput

DELIMITERS = (",", ";", "\t")
NO_CONTACT = "no contact: needs a phone or an email"
_SNIFF_CHARS = 8192
_BOMS = (codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


@dataclass(frozen=True)
class Row:
    number: int  # spreadsheet row (header = 1)
    cells: tuple[str, ...]  # stripped, CRLF -> LF, padded or cut to the header's width
    overflow: str | None = None  # why the row is unreadable (extra non-empty fields), else None


@dataclass(frozen=True)
class Table:
    headers: tuple[str, ...]  # as written, less BOM, quotes and surrounding spaces
    keys: tuple[str, ...]  # normalise_header() of each header
    rows: tuple[Row, ...]  # data rows, blank ones left out


def clean_header(header: str) -> str:
    return header.replace("\ufeff", "").strip().strip("\"'").strip()


def normalise_header(header: str) -> str:
    """Lower case; spaces, dashes and dots become `_`; BOM, quotes and trailing `*:?` go."""
    key = re.sub(r"[\s.\-]+", "_", clean_header(header).lower())
    return re.sub(r"_+", "_", key).strip("_*:?")


def decode(data: bytes, *, encoding: str | None = None, region: str | None = None) -> str:
    """The file's text; `UnusableInput` if it is empty, undecodable, of an encoding that
    cannot be told (see `encodings`), or binary."""
    if not data.strip():
        raise UnusableInput("the file is empty")
    try:
        text = decode_text(data, encoding=encoding, region=region).text
    except UnusableInput:
        sample = data[:_SNIFF_CHARS]
        if (
            not encoding
            and not sample.startswith(_BOMS)
            and _looks_binary(sample.decode("latin-1"))
        ):
            # no encoding could be told because it is no text at all: say so
            raise UnusableInput("not a text file (binary content)") from None
        raise
    if not text.strip():
        raise UnusableInput("the file is empty")
    if _looks_binary(text[:_SNIFF_CHARS]):
        raise UnusableInput("not a text file (binary content)")
    return text


def _looks_binary(sample: str) -> bool:
    controls = sum(1 for c in sample if c not in "\t\n\r\f\v" and unicodedata.category(c) == "Cc")
    return "\x00" in sample or controls * 20 > len(sample)


def detect_delimiter(text: str) -> str:
    """csv.Sniffer on a sample; if its answer is not in the header line, the header's commonest."""
    match = re.match(r"\s*([^\r\n]*)", text)
    header = match.group(1) if match else ""
    counts = {d: header.count(d) for d in DELIMITERS}
    try:
        sniffed = csv.Sniffer().sniff(text[:_SNIFF_CHARS], delimiters="".join(DELIMITERS))
        if counts.get(sniffed.delimiter):
            return sniffed.delimiter
    except csv.Error:
        pass
    return max(DELIMITERS, key=counts.__getitem__)  # a tie (or none at all) gives ","


def _quote_left_open(text: str, delimiter: str) -> bool:
    """True when a quoted cell runs to the end of the file (the lenient reader we use takes
    the rest of the file as that cell; the strict one says so)."""
    lines = io.StringIO(text, newline="")
    while True:
        try:
            for _ in csv.reader(lines, delimiter=delimiter, strict=True):
                pass
            return False
        except csv.Error as exc:
            if "unexpected end of data" in str(exc):
                return True
            # Another strictness (text after a closing quote, `"Ann"x`), which the lenient
            # reader accepts: read on from the next line.


def read_table(data: bytes, *, encoding: str | None = None, region: str | None = None) -> Table:
    """Decode and split the file; `UnusableInput` if that is impossible or there is no header.
    `encoding` is the one to use (else detected); `region` the team's phone region, which
    breaks ties between legacy encodings."""
    text = decode(data, encoding=encoding, region=region)
    delimiter = detect_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        records = [
            (number, [cell.replace("\r\n", "\n").strip() for cell in record])
            for number, record in enumerate(reader, start=1)
        ]
    except csv.Error as exc:
        raise UnusableInput(f"cannot read the file as CSV: {exc}") from exc
    if records and '"' in text and _quote_left_open(text, delimiter):
        raise UnusableInput(
            f'row {records[-1][0]} opens a quote (") that is never closed, so every line after '
            "it would be one cell: close the quote and import again"
        )
    records = [(number, cells) for number, cells in records if any(cells)]
    if not records:
        raise UnusableInput("the file is empty")
    (_, header), *body = records
    headers = tuple(clean_header(h) for h in header)
    width = len(headers)
    rows = tuple(
        Row(
            number,
            tuple(cells[:width] + [""] * (width - len(cells))),
            f"row has {len(cells)} fields but the header has {width}"
            if any(cells[width:])
            else None,
        )
        for number, cells in body
    )
    return Table(headers, tuple(normalise_header(h) for h in headers), rows)


def cell(row: Row, index: int | None) -> str:
    return "" if index is None else row.cells[index]


def clean_phone(text: str) -> str | None:
    """The phone text as written, or None for placeholders with no digit ("n/a", "-")."""
    text = text.strip()
    return text if any(c.isdigit() for c in text) else None


def clean_email(text: str) -> str | None:
    """The email as written, or None when it has no `@` ("none", "-")."""
    text = text.strip()
    return text if "@" in text else None


# --- created times -------------------------------------------------------------------------

_NUMERIC_DATE = re.compile(
    r"([0-9]{1,2})[/.\-]([0-9]{1,2})[/.\-]([0-9]{4}|[0-9]{2})(?:[ T,]+(.*))?"
)
_TIME = re.compile(r"([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}))?\s*([AaPp])?\.?(?:[Mm]\.?)?")
_NAMED_FORMATS = (
    "%b %d, %Y %I:%M %p",
    "%B %d, %Y %I:%M %p",
    "%b %d, %Y %H:%M",
    "%b %d, %Y",
    "%B %d, %Y",
    "%d %b %Y %H:%M",
    "%d %b %Y",
    "%d %B %Y",
)


def _tidy(text: str) -> str:
    return " ".join(text.replace("\u202f", " ").replace("\xa0", " ").split())


def infer_day_first(values: Iterable[str]) -> bool:
    """Decide d/m vs m/d for a whole file: a first part > 12 means day-first, a second part
    > 12 means month-first; day-first when nothing settles it (or both are seen)."""
    month_first = False
    for value in values:
        match = _NUMERIC_DATE.fullmatch(_tidy(value))
        if match:
            if int(match[1]) > 12:
                return True
            month_first = month_first or int(match[2]) > 12
    return not month_first


def parse_timestamp(text: str, tz: tzinfo, *, day_first: bool = True) -> datetime | None:
    """An aware datetime (naive values are in `tz`), None if empty; ValueError if unreadable.

    Accepts ISO 8601 (T or space, optional offset or Z), `12/11/2026 09:15`, `12/11/2026`
    (order per `day_first`; `.` or `-` separators too, 12-hour times with AM/PM) and
    `Nov 12, 2026 9:15 AM`."""
    text = _tidy(text)
    if not text:
        return None
    value = _parse(text, day_first)
    return value if value.tzinfo else value.replace(tzinfo=tz)


def _parse(text: str, day_first: bool) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    match = _NUMERIC_DATE.fullmatch(text)
    if match:
        first, second, year = int(match[1]), int(match[2]), int(match[3])
        day, month = (first, second) if day_first else (second, first)
        hour, minute, second_ = _parse_time(match[4]) if match[4] else (0, 0, 0)
        return datetime(year + 2000 if year < 100 else year, month, day, hour, minute, second_)
    for fmt in _NAMED_FORMATS:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    raise ValueError(f"unreadable date {text!r}")


def _parse_time(text: str) -> tuple[int, int, int]:
    match = _TIME.fullmatch(text)
    if not match:
        raise ValueError(f"unreadable time {text!r}")
    hour, minute, second = int(match[1]), int(match[2]), int(match[3] or 0)
    if match[4]:
        if not 1 <= hour <= 12:
            raise ValueError(f"unreadable time {text!r}")
        hour = hour % 12 + (12 if match[4] in "Pp" else 0)
    return hour, minute, second
