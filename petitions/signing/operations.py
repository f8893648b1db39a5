"""Write actions on signatures: sign, confirm."""
from flask_babel import lazy_gettext as _l
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app, render_template
from flask_babel import gettext as _
from flask_mail import Message
from sqlalchemy import or_, select, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.exc import IntegrityError

from petitions import crypto
from petitions.appeals.models import Appeal
from petitions.extensions import db, utcnow
from petitions.i18n import with_locale
from petitions.mail import sending
from petitions.urls import external_url
from petitions.translations.services import localized_title
from petitions import links as tokens
from petitions.signing import levels as verification
from petitions.privacy.minimize import client_hash
from petitions.signing.rules import default_choice
from petitions.signing.models import Signature, SignatureStateError, SignatureStatus, SignerKind, Visibility


class SigningClosed(Exception):
    """The appeal does not accept signatures now."""


@dataclass
class SignOutcome:
    """What happened, for tests and logs; the signer's screen never shows the difference."""

    signature: Signature
    created: bool


def sign(appeal: Appeal, full_name: str, affiliation: str, email: str, language: str = "en", *,
         visibility: str | None = None, country: str = "", kind: str = "person", organization_name: str = "",
         signer_role: str = "") -> SignOutcome:
    """Record a pending signature and queue its confirmation mail; never sign twice per e-mail.

    One address signs once per appeal, as a person or for one organization: whoever signs for a second
    organization needs that organization's own address.
    """
    if not appeal.is_open:
        raise SigningClosed(
            _l("This appeal is not collecting signatures.") if appeal.status.value == "draft"
            else _l("Signing this appeal has closed.")
        )
    signer_kind = SignerKind(kind or "person")
    if signer_kind is SignerKind.ORGANIZATION and not organization_name.strip():
        raise SignatureStateError(_l("Enter the name of the organization you sign for."))
    if signer_kind is SignerKind.PERSON:
        organization_name, signer_role = "", ""
    else:
        affiliation = ""  # the role and the organization say it; a second affiliation would confuse the line
    key = crypto.email_hash(email)
    existing = _find(appeal, key)
    if existing is None:
        signature = Signature(
            appeal=appeal,
            full_name=full_name,
            affiliation=affiliation,
            kind=signer_kind,
            organization_name=organization_name,
            signer_role=signer_role,
            email_hash=key,
            email_encrypted=crypto.encrypt(crypto.normalize_email(email)),
            language=language,
            text_hash=appeal.content_hash,
            revision_id=appeal.published_revision_id,
            consent_at=utcnow(),
            # Signatory safety: the name is shown only as chosen; no IP, only a rotating keyed hash.
            visibility=Visibility(visibility or default_choice(appeal)),
            country=country or "",
            consent_version=current_app.config["CONSENT_VERSION"],
            client_hash=client_hash(),
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
    # The screen answers the same either way; only the mailbox owner learns it was signed already,
    # and at most once per RESEND_MIN_INTERVAL however many clients submit the address.
    if claim_mail_slot(existing):
        if existing.status is SignatureStatus.PENDING:
            _queue_confirmation(existing, email)
        else:
            _queue_already_signed(existing, email)
    return SignOutcome(existing, created=False)


def claim_mail_slot(signature: Signature) -> bool:
    """Tell whether the signer may be mailed again now, and if so record it: one throttle for every re-send."""
    now = utcnow()
    earlier = now - timedelta(seconds=current_app.config["RESEND_MIN_INTERVAL"])
    # reminded_at is when a mail was last sent again. One conditional UPDATE, so that concurrent
    # requests from many clients cannot all pass the check before any of them records the mail.
    claimed = db.session.execute(
        update(Signature).where(Signature.id == signature.id,
                                or_(Signature.reminded_at.is_(None), Signature.reminded_at <= earlier))
        .values(reminded_at=now).execution_options(synchronize_session=False)
    ).rowcount == 1
    if claimed:
        set_committed_value(signature, "reminded_at", now)
    return claimed


def _find(appeal: Appeal, key: str) -> Signature | None:
    return db.session.scalar(
        select(Signature).where(Signature.appeal_id == appeal.id, Signature.email_hash == key)
    )


def confirmation_token(signature: Signature) -> str:
    """Return the token of the confirmation link, bound to this signature and its address."""
    return tokens.make_token(tokens.CONFIRM, {"s": signature.id, "h": signature.email_hash[:16]})


def _queue_confirmation(signature: Signature, email: str) -> None:
    link = external_url("signatures.confirm", token=confirmation_token(signature))
    _queue_signer_mail(signature, email, "mail/confirm.txt", link,
                       lambda title: _("Please confirm your signature: %(title)s", title=title))


def _queue_already_signed(signature: Signature, email: str) -> None:
    link = external_url("public.appeal_in", slug=signature.appeal.slug, lang=signature.language)
    _queue_signer_mail(signature, email, "mail/already_signed.txt", link,
                       lambda title: _("You have already signed: %(title)s", title=title))


def _queue_signer_mail(signature: Signature, email: str, template: str, link: str, subject) -> None:
    # In the language of the version the signer read (the default where the interface has no catalog).
    with with_locale(signature.language):
        title = localized_title(signature.appeal, signature.language)
        body = render_template(template, signature=signature, appeal=signature.appeal, link=link,
                               appeal_title=title)
        sending.queue(Message(subject=subject(title), recipients=[email], body=body))


def signature_for_token(token: str) -> Signature:
    """Return the signature a confirmation link points to, or raise TokenError."""
    payload = tokens.read_token(tokens.CONFIRM, token, current_app.config["CONFIRM_TOKEN_MAX_AGE"])
    signature = db.session.get(Signature, payload.get("s")) if isinstance(payload.get("s"), int) else None
    if signature is None or not signature.email_hash or signature.email_hash[:16] != payload.get("h"):
        raise tokens.TokenError(_l("This link does not match any signature. It may have been withdrawn."))
    return signature


def confirm(token: str) -> tuple[Signature, bool]:
    """Confirm the signature behind a link; return it and whether this call changed it."""
    signature = signature_for_token(token)
    if signature.status is SignatureStatus.PENDING and not signature.appeal.is_open:
        raise SigningClosed(_l("Signing this appeal closed before this signature was confirmed."))
    changed = signature.confirm()
    verification.on_confirm(signature)
    if changed:
        from petitions.pdf.jobs import public_pdf_changed

        public_pdf_changed(signature.appeal)  # a debounced job, never a render inside this request
    return signature, changed


__all__ = ["sign", "confirm", "signature_for_token", "SigningClosed", "SignatureStateError"]
