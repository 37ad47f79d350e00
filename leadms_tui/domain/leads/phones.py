"""Phone normalization to E.164 with `phonenumbers`, keeping the raw text and a flag."""

import re
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, ValidationResult

from leadms_tui.domain.models import PhoneFlag

# "+44 (0)7700 900123": the (0) is the trunk 0, read as a plain 0 so that phonenumbers
# drops it after a country code where it is dialled only nationally (+44, +49, +33) and keeps
# it where it belongs to the number (+39 06…: Italian numbers keep their 0)
_TRUNK_ZERO = re.compile(r"\(0\)")
_TYPE_PREFIX = re.compile(r"^\s*p:", re.IGNORECASE)  # Meta Lead Ads exports write "p:+44..."


@dataclass(frozen=True)
class Phone:
    raw: str
    e164: str | None  # None when the text could not be read as a phone number
    flag: PhoneFlag | None  # None for a clean, valid number

    @property
    def usable(self) -> bool:
        return self.e164 is not None


@lru_cache(maxsize=8192)  # imports meet the same people again (repeats are common)
def normalize_phone(raw: str, region: str, *, international: bool = False) -> Phone:
    """Read `raw` as a phone number; national numbers use `region`.

    `international` marks ids written without "+" (WhatsApp's `wa_id`). A number that is
    not even possible is kept raw and flagged unusable; a possible number outside the
    numbering plan keeps its E.164 form and is flagged not valid.
    """
    text = _TRUNK_ZERO.sub("0", _TYPE_PREFIX.sub("", raw)).strip()
    digits = re.sub(r"[\s.\-()/]", "", text)
    if digits.startswith("00"):
        text = "+" + digits[2:]
    candidates = [text]
    if digits.isdigit() and not digits.startswith("0") and not text.startswith("+"):
        # a bare international number typed without "+" (always so for a WhatsApp id)
        bare = "+" + digits
        candidates = [bare, text] if international else [text, bare]
    best: Phone | None = None
    for candidate in candidates:
        phone = _parse(raw.strip(), candidate, region)
        if phone.flag is None:
            return phone
        if best is None or (best.e164 is None and phone.e164 is not None):
            best = phone
    assert best is not None
    return best


def _parse(raw: str, text: str, region: str) -> Phone:
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException:
        return Phone(raw, None, PhoneFlag.UNUSABLE)
    if phonenumbers.is_possible_number_with_reason(number) != ValidationResult.IS_POSSIBLE:
        return Phone(raw, None, PhoneFlag.UNUSABLE)
    e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    flag = None if _is_valid(number, region) else PhoneFlag.NOT_VALID
    return Phone(raw, e164, flag)


def _is_valid(number: phonenumbers.PhoneNumber, region: str) -> bool:
    """`is_valid_number`, asking the team's own region first (most numbers are from there).

    `is_valid_number` tries every region sharing the country code (GB, GG, IM, JE for +44)
    and so costs several times more; import speed is dominated by this check.
    """
    in_region = phonenumbers.country_code_for_region(region) == number.country_code
    if in_region and phonenumbers.is_valid_number_for_region(number, region):
        return True
    return phonenumbers.is_valid_number(number)


def is_valid_region(region: str) -> bool:
    return region.upper() in phonenumbers.SUPPORTED_REGIONS


@lru_cache(maxsize=4096)  # the day view shows the same few hundred numbers every 30 s
def display_phone(e164: str) -> str:
    """International format for screens: +44 7700 900123."""
    try:
        number = phonenumbers.parse(e164, None)
    except NumberParseException:
        return e164
    return phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)


def national_digits(e164: str) -> str:
    """The number's national significant digits ("+44 7700 900123" → "7700900123"); "" when
    it cannot be read (for finding a number written without its country code)."""
    try:
        return phonenumbers.national_significant_number(phonenumbers.parse(e164, None))
    except NumberParseException:
        return ""


def international_start(digits: str, region: str) -> str | None:
    """The E.164 start of a national number's first digits: "07700" in GB is "+447700" (the
    trunk prefix 0 dropped, the country code added); None when they do not start that way."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region.upper())
    trunk = metadata.national_prefix if metadata else None
    if not trunk or not digits.startswith(trunk) or digits.startswith(trunk * 2):
        return None
    return f"+{metadata.country_code}{digits[len(trunk) :]}"
