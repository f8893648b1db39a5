"""The PDF's own words (headings, annex, labels) in the document's language, from a catalog the caller passes in.

The engine knows no Flask: `build` takes a gettext catalog (petitions.pdf.jobs passes the interface's catalog for
the document's language) and these functions read it. The names match the extraction keywords (`_`, `_l`,
`ngettext`), so the catalogs still collect every string here.
"""
from __future__ import annotations

import gettext
from contextlib import contextmanager
from contextvars import ContextVar
from babel import Locale, UnknownLocaleError
from babel.numbers import format_decimal

_catalog: ContextVar[gettext.NullTranslations] = ContextVar("pdf_catalog", default=gettext.NullTranslations())
_language: ContextVar[str] = ContextVar("pdf_language", default="en")
# Words from a catalog of the other direction (English words in an Arabic letter, where no Arabic catalog
# exists) are isolated in their own: otherwise their full stop and colon land on the wrong side.
_isolate: ContextVar[tuple[str, str]] = ContextVar("pdf_isolate", default=("", ""))
LRI, RLI, PDI = "\u2066", "\u2067", "\u2069"


def _right_to_left(language: str) -> bool:
    try:
        return Locale.parse((language or "en").replace("-", "_")).character_order == "right-to-left"
    except (ValueError, UnknownLocaleError):
        return False


@contextmanager
def speaking(catalog: gettext.NullTranslations | None, language: str = "en"):
    """Translate the engine's words with this catalog (None: English), numbers in this language, while the block runs."""
    catalog = catalog if catalog is not None else gettext.NullTranslations()
    token = _catalog.set(catalog)
    lang_token = _language.set(language or "en")
    words_rtl = _right_to_left(catalog.info().get("language") or "en")
    isolate = ("", "") if words_rtl == _right_to_left(language) else ((RLI if words_rtl else LRI), PDI)
    isolate_token = _isolate.set(isolate)
    try:
        yield
    finally:
        _catalog.reset(token)
        _language.reset(lang_token)
        _isolate.reset(isolate_token)


def words_direction() -> str:
    """Return the writing direction of the words' catalog (a block made only of words is laid out in it)."""
    start, _end = _isolate.get()
    if not start:
        return "rtl" if _right_to_left(_language.get()) else "ltr"
    return "rtl" if start == RLI else "ltr"


def number(n: int) -> str:
    """Format a count the way the document's language writes it (Babel: "12,345", "12 345", "12.345")."""
    try:
        return format_decimal(n, locale=_language.get())
    except (ValueError, LookupError):
        return format_decimal(n, locale="en")


def _(message: str, **variables) -> str:
    """Return the message in the current catalog's language, with its %(name)s variables filled in."""
    text = _catalog.get().gettext(message)
    start, end = _isolate.get()
    return start + (text % variables if variables else text) + end


def ngettext(singular: str, plural: str, n: int, **variables) -> str:
    """Return the singular or plural form for n in the current catalog's language."""
    variables.setdefault("num", n)
    start, end = _isolate.get()
    return start + _catalog.get().ngettext(singular, plural, n) % variables + end


class LazyText:
    """A message translated each time it is shown, in the language of the document being made."""

    def __init__(self, message: str):
        self.message = message

    def __str__(self) -> str:
        return _(self.message)

    def __html__(self) -> str:
        return str(self)


def _l(message: str) -> LazyText:
    """Mark a message to be translated when it is shown, not when it is defined."""
    return LazyText(message)
