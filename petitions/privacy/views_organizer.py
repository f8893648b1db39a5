"""Organizer privacy page: visibility settings of an appeal and its signing limits per e-mail domain (the audit
log is organizer.audit)."""
from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from petitions import audit
from petitions.members.access import appeal_for
from petitions.extensions import db
from petitions.signing.models import Visibility
from petitions.privacy.forms import DomainAllowanceForm, PrivacySettingsForm, RemoveAllowanceForm
from petitions.signing import abuse
from petitions.signing.rules import appeal_display, default_choice, offered_choices

bp = Blueprint("privacy_organizer", __name__, url_prefix="/organizer")


@bp.before_request
@login_required
def _require_login():
    pass


@bp.route("/appeals/<slug>/privacy", methods=["GET", "POST"])
def settings(slug: str):
    """Choose which visibility choices signers get, the preselected one, and how anonymous ones appear."""
    appeal = appeal_for(slug, "edit")
    form = PrivacySettingsForm(data={
        "visibility_choices": offered_choices(appeal), "visibility_default": default_choice(appeal),
        "anonymous_display": appeal_display(appeal)})
    if form.validate_on_submit():
        before = (appeal.visibility_choices, appeal.visibility_default, appeal.anonymous_display)
        appeal.visibility_choices = [v.value for v in Visibility if v.value in form.visibility_choices.data]
        appeal.visibility_default = form.visibility_default.data
        appeal.anonymous_display = form.anonymous_display.data
        after = (appeal.visibility_choices, appeal.visibility_default, appeal.anonymous_display)
        if before != after:
            audit.record("appeal.privacy_settings", appeal, actor=current_user, choices=after[0], default=after[1], anonymous=after[2])
        db.session.commit()
        # True since each anonymous signature keeps the display in force when it was made (visibility.py).
        flash(_("Privacy settings saved. They apply to new signatures; existing ones keep their signers' choice."),
              "success")
        return redirect(url_for("privacy_organizer.settings", slug=slug), code=303)
    return settings_page(appeal, form=form)


def settings_page(appeal, form=None, allowance_form=None):
    """Render the settings page, 422 when one of its forms comes back with errors."""
    form = form or PrivacySettingsForm(formdata=None, data={
        "visibility_choices": offered_choices(appeal), "visibility_default": default_choice(appeal),
        "anonymous_display": appeal_display(appeal)})
    allowance_form = allowance_form or DomainAllowanceForm(formdata=None)
    status = 422 if form.errors or allowance_form.errors else 200
    return render_template("privacy/settings.html", appeal=appeal, form=form, allowance_form=allowance_form,
                           allowances=abuse.allowances(appeal), remove_form=RemoveAllowanceForm(formdata=None),
                           domain_limit=current_app.config["SIGN_DOMAIN_LIMIT"]), status


@bp.post("/appeals/<slug>/privacy/domains")
def domain_allowances(slug: str):
    """Raise the signing limit of one e-mail domain (an expected institution), or remove that allowance."""
    appeal = appeal_for(slug, "edit")
    remove = RemoveAllowanceForm()
    if remove.remove.data:
        if not remove.validate_on_submit():
            abort(400)  # only a tampered hidden field gets here
        if abuse.remove_allowance(appeal, remove.domain.data, by=current_user):
            db.session.commit()
            flash(_("The allowance of %(domain)s is removed.", domain=remove.domain.data), "success")
        return redirect(url_for("privacy_organizer.settings", slug=slug), code=303)
    form = DomainAllowanceForm()
    if form.validate_on_submit():
        try:
            row = abuse.allow_domain(appeal, form.domain.data, form.per_window.data, by=current_user)
        except abuse.AllowanceError as exc:
            form.domain.errors = [str(exc)]
        else:
            db.session.commit()
            flash(_("%(domain)s may now sign %(num)d times per hour.", domain=row.domain, num=row.per_window),
                  "success")
            return redirect(url_for("privacy_organizer.settings", slug=slug), code=303)
    return settings_page(appeal, allowance_form=form)
