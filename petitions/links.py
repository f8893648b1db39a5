"""Every signed, expiring link the app mails: its purposes (one salt each) and the tokens bound to a signature;
the sign form's signed time stamp too."""
import time

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from petitions.extensions import db
from petitions.signing.models import Signature

# Purposes: a token made for one is refused by every other.
CONFIRM = "signature-confirm"
WITHDRAW = "signature-withdraw"
RECONFIRM = "signature-reconfirm"
REGISTER = "account-register"
INVITE = "appeal-invite"
PROOF = "registry-proof"  # links that prove an organization's domain or contact address
SELF_SERVICE = "privacy-self-service"
UNSUBSCRIBE = "updates-unsubscribe"  # the one-click List-Unsubscribe link of update mails
# How long a link of each purpose works: the setting that says it.
MAX_AGE_SETTING = {
    CONFIRM: "CONFIRM_TOKEN_MAX_AGE", WITHDRAW: "WITHDRAW_TOKEN_MAX_AGE", RECONFIRM: "RECONFIRM_TOKEN_MAX_AGE",
    REGISTER: "REGISTER_TOKEN_MAX_AGE", INVITE: "INVITATION_MAX_AGE", PROOF: "REGISTRY_PROOF_MAX_AGE",
    SELF_SERVICE: "SELF_SERVICE_TOKEN_MAX_AGE", UNSUBSCRIBE: "UNSUBSCRIBE_TOKEN_MAX_AGE",
}
PURPOSES = tuple(MAX_AGE_SETTING)
# Not a link: the signed time at which the sign form was shown, so that a submit too soon can be refused.
FORM_STAMP = "sign-form-stamp"
# A prefix of the keyed address hash: enough to bind a link to the address, too short to recognise it.
HASH_PREFIX = 16


class TokenError(Exception):
    """A link token that is tampered, expired or for another purpose."""

    def __init__(self, message: str, expired: bool = False):
        super().__init__(message)
        self.expired = expired


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"])


def max_age(purpose: str) -> int:
    """Return how many seconds a link of this purpose works."""
    return current_app.config[MAX_AGE_SETTING[purpose]]


def make_token(purpose: str, payload: dict) -> str:
    """Sign a payload for one purpose."""
    return _serializer().dumps(payload, salt=purpose)


def read_token(purpose: str, token: str, max_age_seconds: int | None = None) -> dict:
    """Return the payload, or raise TokenError with a message a person can act on."""
    try:
        payload = _serializer().loads(token, salt=purpose,
                                      max_age=max_age(purpose) if max_age_seconds is None else max_age_seconds)
    except SignatureExpired:
        raise TokenError(_l("This link has expired. Sign again to get a new one."), expired=True) from None
    except BadSignature:
        raise TokenError(_l("This link is not valid. Check that you copied the whole link.")) from None
    if not isinstance(payload, dict):
        raise TokenError(_l("This link is not valid."))
    return payload


def form_stamp(appeal_id: int) -> str:
    """Sign the moment a sign form of this appeal is shown."""
    # itsdangerous stamps whole seconds; the minimum fill time needs the fraction too.
    return _serializer().dumps({"a": appeal_id, "t": round(time.time(), 3)}, salt=FORM_STAMP)


def form_stamp_age(token: str, appeal_id: int) -> float:
    """Return how many seconds ago the form was shown, or raise TokenError (forged, another appeal, too old)."""
    try:
        payload, signed_at = _serializer().loads(token or "", salt=FORM_STAMP, return_timestamp=True,
                                                 max_age=current_app.config["SIGN_FORM_MAX_AGE"])
    except SignatureExpired:
        raise TokenError(_l("This form was open for too long. Please check your entries and press Sign again."),
                         expired=True) from None
    except BadSignature:
        raise TokenError(_l("This form could not be checked. Please check your entries and press Sign again.")) \
            from None
    if not isinstance(payload, dict) or payload.get("a") != appeal_id:
        raise TokenError(_l("This form could not be checked. Please check your entries and press Sign again."))
    shown = payload.get("t")
    if not isinstance(shown, (int, float)) or isinstance(shown, bool):
        shown = signed_at.timestamp()
    return time.time() - shown


def signature_token(purpose: str, signature: Signature, **extra) -> str:
    """Sign a link to one signature, bound to its address: it stops working once the address is deleted."""
    return make_token(purpose, {"s": signature.id, "h": (signature.email_hash or "")[:HASH_PREFIX], **extra})


# With its appeal in the same query: every page behind a signer's link shows it (one round trip less). Built
# once: building it with its options on every confirmation cost a tenth of the request.
_WITH_APPEAL = select(Signature).options(joinedload(Signature.appeal, innerjoin=True)).where(
    Signature.id == bindparam("id"))


def signature_of_token(purpose: str, token: str, refused: str) -> tuple[Signature, dict]:
    """Return the signature a link points to and the link's payload, or raise TokenError(refused)."""
    payload = read_token(purpose, token)
    signature = db.session.scalar(_WITH_APPEAL, {"id": payload["s"]}) if isinstance(payload.get("s"), int) else None
    # The hash goes with the address at withdrawal, so an old link stops matching by itself.
    if signature is None or not signature.email_hash or signature.email_hash[:HASH_PREFIX] != payload.get("h"):
        raise TokenError(refused)
    return signature, payload
