"""Self-service for signers: a link by e-mail to see, download, correct or erase their data."""
from dataclasses import dataclass, field

from flask import current_app, render_template
from flask_babel import get_locale, gettext as _, lazy_gettext as _l
from flask_mail import Message
from limits import parse_many
from sqlalchemy import select

from petitions import audit, crypto
from petitions.appeals.models import AppealStatus
from petitions.extensions import db, utcnow
from petitions.i18n import format_letter_date, quote
from petitions.ratelimit import limiter
from petitions.mail import outbox, sending
from petitions.pdf import jobs
from petitions import links as tokens
from petitions.links import SELF_SERVICE
from petitions.signing import levels as verification
from petitions.signing.models import Signature, SignerKind, Visibility
from petitions.urls import external_url
from petitions.signing.rules import counts, entry_for, offered_choices



class NotYours(Exception):
    """The signature does not belong to the address the link was sent to."""


@dataclass
class ErasureReport:
    """What an erasure removed and what it could not reach."""

    erased: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)


def signatures_for_hash(email_hash: str) -> list[Signature]:
    """Return every signature made with one address, newest first."""
    return list(db.session.scalars(
        select(Signature).where(Signature.email_hash == email_hash).order_by(Signature.created_at.desc())
    ))


def request_link(email: str) -> bool:
    """Mail a self-service link to the address; return whether it has signatures (never shown to the requester)."""
    key = crypto.email_hash(email)
    found = bool(signatures_for_hash(key))
    if not _address_may_get_mail(key):
        return found  # the same page, no mail: asking from many clients cannot flood one mailbox
    if found:
        link = external_url("privacy.my_data", token=make_token(key))
        body = render_template("privacy/mail_link.txt", link=link,
                               hours=current_app.config["SELF_SERVICE_TOKEN_MAX_AGE"] // 3600)
        subject = _("Your signatures: see, download, correct or erase")
    else:
        # The same kind of answer either way, in the mailbox only: the web page never says whether someone signed.
        body = render_template("privacy/mail_none.txt")
        subject = _("Your signatures")
    sending.queue(Message(subject=subject, recipients=[email], body=body), kind="self_service")
    return found


def _address_may_get_mail(email_hash: str) -> bool:
    """Count one self-service mail to this address in the rate limiter's storage (shared by every worker)."""
    if not (current_app.config.get("RATELIMIT_ENABLED", True) and limiter.enabled):
        return True
    # The key is the keyed address hash already stored with signatures, never the address itself.
    return all(limiter.limiter.hit(item, "self-service-address", email_hash)
               for item in parse_many(current_app.config["SELF_SERVICE_ADDRESS_LIMIT"]))


def make_token(email_hash: str) -> str:
    """Return the token of a self-service link, bound to the hash of the address."""
    return tokens.make_token(SELF_SERVICE, {"h": email_hash})


def hash_for_token(token: str) -> str:
    """Return the address hash a link stands for, or raise TokenError."""
    payload = tokens.read_token(SELF_SERVICE, token, current_app.config["SELF_SERVICE_TOKEN_MAX_AGE"])
    key = payload.get("h")
    if not isinstance(key, str) or len(key) != 64:
        raise tokens.TokenError(_l("This link is not valid. Check that you copied the whole link."))
    return key


def own_signature(email_hash: str, signature_id: int) -> Signature:
    """Return the signature if it was made with this address, else raise NotYours."""
    signature = db.session.get(Signature, signature_id)
    if signature is None or signature.email_hash != email_hash:
        raise NotYours()
    return signature


def export(email_hash: str) -> dict:
    """Return everything stored about this address, for the signer's JSON download."""
    return {
        "generated_at": utcnow().isoformat(timespec="seconds") + "Z",
        "signatures": [{
            "appeal": {"title": s.appeal.title, "url": external_url("public.appeal", slug=s.appeal.slug),
                       "status": s.appeal.status.value},
            "full_name": s.full_name,
            "affiliation": s.affiliation,
            "signs_as": s.kind.value,
            "organization_signed_for": s.organization_name,
            "role_in_organization": s.signer_role,
            "country": s.country,
            "email": crypto.decrypt(s.email_encrypted) if s.email_encrypted else None,
            "status": s.status.value,
            "visibility": s.visibility.value,
            "verification_level": s.level.value,
            "review": s.review.value,
            "language": s.language,
            "consent_version": s.consent_version,
            "consent_at": _iso(s.consent_at),
            "wants_updates": s.wants_updates,
            "created_at": _iso(s.created_at),
            "confirmed_at": _iso(s.confirmed_at),
            "withdrawn_at": _iso(s.withdrawn_at),
            "text_fingerprint": s.text_hash,
            "source": s.source,
            "client_hash_stored": s.client_hash is not None,
        } for s in signatures_for_hash(email_hash)],
    }


def _iso(value) -> str | None:
    return value.isoformat(timespec="seconds") + "Z" if value else None


def correct(signature: Signature, full_name: str, affiliation: str, country: str, visibility: str, *,
            kind: str | None = None, organization_name: str | None = None,
            signer_role: str | None = None) -> list[str]:
    """Change what the signer typed and who may see it; return what was changed (field names)."""
    if visibility not in offered_choices(signature.appeal) and visibility != signature.visibility.value:
        raise ValueError("This appeal does not offer that choice.")
    level_before = signature.level
    # A new name or affiliation keeps no level earned for the old one (Signature.correct_identity).
    signer_kind = SignerKind(kind) if kind else signature.kind
    if signer_kind is SignerKind.PERSON:
        organization_name, signer_role = "", ""  # a person signs for no organization
    elif affiliation is not None:
        affiliation = ""  # as when signing: the organization and role say it
    changed = signature.correct_identity(full_name, affiliation, kind=signer_kind,
                                         organization_name=organization_name, signer_role=signer_role)
    if changed:
        verification.redescribe_corrected(signature)
    changed += signature.correct_listing(country, Visibility(visibility))
    if changed:
        # Only field names: the audit log itself must not become a second copy of personal data.
        audit.record("signature.corrected_by_signer", signature.appeal, actor=None, signature=signature.id, fields=changed,
                     level_before=level_before.value, level=signature.level.value)
    return changed


def in_delivered_letter(signature: Signature) -> bool:
    """Tell whether the signature already went to the addressees in a delivered PDF."""
    appeal = signature.appeal
    delivered = appeal.delivered_at is not None or appeal.status is AppealStatus.DELIVERED
    return delivered and counts(signature) and (signature.confirmed_at is None
                                               or appeal.delivered_at is None
                                               or signature.confirmed_at <= appeal.delivered_at)


def erase(signature: Signature) -> ErasureReport:
    """Delete the signature with everything stored about it; report what lies beyond our reach."""
    report = ErasureReport(erased=[_("name"), _("affiliation"), _("country"), _("e-mail address"),
                                   _("signature record")])
    appeal = signature.appeal
    if in_delivered_letter(signature):
        report.kept.append(_delivered_copies(signature))
    if signature.visibility is Visibility.PUBLIC and counts(signature):
        report.kept.append(_("Copies of the public page or the public PDF that others saved earlier are outside "
                             "our control."))
    removed = forget_copies(signature)
    if removed:
        report.erased.append(_("every stored PDF version that could list you (a new one is made without you)"))
    # Duplicates merged into this one would otherwise point at nothing.
    db.session.execute(
        Signature.__table__.update().where(Signature.merged_into_id == signature.id).values(merged_into_id=None))
    audit.record("signature.erased_by_signer", appeal, actor=None, signature=signature.id, was_counted=counts(signature),
                  pdfs_removed=removed)
    db.session.delete(signature)
    return report


def _delivered_copies(signature: Signature) -> str:
    """Say what the delivered letter holds about the signer: it lies beyond our reach (one whole sentence each way)."""
    appeal = signature.appeal
    language = str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])
    when = format_letter_date(appeal.delivered_at, language) if appeal.delivered_at else ""
    entry = entry_for(signature, "addressee_pdf")
    line = quote(entry.display_line, language) if entry is not None else ""
    rest = _("Copies the addressees hold cannot be recalled. Our own stored copies of it are deleted; only its "
             "fingerprint remains, so that the addressees can still verify the letter.")
    if when and line:
        first = _("The letter delivered to the addressees on %(when)s lists you as %(line)s.", when=when, line=line)
    elif when:
        first = _("The letter delivered to the addressees on %(when)s counts you.", when=when)
    elif line:
        first = _("The letter delivered to the addressees lists you as %(line)s.", line=line)
    else:
        first = _("The letter delivered to the addressees counts you.")
    return f"{first} {rest}"


def forget_copies(signature: Signature) -> int:
    """Delete the copies of a signer's data outside their row: stored PDFs, list chunks, dev outbox mail.

    Call before the row is erased or scrubbed; return how many stored PDF versions were removed.
    """
    address = crypto.decrypt(signature.email_encrypted) if signature.email_encrypted else None
    removed = jobs.forget_signature(signature)
    outbox.forget(address, [signature.full_name], {r.sha256 for r in removed})
    return len(removed)
