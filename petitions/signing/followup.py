"""After signing: withdrawal links, confirmation sent again on request, reminders from organizers."""
from __future__ import annotations

from datetime import timedelta

from flask import current_app, render_template
from flask_babel import lazy_gettext as _l
from flask_mail import Message
from sqlalchemy import or_, select

from petitions import audit, crypto
from petitions.appeals.models import Appeal
from petitions.extensions import db, utcnow
from petitions.mail import sending
from petitions.urls import external_url
from petitions import links as tokens
from petitions.signing.models import Signature, SignatureStatus
from petitions.signing.operations import _queue_confirmation, claim_mail_slot, confirmation_token

REMIND_BATCH = 500


def withdrawal_token(signature: Signature) -> str:
    """Return the token of the withdrawal link, bound to this signature and its address."""
    return tokens.make_token(tokens.WITHDRAW, {"s": signature.id, "h": (signature.email_hash or "")[:16]})


def withdrawal_link(signature: Signature) -> str:
    """Return the absolute withdrawal link that every mail to a signer carries."""
    return external_url("signatures.withdraw", token=withdrawal_token(signature))


def signature_for_withdrawal(token: str) -> Signature:
    """Return the signature a withdrawal link points to, or raise TokenError."""
    payload = tokens.read_token(tokens.WITHDRAW, token, current_app.config["WITHDRAW_TOKEN_MAX_AGE"])
    signature = db.session.get(Signature, payload.get("s")) if isinstance(payload.get("s"), int) else None
    # The hash goes with the address at withdrawal, so an old link stops matching by itself.
    if signature is None or not signature.email_hash or signature.email_hash[:16] != payload.get("h"):
        raise tokens.TokenError(_l("This signature has already been withdrawn, or the link is not valid."))
    return signature


def withdraw(token: str) -> Signature:
    """Withdraw the signature behind a link: it leaves every list and its address is deleted."""
    from petitions.privacy.selfservice import forget_copies

    signature = signature_for_withdrawal(token)
    removed = forget_copies(signature)  # while the name and address are still there to look for
    signature.withdraw()  # keeps a tombstone for the counts, without name, affiliation or address
    audit.record("signature.withdrawn", signature.appeal, actor=None, signature=signature.id, pdfs_removed=removed)
    return signature


def resend_confirmation(appeal: Appeal, email: str) -> bool:
    """Send the confirmation link again if this address has a pending signature; tell nobody else."""
    signature = db.session.scalar(select(Signature).where(
        Signature.appeal_id == appeal.id, Signature.email_hash == crypto.email_hash(email)))
    if signature is None or signature.status is not SignatureStatus.PENDING or not appeal.is_open:
        return False
    # reminded_at is "when the link was last sent again": it throttles, and restarts the expiry clock
    # of the unconfirmed signature (see privacy.retention on main), since a fresh link was just sent.
    if not claim_mail_slot(signature):
        return False  # someone pressing the button again and again must not flood the mailbox
    _queue_confirmation(signature, crypto.normalize_email(email))
    return True


def remind_unconfirmed(appeal: Appeal, actor) -> int:
    """Mail every pending signer not reminded within REMIND_INTERVAL_DAYS; return how many."""
    if not appeal.is_open:
        return 0
    now = utcnow()
    cutoff = now - timedelta(days=current_app.config["REMIND_INTERVAL_DAYS"])
    due = (Signature.appeal_id == appeal.id) & (Signature.status == SignatureStatus.PENDING) \
        & Signature.email_encrypted.is_not(None) & (Signature.created_at <= now - timedelta(hours=1)) \
        & or_(Signature.reminded_at.is_(None), Signature.reminded_at <= cutoff)
    sent, last_id = 0, 0
    while True:
        batch = list(db.session.scalars(select(Signature).where(due, Signature.id > last_id)
                                        .order_by(Signature.id).limit(REMIND_BATCH)))
        if not batch:
            break
        for signature in batch:
            email = crypto.decrypt(signature.email_encrypted)
            if email:
                signature.reminded_at = now
                _queue_reminder(signature, email)
                sent += 1
        last_id = batch[-1].id
    audit.record("signatures.reminded", appeal, actor=actor, count=sent)
    return sent


def _queue_reminder(signature: Signature, email: str) -> None:
    link = external_url("signatures.confirm", token=confirmation_token(signature))
    body = render_template("mail/reminder.txt", signature=signature, appeal=signature.appeal, link=link)
    sending.queue(Message(subject=f"Reminder: please confirm your signature: {signature.appeal.title}",
                          recipients=[email], body=body))
