"""Password policy: long enough, not trivial, not one of the passwords attackers try first."""
import re

from flask_babel import lazy_gettext as _l

MIN_LENGTH = 12
MAX_LENGTH = 200

# Rows an attacker walks first: alphabet, digits, keyboard rows (forwards; backwards is checked too).
_SEQUENCES = ("abcdefghijklmnopqrstuvwxyz", "0123456789", "qwertyuiop", "asdfghjkl", "zxcvbnm",
              "qwertzuiop", "azertyuiop", "qwertyuiopasdfghjklzxcvbnm", "1qaz2wsx3edc4rfv5tgb6yhn7ujm")

# The head of every leaked-password ranking, as words: digits and symbols around them are stripped first.
_COMMON = frozenset("""
password passwort motdepasse parol parola sifre admin administrator letmein welcome iloveyou
monkey dragon master sunshine princess football baseball superman batman trustno shadow
qwerty qwertz azerty abc login starwars whatever freedom secret changeme default guest user
test petition petitions organizer passw0rd p@ssword p@ssw0rd
""".split())

_LEET = str.maketrans("@4310$5!7", "aaeiosslt")


def _is_trivial(text: str) -> bool:
    """Tell whether text is one character repeated, a short unit repeated, or a walk along a row."""
    if len(set(text)) <= 2:
        return True
    for size in range(1, len(text) // 2 + 1):
        if len(text) % size == 0 and text[:size] * (len(text) // size) == text:
            return True
    for row in _SEQUENCES:
        if text in row * 3 or text in row[::-1] * 3:
            return True
    return False


def password_problem(password: str, email: str = "") -> str | None:
    """Return why the password is refused, or None when it is acceptable."""
    if len(password) < MIN_LENGTH:
        return _l("Use at least %(n)d characters.", n=MIN_LENGTH)
    if len(password) > MAX_LENGTH:
        return _l("Use at most %(n)d characters.", n=MAX_LENGTH)
    lowered = password.lower()
    # The word under the decoration: "P@ssword2026!" is "password".
    core = re.sub(r"^[\W\d_]+|[\W\d_]+$", "", lowered)
    squeezed = re.sub(r"[\W_]+", "", lowered)
    if any(_is_trivial(part) for part in {lowered, squeezed} if part) or not core or _is_trivial(core):
        return _l("This password is too easy to guess: avoid repeated characters and sequences.")
    words = {core, core.translate(_LEET), squeezed, _without_digits(lowered)}
    if words & _COMMON or any(_is_trivial(word) for word in words if word):
        return _l("This password is among the first ones attackers try. Choose another one.")
    local = email.strip().lower().partition("@")[0]
    if local and len(local) >= 3 and (lowered == email.strip().lower() or core == local or squeezed == local):
        return _l("Do not use your e-mail address as password.")
    return None


def _without_digits(text: str) -> str:
    return re.sub(r"[\W\d_]+", "", text)
