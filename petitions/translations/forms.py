"""Forms of the translation pages."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Form, FormField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length

from petitions.appeals.forms import LINE, TEXT
from petitions.http import FieldList


class AddresseePartsForm(Form):
    """One addressee's block in the version's language (a plain sub-form: the outer form carries the CSRF token)."""

    name = StringField(_l("Name"), validators=[Length(max=300), LINE])
    title = StringField(_l("Title or function"), validators=[Length(max=300), LINE])
    institution = StringField(_l("Institution"), validators=[Length(max=300), LINE])
    postal_address = TextAreaField(_l("Postal address"), validators=[Length(max=1_000), TEXT])
    salutation = StringField(_l("Salutation"), validators=[Length(max=300), LINE])


class TranslationForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=300), LINE])
    subject = StringField(_l("Subject"), validators=[Length(max=300), LINE])
    body = TextAreaField(_l("Text"), validators=[DataRequired(), Length(max=50_000), TEXT],
                         description=_l("Markdown, like the original."))
    demands = TextAreaField(_l("Demands"), validators=[Length(max=20_000), TEXT],
                            description=_l("One demand per line."))
    closing = TextAreaField(_l("Closing"), validators=[Length(max=5_000), TEXT])
    place = StringField(_l("Place"), validators=[Length(max=200), LINE])
    senders = TextAreaField(_l("Sending organizations"), validators=[Length(max=5_000), TEXT],
                            description=_l("One per line, in the order of the original."))
    addressees = FieldList(FormField(AddresseePartsForm), max_entries=50)
    save = SubmitField(_l("Save"))
    save_approve = SubmitField(_l("Save and publish"))

    def content(self) -> dict:
        """Return the translated parts as a content dict."""
        return {"title": self.title.data, "subject": self.subject.data, "body": self.body.data,
                "demands": (self.demands.data or "").splitlines(), "closing": self.closing.data,
                "place": self.place.data, "senders": self.senders.data,
                "addressees": [entry.data for entry in self.addressees]}

    def fill(self, content: dict) -> None:
        """Put a content dict into the fields."""
        self.title.data = content.get("title", "")
        self.subject.data = content.get("subject", "")
        self.body.data = content.get("body", "")
        self.demands.data = "\n".join(content.get("demands") or [])
        self.closing.data = content.get("closing", "")
        self.place.data = content.get("place", "")
        self.senders.data = content.get("senders", "")

    def fit_addressees(self, original: list, translated: list) -> None:
        """Give the form one addressee block per addressee of the original, filled from the translation."""
        while self.addressees.entries:
            self.addressees.pop_entry()
        for index, _person in enumerate(original or []):
            given = translated[index] if index < len(translated or []) else {}
            self.addressees.append_entry({k: given.get(k, "") for k in ("name", "title", "institution",
                                                                        "postal_address", "salutation")})


class LanguageForm(FlaskForm):
    language = SelectField(_l("Language"), validators=[DataRequired()])
    submit = SubmitField(_l("Add"))
