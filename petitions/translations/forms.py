"""Forms of the translation pages."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length

from petitions.appeals.forms import LINE, TEXT


class TranslationForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=300), LINE])
    subject = StringField(_l("Subject"), validators=[Length(max=300), LINE])
    body = TextAreaField(_l("Text"), validators=[DataRequired(), Length(max=50_000), TEXT],
                         description=_l("Markdown, like the original."))
    demands = TextAreaField(_l("Demands"), validators=[Length(max=20_000), TEXT],
                            description=_l("One demand per line."))
    closing = TextAreaField(_l("Closing"), validators=[Length(max=5_000), TEXT])
    save = SubmitField(_l("Save"))
    save_approve = SubmitField(_l("Save and publish"))

    def content(self) -> dict:
        """Return the translated parts as a content dict."""
        return {"title": self.title.data, "subject": self.subject.data, "body": self.body.data,
                "demands": (self.demands.data or "").splitlines(), "closing": self.closing.data}

    def fill(self, content: dict) -> None:
        """Put a content dict into the fields."""
        self.title.data = content.get("title", "")
        self.subject.data = content.get("subject", "")
        self.body.data = content.get("body", "")
        self.demands.data = "\n".join(content.get("demands") or [])
        self.closing.data = content.get("closing", "")


class LanguageForm(FlaskForm):
    language = SelectField(_l("Language"), validators=[DataRequired()])
    submit = SubmitField(_l("Add"))
