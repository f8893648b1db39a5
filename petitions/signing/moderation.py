"""Organizer decisions on a signature: approve, reject, vouch, merge; each refuses illegal moves."""
from __future__ import annotations

from petitions.extensions import utcnow

REASON_MAX_LENGTH = 500


class ModerationError(Exception):
    """A moderation step that the signature's state does not allow."""


class ModerationMixin:
    """State changes for the review queue; mixed into Signature to keep its file small."""

    def _ensure_present(self) -> None:
        from petitions.signing.models import SignatureStatus

        if self.status is SignatureStatus.WITHDRAWN:
            raise ModerationError("This signature was withdrawn by its signer.")

    def approve(self, user) -> None:
        """Mark the signature as checked and fine."""
        from petitions.signing.models import Review

        self._ensure_present()
        self.review, self.review_reason = Review.APPROVED, ""
        self.reviewed_by_id, self.reviewed_at = user.id, utcnow()

    def reject(self, user, reason: str) -> None:
        """Hide the signature from lists and the PDF, keeping it with the reason."""
        from petitions.signing.models import Review

        self._ensure_present()
        reason = " ".join((reason or "").split())
        if not reason:
            raise ModerationError("Give a reason for rejecting: other organizers will read it.")
        self.review, self.review_reason = Review.REJECTED, reason[:REASON_MAX_LENGTH]
        self.reviewed_by_id, self.reviewed_at = user.id, utcnow()

    def vouch(self, user, note: str = "") -> None:
        """Record that an organizer knows this person signed; an unconfirmed signature becomes confirmed."""
        from petitions.signing.models import Level, Review, SignatureStatus

        self._ensure_present()
        if self.review is Review.REJECTED:
            raise ModerationError("A rejected signature cannot be vouched for; approve it first.")
        if self.status is SignatureStatus.PENDING:
            self.status, self.confirmed_at = SignatureStatus.CONFIRMED, utcnow()
        if self.level is not Level.OFFICIAL:
            self.level = Level.VOUCHED
        self.vouched_by_id, self.vouched_at = user.id, utcnow()
        self.vouch_note = " ".join((note or "").split())[:REASON_MAX_LENGTH]

    def merge_into(self, primary) -> None:
        """Count this signature as the same person as `primary`; both records stay."""
        self._ensure_present()
        primary._ensure_present()
        if primary.id == self.id:
            raise ModerationError("A signature cannot be merged into itself.")
        if primary.appeal_id != self.appeal_id:
            raise ModerationError("Only signatures of the same appeal can be merged.")
        if self.merged_into_id is not None:
            raise ModerationError("This signature is already merged into another one.")
        if primary.merged_into_id is not None:
            raise ModerationError("Merge into the signature that the other one was merged into.")
        self.merged_into_id = primary.id

    def unmerge(self) -> None:
        """Count the signature on its own again."""
        if self.merged_into_id is None:
            raise ModerationError("This signature is not merged.")
        self.merged_into_id = None
