"""Organizer form to invite a co-organizer."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, SelectChoice, SelectField, SubmitField
from wtforms.validators import DataRequired, Length

from petitions.mail.addresses import MailAddress
from petitions.members.models import Role


class InviteForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), MailAddress(), Length(max=254)])
    role = SelectField(_l("Role"), choices=[SelectChoice(Role.EDITOR.value, _l("Editor: text and translations")),
                                            SelectChoice(Role.REVIEWER.value, _l("Reviewer: signatories only")),
                                            SelectChoice(Role.OWNER.value, _l("Owner: everything"))])
    submit = SubmitField(_l("Send invitation"))
