"""Legacy encodings of exported files: told by charset-normalizer and the team's phone region,
refused with the best guess when they cannot be told, never silently read as mojibake."""

import codecs

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadms_tui.intake.parsers.encodings import REGION_ENCODINGS, decode_text
from leadms_tui.intake.records import UnusableInput

RUSSIAN = (
    "name,phone,email,message\n"
    "Иван Петров,+79161234567,ivan@example.ru,Здравствуйте хочу узнать цену\n"
    "Ольга Смирнова,+79161234568,olga@example.ru,Перезвоните мне пожалуйста\n"
)
POLISH = (
    "name,phone,email,message\n"
    "Łukasz Żółć,+48501234567,l@example.pl,Dzień dobry proszę o kontakt\n"
    "Zofia Wróbel,+48501234568,z@example.pl,Chciałabym zapytać o cenę\n"
)
CZECH = "name,phone,email,message\nJiří Dvořák,+420601234567,j@example.cz,Dobrý den, mám zájem\n"
JAPANESE = "name,phone,email,message\n山田太郎,+819012345678,t@example.jp,価格を教えてください\n"


@pytest.mark.parametrize(
    ("text", "encoding", "region"),
    [
        (RUSSIAN, "cp1251", "RU"),
        (RUSSIAN, "cp1251", "US"),  # told apart from cp1252 even against the region
        (RUSSIAN, "cp1251", None),
        (POLISH, "iso8859-2", "PL"),
        (CZECH, "iso8859-2", "CZ"),
        (JAPANESE, "shift_jis", "JP"),
    ],
)
def test_a_legacy_export_is_read_as_written(text, encoding, region):
    decoded = decode_text(text.encode(encoding), region=region)
    assert decoded.text == text and decoded.encoding == encoding


@pytest.mark.parametrize("text", [POLISH, CZECH, JAPANESE])
def test_no_region_and_readings_that_differ_are_refused_with_the_guess(text):
    data = text.encode("shift_jis" if text is JAPANESE else "iso8859_2")
    with pytest.raises(UnusableInput, match=r"cannot tell the file's encoding.*best guess"):
        decode_text(data, region=None)


def test_a_western_region_reads_cp1252_and_says_what_else_it_could_be():
    decoded = decode_text(POLISH.encode("iso8859_2"), region="US")
    assert decoded.encoding == "cp1252" and decoded.others  # not silent: the summary says so
    assert "--encoding chooses" in decoded.describe()


def test_a_given_encoding_overrides_and_is_checked():
    data = POLISH.encode("iso8859_2")
    assert decode_text(data, encoding="iso8859_2", region="US").text == POLISH
    for unknown in ("klingon", "base64", "rot13"):
        with pytest.raises(UnusableInput, match=f"unknown encoding '{unknown}'"):
            decode_text(data, encoding=unknown)
    with pytest.raises(UnusableInput, match="cannot decode the file as utf-8 text"):
        decode_text(data, encoding="utf-8")


def test_utf8_and_boms_are_certain():
    assert decode_text(RUSSIAN.encode()).how == "certain"
    assert decode_text(codecs.BOM_UTF8 + RUSSIAN.encode()).text == RUSSIAN
    assert decode_text(codecs.BOM_UTF16_LE + RUSSIAN.encode("utf-16-le")).text == RUSSIAN


@settings(max_examples=150, deadline=None)
@given(
    data=st.binary(max_size=400),
    region=st.sampled_from([None, "US", *sorted(REGION_ENCODINGS)]),
)
def test_any_bytes_are_read_as_the_chosen_encoding_or_refused_in_words(data, region):
    try:
        decoded = decode_text(data, region=region)
    except UnusableInput as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    assert decoded.text == data.decode(decoded.encoding)
