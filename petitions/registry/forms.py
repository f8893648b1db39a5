"""Organizer forms of the organization registry."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from petitions.mail.addresses import MailAddress


class OrganizationForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=300)])
    aliases = TextAreaField(_l("Other names"), validators=[Length(max=5000)],
                            description=_l("One per line: abbreviations, other languages and scripts."))
    domains = TextAreaField(_l("E-mail domains"), validators=[Length(max=2000)],
                            description=_l("One per line, e.g. “bar-association.example”. Free-mail domains "
                                           "(gmail.com, mail.ru…) are refused: they prove nothing."))
    contact_name = StringField(_l("Authorized contact"), validators=[Length(max=200)])
    contact_email = EmailField(_l("Contact e-mail"), validators=[Optional(), MailAddress(), Length(max=254)],
                               description=_l("When the organization signs as a body, this address must confirm."))
    submit = SubmitField(_l("Add organization"))


class DomainForm(FlaskForm):
    organization_id = HiddenField(validators=[DataRequired()])
    domain = StringField(_l("Domain"), validators=[DataRequired(), Length(max=253)])
    submit = SubmitField(_l("Add domain"))


class ProofForm(FlaskForm):
    """Ask for a proof mail: to an address at one claimed domain, or to the contact address."""

    domain_id = HiddenField()
    organization_id = HiddenField()
    address = EmailField(_l("Address at the domain"), validators=[Optional(), Length(max=254)])
    submit = SubmitField(_l("Send proof link"))


class ProveForm(FlaskForm):
    """The Confirm button behind a proof link."""

    submit = SubmitField(_l("Confirm"))


class DisputeForm(FlaskForm):
    """Tell the owner of another organizer's entry that a domain in it is your organization's."""

    note = StringField(_l("Message to its owner"), validators=[Optional(), Length(max=500)])
    submit = SubmitField(_l("This domain is ours"))


class ContactForm(FlaskForm):
    """Change the contact of your own entry; a new address must be proven again."""

    contact_name = StringField(_l("Authorized contact"), validators=[Length(max=200)])
    contact_email = EmailField(_l("Contact e-mail"), validators=[Optional(), MailAddress(), Length(max=254)])
    submit = SubmitField(_l("Save contact"))
