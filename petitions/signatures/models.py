"""Signatures and their confirmation state."""
import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..appeals.models import Appeal
from ..extensions import db, utcnow


class SignatureStatus(enum.Enum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    WITHDRAWN = "withdrawn"


class SignatureStateError(Exception):
    """A signature state change that is not allowed."""


class Signature(db.Model):
    """One person's signature under one appeal."""

    __tablename__ = "signatures"
    __table_args__ = (UniqueConstraint("appeal_id", "email_hash", name="uq_signatures_appeal_email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    appeal_id: Mapped[int] = mapped_column(ForeignKey("appeals.id", ondelete="CASCADE"), index=True)
    full_name: Mapped[str] = mapped_column(String(200))
    affiliation: Mapped[str] = mapped_column(String(300), default="")
    # Keyed hash for uniqueness and lookup; the address itself only encrypted (see crypto.py).
    email_hash: Mapped[str | None] = mapped_column(String(64))
    email_encrypted: Mapped[str | None] = mapped_column(Text)
    status: Mapped[SignatureStatus] = mapped_column(
        Enum(SignatureStatus, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e]),
        default=SignatureStatus.PENDING,
    )
    language: Mapped[str] = mapped_column(String(16), default="en")
    text_hash: Mapped[str] = mapped_column(String(64))
    consent_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    confirmed_at: Mapped[datetime | None]

    appeal: Mapped[Appeal] = relationship()

    def __init__(self, **kwargs):
        # Column defaults only apply at INSERT; state methods need the state before that.
        kwargs.setdefault("status", SignatureStatus.PENDING)
        super().__init__(**kwargs)

    @property
    def is_confirmed(self) -> bool:
        return self.status is SignatureStatus.CONFIRMED

    def confirm(self) -> bool:
        """Confirm the signature; return False if it already was (confirming twice is harmless)."""
        if self.status is SignatureStatus.CONFIRMED:
            return False
        if self.status is not SignatureStatus.PENDING:
            raise SignatureStateError("This signature was withdrawn and can no longer be confirmed.")
        self.status = SignatureStatus.CONFIRMED
        self.confirmed_at = utcnow()
        return True

    @property
    def display_line(self) -> str:
        """Return the "Name – Affiliation" line used in lists and the PDF."""
        return f"{self.full_name} – {self.affiliation}" if self.affiliation else self.full_name
