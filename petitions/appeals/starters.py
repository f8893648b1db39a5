"""Built-in starting points for new appeals, pre-structured with placeholders, and the placeholder rule."""
import json
import re
from pathlib import Path

from flask_babel import lazy_gettext as _l

# The built-in templates are data, kept in starters.json beside this file: {key: {"name", "content"}}.
BUILTIN: dict[str, dict] = json.loads(Path(__file__).with_name("starters.json").read_text(encoding="utf-8"))
# Their names as organizers read them, in the interface language (the JSON keeps the English).
NAMES = {"prisoner": _l("Appeal for the release of a prisoner"),
         "institution": _l("Open letter to an international institution"),
         "statement": _l("Joint statement with demands")}


# A placeholder is square-bracketed text holding a letter, as every built-in template writes them ("[Name]",
# "[City]", "[condemn / express concern about]"). Not placeholders: citations ("[1]", "[12, 14-16]"), Markdown
# links and references ("[text](url)", "[text][1]", "[1]: url"), an ellipsis ("[…]"), the editor's notes of
# quotations ("[sic]", "[emphasis added]") and a changed first letter inside a quotation ("[t]he").
_BRACKETED = re.compile(r"\[([^\[\]\n]{1,200})\]")
_EDITORIAL = {"sic", "sic!", "emphasis added", "emphasis mine", "emphasis in original", "translation",
              "translated", "translation ours", "our translation", "citation needed", "ibid", "ibid.", "id.",
              "original emphasis", "inaudible", "unclear", "redacted"}


def _is_placeholder(text: str, match: re.Match) -> bool:
    inner = match.group(1).strip()
    if not any(ch.isalpha() for ch in inner) or inner.casefold() in _EDITORIAL:
        return False
    after = text[match.end():match.end() + 1]
    before = text[match.start() - 1:match.start()] if match.start() else ""
    if after in ("(", "[") or before == "]":
        return False
    if after == ":" and before in ("", "\n"):  # a reference definition starts its line
        return False
    # "[t]he", "[A]ll": one or two letters completing a word of a quotation.
    if len(inner) <= 2 and inner.isalpha() and after.isalpha():
        return False
    return True


def placeholders(text: str | None) -> list[str]:
    """Return the template placeholders left in a text, such as "[Institution]"."""
    text = text or ""
    return [m.group(0) for m in _BRACKETED.finditer(text) if _is_placeholder(text, m)]


_PART_NAMES = {"senders": _l("senders"), "title": _l("title"), "subject": _l("subject"), "place": _l("place"),
               "body": _l("text"), "closing": _l("closing")}


def content_placeholders(content: dict) -> list[tuple[str, str]]:
    """Return (letter part, placeholder) for every placeholder left in a letter, in the editor's order."""
    def found_in(key):
        return [(str(_PART_NAMES[key]), p) for p in placeholders(content.get(key))]

    found = found_in("senders") + found_in("title") + found_in("subject")
    for i, addressee in enumerate(content.get("addressees") or []):
        for value in (addressee.values() if isinstance(addressee, dict) else ()):
            found += [(str(_l("addressee %(n)d", n=i + 1)), p)
                      for p in placeholders(value if isinstance(value, str) else "")]
    found += found_in("place") + found_in("body")
    for i, demand in enumerate(content.get("demands") or []):
        found += [(str(_l("demand %(n)d", n=i + 1)), p) for p in placeholders(demand if isinstance(demand, str) else "")]
    return found + found_in("closing")
