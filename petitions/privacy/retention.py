"""Retention: erase what is no longer needed (`flask --app petitions purge`, run daily by a scheduler)."""
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import case, delete, event, func, or_, select, update
from sqlalchemy.engine import Engine

from petitions.appeals.models import Appeal, AppealStatus
from petitions.extensions import db, utcnow
from petitions.mail.models import FAILED, SENT, OutboxMessage
from petitions.signing.models import Signature, SignatureStatus
from petitions.signing.rules import lists_changed


@dataclass
class PurgeReport:
    """How many rows each rule touched."""

    unconfirmed_deleted: int = 0
    emails_erased: int = 0
    client_hashes_cleared: int = 0
    mails_cleared: int = 0

    def __str__(self) -> str:
        return (f"{self.unconfirmed_deleted} unconfirmed signatures deleted, "
                f"{self.emails_erased} e-mail addresses erased, {self.client_hashes_cleared} client hashes cleared, "
                f"{self.mails_cleared} finished mails cleared")


def purge(now: datetime | None = None) -> PurgeReport:
    """Apply every retention rule once; the caller commits."""
    now = now or utcnow()
    cfg = current_app.config
    report = PurgeReport()

    # Unconfirmed signatures expire: their link (or a reminder's) is long dead and nobody agreed to be listed.
    last_mail = func.coalesce(Signature.reminded_at, Signature.created_at)
    expire_before = now - timedelta(days=cfg["UNCONFIRMED_EXPIRE_DAYS"])
    stale = select(Signature.id).where(Signature.status == SignatureStatus.PENDING, last_mail < expire_before)
    # Merged duplicates may point at a row we delete; detach them first (SQLite may not enforce SET NULL).
    detached = db.session.scalars(select(Signature.appeal_id).where(Signature.merged_into_id.in_(stale))
                                  .distinct()).all()
    db.session.execute(update(Signature).where(Signature.merged_into_id.in_(stale)).values(merged_into_id=None)
                       .execution_options(synchronize_session=False))
    report.unconfirmed_deleted = db.session.execute(
        delete(Signature).where(Signature.id.in_(stale)).execution_options(synchronize_session=False)).rowcount
    lists_changed(detached)  # a detached duplicate counts on its own again; the deleted rows never counted

    # Addresses are needed to confirm and to reach signers while the appeal runs, not after it is finished.
    # The keyed hash stays: it lets a signer still find and erase their signature through self-service.
    finished_before = now - timedelta(days=cfg["EMAIL_RETENTION_DAYS"])
    finished = select(Appeal.id).where(or_(
        Appeal.delivered_at < finished_before,
        (Appeal.status.in_([AppealStatus.CLOSED, AppealStatus.DELIVERED, AppealStatus.ARCHIVED]))
        & (Appeal.closed_at < finished_before),
        (Appeal.status == AppealStatus.ARCHIVED) & (Appeal.archived_at < finished_before),
    ))
    report.emails_erased = db.session.execute(
        update(Signature).where(Signature.appeal_id.in_(finished), Signature.email_encrypted.is_not(None))
        .values(email_encrypted=None).execution_options(synchronize_session=False)).rowcount

    hashes_before = now - timedelta(days=cfg["CLIENT_HASH_RETENTION_DAYS"])
    report.client_hashes_cleared = db.session.execute(
        update(Signature).where(Signature.client_hash.is_not(None), Signature.created_at < hashes_before)
        .values(client_hash=None).execution_options(synchronize_session=False)).rowcount

    # A sent or failed mail keeps its row for the organizers' counts, not its recipient or text; a server's
    # reply may quote the address, so only its code stays.
    mails_before = now - timedelta(days=cfg["OUTBOX_RETENTION_DAYS"])
    report.mails_cleared = db.session.execute(
        update(OutboxMessage).where(OutboxMessage.status.in_([SENT, FAILED]), OutboxMessage.created_at < mails_before,
                                    or_(OutboxMessage.recipients_encrypted.is_not(None),
                                        OutboxMessage.body_encrypted.is_not(None),
                                        func.length(OutboxMessage.last_error) > 3))
        .values(recipients_encrypted=None, body_encrypted=None, last_error=_reply_code(OutboxMessage.last_error))
        .execution_options(synchronize_session=False)).rowcount
    return report


def _reply_code(column):
    """Return the SQL for the SMTP code an error starts with ("550"), or NULL for any other error."""
    code = func.substr(column, 1, 3)
    return case((func.substr(column, 1, 1).between("0", "9"), code), else_=None)


@event.listens_for(Engine, "connect")
def _sqlite_secure_delete(dbapi_connection, connection_record):
    """Make SQLite overwrite deleted rows, so erased data does not linger in the file's free pages."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA secure_delete = ON")
        cursor.close()
