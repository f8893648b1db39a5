"""Forms of the privacy pages: self-service and the organizer's visibility settings."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, IntegerField, RadioField, SelectChoice, SelectMultipleField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from petitions.mail.addresses import MailAddress
from petitions.signing import names
from petitions.signing.abuse import ALLOWANCE_MAX
from petitions.signing.forms import PersonFieldsMixin, kind_field, organization_name_field, signer_role_field
from petitions.signing.models import Visibility
from petitions.signing.rules import ANONYMOUS_DISPLAY_LABELS, VISIBILITY_LABELS


class RequestLinkForm(FlaskForm):
    email = EmailField(_l("E-mail address you signed with"),
                       validators=[DataRequired(), MailAddress(), Length(max=254)])
    submit = SubmitField(_l("Send me a link"))


def _or_blank(value):
    # A field left out of the request is None; the signature stores "" for "not given".
    return value if value is not None else ""


class CorrectForm(PersonFieldsMixin, FlaskForm):
    kind = kind_field()
    organization_name = organization_name_field()
    signer_role = signer_role_field()
    full_name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=names.NAME_MAX_LENGTH)],
                            filters=[_or_blank])
    affiliation = StringField(_l("Affiliation"), validators=[Length(max=names.AFFILIATION_MAX_LENGTH)],
                              filters=[_or_blank])
    country = StringField(_l("Country"), validators=[Optional(), Length(max=80)], filters=[_or_blank])
    visibility = RadioField(_l("Who may see your name"), choices=[])
    submit = SubmitField(_l("Save corrections"))

    def __init__(self, *args, offered: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.visibility.choices = [SelectChoice(v, VISIBILITY_LABELS[v]) for v in offered]


class EraseForm(FlaskForm):
    understood = BooleanField(_l("Yes, erase this signature and everything stored with it."),
                              validators=[DataRequired(_l("Tick the box to confirm the erasure."))])
    submit = SubmitField(_l("Erase"))


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class PrivacySettingsForm(FlaskForm):
    visibility_choices = MultiCheckboxField(
        _l("Choices offered on the sign form"),
        choices=[SelectChoice(v.value, VISIBILITY_LABELS[v.value]) for v in Visibility],
        validators=[DataRequired(_l("Offer at least one choice."))])
    visibility_default = RadioField(_l("Preselected choice"),
                                    choices=[SelectChoice(v.value, VISIBILITY_LABELS[v.value]) for v in Visibility])
    anonymous_display = RadioField(_l("How anonymous signatures appear"),
                                   choices=[SelectChoice(k, v) for k, v in ANONYMOUS_DISPLAY_LABELS.items()])
    submit = SubmitField(_l("Save"))

    def validate_visibility_default(self, field):
        if field.data not in (self.visibility_choices.data or []):
            raise ValidationError(_l("The preselected choice must be one of the offered choices."))


class DomainAllowanceForm(FlaskForm):
    domain = StringField(_l("E-mail domain"), validators=[DataRequired(), Length(max=253)],
                         description=_l("E.g. “bar-association.example”; its subdomains are included."))
    per_window = IntegerField(_l("Signatures allowed per hour"), validators=[DataRequired(), NumberRange(min=1, max=ALLOWANCE_MAX)])
    submit = SubmitField(_l("Allow"))


class RemoveAllowanceForm(FlaskForm):
    domain = HiddenField(validators=[DataRequired(), Length(max=253)])
    remove = SubmitField(_l("Remove"))
