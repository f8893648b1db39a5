"""Organizer account forms."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, EqualTo, Length, ValidationError

from petitions.auth.passwords import MAX_LENGTH, password_problem
from petitions.mail.addresses import MailAddress


class RegisterForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), MailAddress(), Length(max=254)])
    submit = SubmitField(_l("Send me the link"))


def _acceptable_password(form, field) -> None:
    problem = password_problem(field.data or "", getattr(form, "account_email", ""))
    if problem is not None:
        raise ValidationError(problem)


class FinishRegistrationForm(FlaskForm):
    name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=200)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=MAX_LENGTH), _acceptable_password],
                             description=_l("At least 12 characters; a few unrelated words make a good one."))
    password2 = PasswordField(
        _l("Repeat password"), validators=[DataRequired(), EqualTo("password", _l("The passwords differ."))]
    )
    submit = SubmitField(_l("Create account"))

    def __init__(self, account_email: str = "", **kwargs):
        super().__init__(**kwargs)
        self.account_email = account_email


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])
    remember = BooleanField(_l("Keep me logged in"))
    submit = SubmitField(_l("Log in"))


class LogoutForm(FlaskForm):
    submit = SubmitField(_l("Log out"))
