"""Which text encoding an exported file is in.

UTF-8 (with or without a BOM) and UTF-16 with a BOM are certain. Anything else is a legacy
encoding, and any single-byte one decodes any bytes without an error: cp1252 read a Cyrillic
(cp1251) or Central European (ISO-8859-2) export as silent mojibake. So the file is read only
when the reading is plausible (charset-normalizer's mess measure) and unambiguous:

- the team's phone region names what its exports are most likely in (RU: cp1251, PL/CZ:
  ISO-8859-2, JP: Shift-JIS ...), taken when that reading is plausible;
- otherwise charset-normalizer's plausible readings among the encodings spreadsheets and
  form tools write; one distinct reading is taken;
- none, or several that read differently: refused, with the best guess, for `--encoding`.

The encoding used is reported with the import, with the other plausible readings if any.
"""

import codecs
from dataclasses import dataclass

from leadms_tui.intake.records import UnusableInput

PLAUSIBLE_MESS = 0.1  # charset-normalizer's mess ratio above which a reading is garbage
_SAMPLE_BYTES = 256 * 1024  # enough to judge; a 50 MB export is not decoded twice in full

# What exports from each region are written in, most likely first (Excel's "CSV" uses the
# Windows code page of the system locale; older tools the ISO one).
_WESTERN = ("cp1252",)
_CENTRAL = ("iso8859_2", "cp1250")
_CYRILLIC = ("cp1251", "koi8_r")
REGION_ENCODINGS: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(["RU", "BY", "KZ", "KG", "BG", "RS", "MK", "MN"], _CYRILLIC),
    "UA": ("cp1251", "koi8_u"),
    **dict.fromkeys(["PL", "CZ", "SK", "HU", "SI", "HR", "RO", "BA", "AL"], _CENTRAL),
    "JP": ("shift_jis", "cp932", "euc_jp"),
    "CN": ("gb18030",),
    "TW": ("big5",),
    "HK": ("big5",),
    "KR": ("cp949", "euc_kr"),
    "GR": ("cp1253", "iso8859_7"),
    "TR": ("cp1254", "iso8859_9"),
    "IL": ("cp1255",),
    **dict.fromkeys(["EE", "LV", "LT"], ("cp1257", "iso8859_13")),
    "VN": ("cp1258",),
    "TH": ("cp874",),
    **dict.fromkeys(["SA", "AE", "EG", "IQ", "JO", "KW", "LB", "QA"], ("cp1256",)),
}
# The encodings an export is realistically in: charset-normalizer also weighs DOS and Mac
# code pages, whose readings of the same bytes would make every file ambiguous.
_EXPORT_ENCODINGS = frozenset(
    codecs.lookup(name).name
    for name in [
        *{e for family in REGION_ENCODINGS.values() for e in family},
        *_WESTERN,
        *["iso8859_1", "iso8859_15", "iso8859_5", "gbk", "gb2312", "big5hkscs", "johab"],
    ]
)


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str  # a Python codec name, as `--encoding` takes it
    how: str  # "given", "certain" (BOM or valid UTF-8), "by the team's region XX", "detected"
    others: tuple[str, ...] = ()  # other plausible encodings that read the file differently

    def describe(self) -> str:
        note = f"read as {self.encoding} ({self.how})"
        if self.others:
            note += f"; it also reads as {', '.join(self.others)}: --encoding chooses"
        return note


def decode_text(data: bytes, *, encoding: str | None = None, region: str | None = None) -> Decoded:
    """The file's text and how its encoding was chosen; `UnusableInput` when it cannot be told
    (with the best guess) or the given encoding does not fit."""
    if encoding:
        return Decoded(_decode_as(data, encoding), codecs.lookup(encoding).name, "given")
    if data.startswith(codecs.BOM_UTF8):
        return Decoded(_decode_as(data, "utf-8-sig"), "utf-8-sig", "certain")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return Decoded(_decode_as(data, "utf-16"), "utf-16", "certain")
    try:
        return Decoded(data.decode("utf-8"), "utf-8", "certain")
    except UnicodeDecodeError:
        pass
    readings = _plausible_readings(data)
    for preferred in REGION_ENCODINGS.get((region or "").upper(), _WESTERN if region else ()):
        text = _plausible(data, preferred)
        if text is not None:
            others = tuple(e for e, other in readings.items() if other != text)
            name = codecs.lookup(preferred).name
            return Decoded(text, name, f"by the team's region {region}", others)
    distinct: dict[str, str] = {}  # text -> the best encoding that reads the file so
    for name, text in readings.items():
        distinct.setdefault(text, name)
    if len(distinct) == 1:
        ((text, name),) = distinct.items()
        return Decoded(text, name, "detected")
    guess = _best_guess(data)
    if not distinct:
        raise UnusableInput(
            "cannot tell the file's encoding: it is not UTF-8 and no encoding reads it "
            f"cleanly{f' (best guess {guess})' if guess else ''}; give it with --encoding"
        )
    names = ", ".join(distinct.values())
    raise UnusableInput(
        f"cannot tell the file's encoding: it is not UTF-8 and reads differently as {names} "
        f"(best guess {guess or next(iter(distinct.values()))}); give it with --encoding"
    )


def _decode_as(data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except LookupError:  # no such codec, or not a text one (base64, rot13)
        raise UnusableInput(
            f"unknown encoding {encoding!r} (e.g. utf-8, cp1251, iso8859_2)"
        ) from None
    except UnicodeDecodeError as exc:
        raise UnusableInput(
            f"cannot decode the file as {encoding} text (byte {exc.start} is not {encoding})"
        ) from None


def _plausible(data: bytes, encoding: str) -> str | None:
    """The text if `encoding` reads the file without an error and without mess."""
    from charset_normalizer.md import mess_ratio

    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        return None
    return text if mess_ratio(text[:_SAMPLE_BYTES], PLAUSIBLE_MESS) <= PLAUSIBLE_MESS else None


def _plausible_readings(data: bytes) -> dict[str, str]:
    """Encoding -> text for charset-normalizer's plausible export encodings, best first."""
    from charset_normalizer import from_bytes

    readings: dict[str, str] = {}
    for match in from_bytes(data[:_SAMPLE_BYTES], threshold=PLAUSIBLE_MESS):
        name = codecs.lookup(match.encoding).name
        if name in _EXPORT_ENCODINGS and name not in readings:
            text = _plausible(data, name)
            if text is not None:
                readings[name] = text
    return readings


def _best_guess(data: bytes) -> str | None:
    from charset_normalizer import from_bytes

    best = from_bytes(data[:_SAMPLE_BYTES]).best()
    if best is None:
        return None
    language = f", {best.language}" if best.language and best.language != "Unknown" else ""
    return f"{best.encoding}{language}"
