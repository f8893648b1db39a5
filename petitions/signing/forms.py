"""Forms of the public signer pages: sign, confirm, withdraw, send the confirmation again."""
from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, RadioField, SelectChoice, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from petitions import links
from petitions.extensions import LazyTokenCSRF
from petitions.http import REFUSED_CHARACTER
from petitions.mail.addresses import MailAddress
from petitions.signing import names
from petitions.signing.rules import VISIBILITY_LABELS, default_choice, offered_choices


class PersonFieldsMixin:
    """Clean a signer's name, affiliation and country the same way wherever they are typed."""

    def validate_full_name(self, field):
        field.data = _cleaned(names.clean_name, field.data)

    def validate_affiliation(self, field):
        field.data = _cleaned(names.clean_affiliation, field.data)

    def validate_country(self, field):
        field.data = _cleaned(names.clean_country, field.data)

    def validate_organization_name(self, field):
        field.data = _cleaned(names.clean_affiliation, field.data)
        if self.kind.data == "organization" and not field.data:
            raise ValidationError(_l("Enter the name of the organization you sign for."))

    def validate_signer_role(self, field):
        field.data = _cleaned(names.clean_role, field.data)


KIND_CHOICES = [SelectChoice("person", _l("As a person")),
                SelectChoice("organization", _l("On behalf of an organization"))]


def kind_field():
    """Return the "who signs" choice; a form without it signs as a person, as before."""
    return RadioField(_l("I sign"), choices=KIND_CHOICES, default="person")


def organization_name_field():
    return StringField(_l("Organization you sign for"), validators=[Length(max=names.AFFILIATION_MAX_LENGTH)],
                       description=_l("Only when signing on behalf of an organization: its full name, e.g. "
                                      "“Azerbaijan Bar Association”. It is listed as the signatory, with your "
                                      "name and role."))


def signer_role_field():
    return StringField(_l("Your role in the organization"), validators=[Length(max=names.ROLE_MAX_LENGTH)],
                       description=_l("Only when signing on behalf of an organization, e.g. “Chair”."))


# The pure names module explains in English; signers get these, in their language.
_MESSAGES = {"bidi_char": REFUSED_CHARACTER, "invisible_char": REFUSED_CHARACTER,
             "control_char": REFUSED_CHARACTER}


def _cleaned(clean, value):
    try:
        return clean(value or "")
    except names.InvalidName as exc:
        raise ValidationError(_MESSAGES.get(exc.code, str(exc))) from None


class SignForm(PersonFieldsMixin, FlaskForm):
    class Meta:
        csrf_class = LazyTokenCSRF

    kind = kind_field()
    full_name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=names.NAME_MAX_LENGTH)],
                            description=_l("When signing for an organization: the name of the person who signs."))
    organization_name = organization_name_field()
    signer_role = signer_role_field()
    affiliation = StringField(
        _l("Affiliation"), validators=[Length(max=names.AFFILIATION_MAX_LENGTH)],
        description=_l("Your role and organization, e.g. “Lawyer, Member of the Bar Association”."),
    )
    email = EmailField(
        _l("E-mail"), validators=[DataRequired(), MailAddress(), Length(max=254)],
        description=_l("Only to confirm your signature. It is stored encrypted and never published."),
    )
    country = StringField(
        _l("Country"), validators=[Optional(), Length(max=names.COUNTRY_MAX_LENGTH)],
        description=_l("Optional. Shown with your affiliation, wherever your name may appear."),
    )
    # Choices come from the appeal (see __init__); an empty answer means the organizer's default.
    visibility = RadioField(_l("Who may see your name"), choices=[], validate_choice=False)
    wants_updates = BooleanField(_l("Tell me when this appeal is delivered or answered"), default=False,
                                 description=_l("Optional. At most two e-mails, each with a link to stop them."))
    consent = BooleanField(
        _l("I sign this appeal and agree that my name is shown as I chose above."),
        validators=[DataRequired(_l("Please tick the box to sign."))],
    )
    submit = SubmitField(_l("Sign"))
    # Anti-abuse (signing/abuse.py): when the form was shown, signed; and a field only scripts fill in.
    started = HiddenField()
    website = StringField(_l("Leave this field empty"), render_kw={"autocomplete": "off", "tabindex": "-1"})

    def __init__(self, *args, appeal=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.appeal = appeal
        self.offered = offered_choices(appeal) if appeal is not None else ["public"]
        self.visibility.choices = [SelectChoice(v, VISIBILITY_LABELS[v]) for v in self.offered]
        if not self.visibility.data:
            self.visibility.data = default_choice(appeal) if appeal is not None else "public"

    def validate_visibility(self, field):
        if field.data not in self.offered:
            raise ValidationError(_l("Choose one of the offered options."))

    def validate_started(self, field):
        minimum = current_app.config["SIGN_MIN_SECONDS"]
        if not minimum or self.appeal is None:  # 0 turns the check off (the tests' base config)
            return
        try:
            age = links.form_stamp_age(field.data, self.appeal.id)
        except links.TokenError as exc:
            raise ValidationError(str(exc)) from None
        if age < minimum:
            raise ValidationError(_l("That was faster than a person fills in this form. Please check your entries "
                                     "and press Sign again."))

    def restamp(self) -> None:
        """Stamp the form as shown now (a form shown again after a refusal starts anew)."""
        if self.appeal is not None:
            self.started.data = links.form_stamp(self.appeal.id)

    def signer(self) -> dict:
        """Return what the signer typed and chose, as operations.sign takes it."""
        return {name: getattr(self, name).data for name in SIGNER_FIELDS}


# The sign form's fields that operations.sign stores (e-mail and consent aside).
SIGNER_FIELDS = ("full_name", "affiliation", "country", "kind", "organization_name", "signer_role", "visibility",
                 "wants_updates")



class ConfirmForm(FlaskForm):
    class Meta:
        csrf_class = LazyTokenCSRF

    submit = SubmitField(_l("Confirm my signature"))


class WithdrawForm(FlaskForm):
    submit = SubmitField(_l("Withdraw my signature"))


class ResendForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), MailAddress(),
                                                 Length(max=254)],
                       description=_l("The address you signed with."))
    submit = SubmitField(_l("Send the link again"))
