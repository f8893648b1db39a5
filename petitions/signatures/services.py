"""Write actions on signatures: sign, confirm."""
from dataclasses import dataclass

from flask import current_app, render_template
from flask_mail import Message
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .. import crypto
from ..appeals.models import Appeal
from ..extensions import db, utcnow
from ..mail import sending
from ..urls import external_url
from . import tokens, verification
from .models import Signature, SignatureStateError, SignatureStatus


class SigningClosed(Exception):
    """The appeal does not accept signatures now."""


@dataclass
class SignOutcome:
    """What happened, for tests and logs; the signer's screen never shows the difference."""

    signature: Signature
    created: bool


def sign(appeal: Appeal, full_name: str, affiliation: str, email: str, language: str = "en") -> SignOutcome:
    """Record a pending signature and queue its confirmation mail; never sign twice per e-mail."""
    if not appeal.is_open:
        raise SigningClosed(
            "This appeal is not collecting signatures." if appeal.status.value == "draft"
            else "Signing this appeal has closed."
        )
    key = crypto.email_hash(email)
    existing = _find(appeal, key)
    if existing is None:
        signature = Signature(
            appeal=appeal,
            full_name=full_name,
            affiliation=affiliation,
            email_hash=key,
            email_encrypted=crypto.encrypt(crypto.normalize_email(email)),
            language=language,
            text_hash=appeal.content_hash,
            revision_id=appeal.published_revision_id,
            consent_at=utcnow(),
        )
        verification.on_sign(signature)
        try:
            with db.session.begin_nested():
                db.session.add(signature)
        except IntegrityError:  # a concurrent request signed with the same address first
            existing = _find(appeal, key)
        else:
            _queue_confirmation(signature, email)
            return SignOutcome(signature, created=True)
    # The screen answers the same either way; only the mailbox owner learns it was signed already.
    if existing.status is SignatureStatus.PENDING:
        _queue_confirmation(existing, email)
    else:
        _queue_already_signed(existing, email)
    return SignOutcome(existing, created=False)


def _find(appeal: Appeal, key: str) -> Signature | None:
    return db.session.scalar(
        select(Signature).where(Signature.appeal_id == appeal.id, Signature.email_hash == key)
    )


def confirmation_token(signature: Signature) -> str:
    """Return the token of the confirmation link, bound to this signature and its address."""
    return tokens.make_token(tokens.CONFIRM, {"s": signature.id, "h": signature.email_hash[:16]})


def _queue_confirmation(signature: Signature, email: str) -> None:
    link = external_url("signatures.confirm", token=confirmation_token(signature))
    body = render_template("mail/confirm.txt", signature=signature, appeal=signature.appeal, link=link)
    sending.queue(Message(subject=f"Please confirm your signature: {signature.appeal.title}",
                          recipients=[email], body=body))


def _queue_already_signed(signature: Signature, email: str) -> None:
    link = external_url("public.appeal", slug=signature.appeal.slug)
    body = render_template("mail/already_signed.txt", signature=signature, appeal=signature.appeal, link=link)
    sending.queue(Message(subject=f"You have already signed: {signature.appeal.title}",
                          recipients=[email], body=body))


def signature_for_token(token: str) -> Signature:
    """Return the signature a confirmation link points to, or raise TokenError."""
    payload = tokens.read_token(tokens.CONFIRM, token, current_app.config["CONFIRM_TOKEN_MAX_AGE"])
    signature = db.session.get(Signature, payload.get("s")) if isinstance(payload.get("s"), int) else None
    if signature is None or not signature.email_hash or signature.email_hash[:16] != payload.get("h"):
        raise tokens.TokenError("This link does not match any signature. It may have been withdrawn.")
    return signature


def confirm(token: str) -> tuple[Signature, bool]:
    """Confirm the signature behind a link; return it and whether this call changed it."""
    signature = signature_for_token(token)
    if signature.status is SignatureStatus.PENDING and not signature.appeal.is_open:
        raise SigningClosed("Signing this appeal closed before this signature was confirmed.")
    changed = signature.confirm()
    verification.on_confirm(signature)
    return signature, changed


__all__ = ["sign", "confirm", "signature_for_token", "SigningClosed", "SignatureStateError"]
