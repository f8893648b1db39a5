"""Organizer privacy page: visibility settings of an appeal (the audit log is organizer.audit)."""
from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from petitions import audit
from petitions.members.access import appeal_for
from petitions.extensions import db
from petitions.signing.models import Visibility
from petitions.privacy.forms import PrivacySettingsForm
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
    return render_template("privacy/settings.html", appeal=appeal, form=form), 422 if form.errors else 200
