"""The public sign form."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, Length, ValidationError

from . import names


class SignForm(FlaskForm):
    full_name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=names.NAME_MAX_LENGTH)])
    affiliation = StringField(
        _l("Affiliation"), validators=[Length(max=names.AFFILIATION_MAX_LENGTH)],
        description=_l("Your role and organization, e.g. “Lawyer, Member of the Bar Association”."),
    )
    email = EmailField(
        _l("E-mail"), validators=[DataRequired(), Email(_l("Enter a valid e-mail address.")), Length(max=254)],
        description=_l("Only to confirm your signature. It is stored encrypted and never published."),
    )
    consent = BooleanField(
        _l("I sign this appeal and agree that my name and affiliation appear under it."),
        validators=[DataRequired(_l("Please tick the box to sign."))],
    )
    submit = SubmitField(_l("Sign"))

    def validate_full_name(self, field):
        try:
            field.data = names.clean_name(field.data or "")
        except names.InvalidName as exc:
            raise ValidationError(str(exc)) from None

    def validate_affiliation(self, field):
        try:
            field.data = names.clean_affiliation(field.data or "")
        except names.InvalidName as exc:
            raise ValidationError(str(exc)) from None


class ConfirmForm(FlaskForm):
    submit = SubmitField(_l("Confirm my signature"))
