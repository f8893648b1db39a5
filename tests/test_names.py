"""Name hygiene: what is kept as written, what is refused, what is flagged."""
import pytest
from hypothesis import given
from hypothesis import strategies as st

from petitions.signing.names import (
    AFFILIATION_MAX_LENGTH, FLAGS, NAME_MAX_LENGTH, InvalidName, clean_affiliation, clean_name, flags_for_name,
)


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("  Ülviyyə   Həsənova ", "Ülviyyə Həsənova"),
        ("Leyla\u00a0Nəbiyeva", "Leyla Nəbiyeva"),  # NBSP
        ("Leyla\u2009\u3000Nəbiyeva\t", "Leyla Nəbiyeva"),  # thin and ideographic spaces, tab
        ("Kamran\nMəlikov", "Kamran Məlikov"),
        ("U\u0308lvi", "Ülvi"),  # decomposed umlaut composed (NFC)
        ("maria de la Cruz", "maria de la Cruz"),  # never re-cased
        ("Xəlil Əhmədoğlu", "Xəlil Əhmədoğlu"),
        ("Rauf oglu", "Rauf oglu"),
        ("SEAN McDONALD", "SEAN McDONALD"),
        ("Anna Müller-Lüdenscheidt", "Anna Müller-Lüdenscheidt"),
        ("Тофиг Гасымов", "Тофиг Гасымов"),
    ],
)
def test_clean_name_keeps_names_as_written(raw, expected):
    assert clean_name(raw) == expected


@pytest.mark.parametrize(
    "raw, code",
    [
        ("Leyla\u200bNəbiyeva", "invisible_char"),
        ("Leyla\u200dNəbiyeva", "invisible_char"),
        ("Leyla\u2060Nəbiyeva", "invisible_char"),
        ("\ufeffLeyla", "invisible_char"),
        ("Leyla\u202eavəyibəN", "bidi_char"),
        ("Leyla \u2066Nəbiyeva\u2069", "bidi_char"),
        ("Leyla\x00", "control_char"),
        ("Leyla\x1b[31m", "control_char"),
        ("Leyla\x85", "control_char"),
        ("", "empty"),
        ("   \u00a0 ", "empty"),
        (None, "empty"),
        ("x" * (NAME_MAX_LENGTH + 1), "too_long"),
    ],
)
def test_clean_name_refuses(raw, code):
    with pytest.raises(InvalidName) as info:
        clean_name(raw)
    assert info.value.code == code
    assert info.value.message[0].isupper() and info.value.message.endswith(".")


def test_refusal_message_points_at_the_character():
    with pytest.raises(InvalidName, match=r"U\+200B .*position 6"):
        clean_name("Leyla\u200b Nəbiyeva")


def test_invalid_name_is_a_value_error():
    assert issubclass(InvalidName, ValueError)


def test_length_limits():
    assert clean_name("x" * NAME_MAX_LENGTH) == "x" * NAME_MAX_LENGTH
    assert clean_affiliation("") == ""
    assert clean_affiliation(None) == ""
    assert clean_affiliation("a" * AFFILIATION_MAX_LENGTH) == "a" * AFFILIATION_MAX_LENGTH
    with pytest.raises(InvalidName) as info:
        clean_affiliation("a" * (AFFILIATION_MAX_LENGTH + 1))
    assert info.value.field == "affiliation"


def test_clean_affiliation_applies_same_hygiene():
    assert clean_affiliation("  Baku\u00a0State   University ") == "Baku State University"
    with pytest.raises(InvalidName):
        clean_affiliation("ADA\u202eUniversity")


@pytest.mark.parametrize(
    "name, expected",
    [
        ("Ülviyyə Həsənova", []),
        ("Jean-Pierre Duval", []),
        ("Catherine O'Neill", []),
        ("Nərmin Rauf qızı Quliyeva", []),
        ("www.cheap-pills.com", ["url"]),
        ("Visit https://spam.example", ["url"]),
        ("Leyla freedom-now.org", ["url"]),
        ("leyla@example.org", ["email"]),
        ("Leyla Nəbiyeva leyla@example.org", ["email"]),
        ("Leyla Nəbiyeva 0501234567", ["digits"]),
        ("Leyla 0501234567", ["digits", "single_word"]),
        ("Madonna", ["single_word"]),
        ("12345", ["digits", "no_letters"]),
        ("Tofiq Qаsımov", ["mixed_script"]),  # Cyrillic "а" inside a Latin word
        ("I fully support this letter and all of its demands", ["many_words"]),
    ],
)
def test_flags_for_name(name, expected):
    assert flags_for_name(name) == expected


def test_flags_are_stable_codes():
    assert FLAGS == {"url", "email", "digits", "single_word", "no_letters", "mixed_script", "many_words"}


@given(st.text(max_size=80))
def test_clean_name_is_idempotent_or_refuses(raw):
    try:
        cleaned = clean_name(raw)
    except InvalidName:
        return
    assert clean_name(cleaned) == cleaned
    assert cleaned == cleaned.strip() and "  " not in cleaned
    assert set(flags_for_name(cleaned)) <= FLAGS
