"""Tell opted-in signers that their appeal was delivered or answered; let them stop with one click.

The request records the announcement and enqueues its first batch; each batch is a job of its own that mails
ANNOUNCE_BATCH signers through `queue_signer_mail` (language of the version read, withdrawal footer) after the
last one mailed, moves that mark in the same commit as the mails, and enqueues the next. A batch that died is
redone from the mark, so 100,000 signers never block a request and none gets a mail twice.
"""
from datetime import date, datetime
from itertools import islice

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from petitions import audit, jobs, links
from petitions.appeals.models import Appeal
from petitions.config import Defaults
from petitions.extensions import db, utcnow
from petitions.links import TokenError
from petitions.signing.models import Signature
from petitions.signing.operations import queue_signer_mail, signers_to_mail
from petitions.signing.rules import counting_clause
from petitions.updates.models import Announcement
from petitions.urls import signer_url

BATCH = Defaults.ANNOUNCE_BATCH  # signers per batch job, unless the deployment sets ANNOUNCE_BATCH
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
    """Record the update for `event`, once per appeal and event, and enqueue its mailing; return how many it reaches.

    The mails leave in batch jobs after the caller's commit; a rollback drops the announcement and its jobs.
    """
    EVENTS[event]  # an unknown event is refused here, not in a job
    announcement = _claim(appeal, event)
    if announcement is None:
        return 0
    count = subscriber_count(appeal)
    if count:
        plain = {key: value.isoformat() if isinstance(value, (date, datetime)) else value
                 for key, value in (detail or {}).items()}  # a job's arguments are JSON
        db.session.flush()
        jobs.enqueue("updates.announce", announcement.id, plain)
    else:
        announcement.finished_at = utcnow()
    audit.record(f"updates.{event}_announced", appeal, actor=actor, count=count)
    return count


@jobs.task("updates.announce")
def mail_batch(announcement_id: int, detail: dict) -> None:
    """Mail the next ANNOUNCE_BATCH subscribers after the last one mailed, then enqueue the batch after."""
    announcement = db.session.get(Announcement, announcement_id)
    if announcement is None or announcement.finished_at is not None:
        return
    template, subject = EVENTS[announcement.event]
    batch, start = int(current_app.config["ANNOUNCE_BATCH"]), announcement.last_signature_id
    where = (Signature.appeal_id == announcement.appeal_id) & _subscribed()
    sent, last = 0, start
    for signature, email in islice(signers_to_mail(where & (Signature.id > start), batch), batch):
        link = signer_url("updates.unsubscribe", signature.language, token=unsubscribe_token(signature))
        queue_signer_mail(signature, email, template, link, subject, detail=detail,
                          headers={"List-Unsubscribe": OneLine("List-Unsubscribe", f"<{link}>"),
                                   "List-Unsubscribe-Post": ONE_CLICK})
        sent, last = sent + 1, signature.id
    more = sent == batch and db.session.scalar(select(Signature.id).where(where, Signature.id > last).limit(1)) \
        is not None
    # The mark moves only from where this batch found it: a batch run twice at once commits once.
    moved = db.session.execute(update(Announcement).where(
        Announcement.id == announcement_id, Announcement.last_signature_id == start,
    ).values(last_signature_id=last, recipients=Announcement.recipients + sent,
             finished_at=None if more else utcnow()).execution_options(synchronize_session=False)).rowcount
    if moved != 1:
        db.session.rollback()
        return
    if more:
        jobs.enqueue("updates.announce", announcement_id, detail)


def unsubscribe(token: str) -> bool:
    """Stop the updates of the signature behind a link; return whether this call changed anything."""
    signature = signature_for_unsubscribe(token)
    if not signature.stop_updates():
        return False
    audit.record("updates.unsubscribed", signature.appeal, actor=None, signature=signature.id)
    return True


__all__ = ["EVENTS", "OneLine", "TokenError", "announce", "mail_batch", "signature_for_unsubscribe", "subscriber_count",
           "unsubscribe", "unsubscribe_token"]
