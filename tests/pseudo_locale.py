"""A pseudo-locale for the tests: every message of the catalog template as ⟦msgid⟧, and a check of visible text.

How a page passes the check (`untranslated(html, allowed)`): every word a reader sees is either inside ⟦…⟧ (it
came through the catalog), or it is not interface text:
- people's content: what organizers and signers typed (titles, letters, names, affiliations, addresses...),
  collected from the database of the crawl (`content_words`), so nothing needs marking in the templates;
- locale data Babel formats: month and weekday names of dates, language names, numbers;
- technical values: URLs, e-mail addresses, anything inside <code>, <kbd>, <samp>, <script>, <style>.
A template that shows text of its own that is neither (a file name, a code, a sample value) marks the element
with the standard attribute `translate="no"` (or `data-user` for people's content), which skips it with its
children, or passes the text through the catalog.
"""
from __future__ import annotations

import os
import re

from babel import Locale
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from lxml import html as lxml_html

from petitions.i18n import VERSION_LANGUAGES, catalogs, native_name

# A real locale Babel knows (its plural rule and dates work) for which the project ships no catalog.
PSEUDO = "eo"
OPEN, CLOSE = "⟦", "⟧"
SKIPPED_TAGS = {"script", "style", "code", "kbd", "samp", "template", "noscript"}
ATTRIBUTES = ("title", "placeholder", "aria-label", "alt")
INLINE = {"a", "abbr", "b", "bdi", "bdo", "em", "i", "q", "s", "small", "span", "strong", "sub", "sup", "time", "u",
          "mark", "label", "cite", "dfn", "var", "data"}
_WRAPPED = re.compile(f"{OPEN}[^{OPEN}{CLOSE}]*{CLOSE}")  # innermost first: a message may hold a wrapped value
_URL = re.compile(r"(?:https?://|/)[^\s⟦⟧]*|[\w.+-]*@[\w.-]+")
_WORD = re.compile(r"[^\W\d_]+")


def build_catalog(folder) -> str:
    """Write <folder>/eo/LC_MESSAGES/messages.mo from the marked strings; return the folder."""
    folder = str(folder)
    pot = catalogs.extract(os.path.join(folder, "messages.pot"))
    with open(pot, "rb") as f:
        template = read_po(f)
    catalog = Catalog(locale=PSEUDO, domain="messages")
    for message in template:
        if not message.id:
            continue
        if isinstance(message.id, (list, tuple)):
            string = tuple(f"{OPEN}{message.id[min(i, 1)]}{CLOSE}" for i in range(catalog.num_plurals))
        else:
            string = f"{OPEN}{message.id}{CLOSE}"
        catalog.add(message.id, string, flags=message.flags)
    out = os.path.join(folder, PSEUDO, "LC_MESSAGES")
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "messages.mo"), "wb") as f:
        write_mo(f, catalog)
    return folder


def locale_words(code: str = PSEUDO) -> set[str]:
    """Return the words of what Babel formats in a locale (the pseudo one): dates' names, language names."""
    locale = Locale.parse(code)
    words = {"UTC", PSEUDO, *VERSION_LANGUAGES, *catalogs.languages()}
    words.update(_WORD.findall(native_name(PSEUDO)))
    for context in ("format", "stand-alone"):
        for width in ("wide", "abbreviated", "narrow"):
            for names in (locale.months[context][width], locale.days[context][width]):
                for name in names.values():
                    words.update(_WORD.findall(name))
    for code in VERSION_LANGUAGES:
        words.update(_WORD.findall(native_name(code)))
        words.update(_WORD.findall(Locale.parse(code).get_display_name(locale) or ""))
    return {w.casefold() for w in words}


def words_of(values) -> set[str]:
    """Return the casefolded words of these strings, lists and dicts (people's content)."""
    found: set[str] = set()

    def walk(value):
        if isinstance(value, str):
            found.update(w.casefold() for w in _WORD.findall(value))
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, (list, tuple)):
            for v in value:
                walk(v)

    walk(values)
    return found


def unwrap(text: str) -> str:
    """Return the text without its wrapped messages, nested ones too ("⟦as ⟦editor⟧.⟧")."""
    while True:
        shorter = _WRAPPED.sub(" ", text)
        if shorter == text:
            return text
        text = shorter


def leftover(text: str, allowed: set[str]) -> list[str]:
    """Return the words of a visible text that are neither wrapped, people's content nor locale data."""
    text = _URL.sub(" ", unwrap(text))
    return [w for w in _WORD.findall(text) if len(w) > 1 and w.casefold() not in allowed]


def _skipped(element) -> bool:
    return (not isinstance(element.tag, str) or element.tag in SKIPPED_TAGS or "data-user" in element.attrib
            or element.get("translate") == "no")


def untranslated(page: str, allowed: set[str]) -> list[str]:
    """Return the visible texts of an HTML page (text and readable attributes) with words not from the catalog.

    The text is read in document order as one string: a message may hold markup (a <strong> inside ⟦…⟧).
    """
    root = lxml_html.fromstring(page)
    pieces: list[str] = []
    found = []

    def visit(element):
        skip = _skipped(element)
        if not skip:
            tag = element.tag
            pieces.append(element.text or "")
            attributes = [element.get(a) or "" for a in ATTRIBUTES]
            if tag == "input" and element.get("type") in ("submit", "button", "reset"):
                attributes.append(element.get("value") or "")
            found.extend(f"<{tag} {a!r}>" for a in attributes if leftover(a, allowed))
            # Blocks and cells separate words; inline elements do not.
            for child in element:
                visit(child)
                pieces.append(child.tail or "")
            pieces.append(" " if tag not in INLINE else "")
        elif isinstance(element.tag, str):
            pieces.append(" ")  # skipped content in the middle of a sentence stands for a word

    visit(root)
    text = unwrap("".join(pieces))
    text = _URL.sub(" ", text)
    for match in _WORD.finditer(text):
        word = match.group(0)
        if len(word) > 1 and word.casefold() not in allowed:
            context = text[max(0, match.start() - 40):match.end() + 40]
            found.append(f"{word!r} in …{' '.join(context.split())}…")
    return found
