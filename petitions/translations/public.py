"""What the public page needs to show one language version: the text, the switcher, hreflang and notices."""
from flask import request, url_for
from flask_babel import gettext as _

from petitions.appeals.models import Appeal
from petitions.i18n import direction, is_version_language, language_name, native_name
from petitions.urls import external_url
from petitions.translations import services


def version_context(appeal: Appeal, requested: str | None) -> dict:
    """Return the template values of the version the URL asks for (or Accept-Language, or the original)."""
    available = services.published_languages(appeal)
    if requested is None:
        language = services.negotiate(appeal, None, request.accept_languages)
    else:
        language = requested if requested in available else appeal.original_language
    content, is_translation, revision_number = services.localized_content(appeal, language)
    notice = None
    if requested is not None and requested != language:
        notice = _fallback_notice(appeal, requested)
    versions = [{"code": code, "name": native_name(code), "dir": direction(code), "current": code == language,
                 "url": url_for("public.appeal_in", slug=appeal.slug, lang=code)} for code in available]
    alternates = [{"hreflang": code, "href": external_url("public.appeal_in", slug=appeal.slug, lang=code)}
                  for code in available]
    alternates.append({"hreflang": "x-default", "href": external_url("public.appeal", slug=appeal.slug)})
    return {"content": content, "version_language": language, "is_translation": is_translation,
            "source_revision_number": revision_number, "versions": versions, "alternates": alternates,
            "language_notice": notice, "html_lang": language, "html_dir": direction(language),
            "original_language": appeal.original_language}


def _fallback_notice(appeal: Appeal, requested: str) -> str:
    original = language_name(appeal.original_language)
    if not is_version_language(requested):
        return _("There is no language “%(code)s”. You are reading the original (%(original)s).",
                 code=requested, original=original)
    wanted = language_name(requested)
    translation = services.translation_for(appeal, requested)
    if translation is not None and services.is_outdated(translation):
        return _("The translation (%(language)s) is being updated after a change to the original. "
                 "You are reading the original (%(original)s).", language=wanted, original=original)
    return _("This appeal has no version in this language (%(language)s) yet. "
             "You are reading the original (%(original)s).", language=wanted, original=original)


def version_title(appeal: Appeal, language: str | None) -> str:
    """Return the title of the version a signer read, for the pages and mails that name it to them."""
    if not language or language == appeal.original_language:
        return appeal.title  # most signers: no query for the version
    return services.localized_title(appeal, language)


def version_url(appeal: Appeal, language: str | None) -> str:
    """Return the path of the public page in the version a signer read (the plain page for the original)."""
    if not language or language == appeal.original_language:
        return url_for("public.appeal", slug=appeal.slug)
    return url_for("public.appeal_in", slug=appeal.slug, lang=language)


def signing_language(appeal: Appeal) -> str:
    """Return the version the signer read, as named by the sign form's URL (?lang=), else the original."""
    requested = request.args.get("lang")
    if not requested or requested == appeal.original_language:  # most signers: no query for the versions
        return appeal.original_language
    return requested if requested in services.published_languages(appeal) else appeal.original_language
