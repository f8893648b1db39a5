"""Tell opted-in signers that their appeal was delivered or answered; let them stop with one click.

Mail goes through `queue_signer_mail` (language of the version read, withdrawal footer) and leaves after the
view's commit; the signers are read in keyset pages so that a large appeal never loads at once.
"""
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from petitions import audit, links
from petitions.appeals.models import Appeal
from petitions.extensions import db, utcnow
from petitions.links import TokenError
from petitions.signing.models import Signature
from petitions.signing.operations import queue_signer_mail, signers_to_mail
from petitions.signing.rules import counting_clause
from petitions.updates.models import Announcement
from petitions.urls import external_url

BATCH = 500
# Each event: its mail template and its subject, given the appeal's title in the signer's language.
EVENTS = {
    "delivered": ("mail/update_delivered.txt",
                  lambda title: _("The appeal you signed was delivered: %(title)s", title=title)),
    "replied": ("mail/update_replied.txt",
                lambda title: _("A reply was received to the appeal you signed: %(title)s", title=title)),
}
ONE_CLICK = "List-Unsubscribe=One-Click"  # RFC 8058: the body a mail client posts, and the header that offers it


class OneLine(str):
    """A header value written on one line, never folded: RFC 2369 forbids inserting whitespace into its <URL>.

    The email package folds a long value into RFC 2047 encoded words, which no mail client reads as a URL;
    it calls `fold` instead on a value that has a `name`.
    """

    def __new__(cls, name: str, value: str):
        header = super().__new__(cls, value)
        header.name = name
        return header

    def fold(self, *, policy) -> str:
        return f"{self.name}: {self}{policy.linesep}"


def unsubscribe_token(signature: Signature) -> str:
    """Return the token of the unsubscribe link, bound to this signature and its address."""
    return links.signature_token(links.UNSUBSCRIBE, signature)


def signature_for_unsubscribe(token: str) -> Signature:
    """Return the signature an unsubscribe link points to, or raise TokenError."""
    return links.signature_of_token(links.UNSUBSCRIBE, token, _l(
        "This link does not match any signature. It may have been withdrawn."))[0]


def _subscribed():
    """Return the SQL condition of who hears updates: opted in, and counted (confirmed, standing, not withdrawn)."""
    return Signature.wants_updates.is_(True) & counting_clause() & Signature.email_encrypted.is_not(None)


def subscriber_count(appeal: Appeal) -> int:
    """Return how many signers would hear an update now: organizers see this number, never who."""
    return db.session.scalar(select(func.count()).select_from(Signature)
                             .where(Signature.appeal_id == appeal.id, _subscribed()))


def _claim(appeal: Appeal, event: str) -> Announcement | None:
    """Record the event as announced in the current transaction; return None if it already was.

    One INSERT that skips an existing row: no SAVEPOINT, which SQLite's driver would commit on release, ahead
    of the mails that go only with the commit; a concurrent request waits for this one and inserts nothing.
    """
    insert = postgresql_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    claimed = db.session.scalar(insert(Announcement).values(appeal_id=appeal.id, event=event, recipients=0,
                                                            announced_at=utcnow())
                                .on_conflict_do_nothing(index_elements=["appeal_id", "event"])
                                .returning(Announcement.id))
    return None if claimed is None else db.session.get(Announcement, claimed)


def announce(appeal: Appeal, event: str, actor, *, detail: dict | None = None) -> int:
    """Queue the update for `event` to every subscribed signer, once per appeal and event; return how many."""
    template, subject = EVENTS[event]
    announcement = _claim(appeal, event)
    if announcement is None:
        return 0
    sent = 0
    for signature, email in signers_to_mail((Signature.appeal_id == appeal.id) & _subscribed(), BATCH):
        link = external_url("updates.unsubscribe", token=unsubscribe_token(signature))
        queue_signer_mail(signature, email, template, link, subject, detail=detail or {},
                          headers={"List-Unsubscribe": OneLine("List-Unsubscribe", f"<{link}>"),
                                   "List-Unsubscribe-Post": ONE_CLICK})
        sent += 1
    announcement.recipients = sent
    audit.record(f"updates.{event}_announced", appeal, actor=actor, count=sent)
    return sent


def unsubscribe(token: str) -> bool:
    """Stop the updates of the signature behind a link; return whether this call changed anything."""
    signature = signature_for_unsubscribe(token)
    if not signature.stop_updates():
        return False
    audit.record("updates.unsubscribed", signature.appeal, actor=None, signature=signature.id)
    return True


__all__ = ["EVENTS", "OneLine", "TokenError", "announce", "signature_for_unsubscribe", "subscriber_count",
           "unsubscribe", "unsubscribe_token"]
