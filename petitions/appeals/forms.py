"""Organizer forms for appeals."""
from datetime import date

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (DateField, EmailField, Form, FormField, HiddenField, IntegerField, StringField, SubmitField,
                     TextAreaField)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from petitions.appeals.services import letter_text_problem
from petitions.http import FieldList
from petitions.mail.addresses import MailAddress


class LetterText:
    """Refuse characters that could break a mail header or hide what a letter part says (services' rule)."""

    def __init__(self, single_line: bool = False):
        self.single_line = single_line

    def __call__(self, form, field):
        problem = letter_text_problem(field.data if isinstance(field.data, str) else "", self.single_line)
        if problem:
            raise ValidationError(problem)


LINE = LetterText(single_line=True)
TEXT = LetterText()


class AddresseeForm(Form):
    """One addressee block (a sub-form: the outer form carries the CSRF token)."""

    name = StringField(_l("Name"), validators=[Optional(), Length(max=200), LINE])
    title = StringField(_l("Title or position"), validators=[Optional(), Length(max=200), LINE])
    institution = StringField(_l("Institution"), validators=[Optional(), Length(max=200), LINE])
    postal_address = TextAreaField(_l("Postal address"), validators=[Optional(), Length(max=500), TEXT])
    email = EmailField(_l("E-mail"), validators=[Optional(), MailAddress(), Length(max=254), LINE])
    salutation = StringField(_l("Salutation"), validators=[Optional(), Length(max=200), LINE],
                             description=_l("e.g. “Dear Secretary General,”"))


class LetterForm(FlaskForm):
    """Every part of a letter, plus goal and deadline."""

    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=300), LINE])
    subject = StringField(_l("Subject"), validators=[Optional(), Length(max=300), LINE])
    addressees = FieldList(FormField(AddresseeForm), label=_l("Addressees"), min_entries=1, max_entries=30)
    body = TextAreaField(_l("Text (Markdown)"), validators=[DataRequired(), TEXT],
                         description=_l("Paragraphs separated by a blank line; **bold**, *italic*, [links](https://…)."))
    demands = TextAreaField(_l("Demands"), validators=[Optional(), Length(max=20_000), TEXT],
                            description=_l("One demand per line; they are numbered in order."))
    closing = TextAreaField(_l("Closing"), validators=[Optional(), Length(max=2000), TEXT],
                            description=_l("e.g. “Respectfully,”"))
    place = StringField(_l("Place"), validators=[Optional(), Length(max=200), LINE])
    letter_date = DateField(_l("Date of the letter"), validators=[Optional()])
    senders = TextAreaField(_l("Sending organizations"), validators=[Optional(), Length(max=5000), TEXT],
                            description=_l("One per line; shown at the top of the letter."))
    signature_goal = IntegerField(_l("Signature goal"), validators=[Optional(), NumberRange(min=1, max=10_000_000)])
    deadline = DateField(_l("Deadline"), validators=[Optional()],
                         description=_l("Signing closes by itself at the end of this day (UTC)."))
    base_revision = HiddenField()
    preview = SubmitField(_l("Preview"))
    save = SubmitField(_l("Save"))

    def validate_body(self, field):
        limit = current_app.config["BODY_MAX_CHARS"]
        if len(field.data or "") > limit:
            raise ValidationError(_l("The text is %(n)d characters long; the limit is %(limit)d.",
                                     n=len(field.data), limit=limit))

    def content(self) -> dict:
        """Return the letter parts as a content dict."""
        return {
            "title": self.title.data or "",
            "subject": self.subject.data or "",
            "addressees": [{k: (v or "") for k, v in entry.data.items() if k != "csrf_token"}
                           for entry in self.addressees],
            "body": self.body.data or "",
            "demands": (self.demands.data or "").splitlines(),
            "closing": self.closing.data or "",
            "place": self.place.data or "",
            "letter_date": self.letter_date.data.isoformat() if self.letter_date.data else None,
            "senders": self.senders.data or "",
        }

    def fill(self, content: dict, spare_addressees: int = 1) -> None:
        """Load a content dict into the form, with blank addressee rows to add more without JavaScript."""
        self.title.data = content.get("title", "")
        self.subject.data = content.get("subject", "")
        self.body.data = content.get("body", "")
        self.demands.data = "\n".join(content.get("demands") or [])
        self.closing.data = content.get("closing", "")
        self.place.data = content.get("place", "")
        value = content.get("letter_date")
        self.letter_date.data = date.fromisoformat(value) if isinstance(value, str) and value else value
        self.senders.data = content.get("senders", "")
        while len(self.addressees.entries):
            self.addressees.pop_entry()
        for addressee in (content.get("addressees") or []) + [{}] * spare_addressees:
            self.addressees.append_entry(addressee)


class TemplateForm(FlaskForm):
    name = StringField(_l("Template name"), validators=[DataRequired(), Length(max=200)])
    submit = SubmitField(_l("Save as template"))
