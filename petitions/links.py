"""Signed, expiring tokens for links in e-mails; one salt per purpose."""
from flask_babel import lazy_gettext as _l
from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

CONFIRM = "signature-confirm"
WITHDRAW = "signature-withdraw"


class TokenError(Exception):
    """A link token that is tampered, expired or for another purpose."""

    def __init__(self, message: str, expired: bool = False):
        super().__init__(message)
        self.expired = expired


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"])


def make_token(purpose: str, payload: dict) -> str:
    """Sign a payload for one purpose."""
    return _serializer().dumps(payload, salt=purpose)


def read_token(purpose: str, token: str, max_age: int) -> dict:
    """Return the payload, or raise TokenError with a message a person can act on."""
    try:
        payload = _serializer().loads(token, salt=purpose, max_age=max_age)
    except SignatureExpired:
        raise TokenError(_l("This link has expired. Sign again to get a new one."), expired=True) from None
    except BadSignature:
        raise TokenError(_l("This link is not valid. Check that you copied the whole link.")) from None
    if not isinstance(payload, dict):
        raise TokenError(_l("This link is not valid."))
    return payload
