"""What the final PDF says, as plain data, and the one place that maps the database onto it."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from functools import lru_cache
from typing import Sequence

LEVELS = ("official", "vouched", "domain", "email", "unconfirmed")
LEVEL_LABELS = {
    "official": "confirmed officially by the organization",
    "vouched": "vouched for by the coalition",
    "domain": "e-mail at the organization's domain confirmed",
    "email": "e-mail address confirmed",
    "unconfirmed": "not confirmed",
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

    @property
    def lines(self) -> list[str]:
        """Return the address block, one line each, without empty lines."""
        lines = [self.name, self.title, self.institution, *self.postal_address.splitlines()]
        return [line.strip() for line in lines if line and line.strip()]


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
    """Signatories who signed an earlier revision of the text."""

    revision_number: int
    revision_hash: str
    signatories: Sequence[SignatoryEntry]


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

    @property
    def signatory_count(self) -> int:
        return len(self.signatories) + sum(len(g.signatories) for g in self.earlier_revisions)

    def level_counts(self) -> dict[str, int]:
        """Count every listed signatory per verification level, strongest level first."""
        counts = {level: 0 for level in LEVELS}
        for entries in [self.signatories, *(g.signatories for g in self.earlier_revisions)]:
            for entry in entries:
                counts[entry.level if entry.level in counts else "unconfirmed"] += 1
        return {level: n for level, n in counts.items() if n or level in ("email",)}

    def source_hash(self) -> str:
        """Hash everything printed except the generation time, so an unchanged letter is recognized."""
        h = hashlib.sha256()
        fixed = {k: v for k, v in self.__dict__.items()
                 if k not in ("signatories", "earlier_revisions", "generated_at", "logo")}
        h.update(json.dumps(fixed, default=str, sort_keys=True, ensure_ascii=False).encode())
        if self.logo:
            h.update(hashlib.sha256(self.logo.data).digest())
        for entries in [self.signatories, *(g.signatories for g in self.earlier_revisions)]:
            h.update(b"\x1d")
            for e in entries:
                h.update(_entry_bytes(e))
        return h.hexdigest()


def _entry_bytes(e: SignatoryEntry) -> bytes:
    return "\x1f".join((e.name, e.affiliation, e.level, "o" if e.is_organization else "p", e.country,
                        str(e.revision_number), e.surname)).encode() + b"\x1e"


@lru_cache(maxsize=16)
def _collator(language: str):
    try:
        import icu
    except ImportError:  # pragma: no cover - PyICU is a dependency; this keeps tools usable without it
        return None
    collator = icu.Collator.createInstance(icu.Locale(language or "en"))
    return collator


def collation_key(entry: SignatoryEntry, language: str) -> tuple:
    """Return the key that sorts entries by surname, then full name, as the language's readers expect."""
    collator = _collator(language)
    if collator is None:
        return (entry.sort_surname.casefold(), entry.name.casefold(), entry.affiliation.casefold())
    # One call per entry: a space sorts before every letter, so the surname decides first.
    return (collator.getSortKey(f"{entry.sort_surname} {entry.name} {entry.affiliation}"),)


def sorted_entries(entries: Sequence[SignatoryEntry], language: str) -> list[SignatoryEntry]:
    """Sort entries in the collation order of the document's language."""
    collator = _collator(language)
    if collator is None:
        return sorted(entries, key=lambda e: collation_key(e, language))
    # One C call per entry through map(): this sort runs on every render of a 100,000-name list.
    texts = [f"{e.name if e.is_organization else (e.surname or e.name.rsplit(None, 1)[-1] if e.name.strip() else '')}"
             f" {e.name} {e.affiliation}" for e in entries]
    keys = list(map(collator.getSortKey, texts))
    order = sorted(range(len(entries)), key=keys.__getitem__)
    return [entries[i] for i in order]


def grouped_entries(doc: LetterDocument) -> list[tuple[str, list[SignatoryEntry]]]:
    """Split the current revision's signatories into printed groups, each sorted."""
    entries = list(doc.signatories)
    if doc.grouping == "kind":
        groups = [("Organizations", [e for e in entries if e.is_organization]),
                  ("Individuals", [e for e in entries if not e.is_organization])]
    elif doc.grouping == "country":
        by_country: dict[str, list[SignatoryEntry]] = {}
        for e in entries:
            by_country.setdefault(e.country or "", []).append(e)
        collator = _collator(doc.language)
        order = sorted(by_country, key=lambda c: (c == "", collator.getSortKey(c) if collator else c))
        groups = [(c or "Country not stated", by_country[c]) for c in order]
    else:
        groups = [("", entries)]
    return [(title, sorted_entries(g, doc.language)) for title, g in groups if g]


# --- The mapping from today's models. Other features extend it here, and only here. ---------------

def document_from_appeal(appeal, audience: str = "addressees", *, settings=None,
                         generated_at: datetime | None = None) -> LetterDocument:
    """Adapt an appeal and its confirmed signatures to a LetterDocument."""
    from ..appeals.markdown import render_markdown
    from ..appeals.services import confirmed_signatures

    settings = settings if settings is not None else _settings_of(appeal)
    revision_number = int(getattr(appeal, "revision_number", 1) or 1)
    revision_hash = getattr(appeal, "revision_hash", None) or appeal.content_hash
    current, earlier = [], {}
    for sig in confirmed_signatures(appeal):
        entry = _entry_from_signature(sig, audience, revision_hash, revision_number)
        if entry is None:
            continue
        if entry.revision_number == revision_number and (
                getattr(sig, "text_hash", revision_hash) == revision_hash):
            current.append(entry)
        else:
            key = (entry.revision_number, getattr(sig, "text_hash", ""))
            earlier.setdefault(key, []).append(entry)
    published = getattr(appeal, "published_at", None)
    return LetterDocument(
        title=appeal.title,
        subject=getattr(appeal, "subject", "") or appeal.title,
        addressees=_addressees_of(appeal),
        place=getattr(appeal, "place", "") or getattr(settings, "place", "") or "",
        date=(published or datetime.now(timezone.utc)).date(),
        body_html=str(render_markdown(appeal.body)),
        demands=list(getattr(appeal, "demands", None) or []),
        closing=getattr(appeal, "closing", "") or "Respectfully,",
        coalition=(getattr(settings, "coalition_name", "") or getattr(appeal.owner, "name", "")),
        senders=[getattr(appeal.owner, "name", "")],
        logo=_logo_of(settings),
        language=getattr(appeal, "language", "") or "en",
        revision_number=revision_number,
        revision_hash=revision_hash,
        generated_at=generated_at or datetime.now(timezone.utc),
        signatories=current,
        earlier_revisions=[RevisionGroup(n, h, sorted_entries(v, getattr(appeal, "language", "en") or "en"))
                           for (n, h), v in sorted(earlier.items(), key=lambda kv: kv[0], reverse=True)],
        page_size=getattr(settings, "page_size", "A4") or "A4",
        columns=int(getattr(settings, "columns", 2) or 2),
        grouping=getattr(settings, "grouping", "none") or "none",
        audience=audience,
        appeal_slug=appeal.slug,
    )


def _entry_from_signature(sig, audience: str, revision_hash: str, revision_number: int) -> SignatoryEntry | None:
    # Visibility (issue 5): "public" names everywhere, "addressees" only in the addressees' copy,
    # "anonymous" is counted in the annex but never named.
    visibility = getattr(sig, "visibility", "public") or "public"
    visibility = getattr(visibility, "value", visibility)
    if visibility == "anonymous" or (visibility == "addressees" and audience == "public"):
        return None
    level = getattr(sig, "verification_level", None) or getattr(sig, "level", None) or "email"
    level = getattr(level, "value", level)
    org = getattr(sig, "organization", None)
    return SignatoryEntry(
        name=sig.full_name,
        affiliation=getattr(sig, "affiliation", "") or "",
        level=level if level in LEVELS else "unconfirmed",
        is_organization=bool(getattr(sig, "is_organization", False) or (org is not None and getattr(
            sig, "signs_as_organization", False))),
        country=getattr(sig, "country", "") or "",
        revision_number=int(getattr(sig, "revision_number", None) or (
            revision_number if getattr(sig, "text_hash", revision_hash) == revision_hash else revision_number - 1)),
    )


def _addressees_of(appeal) -> list[Addressee]:
    structured = getattr(appeal, "addressee_list", None)
    if structured:
        return [Addressee(name=getattr(a, "name", ""), title=getattr(a, "title", "") or "",
                          institution=getattr(a, "institution", "") or "",
                          postal_address=getattr(a, "postal_address", "") or "",
                          salutation=getattr(a, "salutation", "") or "") for a in structured]
    # Today: free text, one addressee per line ("Secretary General, Council of Europe").
    result = []
    for line in (appeal.addressees or "").splitlines():
        if line.strip():
            name, _, rest = line.strip().partition(",")
            result.append(Addressee(name=name.strip(), institution=rest.strip()))
    return result


def _settings_of(appeal):
    from .models import PdfSettings
    from ..extensions import db

    return db.session.get(PdfSettings, appeal.id)


def _logo_of(settings) -> Logo | None:
    data = getattr(settings, "logo", None)
    return Logo(data, settings.logo_mime) if data else None
