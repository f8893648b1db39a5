"""Organizer forms of the PDF page."""
from flask_babel import lazy_gettext as _l
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
    audience = SelectField(_l("Copy for"), choices=_choices(("addressees", _l("the addressees (all names)")),
                                                      ("public", _l("the public (public names only)"))))
    variant = SelectField(_l("Format"), choices=_choices(("standard", _l("PDF, signed")),
                                                   ("archival", _l("PDF/A-3b with the list as CSV, signed"))))
    submit = SubmitField(_l("Generate PDF"))


class SettingsForm(FlaskForm):
    coalition_name = StringField(_l("Coalition name (letterhead)"), validators=[Length(max=200)])
    place = StringField(_l("Place"), validators=[Length(max=120)])
    page_size = SelectField(_l("Paper"), choices=_choices(("A4", "A4"), ("Letter", _l("US Letter"))))
    columns = SelectField(_l("Columns of names"), choices=_choices(("2", "2"), ("3", "3")))
    grouping = SelectField(_l("Order"), choices=_choices(("none", _l("all by surname")),
                                                   ("kind", _l("organizations first, then individuals")),
                                                   ("country", _l("by country"))))
    logo = FileField(_l("Logo (PNG, JPEG or SVG, at most 512 KB)"))
    remove_logo = BooleanField(_l("Remove the logo"))
    save = SubmitField(_l("Save letterhead"))
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
    file = FileField(_l("PDF file"))
    submit = SubmitField(_l("Check the file"))
