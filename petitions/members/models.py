"""Organizers' roles on an appeal and the invitations that grant them."""
import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from petitions.appeals.models import Appeal, IllegalTransition, enum_column
from petitions.auth.models import User
from petitions.extensions import db, utcnow


class Role(enum.Enum):
    OWNER = "owner"  # everything, including delete and roles
    EDITOR = "editor"  # text and translations
    REVIEWER = "reviewer"  # signatory moderation only

    @property
    def label(self) -> str:
        """Return the role's name for people, in the interface language."""
        return ROLE_LABELS[self]


ROLE_LABELS = {Role.OWNER: _l("owner"), Role.EDITOR: _l("editor"), Role.REVIEWER: _l("reviewer")}


class AppealMember(db.Model):
    """An organizer's role on one appeal."""

    __tablename__ = "appeal_members"
    __table_args__ = (UniqueConstraint("appeal_id", "user_id", name="uq_appeal_members_user"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    appeal_id: Mapped[int] = mapped_column(ForeignKey("appeals.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    role: Mapped[Role] = enum_column(Role)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    appeal: Mapped[Appeal] = relationship()
    user: Mapped[User] = relationship()


class AppealInvitation(db.Model):
    """An invitation by e-mail to join an appeal with a role."""

    __tablename__ = "appeal_invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    appeal_id: Mapped[int] = mapped_column(ForeignKey("appeals.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    role: Mapped[Role] = enum_column(Role)
    invited_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    accepted_at: Mapped[datetime | None]
    accepted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Set when an owner revokes it or a newer invitation to the same address replaces it.
    revoked_at: Mapped[datetime | None]

    appeal: Mapped[Appeal] = relationship()
    invited_by: Mapped[User] = relationship(foreign_keys=[invited_by_id])

    @property
    def is_pending(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None

    def accept(self, user: User) -> None:
        """Record that the invitee joined; refuse an invitation that is no longer pending."""
        if not self.is_pending:
            raise IllegalTransition(_l("This invitation was already accepted or revoked."))
        self.accepted_at, self.accepted_by_id = utcnow(), user.id

    def revoke(self) -> None:
        """Withdraw an invitation that was not accepted yet."""
        if self.accepted_at is not None:
            raise IllegalTransition(_l("This invitation was already accepted; change the member's role instead."))
        if self.revoked_at is not None:
            raise IllegalTransition(_l("This invitation was already revoked."))
        self.revoked_at = utcnow()
