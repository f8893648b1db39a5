"""Write actions on signatures: sign, confirm, withdraw, resend, remind, request re-confirmation, reconfirm.

Every mail to a signer is built here (`signer_message`): in the language of the version they read, with the
withdrawal footer. The mails of signing itself (confirm, already signed, reminder, re-confirm) are built by the
outbox worker when it sends them; others when queued (`queue_signer_mail`). Views commit; these functions only
change the session and queue mail.
"""
import functools
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import islice

from flask import current_app, render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_mail import Message
from sqlalchemy import bindparam, cast, exists, func, inspect, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from petitions import audit, crypto, jobs, links
from petitions.appeals.models import Appeal, AppealStatus
from petitions.extensions import db, utcnow
from petitions.i18n import with_locale
from petitions.links import TokenError
from petitions.mail import sending
from petitions.pdf.jobs import public_pdf_changed
from petitions.privacy.minimize import client_hash
from petitions.privacy.selfservice import forget_copies
from petitions.signing import levels as verification
from petitions.signing import names
from petitions.signing.models import Signature, SignatureStateError, SignatureStatus, SignerKind, Visibility
from petitions.signing.rules import default_choice
from petitions.translations.services import localized_title
from petitions.urls import external_url, signer_url

REMIND_BATCH = 500
# The INSERT that skips an address already signed, per database (sign() stays atomic with its mail).
_DIALECT_INSERT = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}
_SIGNATURES = Signature.__table__
_SIGNATURE_COLUMNS = [column.key for column in _SIGNATURES.columns]


class SigningClosed(Exception):
    """The appeal does not accept signatures now."""


class AppealChanged(Exception):
    """The stored appeal is no longer open as read, or has changed since (see signing/appeal_copy.py)."""


@dataclass
class SignOutcome:
    """What happened, for tests and logs; the signer's screen never shows the difference."""

    signature: Signature
    created: bool


# --- links -------------------------------------------------------------------------------------------

def confirmation_token(signature: Signature) -> str:
    """Return the token of the confirmation link, bound to this signature and its address."""
    return links.signature_token(links.CONFIRM, signature)


def withdrawal_token(signature: Signature) -> str:
    """Return the token of the withdrawal link, bound to this signature and its address."""
    return links.signature_token(links.WITHDRAW, signature)


def reconfirmation_token(signature: Signature) -> str:
    """Return the token of the link to sign the published revision, bound to it and to the address."""
    return links.signature_token(links.RECONFIRM, signature, r=signature.appeal.published_revision_id)


def withdrawal_link(signature: Signature) -> str:
    """Return the absolute withdrawal link that every mail to a signer carries."""
    return signer_url("signatures.withdraw", signature.language, token=withdrawal_token(signature))


def signature_for_token(token: str) -> Signature:
    """Return the signature a confirmation link points to, or raise TokenError."""
    return links.signature_of_token(links.CONFIRM, token, _l(
        "This link does not match any signature. It may have been withdrawn."))[0]


def signature_for_withdrawal(token: str) -> Signature:
    """Return the signature a withdrawal link points to, or raise TokenError."""
    return links.signature_of_token(links.WITHDRAW, token, _l(
        "This signature has already been withdrawn, or the link is not valid."))[0]


def signature_for_reconfirmation(token: str) -> Signature:
    """Return the confirmed signature a re-confirmation link points to, or raise TokenError."""
    signature, payload = links.signature_of_token(links.RECONFIRM, token, _l(
        "This link does not match any current signature."))
    if signature.status is not SignatureStatus.CONFIRMED:
        raise TokenError(_l("This link does not match any current signature."))
    if payload.get("r") != signature.appeal.published_revision_id:
        raise TokenError(_l("The appeal was amended again since this message; a newer link was sent."))
    return signature


# --- mail to signers ---------------------------------------------------------------------------------

def queue_signer_mail(signature: Signature, email: str, template: str, link: str, subject, *,
                      headers: dict[str, str] | None = None, **context) -> None:
    """Queue one mail to a signer in the language of the version they read (the default where none).

    `subject` takes the appeal's title in that language and returns the subject line; the template
    includes the withdrawal footer; `headers` are added as they are (List-Unsubscribe, for instance).
    """
    # The kind is the template's name ("confirm", "reminder", ...): the organizer panel counts by it.
    kind = template.rsplit("/", 1)[-1].split(".", 1)[0]
    sending.queue(signer_message(signature, email, template, link, subject, headers=headers, **context),
                  kind=kind, appeal=signature.appeal, signature=signature)


def signer_message(signature: Signature, email: str, template: str, link: str, subject, *,
                   headers: dict[str, str] | None = None, **context) -> Message:
    """Build the mail `queue_signer_mail` describes, without queueing it."""
    with with_locale(signature.language):
        title = localized_title(signature.appeal, signature.language)
        body = render_template(template, signature=signature, appeal=signature.appeal, link=link,
                               appeal_title=title, **context)
        return Message(subject=subject(title), recipients=[email], body=body, extra_headers=headers)


def _when_sent(kind: str):
    """Register the builder of a signer mail that the outbox renders when it sends it (see _queue_later)."""
    def register(build):
        @sending.renders(kind)
        def render(signature_id: int, recipient: str) -> Message | None:
            signature = db.session.get(Signature, signature_id)
            if signature is None or signature.status is SignatureStatus.WITHDRAWN:
                return None
            return build(signature, recipient)
        return build
    return register


def _queue_later(kind: str, signature: Signature, email: str) -> None:
    # What a sign request itself writes: who gets which mail. Built by the worker (a third of the request).
    sending.queue_rendered_when_sent(kind, email, appeal=signature.appeal, signature=signature)


@_when_sent("confirm")
def _confirmation(signature: Signature, email: str) -> Message:
    link = signer_url("signatures.confirm", signature.language, token=confirmation_token(signature))
    return signer_message(signature, email, "mail/confirm.txt", link,
                          lambda title: _("Please confirm your signature: %(title)s", title=title))


@_when_sent("already_signed")
def _already_signed(signature: Signature, email: str) -> Message:
    link = external_url("public.appeal_in", slug=signature.appeal.slug, lang=signature.language)
    return signer_message(signature, email, "mail/already_signed.txt", link,
                          lambda title: _("You have already signed: %(title)s", title=title))


@_when_sent("reminder")
def _reminder(signature: Signature, email: str) -> Message:
    link = signer_url("signatures.confirm", signature.language, token=confirmation_token(signature))
    return signer_message(signature, email, "mail/reminder.txt", link,
                          lambda title: _("Reminder: please confirm your signature: %(title)s", title=title))


@_when_sent("reconfirm")
def _reconfirmation(signature: Signature, email: str) -> Message:
    link = signer_url("signatures.reconfirm", signature.language, token=reconfirmation_token(signature))
    return signer_message(signature, email, "mail/reconfirm.txt", link,
                          lambda title: _("The appeal you signed was amended: %(title)s", title=title),
                          revision=signature.appeal.published_revision)


def _queue_confirmation(signature: Signature, email: str) -> None:
    _queue_later("confirm", signature, email)


def _queue_already_signed(signature: Signature, email: str) -> None:
    _queue_later("already_signed", signature, email)


def _queue_reminder(signature: Signature, email: str) -> None:
    _queue_later("reminder", signature, email)


def _queue_reconfirmation(signature: Signature, email: str) -> None:
    _queue_later("reconfirm", signature, email)


# --- signing and confirming --------------------------------------------------------------------------

def cleaned_signer(full_name: str, affiliation: str, country: str = "", kind: str = "person",
                   organization_name: str = "", signer_role: str = "") -> dict:
    """Return what a signer typed, cleaned as every path stores it, or raise names.InvalidName.

    One address signs once per appeal, as a person or for one organization: a person has no organization
    or role, an organization's signer no second affiliation (the role and the organization say it).
    """
    signer_kind = SignerKind(kind or "person")
    fields = {"full_name": names.clean_name(full_name), "affiliation": names.clean_affiliation(affiliation),
              "country": names.clean_country(country), "kind": signer_kind,
              "organization_name": names.clean_affiliation(organization_name),
              "signer_role": names.clean_role(signer_role)}
    if signer_kind is SignerKind.ORGANIZATION and not fields["organization_name"]:
        raise SignatureStateError(_l("Enter the name of the organization you sign for."))
    if signer_kind is SignerKind.PERSON:
        fields["organization_name"] = fields["signer_role"] = ""
    else:
        fields["affiliation"] = ""
    return fields


def sign(appeal: Appeal, full_name: str, affiliation: str, email: str, language: str = "en", *,
         visibility: str | None = None, country: str = "", kind: str = "person", organization_name: str = "",
         signer_role: str = "", wants_updates: bool = False, unchanged_since: datetime | None = None) -> SignOutcome:
    """Record a pending signature and queue its confirmation mail; never sign twice per e-mail.

    Raise SigningClosed, SignatureStateError or names.InvalidName for what cannot be signed. `unchanged_since`
    is the `updated_at` of an appeal object not read in this transaction (signing/appeal_copy.py): the row is
    stored only if the appeal is stored open with it, else AppealChanged is raised, nothing stored, and the
    caller may read the appeal again and decide anew.
    """
    if not appeal.is_open:
        raise SigningClosed(
            _l("This appeal is not collecting signatures.") if appeal.status.value == "draft"
            else _l("Signing this appeal has closed.")
        )
    signer = cleaned_signer(full_name, affiliation, country, kind, organization_name, signer_role)
    key = crypto.email_hash(email)
    # Insert first: most signers are new, and a repeat (earlier or concurrent) is told apart by the conflict.
    # The values are read before any query would autoflush: flush the caller's pending changes (a revision
    # just published) so that the row takes their ids. Nothing pending: no statement.
    db.session.flush()
    existing = None
    while existing is None:
        signature = Signature(
            appeal=appeal,
            appeal_id=appeal.id,
            **signer,
            email_hash=key,
            email_encrypted=crypto.encrypt(crypto.normalize_email(email)),
            language=language,
            text_hash=appeal.content_hash,
            revision_id=appeal.published_revision_id,
            consent_at=utcnow(),
            # Signatory safety: the name is shown only as chosen; no IP, only a rotating keyed hash.
            visibility=Visibility(visibility or default_choice(appeal)),
            consent_version=current_app.config["CONSENT_VERSION"],
            client_hash=client_hash(),
            wants_updates=bool(wants_updates),
        )
        verification.on_sign(signature)
        stored = _insert_unless_signed(signature, unchanged_since)
        if stored is not None:
            _queue_confirmation(stored, email)
            return SignOutcome(stored, created=True)
        # A concurrent request signed with this address first: this one is a repeat like any later one, so
        # the mail slot below decides and exactly one repeat is mailed however the requests interleave.
        # Neither signed nor a repeat: the insert found the stored appeal other than given.
        existing = _find(appeal, key)
        if existing is None and unchanged_since is not None:
            raise AppealChanged(appeal.slug)
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


@functools.lru_cache(maxsize=32)
def _insert_statement(dialect: str, given: tuple[str, ...], filled: tuple[str, ...], guarded: bool):
    # The values go as parameters, not into the statement: one statement per shape, built once.
    insert = _DIALECT_INSERT[dialect](_SIGNATURES)
    if guarded:  # INSERT ... SELECT the values WHERE the appeal is stored open with the updated_at it was read with
        appeals, typed = Appeal.__table__, dialect == "postgresql"
        params = {key: bindparam(key, type_=_SIGNATURES.c[key].type) for key in given}
        as_read = exists().where(appeals.c.id == params["appeal_id"], appeals.c.status == AppealStatus.OPEN,
                                 appeals.c.updated_at == bindparam("unchanged_since", type_=appeals.c.updated_at.type))
        # PostgreSQL needs the parameters' types in a SELECT list; SQLite must not get them (CAST(… AS JSON) would
        # make a number of the text).
        values = select(*(cast(params[key], _SIGNATURES.c[key].type) if typed else params[key] for key in given))
        insert = insert.from_select(list(given), values.where(as_read))
    return insert.on_conflict_do_nothing(index_elements=["appeal_id", "email_hash"]).returning(
        *(_SIGNATURES.c[key] for key in filled))


def _insert_unless_signed(signature: Signature, unchanged_since: datetime | None = None) -> Signature | None:
    """Insert a new signature in the caller's transaction; return it, or None if its address signed meanwhile
    (or, given `unchanged_since`, its appeal is not stored open with that `updated_at`).

    No SAVEPOINT: on SQLite its RELEASE would commit the row before the request does, so a later failure
    would keep the signature and lose its mail. INSERT ... ON CONFLICT DO NOTHING waits for a concurrent
    insert of the same address and then skips, leaving the transaction usable on every database.
    """
    state = inspect(signature)
    given = {key: state.dict[key] for key in _SIGNATURE_COLUMNS if key in state.dict}
    # The database returns only what it filled in (the id, the column defaults); the object already holds the
    # rest. Reading back all of its columns into a second object was a sixth of a sign request's CPU.
    filled = tuple(key for key in _SIGNATURE_COLUMNS if key not in given)
    connection = db.session.connection()  # a Core statement: the session's ORM execution adds nothing to it
    guarded = unchanged_since is not None
    statement = _insert_statement(connection.dialect.name, tuple(given), filled, guarded)
    row = connection.execute(statement, {**given, "unchanged_since": unchanged_since} if guarded else given).first()
    if row is None:
        return None
    state.dict.update(zip(filled, row))  # as a query's load fills it; the next line commits it as loaded
    make_transient_to_detached(signature)  # stored as it is: now the session's, like a row it loaded
    # The id is new to the database; an object in the session under it is left from a rolled-back insert.
    stale = db.session.identity_map.get(db.session.identity_key(instance=signature))
    if stale is not None:
        db.session.expunge(stale)
    db.session.add(signature)
    return signature


def _find(appeal: Appeal, key: str) -> Signature | None:
    return db.session.scalar(
        select(Signature).where(Signature.appeal_id == appeal.id, Signature.email_hash == key)
    )


def confirm(token: str | Signature) -> tuple[Signature, bool]:
    """Confirm the signature behind a link (or the one its page already read); return it and whether this
    call changed it."""
    signature = token if isinstance(token, Signature) else signature_for_token(token)
    if signature.status is SignatureStatus.PENDING and not signature.appeal.is_open:
        raise SigningClosed(_l("Signing this appeal closed before this signature was confirmed."))
    changed = signature.confirm()
    verification.on_confirm(signature)
    if changed:
        public_pdf_changed(signature.appeal)  # a debounced job, never a render inside this request
    return signature, changed


# --- after signing -----------------------------------------------------------------------------------

def withdraw(token: str) -> Signature:
    """Withdraw the signature behind a link: it leaves every list and its address is deleted."""
    signature = signature_for_withdrawal(token)
    removed = forget_copies(signature)  # while the name and address are still there to look for
    signature.withdraw()  # keeps a tombstone for the counts, without name, affiliation or address
    audit.record("signature.withdrawn", signature.appeal, actor=None, signature=signature.id, pdfs_removed=removed)
    return signature


def resend_confirmation(appeal: Appeal, email: str) -> bool:
    """Send the confirmation link again if this address has a pending signature; tell nobody else."""
    signature = _find(appeal, crypto.email_hash(email))
    if signature is None or signature.status is not SignatureStatus.PENDING or not appeal.is_open:
        return False
    # The throttle also restarts the expiry clock of the unconfirmed signature (privacy.retention),
    # since a fresh link was just sent.
    if not claim_mail_slot(signature):
        return False  # someone pressing the button again and again must not flood the mailbox
    _queue_confirmation(signature, crypto.normalize_email(email))
    return True


def signers_to_mail(where, batch: int = REMIND_BATCH):
    """Yield (signature, address) for each signature matching `where` that still has an address, by keyset pages.

    A page at a time, so that mailing 100,000 signers never loads them all at once.
    """
    last_id = 0
    while True:
        page = list(db.session.scalars(select(Signature).where(where, Signature.id > last_id)
                                       .order_by(Signature.id).limit(batch)))
        if not page:
            return
        for signature in page:
            email = crypto.decrypt(signature.email_encrypted) if signature.email_encrypted else None
            if email:
                yield signature, email
        last_id = page[-1].id


def _remind_due(appeal_id: int, now):
    """Return the SQL condition of the appeal's pending signers due a reminder now."""
    cutoff = now - timedelta(days=current_app.config["REMIND_INTERVAL_DAYS"])
    return (Signature.appeal_id == appeal_id) & (Signature.status == SignatureStatus.PENDING) \
        & Signature.email_encrypted.is_not(None) & (Signature.created_at <= now - timedelta(hours=1)) \
        & or_(Signature.reminded_at.is_(None), Signature.reminded_at <= cutoff)


def remind_unconfirmed(appeal: Appeal, actor) -> int:
    """Enqueue reminders to every pending signer not reminded within REMIND_INTERVAL_DAYS; return how many.

    Batch jobs mail them after the caller's commit; a second press while they run enqueues nothing more.
    """
    if not appeal.is_open or jobs.pending("signing.remind", appeal.id):
        return 0
    due = db.session.scalar(select(func.count()).select_from(Signature).where(_remind_due(appeal.id, utcnow())))
    if due:
        jobs.enqueue("signing.remind", appeal.id, 0)
    audit.record("signatures.reminded", appeal, actor=actor, count=due)
    return due


@jobs.task("signing.remind")
def remind_batch(appeal_id: int, after_id: int) -> None:
    """Mail REMIND_BATCH due reminders after signature `after_id`, then enqueue the batch after."""
    appeal = db.session.get(Appeal, appeal_id)
    if appeal is None or not appeal.is_open:
        return
    now, batch = utcnow(), int(current_app.config["REMIND_BATCH"])
    # Each reminded signer leaves the condition in this commit: a batch run again mails nobody twice.
    done = 0
    for signature, email in islice(signers_to_mail(_remind_due(appeal_id, now) & (Signature.id > after_id), batch),
                                   batch):
        signature.note_mailed_again(now)
        _queue_reminder(signature, email)
        done, after_id = done + 1, signature.id
    if done == batch:
        jobs.enqueue("signing.remind", appeal_id, after_id)


def _outdated(appeal: Appeal):
    return (Signature.appeal_id == appeal.id, Signature.status == SignatureStatus.CONFIRMED,
            Signature.revision_id != appeal.published_revision_id)


def outdated_signatures(appeal: Appeal) -> list[Signature]:
    """Return confirmed signatures of a revision older than the published one."""
    return list(db.session.scalars(select(Signature).where(*_outdated(appeal))))


def outdated_total(appeal: Appeal) -> int:
    """Return how many `outdated_signatures` there are, in one count."""
    return db.session.scalar(select(func.count()).select_from(Signature).where(*_outdated(appeal))) or 0


def request_reconfirmation(appeal: Appeal, actor) -> int:
    """Mail every signatory of an earlier revision a link to sign the published one; return how many."""
    target = appeal.published_revision
    sent = 0
    for signature in outdated_signatures(appeal):
        email = crypto.decrypt(signature.email_encrypted) if signature.email_encrypted else None
        if email is None:
            continue
        _queue_reconfirmation(signature, email)
        signature.note_reconfirmation_requested()
        sent += 1
    audit.record("reconfirmation_requested", appeal, actor=actor, revision=target.number, count=sent)
    return sent


def reconfirm(token: str) -> Signature:
    """Move the signature behind a link to the published revision of its appeal."""
    signature = signature_for_reconfirmation(token)
    if not signature.appeal.is_open:
        raise TokenError(_l("Signing this appeal has closed."))
    signature.reconfirm(signature.appeal.published_revision)
    return signature


__all__ = ["sign", "confirm", "withdraw", "resend_confirmation", "remind_unconfirmed", "request_reconfirmation",
           "reconfirm", "signature_for_token", "SigningClosed", "AppealChanged", "SignatureStateError"]
