"""The outbox: every message, stored with the change that caused it, until a worker has handed it over."""
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from petitions.extensions import db, utcnow

QUEUED = "queued"
SENDING = "sending"  # claimed by a worker; back to queued after MAIL_CLAIM_TIMEOUT if that worker died
RETRYING = "retrying"
SENT = "sent"
FAILED = "failed"
WAITING = (QUEUED, RETRYING)


class OutboxMessage(db.Model):
    """One outgoing message: its bytes as the SMTP server will get them, and how far its delivery got."""

    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    appeal_id: Mapped[int | None] = mapped_column(ForeignKey("appeals.id", ondelete="SET NULL"), index=True)
    signature_id: Mapped[int | None] = mapped_column(ForeignKey("signatures.id", ondelete="SET NULL"), index=True)
    sender: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(Text)  # plain text, for logs and the organizer panel
    # Addresses and confirmation links are encrypted at rest and dropped once the server has the message.
    recipients_encrypted: Mapped[str | None] = mapped_column(Text)
    body_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(16), default=QUEUED, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    claim: Mapped[str | None] = mapped_column(String(32))
    claimed_at: Mapped[datetime | None] = mapped_column()
    sent_at: Mapped[datetime | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
