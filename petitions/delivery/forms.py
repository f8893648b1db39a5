"""Forms of the delivery pages: the cover mail, a manual delivery, a reply."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateField, HiddenField, IntegerField, SelectChoice, SelectField, SelectMultipleField, StringField
from wtforms import SubmitField
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from petitions.appeals.forms import LINE, TEXT
from petitions.delivery.operations import InvalidAddress, check_address


class CheckboxesField(SelectMultipleField):
    """Several choices as checkboxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class CoverMailForm(FlaskForm):
    """The cover mail to one addressee: address, language, text, attached language versions."""

    revision = IntegerField(widget=HiddenField.widget, validators=[DataRequired()])
    recipient = StringField(_l("Addressee's e-mail"), validators=[DataRequired(), Length(max=254)])
    language = SelectField(_l("Language of the cover mail"), choices=[])
    subject = StringField(_l("Subject"), validators=[DataRequired(), Length(max=300), LINE])
    body = TextAreaField(_l("Cover mail"), validators=[DataRequired(), Length(max=20_000), TEXT])
    versions = CheckboxesField(_l("Also attach these language versions"), choices=[])
    preview = SubmitField(_l("Preview"))
    send = SubmitField(_l("Send to the addressee"))

    def validate_recipient(self, field):
        try:
            field.data = check_address(field.data)
        except InvalidAddress as exc:
            raise ValidationError(str(exc)) from None


class ManualDeliveryForm(FlaskForm):
    """A delivery by post or in person, with its date."""

    revision = IntegerField(widget=HiddenField.widget, validators=[DataRequired()])
    method = SelectField(_l("How"), choices=[SelectChoice("post", _l("By post")),
                                                   SelectChoice("in_person", _l("In person"))])
    delivered_on = DateField(_l("Delivered on"), validators=[DataRequired()])
    submit = SubmitField(_l("Record the delivery"))


class ReplyForm(FlaskForm):
    """An acknowledgement or reply from an addressee."""

    received_on = DateField(_l("Received on"), validators=[DataRequired()])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=5000), TEXT])
    file = FileField(_l("File (optional)"))
    submit = SubmitField(_l("Record the reply"))
