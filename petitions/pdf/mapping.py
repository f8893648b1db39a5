"""The one mapping from the models to the PDF's document: what an appeal's PDF prints, for each audience."""
from __future__ import annotations

from datetime import date, datetime, timezone
from gettext import NullTranslations

from babel.support import Translations
from flask_babel import force_locale, get_translations

from petitions.appeals.diff import content_diff
from petitions.appeals.markdown import render_markdown
from petitions.appeals.services import revisions
from petitions.i18n import direction, format_letter_date, language_name, with_locale
from petitions.pdf.engine.document import (
    Addressee, LetterDocument, Logo, RevisionGroup, SignatoryEntry, TranslationVersion, sorted_entries,
)
from petitions.pdf.letterhead import settings_of
from petitions.pdf.listing import listed_entries
from petitions.translations.services import localized_content, published_languages

# The PDF's audiences, named as petitions.signing.rules names them.
VISIBILITY_AUDIENCE = {"addressees": "addressee_pdf", "public": "public_pdf",
                       "addressee_pdf": "addressee_pdf", "public_pdf": "public_pdf"}


def document_from_appeal(appeal, audience: str = "addressees", *, settings=None,
                         generated_at: datetime | None = None, language: str | None = None,
                         combined: bool = False, listed: bool = True) -> LetterDocument:
    """Adapt an appeal, its published text (in one language version) and its listed signatories.

    With `combined`, the original comes first and every published translation follows as an annex;
    without `listed`, the signatories are left out (what the list version stands for, see jobs.freshness_key).
    """
    audience = "public" if VISIBILITY_AUDIENCE[audience] == "public_pdf" else "addressees"
    if combined:
        language = appeal.original_language  # the original first; translations follow as annexes
    settings = settings if settings is not None else settings_of(appeal)
    language = language or appeal.original_language or "en"
    content, _is_translation, _source = localized_content(appeal, language)
    published = appeal.published_revision
    revision_number = published.number if published else appeal.revision_count or 1
    revision_hash = appeal.content_hash
    by_id = {r.id: r for r in revisions(appeal)}
    current, earlier = [], {}
    # Names appear only as each signer chose (visibility) and only if the signature counts.
    pairs = listed_entries(appeal, VISIBILITY_AUDIENCE[audience], language, {i: r.number for i, r in by_id.items()},
                           revision_number) if listed else ()
    for each, entry in pairs:
        rev = by_id.get(each.revision_id)
        if rev is None or rev.id == appeal.published_revision_id:
            current.append(entry)
        else:
            earlier.setdefault(rev.number, (rev, []))[1].append(entry)
    letter_date = content.get("letter_date")
    when = (date.fromisoformat(letter_date) if isinstance(letter_date, str) and letter_date
            else (appeal.published_at or datetime.now(timezone.utc)).date())
    senders = [line.strip() for line in (content.get("senders") or "").splitlines() if line.strip()]
    untranslated = tuple(content.get("untranslated") or ())
    return LetterDocument(
        title=content.get("title") or appeal.title,
        subject=content.get("subject") or "",
        addressees=_addressees_of(content.get("addressees") or [], untranslated),
        place=content.get("place") or getattr(settings, "place", "") or "",
        date=when,
        date_text=format_letter_date(when, language),
        body_html=str(render_markdown(content.get("body") or "")),
        demands=list(content.get("demands") or []),
        closing=content.get("closing") or "",
        coalition=(getattr(settings, "coalition_name", "") or (senders[0] if senders else appeal.owner.name)),
        senders=senders,
        logo=_logo_of(settings),
        language=language,
        revision_number=revision_number,
        revision_hash=revision_hash,
        generated_at=generated_at or datetime.now(timezone.utc),
        signatories=current,
        earlier_revisions=[_revision_group(rev, sorted_entries(v, language), appeal.original_language or language,
                                           published)
                           for _n, (rev, v) in sorted(earlier.items(), key=lambda kv: kv[0], reverse=True)],
        page_size=getattr(settings, "page_size", "A4") or "A4",
        columns=int(getattr(settings, "columns", 2) or 2),
        grouping=getattr(settings, "grouping", "none") or "none",
        audience=audience,
        appeal_slug=appeal.slug,
        counted_total=appeal.signature_count,  # counted_total(appeal), kept on the row
        translations=_translations_of(appeal, language) if combined else [],
        direction=direction(language),
        original_language=content.get("original_language") or appeal.original_language or "",
        original_direction=direction(appeal.original_language),
        untranslated=untranslated,
        translated_after_close=bool(content.get("translated_after_close")),
    )


def catalog_for(language: str) -> NullTranslations:
    """Return the catalog the PDF's own words (headings, annex) are taken from in this language.

    The version's own language where a catalog for it exists (an Arabic version speaks Arabic even while the
    interface offers no Arabic), else the interface's fallback.
    """
    if language != "en":  # English is the messages' own language: it needs no catalog of its own
        with force_locale(language):
            translations = get_translations()
        if isinstance(translations, Translations) and translations.files:
            return translations
    with with_locale(language):
        return get_translations()


def _revision_group(rev, entries: list[SignatoryEntry], language: str, published) -> RevisionGroup:
    content = rev.content or {}
    changes = content_diff(content, published.content or {}) if published is not None else []
    return RevisionGroup(rev.number, rev.content_hash, entries, title=content.get("title") or "",
                         body_html=str(render_markdown(content.get("body") or "")),
                         subject=content.get("subject") or "", demands=tuple(content.get("demands") or []),
                         closing=content.get("closing") or "", language=language,
                         changes=tuple((label, tuple((c.op, c.text) for c in chunks)) for label, chunks in changes))


def _translations_of(appeal, shown: str) -> list[TranslationVersion]:
    out = []
    for code in published_languages(appeal):
        if code == shown:
            continue
        content, is_translation, source = localized_content(appeal, code)
        if not is_translation and code != appeal.original_language:
            continue  # an outdated or unapproved translation is never printed
        out.append(TranslationVersion(
            language=code, title=content.get("title") or "", subject=content.get("subject") or "",
            body_html=str(render_markdown(content.get("body") or "")),
            demands=tuple(content.get("demands") or []), closing=content.get("closing") or "",
            revision_number=source or 1, direction=direction(code), language_name=language_name(code, shown)))
    return out


def _addressees_of(addressees: list[dict], untranslated: tuple[str, ...] = ()) -> list[Addressee]:
    return [Addressee(name=a.get("name", ""), title=a.get("title", ""), institution=a.get("institution", ""),
                      postal_address=a.get("postal_address", ""), salutation=a.get("salutation", ""),
                      untranslated=tuple(key.rsplit(".", 1)[1] for key in untranslated
                                         if key.startswith(f"addressees.{index}.")))
            for index, a in enumerate(addressees) if any(a.values())]


def _logo_of(settings) -> Logo | None:
    data = getattr(settings, "logo", None)
    return Logo(data, settings.logo_mime) if data else None
