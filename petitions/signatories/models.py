"""Candidate duplicate pairs found among an appeal's signatures, and what organizers decided."""
import enum
from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from petitions.appeals.models import enum_column
from petitions.extensions import db, utcnow


class PairState(enum.Enum):
    OPEN = "open"
    MERGED = "merged"
    DISMISSED = "dismissed"  # not the same person; a new scan never proposes the pair again


class DuplicatePair(db.Model):
    """Two signatures of one appeal that are probably the same person (first_id < second_id)."""

    __tablename__ = "duplicate_pairs"
    __table_args__ = (
        UniqueConstraint("first_id", "second_id", name="uq_duplicate_pairs_first_second"),
        Index("ix_duplicate_pairs_appeal_state", "appeal_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    appeal_id: Mapped[int] = mapped_column(ForeignKey("appeals.id", ondelete="CASCADE"))
    first_id: Mapped[int] = mapped_column(ForeignKey("signatures.id", ondelete="CASCADE"))
    second_id: Mapped[int] = mapped_column(ForeignKey("signatures.id", ondelete="CASCADE"), index=True)
    score: Mapped[float] = mapped_column(Float)
    state: Mapped[PairState] = enum_column(PairState, default=PairState.OPEN)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __init__(self, **kwargs):
        kwargs.setdefault("state", PairState.OPEN)
        super().__init__(**kwargs)

    def decide(self, state: "PairState", user) -> None:
        """Record a merge or a dismissal; a pair is decided once."""
        if self.state is not PairState.OPEN:
            raise ValueError(f"This pair was already {self.state.value}.")
        self.state, self.decided_by_id, self.decided_at = state, user.id, utcnow()
