"""The organizer's page of personal access tokens: create (the secret is shown once), list, revoke."""
from flask import render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, SelectMultipleField, StringField, SubmitField
from wtforms.validators import DataRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from petitions.api import tokens
from petitions.extensions import db
from petitions.members.access import appeals_of
from petitions.organizer_pages import ActionForm, act, blueprint

bp = blueprint("api_tokens", __name__, url_prefix="/account/tokens")


class TokenForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=tokens.NAME_MAX_LENGTH)],
                       description=_l("What the token is for, e.g. “CRM sync”."))
    scopes = SelectMultipleField(_l("Scopes"),
                                 choices=[SelectChoice(s.value, label) for s, label in tokens.SCOPE_LABELS.items()],
                                 validators=[DataRequired(_l("Choose at least one scope."))],
                                 option_widget=CheckboxInput(), widget=ListWidget(prefix_label=False))
    appeal = SelectField(_l("Appeal"), choices=[], validate_choice=True,
                         description=_l("A token limited to one appeal works for no other."))
    submit = SubmitField(_l("Create token"))


def _form() -> TokenForm:
    form = TokenForm()
    form.appeal.choices = [SelectChoice("", _("Every appeal I organize"))] + [
        SelectChoice(a.slug, a.title) for a in appeals_of(current_user)]
    return form


def _page(form: TokenForm, secret: str | None = None, status: int = 200):
    page = render_template("api/tokens.html", form=form, tokens=tokens.tokens_of(current_user), secret=secret,
                           action_form=ActionForm(), labels={s.value: label for s, label in
                                                             tokens.SCOPE_LABELS.items()})
    return page, status, {"Cache-Control": "no-store"}


@bp.route("", methods=["GET", "POST"])
def index():
    """List the organizer's tokens; the form's POST creates one and shows its secret this once."""
    form = _form()
    if not form.is_submitted():
        return _page(form)
    if not form.validate():
        return _page(form, status=422)
    appeal = next((a for a in appeals_of(current_user) if a.slug == form.appeal.data), None)
    try:
        _token, secret = tokens.create(current_user, form.name.data, form.scopes.data, appeal)
    except tokens.TokenStateError as exc:
        db.session.rollback()
        form.scopes.errors = [str(exc)]
        return _page(form, status=422)
    db.session.commit()
    return _page(_form(), secret=secret, status=201)


@bp.post("/<int:token_id>/revoke")
def revoke(token_id: int):
    """Revoke one of the organizer's tokens."""
    return act(lambda: tokens.revoke(current_user, token_id), _("The token is revoked."),
               url_for("api_tokens.index"), refused=(tokens.TokenStateError,))
