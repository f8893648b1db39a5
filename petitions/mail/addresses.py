"""Which addresses this site can mail: one plain mailbox, ASCII before the @, any domain (sent as punycode)."""
import re

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from wtforms.validators import ValidationError

# A bare address as the forms and the importer produce it; anything else would be parsed by mail software.
_PLAIN = re.compile(r"[^\s@<>()\[\],;:\"\\]+@[^\s@<>()\[\],;:\"\\]+")
# Mail to "пример@…" needs SMTPUTF8 at every relay on the way; Flask-Mail cannot even write such a header,
# so the signer hears it at the form rather than never getting the confirmation link.
NON_ASCII_LOCAL_PART = _l("This site cannot send mail to an address with letters other than a–z before the @ "
                          "(such as “josé@…” or “пример@…”). Please give another address.")


class InvalidAddress(ValueError):
    """An address the site cannot mail; its text says why, for the person who typed it."""


def is_plain(text: str) -> bool:
    """Tell whether the text is one bare mailbox that cannot add headers or recipients, with an ASCII local part."""
    return bool(_PLAIN.fullmatch(text)) and text.isprintable() and text.rpartition("@")[0].isascii()


def check_address(value: object) -> str:
    """Return the trimmed address if this site can mail it, else raise InvalidAddress saying what is wrong."""
    text = str(value or "").strip()
    if "\r" in text or "\n" in text:
        raise InvalidAddress(_l("The address contains a line break."))
    if "\x00" in text:
        raise InvalidAddress(_l("The address contains a NUL character."))
    if "@" in text and not text.rpartition("@")[0].isascii():
        raise InvalidAddress(NON_ASCII_LOCAL_PART)
    try:
        validate_email(text, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError:
        raise InvalidAddress(_l("Enter a valid e-mail address.")) from None
    if not is_plain(text):
        raise InvalidAddress(_l("Enter a valid e-mail address."))
    return text


class MailAddress:
    """Form validator: the field holds an address this site can mail (an empty field is left to DataRequired)."""

    def __call__(self, form, field) -> None:
        if not field.data:
            return
        try:
            field.data = check_address(field.data)
        except InvalidAddress as exc:
            raise ValidationError(str(exc)) from None
