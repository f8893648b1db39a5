"""Language versions of an appeal's letter (interface catalogs live in petitions/i18n)."""
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from petitions.appeals.models import Appeal, AppealRevision, AppealStatus, IllegalTransition
from petitions.extensions import db, utcnow


class AppealTranslation(db.Model):
    """A language version of an appeal, bound to the revision of the original it translates."""

    __tablename__ = "appeal_translations"
    __table_args__ = (UniqueConstraint("appeal_id", "language", name="uq_appeal_translations_language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    appeal_id: Mapped[int] = mapped_column(ForeignKey("appeals.id", ondelete="CASCADE"), index=True)
    language: Mapped[str] = mapped_column(String(16))
    # title, subject, body, demands, closing, place, senders, addressees [{name, title, institution,
    # postal_address, salutation}] by position in the original's list (services.merge_parts)
    content: Mapped[dict] = mapped_column(JSON)
    source_revision_id: Mapped[int | None] = mapped_column(ForeignKey("appeal_revisions.id"))
    approved_at: Mapped[datetime | None]
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # Set when the text was last saved while signing was closed: its PDF and page say so.
    translated_after_close_at: Mapped[datetime | None]

    appeal: Mapped[Appeal] = relationship()
    source_revision: Mapped[AppealRevision | None] = relationship()

    @property
    def is_approved(self) -> bool:
        return self.approved_at is not None

    @property
    def translated_after_close(self) -> bool:
        return self.translated_after_close_at is not None

    @staticmethod
    def ensure_translatable(appeal: Appeal) -> None:
        """Refuse to change or publish a version once the letter was delivered: addressees hold what was sent."""
        if appeal.status in (AppealStatus.DELIVERED, AppealStatus.ARCHIVED):
            raise IllegalTransition(_l("The letter was delivered: its language versions stay as the addressees "
                                       "received them."))

    def follow(self, content: dict, revision: AppealRevision) -> None:
        """Replace the text, now following this revision of the original; it needs approval again.

        Allowed while the appeal is a draft, open or closed (signing stays closed); refused once delivered.
        """
        self.ensure_translatable(self.appeal)
        if revision.appeal is not self.appeal:
            raise IllegalTransition(_l("A translation follows a revision of its own appeal only."))
        self.content, self.source_revision = content, revision
        closed = self.appeal.status is AppealStatus.CLOSED
        self.translated_after_close_at = utcnow() if closed else None
        # Any change, or a change of the original underneath, needs a fresh look before the public sees it.
        self.approved_at, self.approved_by_id = None, None
        self.updated_at = utcnow()

    def approve(self, approver) -> None:
        """Put the translation on the public page (whether it is outdated is the service's question)."""
        self.ensure_translatable(self.appeal)
        if self.is_approved:
            raise IllegalTransition(_l("This translation is already approved."))
        self.approved_at, self.approved_by_id = utcnow(), approver.id

    def withdraw_approval(self) -> None:
        """Take the translation off the public page."""
        if not self.is_approved:
            raise IllegalTransition(_l("This translation is not approved."))
        self.approved_at, self.approved_by_id = None, None
