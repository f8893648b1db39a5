"""What was announced to an appeal's signers: one row per appeal and event, so that no update goes out twice."""
from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from petitions.extensions import db, utcnow


class Announcement(db.Model):
    """One update ("delivered", "replied") sent to the opted-in signers of one appeal."""

    __tablename__ = "announcements"
    __table_args__ = (UniqueConstraint("appeal_id", "event", name="uq_announcements_appeal_event"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    appeal_id: Mapped[int] = mapped_column(ForeignKey("appeals.id", ondelete="CASCADE"), index=True)
    event: Mapped[str] = mapped_column(String(20))
    recipients: Mapped[int] = mapped_column(default=0)
    announced_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The last signature mailed: batches resume after it, so a batch that died is redone without duplicates.
    last_signature_id: Mapped[int] = mapped_column(default=0)
    finished_at: Mapped[datetime | None] = mapped_column()
