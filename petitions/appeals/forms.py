"""Organizer forms for appeals."""
from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError


class AppealForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=300)])
    addressees = TextAreaField(
        _l("Addressees"), validators=[Length(max=5000)],
        description=_l("One per line, e.g. “Secretary General, Council of Europe”."),
    )
    body = TextAreaField(_l("Text (Markdown)"), validators=[DataRequired()])
    preview = SubmitField(_l("Preview"))
    save = SubmitField(_l("Save draft"))

    def validate_body(self, field):
        limit = current_app.config["BODY_MAX_CHARS"]
        if len(field.data or "") > limit:
            raise ValidationError(_l("The text is %(n)d characters long; the limit is %(limit)d.",
                                     n=len(field.data), limit=limit))


class ActionForm(FlaskForm):
    """A bare form whose only job is to carry the CSRF token of a POST button."""

    submit = SubmitField()
