"""Forms of the signer's pages: withdraw, send the confirmation again."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, SubmitField
from wtforms.validators import DataRequired, Email, Length


class WithdrawForm(FlaskForm):
    submit = SubmitField(_l("Withdraw my signature"))


class ResendForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(_l("Enter a valid e-mail address.")),
                                                 Length(max=254)],
                       description=_l("The address you signed with."))
    submit = SubmitField(_l("Send the link again"))
