"""One delivery of the letter to one addressee, and the replies it brought."""
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from petitions.appeals.models import IllegalTransition
from petitions.extensions import db, utcnow

METHODS = ("email", "post", "in_person")


class Delivery(db.Model):
    """The letter of one revision sent or handed to one addressee; at most one per addressee and revision."""

    __tablename__ = "deliveries"
    # A double click or a second tab must not send the letter twice: the database refuses the second row.
    __table_args__ = (UniqueConstraint("appeal_id", "addressee_index", "revision_number",
                                       name="uq_deliveries_addressee_revision"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    appeal_id: Mapped[int] = mapped_column(ForeignKey("appeals.id", ondelete="CASCADE"), index=True)
    addressee_index: Mapped[int] = mapped_column(Integer)  # position in the letter's addressee list
    addressee_name: Mapped[str] = mapped_column(String(200))
    revision_number: Mapped[int] = mapped_column(Integer)
    method: Mapped[str] = mapped_column(String(20))  # one of METHODS
    recipient: Mapped[str | None] = mapped_column(String(254))
    language: Mapped[str | None] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(300), default="")
    message_id: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(20))  # as recorded: "queued" when mailed (the log shows the outbox's status), "delivered" by hand
    attachment_bytes: Mapped[int] = mapped_column(Integer, default=0)
    delivered_on: Mapped[date]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    replies: Mapped[list["DeliveryReply"]] = relationship(back_populates="delivery", order_by="DeliveryReply.id",
                                                          cascade="all, delete-orphan")

    def __init__(self, **kwargs):
        if kwargs.get("method") not in METHODS:
            raise IllegalTransition(_l("Unknown delivery method %(method)r.", method=kwargs.get("method")))
        kwargs.setdefault("status", "queued" if kwargs["method"] == "email" else "delivered")
        super().__init__(**kwargs)

    def add_reply(self, received_on: date, note: str, by) -> "DeliveryReply":
        """Record an acknowledgement or reply to this delivery (not before it was delivered)."""
        if received_on < self.delivered_on:
            raise IllegalTransition(_l("A reply cannot arrive before the letter was delivered."))
        # Joined through the collection alone: setting `delivery=` as well queued a second append that the
        # collection's lazy load (an autoflush, before the reply is in the session) warned about and dropped.
        reply = DeliveryReply(appeal_id=self.appeal_id, received_on=received_on, note=note,
                              created_by_id=by.id if by is not None else None)
        self.replies.append(reply)
        return reply


class DeliveryReply(db.Model):
    """An acknowledgement or reply from an addressee, with an optional file kept in the instance folder."""

    __tablename__ = "delivery_replies"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("deliveries.id", ondelete="CASCADE"), index=True)
    appeal_id: Mapped[int] = mapped_column(ForeignKey("appeals.id", ondelete="CASCADE"), index=True)
    received_on: Mapped[date]
    note: Mapped[str] = mapped_column(Text, default="")
    filename: Mapped[str | None] = mapped_column(String(200))  # the name the organizer uploaded
    stored_name: Mapped[str | None] = mapped_column(String(64))  # random name under instance/delivery-replies/
    file_bytes: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    delivery: Mapped[Delivery] = relationship(back_populates="replies")
