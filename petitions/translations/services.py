"""Write actions and questions on language versions: save, approve, staleness, the text per language."""
from flask_babel import gettext as _
from sqlalchemy import select

from petitions.appeals.diff import content_diff
from petitions.appeals.models import Appeal, AppealRevision, IllegalTransition
from petitions.translations.models import AppealTranslation
from petitions.appeals.services import latest_revision
from petitions.audit import record
from petitions.auth.models import User
from petitions.extensions import db
from petitions.i18n import is_version_language

# The parts of a letter that a translation carries; only the date (written by Babel) and e-mail addresses stay.
TRANSLATED_FIELDS = ("title", "subject", "body", "demands", "closing", "place", "senders")
# What a translation carries of each addressee, by position in the original's list.
ADDRESSEE_FIELDS = ("name", "title", "institution", "postal_address", "salutation")


class TranslationError(ValueError):
    """A translation request that cannot be done (unknown language, the original's language...)."""


def source_revision(appeal: Appeal) -> AppealRevision | None:
    """Return the revision of the original that translations must follow: the published one, else the newest."""
    return appeal.published_revision or latest_revision(appeal)


def translations_of(appeal: Appeal) -> list[AppealTranslation]:
    """Return the appeal's translations ordered by language."""
    return list(db.session.scalars(
        select(AppealTranslation).where(AppealTranslation.appeal_id == appeal.id).order_by(AppealTranslation.language)
    ))


def translation_for(appeal: Appeal, language: str) -> AppealTranslation | None:
    """Return the translation into this language, or None."""
    return db.session.scalar(select(AppealTranslation).where(
        AppealTranslation.appeal_id == appeal.id, AppealTranslation.language == language))


def is_outdated(translation: AppealTranslation) -> bool:
    """Tell whether the original has a newer revision than the one this translation follows."""
    current = source_revision(translation.appeal)
    return current is not None and translation.source_revision_id != current.id


def state(translation: AppealTranslation) -> str:
    """Return "outdated", "approved" or "draft"."""
    if is_outdated(translation):
        return "outdated"
    return "approved" if translation.approved_at is not None else "draft"


def is_published(translation: AppealTranslation | None) -> bool:
    """Tell whether the public may read this translation: approved and following the current original."""
    return translation is not None and translation.approved_at is not None and not is_outdated(translation)


def changes_since(translation: AppealTranslation):
    """Return the content diff of the original between the translated revision and the current one."""
    current = source_revision(translation.appeal)
    if current is None or not is_outdated(translation):
        return []
    before = translation.source_revision.content if translation.source_revision else {}
    return content_diff(before, current.content)


def normalize(content: dict) -> dict:
    """Keep the translated parts only, trimmed; demands as a list of non-empty lines; addressees by position."""
    out = {}
    for key in ("title", "subject", "body", "closing", "place", "senders"):
        out[key] = (content.get(key) or "").strip()
    demands = content.get("demands") or []
    if isinstance(demands, str):
        demands = demands.splitlines()
    out["demands"] = [d.strip() for d in demands if d and d.strip()]
    out["addressees"] = [{k: str(a.get(k) or "").strip() for k in ADDRESSEE_FIELDS}
                         for a in content.get("addressees") or [] if isinstance(a, dict)]
    return out


def merge_parts(original: dict, translated: dict) -> tuple[dict, list[str]]:
    """Lay a translation over the original: (content, the parts left in the original language).

    A part the translation leaves empty while the original has it comes from the original and is named in the
    list ("closing", "addressees.0.salutation"...), so every page can mark it; translations saved before the
    addressees, place and senders were translatable simply lack those parts.
    """
    content, missing = dict(original), []
    for key in TRANSLATED_FIELDS:
        value = translated.get(key)
        if value:
            content[key] = value
        elif original.get(key):
            missing.append(key)
    given = translated.get("addressees") or []
    addressees = []
    for index, person in enumerate(original.get("addressees") or []):
        person = dict(person)
        theirs = given[index] if index < len(given) and isinstance(given[index], dict) else {}
        for key in ADDRESSEE_FIELDS:
            if theirs.get(key):
                person[key] = theirs[key]
            elif person.get(key):
                missing.append(f"addressees.{index}.{key}")
        addressees.append(person)
    content["addressees"] = addressees
    return content, missing


def missing_parts(translation: AppealTranslation) -> list[str]:
    """Return the parts of the original this translation does not translate yet (for the editor)."""
    current = source_revision(translation.appeal)
    original = current.content if current is not None else translation.appeal.content()
    return merge_parts(original, translation.content or {})[1]


def save_translation(appeal: Appeal, language: str, content: dict, author: User) -> AppealTranslation:
    """Create or change a translation; it now follows the current revision and needs approval again.

    A closed appeal's versions may still be brought up to date (signing stays closed; the version is then marked
    as translated after signing closed); a delivered or archived appeal's may not (AppealTranslation.follow).
    """
    if not is_version_language(language):
        raise TranslationError(_("“%(code)s” is not a language we offer.", code=language))
    if language == appeal.original_language:
        raise TranslationError(_("This is the language of the original; edit the appeal itself."))
    current = source_revision(appeal)
    if current is None:
        raise TranslationError(_("Save the original text before translating it."))
    content = normalize(content)
    if not content["title"] or not content["body"]:
        raise TranslationError(_("A translation needs a title and a text."))
    AppealTranslation.ensure_translatable(appeal)
    translation = translation_for(appeal, language)
    if translation is None:
        translation = AppealTranslation(appeal=appeal, language=language, content=content)
        db.session.add(translation)
    elif translation.content == content and translation.source_revision_id == current.id:
        return translation
    translation.follow(content, current)
    db.session.flush()
    record("translation_saved", appeal, actor=author, language=language, revision=current.number,
           after_close=translation.translated_after_close)
    return translation


def approve(translation: AppealTranslation, approver: User) -> None:
    """Publish a translation; refuse one that follows an older revision of the original."""
    if is_outdated(translation):
        raise IllegalTransition(_("The original changed since this translation was made; update it first."))
    if translation.is_approved:
        return
    translation.approve(approver)
    record("translation_approved", translation.appeal, actor=approver, language=translation.language,
           revision=translation.source_revision.number if translation.source_revision else None)


def withdraw_approval(translation: AppealTranslation, actor: User) -> None:
    """Take a translation off the public page without deleting it."""
    if not translation.is_approved:
        return
    translation.withdraw_approval()
    record("translation_unpublished", translation.appeal, actor=actor, language=translation.language)


def set_original_language(appeal: Appeal, language: str, actor: User) -> None:
    """Say which language the original is written in."""
    appeal.ensure_editable()
    if not is_version_language(language):
        raise TranslationError(_("“%(code)s” is not a language we offer.", code=language))
    if translation_for(appeal, language) is not None:
        raise TranslationError(_("There is a translation into this language; delete it first."))
    if appeal.original_language != language:
        record("original_language", appeal, actor=actor, before=appeal.original_language, after=language)
        appeal.original_language = language


def delete_translation(translation: AppealTranslation, actor: User) -> None:
    """Remove a language version (signatures that read it keep their language code)."""
    record("translation_deleted", translation.appeal, actor=actor, language=translation.language)
    db.session.delete(translation)


def published_languages(appeal: Appeal) -> list[str]:
    """Return the languages the public can read: the original first, then published translations."""
    return [appeal.original_language] + [t.language for t in translations_of(appeal)
                                         if is_published(t) and t.language != appeal.original_language]


def original_content(appeal: Appeal) -> dict:
    """Return the text signers see in the original language."""
    return dict(appeal.published_revision.content if appeal.published_revision else appeal.content())


def localized_content(appeal: Appeal, language: str) -> tuple[dict, bool, int | None]:
    """Return (content, is_translation, source revision number) of a language version.

    A translation replaces every part it translates (merge_parts); the parts it lacks come from the original,
    named in content["untranslated"] with the original's language in content["original_language"], so the page,
    the PDF and the cover mail mark them. content["translated_after_close"] tells whether the version was
    brought up to date after signing closed. An unapproved or outdated translation is never returned: the
    original comes back instead.
    """
    content = original_content(appeal)
    content.update(untranslated=[], original_language=appeal.original_language, translated_after_close=False)
    current = source_revision(appeal)
    number = current.number if current is not None else None
    if language == appeal.original_language:
        return content, False, number
    translation = translation_for(appeal, language)
    if not is_published(translation):
        return content, False, number
    content, missing = merge_parts(content, translation.content or {})
    content.update(untranslated=missing, translated_after_close=translation.translated_after_close)
    return content, True, translation.source_revision.number


def localized_addressee(appeal: Appeal, person: dict, language: str) -> dict:
    """Return one addressee of the original (a dict of its list) as a language version names them (cover mails).

    A salutation the version does not translate is left out, so the mail greets in its own language instead.
    """
    content, is_translation, _number = localized_content(appeal, language)
    original = original_content(appeal).get("addressees") or []
    if not is_translation or person not in original:
        return person
    index = original.index(person)
    found = dict(content["addressees"][index])
    if f"addressees.{index}.salutation" in content["untranslated"]:
        found.pop("salutation", None)
    return found


def negotiate(appeal: Appeal, requested: str | None, accept_languages=None) -> str:
    """Pick the version to show: the requested one if published, then Accept-Language, then the original."""
    available = published_languages(appeal)
    if requested and requested in available:
        return requested
    if accept_languages is not None:
        best = accept_languages.best_match(available)
        if best:
            return best
    return appeal.original_language


def localized_title(appeal: Appeal, language: str) -> str:
    """Return the appeal's title in a language version (the original's if that version is not published)."""
    return localized_content(appeal, language)[0].get("title") or appeal.title
