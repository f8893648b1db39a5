"""Organizer pages of language versions: the list, the side-by-side editor, approval."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from petitions.members.access import appeal_for
from petitions.appeals.models import IllegalTransition
from petitions.extensions import db
from petitions.i18n import VERSION_LANGUAGES, direction, is_version_language, language_name, native_name
from petitions.organizer_pages import ActionForm, blueprint
from petitions.translations import services
from petitions.translations.forms import LanguageForm, TranslationForm

bp = blueprint("translations", __name__, url_prefix="/organizer/appeals/<slug>/translations")


def _language_choices(appeal, exclude):
    return [SelectChoice(code, f"{native_name(code)} · {language_name(code)} ({code})")
            for code in VERSION_LANGUAGES if code not in exclude]


@bp.route("/", methods=["GET", "POST"])
def index(slug: str):
    """List the language versions with their state; add a language."""
    appeal = appeal_for(slug, "translate")
    translations = services.translations_of(appeal)
    form = LanguageForm()
    form.language.choices = _language_choices(appeal, {appeal.original_language} | {t.language for t in translations})
    original_form = LanguageForm(prefix="original")
    original_form.language.choices = _language_choices(appeal, {t.language for t in translations})
    if request.method == "GET":
        original_form.language.data = appeal.original_language
    elif form.submit.data and form.validate():
        return redirect(url_for("translations.edit", slug=slug, lang=form.language.data), code=303)
    status = 422 if form.errors else 200
    return render_template("translations/index.html", appeal=appeal, translations=translations, form=form,
                           original_form=original_form, action_form=ActionForm(), services=services), status


@bp.post("/original")
def set_original(slug: str):
    """Say which language the original is written in."""
    appeal = appeal_for(slug, "translate")
    form = LanguageForm(prefix="original")
    form.language.choices = _language_choices(appeal, set())
    if not form.validate():
        abort(400)
    try:
        services.set_original_language(appeal, form.language.data, current_user)
    except (services.TranslationError, IllegalTransition) as exc:
        return render_template("public/message.html", title=_("Not changed"), message=str(exc)), 409
    db.session.commit()
    flash(_("The original is now marked as %(language)s.", language=language_name(appeal.original_language)), "success")
    return redirect(url_for("translations.index", slug=slug), code=303)


@bp.route("/<lang>", methods=["GET", "POST"])
def edit(slug: str, lang: str):
    """Edit a translation next to the original; save, and publish when it is right."""
    appeal = appeal_for(slug, "translate")
    if not is_version_language(lang) or lang == appeal.original_language:
        abort(404)
    translation = services.translation_for(appeal, lang)
    source = services.source_revision(appeal)
    form = TranslationForm()
    original = source.content if source else appeal.content()
    status = 200
    if request.method == "GET":
        form.fill(translation.content if translation else {})
        form.fit_addressees(original.get("addressees") or [], (translation.content if translation else {})
                            .get("addressees") or [])
    elif len(form.addressees.entries) > len(original.get("addressees") or []):
        abort(400)  # more addressee blocks than the original has: not a form this page made
    elif form.validate_on_submit():
        try:
            translation = services.save_translation(appeal, lang, form.content(), current_user)
            if form.save_approve.data:
                services.approve(translation, current_user)
        except (services.TranslationError, IllegalTransition) as exc:
            form.title.errors.append(str(exc))
            status = 409
        else:
            db.session.commit()
            flash(_("Translation published.") if translation.approved_at else _("Translation saved."), "success")
            return redirect(url_for("translations.edit", slug=slug, lang=lang), code=303)
    else:
        status = 422
    missing = services.missing_parts(translation) if translation else []
    return render_template("translations/edit.html", appeal=appeal, translation=translation, lang=lang,
                           lang_dir=direction(lang), original=original, missing=missing,
                           source=source, form=form, action_form=ActionForm(), services=services), status


@bp.post("/<lang>/<any(approve, unpublish, delete):action>")
def act(slug: str, lang: str, action: str):
    """Publish, unpublish or delete a translation."""
    appeal = appeal_for(slug, "translate")
    translation = services.translation_for(appeal, lang)
    if translation is None:
        abort(404)
    if not ActionForm().validate():
        abort(400)
    try:
        if action == "approve":
            services.approve(translation, current_user)
        elif action == "unpublish":
            services.withdraw_approval(translation, current_user)
        else:
            services.delete_translation(translation, current_user)
    except IllegalTransition as exc:
        return render_template("public/message.html", title=_("Not published"), message=str(exc)), 409
    db.session.commit()
    return redirect(url_for("translations.index", slug=slug), code=303)
