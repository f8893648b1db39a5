"""The signatory list a PDF prints, kept in this process between renders and brought up to date cheaply.

A long list's PDF is rendered again after every few confirmations, and reading 100,000 rows costs seconds.
Between two changes that are not new confirmations (rewrites: signing/rules.py records the list version of the
last one as `list_rewrite_version`), a list only grows, by signatures confirmed just then: so the entries read
last stay right up to a little before their newest confirmation (READ_BACK, for clocks and slow commits), and only
the rows confirmed since then are read again. Any other change (a withdrawal, rejection, merge, erasure, corrected
name, visibility, import) is a rewrite, and the next read is a whole one.

Only in memory, a few lists per process (the PDF worker's), for lists long enough to matter; the version numbers
are read before the rows, so what is kept is never older than the versions it is filed under. Every process that
writes signatures must run code that keeps `list_rewrite_version` (docs/deploy.md: restart all after migrating).
"""
from __future__ import annotations

import bisect
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import timedelta

from petitions.extensions import db
from petitions.i18n import with_locale
from petitions.pdf.engine.document import LEVELS, SignatoryEntry
from petitions.signing.rules import APPEND_WITHIN, ListedSignature, listed_signatures

READ_BACK = timedelta(minutes=10)  # well beyond APPEND_WITHIN: what a confirmation may lag behind the newest
KEEP = 2  # lists kept per process (an appeal's two PDFs): about 55 MB each at 100,000 names
MIN_ENTRIES = 2000  # shorter lists are read whole each time: quick, and nothing kept
assert READ_BACK > APPEND_WITHIN

Pair = tuple[ListedSignature, SignatoryEntry]


@dataclass(frozen=True)
class _Kept:
    version: int
    rewrite: int
    pairs: list[Pair]  # in confirmation order, as listed_signatures returns them


_KEPT: OrderedDict[tuple, _Kept] = OrderedDict()
_LOCK = threading.Lock()


def entry_of(listed: ListedSignature, revision_number: int) -> SignatoryEntry:
    """Map one listed signature onto the entry the PDF prints, in the words of ListedSignature.line_parts.

    The caller sets the document's language (`with_locale`): "signed by" is written in it.
    """
    level = listed.level if listed.level in LEVELS else "unconfirmed"
    head, detail = listed.line_parts()
    if listed.is_organization:
        return SignatoryEntry(name=head, level=level, is_organization=True, country=listed.country,
                              revision_number=revision_number, signer=listed.name, role=listed.role, detail=detail)
    return SignatoryEntry(name=head, affiliation=listed.affiliation, level=level,
                          is_organization=level == "official", country=listed.country,
                          revision_number=revision_number, detail=detail)


def listed_entries(appeal, audience: str, language: str, numbers: dict[int, int], fallback: int) -> list[Pair]:
    """Return the audience's listed signatures with their PDF entries, in confirmation order.

    `numbers` maps revision ids to their numbers; a signature of no known revision gets `fallback`.
    """
    key = (str(db.engine.url), appeal.id, audience, language, appeal.published_revision_id, fallback)
    version, rewrite = appeal.list_version, appeal.list_rewrite_version  # before the rows: see above
    with _LOCK:
        kept = _KEPT.get(key)
    if kept is not None and (kept.version, kept.rewrite) == (version, rewrite):
        return kept.pairs

    def mapped(listed: list[ListedSignature]) -> list[Pair]:
        with with_locale(language):
            return [(each, entry_of(each, numbers.get(each.revision_id, fallback))) for each in listed]

    if kept is not None and kept.rewrite == rewrite and kept.pairs:
        since = kept.pairs[-1][0].confirmed_at - READ_BACK
        start = bisect.bisect_left(kept.pairs, since, key=lambda pair: pair[0].confirmed_at)
        pairs = kept.pairs[:start] + mapped(listed_signatures(appeal, audience, since=since))
    else:
        pairs = mapped(listed_signatures(appeal, audience))
    # Kept only with a confirmation time at both ends (NULLs sort first on SQLite, last on PostgreSQL).
    if len(pairs) >= MIN_ENTRIES and pairs[0][0].confirmed_at is not None and pairs[-1][0].confirmed_at is not None:
        with _LOCK:
            _KEPT[key] = _Kept(version, rewrite, pairs)
            _KEPT.move_to_end(key)
            while len(_KEPT) > KEEP:
                _KEPT.popitem(last=False)
    return pairs


def forget(appeal_id: int | None = None) -> None:
    """Drop the lists this process keeps (of one appeal, or all): an erasure leaves no copy in memory."""
    with _LOCK:
        for key in [k for k in _KEPT if appeal_id is None or k[1] == appeal_id]:
            del _KEPT[key]
