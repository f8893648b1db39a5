"""Name hygiene for signatories: normalise what people typed, refuse what cannot be a name."""
from __future__ import annotations

import functools
import re
import unicodedata

NAME_MIN_LENGTH = 1
NAME_MAX_LENGTH = 200
AFFILIATION_MIN_LENGTH = 0
AFFILIATION_MAX_LENGTH = 300
COUNTRY_MAX_LENGTH = 80
ROLE_MAX_LENGTH = 200

# Short, stable codes: they are stored with signatures and shown to moderators.
FLAG_URL = "url"
FLAG_EMAIL = "email"
FLAG_DIGITS = "digits"
FLAG_SINGLE_WORD = "single_word"
FLAG_NO_LETTERS = "no_letters"
FLAG_MIXED_SCRIPT = "mixed_script"
FLAG_MANY_WORDS = "many_words"
FLAGS = frozenset(
    {FLAG_URL, FLAG_EMAIL, FLAG_DIGITS, FLAG_SINGLE_WORD, FLAG_NO_LETTERS, FLAG_MIXED_SCRIPT, FLAG_MANY_WORDS}
)

MAX_DIGITS = 2  # more than this and it is a phone number, a date or an ID, not a name
MAX_WORDS = 6  # longer than this it is usually a sentence typed into the name field

_ZERO_WIDTH = {0x00AD, 0x034F, 0x180E, 0x2060, 0x2061, 0x2062, 0x2063, 0x2064, 0xFEFF} | set(range(0x200B, 0x2010))
_BIDI = {0x061C} | set(range(0x202A, 0x202F)) | set(range(0x2066, 0x206A))
# One regex finds every refused character, so the common all-clean case costs a single scan.
_REFUSED_RE = re.compile(
    "[\x00-\x08\x0e-\x1f\x7f-\x9f\ud800-\udfff"
    + "".join(re.escape(chr(c)) for c in sorted(_ZERO_WIDTH | _BIDI))
    + "]"
)
# Single-line fields (a letter's title, subject, place, an addressee's name) also refuse every line break.
_LINE_BREAKS = {0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x2028, 0x2029}  # and U+0085, a C1 control
# Letters may need what names refuse: joiners spell Persian and Indic words, marks fix the order of punctuation.
LETTER_ALLOWED = frozenset({0x00AD, 0x061C, 0x200C, 0x200D, 0x200E, 0x200F})
_SPACE_RE = re.compile(r"\s+")  # str patterns match Unicode spaces too: NBSP, thin space, ideographic space
_EMAIL_RE = re.compile(r"[^\s@<>()]+@[^\s@<>()]+\.[^\W\d_]{2,}")
_URL_RE = re.compile(
    r"(?i)(?:\b(?:https?|ftp)://|\bwww\.|"
    r"\b[a-z0-9][a-z0-9-]+\.(?:[a-z0-9-]+\.)*"
    r"(?:com|org|net|edu|gov|info|biz|io|co|me|tv|xyz|online|site|app|ru|az|am|ge|tr|ua|by|kz|uk|de|fr|us|eu)\b)"
)
_DIGIT_RE = re.compile(r"\d")
_WORD_RE = re.compile(r"[^\W\d_]+(?:['’.\-][^\W\d_]+)*")


class InvalidName(ValueError):
    """Raise when a name or affiliation cannot be accepted; `message` is written for the person who typed it."""

    def __init__(self, message: str, code: str = "invalid", field: str = "name") -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.field = field


@functools.lru_cache(maxsize=8)
def _refused_re(single_line: bool, allow: frozenset[int]) -> re.Pattern:
    if not single_line and not allow:
        return _REFUSED_RE
    refused = (set(range(0x00, 0x09)) | set(range(0x0E, 0x20)) | set(range(0x7F, 0xA0)) | _ZERO_WIDTH | _BIDI
               | (_LINE_BREAKS if single_line else set())) - allow
    return re.compile("[" + "".join(re.escape(chr(c)) for c in sorted(refused)) + "\ud800-\udfff]")


def refused_character(text: str, *, single_line: bool = False, allow: frozenset[int] = frozenset()
                      ) -> tuple[int, str, str] | None:
    """Return (position from 1, code, description) of the first refused character in the text, or None."""
    bad = _refused_re(single_line, allow).search(text)
    if bad is None:
        return None
    code, what = _describe(bad.group())
    return bad.start() + 1, code, what


def _describe(ch: str) -> tuple[str, str]:
    """Return (code, human description) for a refused character."""
    cp = ord(ch)
    label = f"U+{cp:04X}" + (f" {unicodedata.name(ch)}" if unicodedata.name(ch, "") else "")
    if cp in _LINE_BREAKS:
        return "line_break", f"a line break or tab ({label})"
    if cp in _BIDI:
        return "bidi_char", f"an invisible text-direction control character ({label})"
    if cp in _ZERO_WIDTH:
        return "invisible_char", f"an invisible character ({label})"
    return "control_char", f"a control character ({label})"


def _clean(raw: object, field: str, label: str, min_length: int, max_length: int) -> str:
    """Normalise `raw` to NFC with single spaces, refusing invisible and control characters."""
    if raw is None:
        raw = ""
    if not isinstance(raw, str):
        raise InvalidName(f"{label} must be text.", "not_text", field)
    text = unicodedata.normalize("NFC", raw)
    bad = refused_character(text)
    if bad:
        position, code, what = bad
        raise InvalidName(
            f"{label} contains {what} at position {position}; please retype it without copying.", code, field
        )
    text = _SPACE_RE.sub(" ", text).strip()
    if len(text) < min_length:
        raise InvalidName(f"{label} is empty.", "empty", field)
    if len(text) > max_length:
        raise InvalidName(f"{label} is too long ({len(text)} characters; at most {max_length}).", "too_long", field)
    return text


def clean_name(raw: object) -> str:
    """Return the signatory's name as written (NFC, single spaces) or raise InvalidName."""
    return _clean(raw, "name", "Name", NAME_MIN_LENGTH, NAME_MAX_LENGTH)


def clean_affiliation(raw: object) -> str:
    """Return the affiliation as written (NFC, single spaces, may be empty) or raise InvalidName."""
    return _clean(raw, "affiliation", "Affiliation", AFFILIATION_MIN_LENGTH, AFFILIATION_MAX_LENGTH)


def clean_country(raw: object) -> str:
    """Return the country as written (NFC, single spaces, may be empty) or raise InvalidName."""
    return _clean(raw, "country", "Country", 0, COUNTRY_MAX_LENGTH)


def clean_role(raw: object) -> str:
    """Return the role of an organization's signer as written (may be empty) or raise InvalidName."""
    return _clean(raw, "role", "Role", 0, ROLE_MAX_LENGTH)


def _scripts(word: str) -> set[str]:
    """Return the scripts (first word of the Unicode name, e.g. LATIN, CYRILLIC) of the letters in `word`."""
    return {unicodedata.name(ch, "?").split(" ", 1)[0] for ch in word if ch.isalpha()}


def flags_for_name(name: str) -> list[str]:
    """Return flag codes for a cleaned name that does not look like a person's name; empty when it does."""
    flags: list[str] = []
    if _EMAIL_RE.search(name):
        flags.append(FLAG_EMAIL)
    elif _URL_RE.search(name):
        flags.append(FLAG_URL)
    if len(_DIGIT_RE.findall(name)) > MAX_DIGITS:
        flags.append(FLAG_DIGITS)
    words = _WORD_RE.findall(name)
    if not words:
        flags.append(FLAG_NO_LETTERS)
        return flags
    if len(words) == 1 and FLAG_EMAIL not in flags and FLAG_URL not in flags:
        flags.append(FLAG_SINGLE_WORD)
    if len(words) > MAX_WORDS:
        flags.append(FLAG_MANY_WORDS)
    # A Cyrillic "а" inside a Latin word is the classic look-alike trick to dodge duplicate checks.
    if any(len(_scripts(w)) > 1 for w in words if not w.isascii()):
        flags.append(FLAG_MIXED_SCRIPT)
    return flags
