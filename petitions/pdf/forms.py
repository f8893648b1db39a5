"""Organizer forms of the PDF page."""
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, SelectField, StringField, SubmitField
from wtforms.validators import Length, ValidationError

from petitions.pdf.engine import logo as logos

try:  # WTForms 3.3 wants SelectChoice objects; older versions take (value, label) pairs
    from wtforms.fields.choices import SelectChoice as _Choice
except ImportError:  # pragma: no cover
    def _Choice(value, label):
        return value, label


def _choices(*pairs):
    return [_Choice(value, label) for value, label in pairs]


class RenderForm(FlaskForm):
    audience = SelectField("Copy for", choices=_choices(("addressees", "the addressees (all names)"),
                                                      ("public", "the public (public names only)")))
    variant = SelectField("Format", choices=_choices(("standard", "PDF, signed"),
                                                   ("archival", "PDF/A-3b with the list as CSV, signed")))
    submit = SubmitField("Generate PDF")


class SettingsForm(FlaskForm):
    coalition_name = StringField("Coalition name (letterhead)", validators=[Length(max=200)])
    place = StringField("Place", validators=[Length(max=120)])
    page_size = SelectField("Paper", choices=_choices(("A4", "A4"), ("Letter", "US Letter")))
    columns = SelectField("Columns of names", choices=_choices(("2", "2"), ("3", "3")))
    grouping = SelectField("Order", choices=_choices(("none", "all by surname"),
                                                   ("kind", "organizations first, then individuals"),
                                                   ("country", "by country")))
    logo = FileField("Logo (PNG, JPEG or SVG, at most 512 KB)")
    remove_logo = BooleanField("Remove the logo")
    save = SubmitField("Save letterhead")
    checked_logo: tuple[bytes, str] | None = None  # the upload's bytes and type, once its content passed

    def validate_logo(self, field):
        """Check an uploaded logo by its content (LogoError says why not) and keep what passed."""
        upload = field.data
        if self.remove_logo.data or upload is None or not getattr(upload, "filename", ""):
            return
        try:
            self.checked_logo = logos.validate_logo(upload.read())
        except logos.LogoError as exc:
            raise ValidationError(str(exc)) from None


class VerifyForm(FlaskForm):
    file = FileField("PDF file")
    submit = SubmitField("Check the file")
