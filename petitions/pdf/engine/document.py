"""What the final PDF says, as plain data (petitions/pdf/mapping.py fills it from the database)."""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timezone
from functools import lru_cache
from operator import attrgetter
from typing import Sequence

import icu

from petitions.pdf.engine.words import _, _l, ngettext, number

LEVELS = ("official", "vouched", "domain", "email", "unconfirmed")
# Lazy strings: they resolve in the language the PDF is rendered in (the catalog given to assemble.build).
LEVEL_LABELS = {
    "official": _l("confirmed officially by the organization"),
    "vouched": _l("vouched for by the coalition"),
    "domain": _l("e-mail at the organization's domain confirmed"),
    "email": _l("e-mail address confirmed"),
    "unconfirmed": _l("not confirmed"),
}
# What each level proves, for the annex: it describes only the levels present, each with its count.
LEVEL_DESCRIPTIONS = {
    "official": lambda n: ngettext("%(count)s organization signed officially: its contact address, proven to the "
                                   "organization registry, confirmed the signature.",
                                   "%(count)s organizations signed officially: their contact addresses, proven to the "
                                   "organization registry, confirmed the signatures.", n, count=number(n)),
    "vouched": lambda n: ngettext("%(count)s signatory was vouched for by the organizers (for example from a signed "
                                  "paper list); no e-mail confirmation is implied.",
                                  "%(count)s signatories were vouched for by the organizers (for example from a signed "
                                  "paper list); no e-mail confirmation is implied.", n, count=number(n)),
    "domain": lambda n: ngettext("%(count)s signatory confirmed through a link sent to an e-mail address at the "
                                 "domain of the organization named as affiliation.",
                                 "%(count)s signatories confirmed through a link sent to an e-mail address at the "
                                 "domain of the organization named as affiliation.", n, count=number(n)),
    "email": lambda n: ngettext("%(count)s signatory confirmed through a link sent to their e-mail address.",
                                "%(count)s signatories confirmed through a link sent to their e-mail address.", n,
                                count=number(n)),
    "unconfirmed": lambda n: ngettext("%(count)s signatory is listed without any confirmation.",
                                      "%(count)s signatories are listed without any confirmation.", n, count=number(n)),
}
LEVEL_MARKS = {"official": "O", "vouched": "V", "domain": "D", "email": "E", "unconfirmed": "?"}
GROUPINGS = ("none", "kind", "country")
PAGE_SIZES = ("A4", "Letter")


@dataclass(frozen=True)
class Addressee:
    """One recipient of the letter."""

    name: str
    title: str = ""
    institution: str = ""
    postal_address: str = ""
    salutation: str = ""
    untranslated: tuple[str, ...] = ()  # the fields left in the original's language (name, salutation...)

    @property
    def lines(self) -> list[str]:
        """Return the address block, one line each, without empty lines."""
        return [text for text, _untranslated in self.marked_lines]

    @property
    def marked_lines(self) -> list[tuple[str, bool]]:
        """Return the address block's lines, each with whether it is left in the original's language."""
        parts = [(self.name, "name"), (self.title, "title"), (self.institution, "institution"),
                 *((line, "postal_address") for line in self.postal_address.splitlines())]
        return [(text.strip(), key in self.untranslated) for text, key in parts if text and text.strip()]


@dataclass(frozen=True)
class SignatoryEntry:
    """One name in the signatory list, as printed."""

    name: str
    affiliation: str = ""
    level: str = "email"
    is_organization: bool = False
    country: str = ""
    revision_number: int = 1
    surname: str = ""  # empty: the last word of the name
    detail: str = ""  # what is printed after the name (ListedSignature.line_parts); empty: the affiliation
    signer: str = ""  # who signed on behalf of the organization named by `name`
    role: str = ""  # the signer's role in that organization

    @property
    def sort_surname(self) -> str:
        if self.is_organization:
            return self.name
        return self.surname or (self.name.split()[-1] if self.name.split() else "")

    @property
    def mark(self) -> str:
        return LEVEL_MARKS.get(self.level, "?")


@dataclass(frozen=True)
class Logo:
    """An uploaded letterhead logo, already validated."""

    data: bytes
    mime: str


@dataclass(frozen=True)
class RevisionGroup:
    """Signatories who signed an earlier revision of the text, and that text, printed before them."""

    revision_number: int
    revision_hash: str
    signatories: Sequence[SignatoryEntry]
    title: str = ""
    body_html: str = ""
    subject: str = ""
    demands: tuple[str, ...] = ()
    closing: str = ""
    language: str = ""
    # What the current text changed, part by part: (label, ((op, text), ...)) with op equal/insert/delete.
    changes: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()


@dataclass(frozen=True)
class TranslationVersion:
    """A language version of the letter, printed as an annex of the combined PDF."""

    language: str
    title: str
    body_html: str
    revision_number: int
    subject: str = ""
    demands: tuple[str, ...] = ()
    closing: str = ""
    direction: str = "ltr"  # the version's writing direction
    language_name: str = ""  # the version's language, named in the language of the document


@dataclass
class LetterDocument:
    """Everything the PDF prints, independent of the database."""

    title: str
    body_html: str
    signatories: Sequence[SignatoryEntry]
    subject: str = ""
    addressees: list[Addressee] = field(default_factory=list)
    place: str = ""
    date: date | None = None
    date_text: str = ""  # the date as the letter's language writes it (empty: the ISO date)
    demands: list[str] = field(default_factory=list)
    closing: str = ""
    coalition: str = ""
    senders: list[str] = field(default_factory=list)
    logo: Logo | None = None
    language: str = "en"
    revision_number: int = 1
    revision_hash: str = ""
    generated_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    earlier_revisions: list[RevisionGroup] = field(default_factory=list)
    page_size: str = "A4"
    columns: int = 2
    grouping: str = "none"
    audience: str = "addressees"
    appeal_slug: str = ""
    counted_total: int | None = None  # every signature that counts, named or not (visibility)
    translations: list[TranslationVersion] = field(default_factory=list)  # annexes of the combined PDF
    direction: str = "ltr"  # the letter's writing direction: "rtl" mirrors the letter, the list and the annex
    original_language: str = ""  # the language of the parts a translation leaves untranslated
    original_direction: str = "ltr"  # and its writing direction
    untranslated: tuple[str, ...] = ()  # parts printed in the original's language: "closing", "place", "senders"...
    translated_after_close: bool = False  # a language version brought up to date after signing closed

    @property
    def signatory_count(self) -> int:
        return len(self.signatories) + sum(len(g.signatories) for g in self.earlier_revisions)

    @property
    def organization_count(self) -> int:
        """Count the listed signatories who sign on behalf of an organization."""
        return sum(e.is_organization for entries in [self.signatories, *(g.signatories for g in self.earlier_revisions)]
                   for e in entries)

    def level_counts(self) -> dict[str, int]:
        """Count every listed signatory per verification level, strongest level first."""
        counts = {level: 0 for level in LEVELS}
        for entries in [self.signatories, *(g.signatories for g in self.earlier_revisions)]:
            for entry in entries:
                counts[entry.level if entry.level in counts else "unconfirmed"] += 1
        return {level: n for level, n in counts.items() if n}

    def source_hash(self) -> str:
        """Hash everything printed except the generation time, so an unchanged letter is recognized."""
        h = hashlib.sha256()
        fixed = {k: v for k, v in self.__dict__.items()
                 if k not in ("signatories", "earlier_revisions", "generated_at", "logo")}
        h.update(json.dumps(fixed, default=str, sort_keys=True, ensure_ascii=False).encode())
        if self.logo:
            h.update(hashlib.sha256(self.logo.data).digest())
        for g in self.earlier_revisions:  # the earlier texts are printed too
            h.update(json.dumps([g.revision_number, g.revision_hash, g.title, g.body_html, g.subject,
                                 list(g.demands), g.closing, g.language, g.changes], ensure_ascii=False).encode())
        for entries in [self.signatories, *(g.signatories for g in self.earlier_revisions)]:
            h.update(b"\x1d")
            for e in entries:
                h.update(entry_bytes(e))
        return h.hexdigest()


@lru_cache(maxsize=None)
def _entry_fields(cls: type) -> attrgetter:
    return attrgetter(*(f.name for f in fields(cls)))


def entry_bytes(e: SignatoryEntry) -> bytes:
    """Encode every field of an entry: the chunk cache key and the freshness hash change with any of them."""
    # A render encodes each of 100,000 entries twice (chunk keys, source hash): kept on the frozen entry,
    # which never changes, beside its fields.
    encoded = e.__dict__.get("_encoded")
    if encoded is None:
        encoded = e.__dict__["_encoded"] = "\x1f".join(map(str, _entry_fields(type(e))(e))).encode() + b"\x1e"
    return encoded


@lru_cache(maxsize=16)
def _collator(language: str) -> icu.Collator:
    return icu.Collator.createInstance(icu.Locale(language or "en"))


def sorted_entries(entries: Sequence[SignatoryEntry], language: str) -> list[SignatoryEntry]:
    """Sort entries in the collation order of the document's language."""
    collator = _collator(language)
    # This sort runs on every render of a 100,000-name list, mostly of entries the last render sorted already
    # (pdf/listing.py keeps them): each keeps its key beside its fields, as entry_bytes does.
    memo = f"_sort_key_{language}"
    missing = [e for e in entries if memo not in e.__dict__]
    texts = [f"{e.name if e.is_organization else (e.surname or e.name.rsplit(None, 1)[-1] if e.name.strip() else '')}"
             f" {e.name} {e.affiliation}" for e in missing]
    for e, key in zip(missing, map(collator.getSortKey, texts)):  # one C call per entry through map()
        e.__dict__[memo] = key
    keys = [e.__dict__[memo] for e in entries]
    order = sorted(range(len(entries)), key=keys.__getitem__)
    return [entries[i] for i in order]


def grouped_entries(doc: LetterDocument) -> list[tuple[str, list[SignatoryEntry]]]:
    """Split the current revision's signatories into printed groups, each sorted."""
    entries = list(doc.signatories)
    if doc.grouping == "kind":
        groups = [(_("Organizations"), [e for e in entries if e.is_organization]),
                  (_("Individuals"), [e for e in entries if not e.is_organization])]
    elif doc.grouping == "country":
        by_country: dict[str, list[SignatoryEntry]] = {}
        for e in entries:
            by_country.setdefault(e.country or "", []).append(e)
        collator = _collator(doc.language)
        order = sorted(by_country, key=lambda c: (c == "", collator.getSortKey(c)))
        groups = [(c or _("Country not stated"), by_country[c]) for c in order]
    else:
        groups = [("", entries)]
    return [(title, sorted_entries(g, doc.language)) for title, g in groups if g]


def paragraphs(text: str) -> list[list[str]]:
    """Split plain text into paragraphs at blank lines, each a list of its lines (any newline convention)."""
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n")
    out = []
    for block in re.split(r"\n[ \t\u00a0]*\n", text):
        lines = [line.strip() for line in block.split("\n") if line.strip()]
        if lines:
            out.append(lines)
    return out
