"""Signatures: confirmation, verification level, visibility and review state, with every move between states."""
import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, Text, UniqueConstraint, event, inspect
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from petitions.appeals.models import Appeal, AppealRevision, enum_column
from petitions.extensions import db, utcnow


class SignatureStatus(enum.Enum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    WITHDRAWN = "withdrawn"

    @property
    def label(self) -> str:
        """Return the state's name for people, in the interface language."""
        return LABELS[self]


class Level(enum.Enum):
    """How far a signature is verified, weakest first."""

    UNCONFIRMED = "unconfirmed"
    EMAIL = "email"  # e-mail link confirmed
    DOMAIN = "domain"  # affiliation confirmed by the organization's e-mail domain
    VOUCHED = "vouched"  # an organizer vouched for the person
    OFFICIAL = "official"  # an organization signs officially, its authorized contact confirmed

    @property
    def label(self) -> str:
        """Return the level's name for people, in the interface language."""
        return LABELS[self]


class Visibility(enum.Enum):
    PUBLIC = "public"  # name and affiliation everywhere
    ADDRESSEES = "addressees"  # only in the PDF delivered to addressees
    ANONYMOUS = "anonymous"  # counted; "Name withheld" or only counted

    @property
    def label(self) -> str:
        """Return the setting's name for people, in the interface language."""
        return LABELS[self]


class SignerKind(enum.Enum):
    PERSON = "person"  # a person signs for themself
    ORGANIZATION = "organization"  # a person signs on behalf of an organization


class Review(enum.Enum):
    UNREVIEWED = "unreviewed"
    APPROVED = "approved"
    REJECTED = "rejected"  # hidden from lists and PDFs, kept with a reason

    @property
    def label(self) -> str:
        """Return the decision's name for people, in the interface language."""
        return LABELS[self]


# The words shown for each stored code (badges, filters, the signer's own page); the codes never change.
LABELS = {
    SignatureStatus.PENDING: _l("waiting for confirmation"), SignatureStatus.CONFIRMED: _l("confirmed"),
    SignatureStatus.WITHDRAWN: _l("withdrawn"),
    Level.UNCONFIRMED: _l("unconfirmed"), Level.EMAIL: _l("e-mail confirmed"), Level.DOMAIN: _l("affiliation confirmed"),
    Level.VOUCHED: _l("vouched"), Level.OFFICIAL: _l("official"),
    Visibility.PUBLIC: _l("everyone"), Visibility.ADDRESSEES: _l("only the addressees"),
    Visibility.ANONYMOUS: _l("nobody (counted only)"),
    Review.UNREVIEWED: _l("not reviewed"), Review.APPROVED: _l("approved"), Review.REJECTED: _l("rejected"),
}


class SignatureStateError(Exception):
    """A signature state change that is not allowed."""


class ModerationError(Exception):
    """A moderation step that the signature's state does not allow."""


REASON_MAX_LENGTH = 500  # of an organizer's reason for rejecting, or note when vouching


# What names the signer: a change to any of them drops the levels earned for the old identity.
IDENTITY_FIELDS = ("full_name", "affiliation", "kind", "organization_name", "signer_role")


class Signature(db.Model):
    """One person's signature under one appeal."""

    __tablename__ = "signatures"
    __table_args__ = (
        UniqueConstraint("appeal_id", "email_hash", name="uq_signatures_appeal_email"),
        Index("ix_signatures_appeal_status_level", "appeal_id", "status", "level"),
        # The review queue's "rejected" filter and merges look these up among 100,000 signatures.
        Index("ix_signatures_appeal_review", "appeal_id", "review", "status", "level"),
        Index("ix_signatures_merged_into_id", "merged_into_id"),
        # The public lists read a page at a time in confirmation order (signing/rules.py::listed_page).
        Index("ix_signatures_appeal_confirmed", "appeal_id", "confirmed_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    appeal_id: Mapped[int] = mapped_column(ForeignKey("appeals.id", ondelete="CASCADE"), index=True)
    full_name: Mapped[str] = mapped_column(String(200))
    affiliation: Mapped[str] = mapped_column(String(300), default="")
    country: Mapped[str] = mapped_column(String(80), default="")
    # Keyed hash for uniqueness and lookup; the address itself only encrypted (see crypto.py).
    email_hash: Mapped[str | None] = mapped_column(String(64))
    email_encrypted: Mapped[str | None] = mapped_column(Text)
    status: Mapped[SignatureStatus] = enum_column(SignatureStatus, default=SignatureStatus.PENDING)
    level: Mapped[Level] = enum_column(Level, default=Level.UNCONFIRMED)
    visibility: Mapped[Visibility] = enum_column(Visibility, default=Visibility.PUBLIC)
    review: Mapped[Review] = enum_column(Review, default=Review.UNREVIEWED)
    review_reason: Mapped[str] = mapped_column(String(500), default="")
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None]
    flags: Mapped[list] = mapped_column(JSON, default=list)  # codes from names.flags_for_name
    name_key: Mapped[str] = mapped_column(String(200), default="", index=True)  # transliteration key for dedupe

    language: Mapped[str] = mapped_column(String(16), default="en")  # language version the signer read
    revision_id: Mapped[int | None] = mapped_column(ForeignKey("appeal_revisions.id"), index=True)
    text_hash: Mapped[str] = mapped_column(String(64))
    consent_version: Mapped[str] = mapped_column(String(32), default="")
    consent_at: Mapped[datetime]
    source: Mapped[str] = mapped_column(String(20), default="web")  # web | import

    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id", ondelete="SET NULL"))
    official: Mapped[bool] = mapped_column(Boolean, default=False)
    vouched_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    vouched_at: Mapped[datetime | None]
    vouch_note: Mapped[str] = mapped_column(String(500), default="")
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("signatures.id", ondelete="SET NULL"))
    client_hash: Mapped[str | None] = mapped_column(String(64))  # keyed, rotating hash of the address; never the IP

    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    confirmed_at: Mapped[datetime | None]
    reminded_at: Mapped[datetime | None]
    reconfirm_requested_at: Mapped[datetime | None]
    withdrawn_at: Mapped[datetime | None]
    # How an anonymous signature appears, fixed when the signer chose anonymity (signing/rules.py).
    anonymous_display: Mapped[str | None] = mapped_column(String(20))
    # Who signs: a person, or a person (full_name, signer_role) on behalf of an organization.
    kind: Mapped[SignerKind] = enum_column(SignerKind, default=SignerKind.PERSON)
    organization_name: Mapped[str] = mapped_column(String(300), default="")
    signer_role: Mapped[str] = mapped_column(String(200), default="")
    # Opted in at signing to hear when the appeal is delivered or answered (petitions/updates); never shown.
    wants_updates: Mapped[bool] = mapped_column(Boolean, default=False)

    appeal: Mapped[Appeal] = relationship()
    revision: Mapped[AppealRevision | None] = relationship()

    def __init__(self, **kwargs):
        # Column defaults only apply at INSERT; state methods need the state before that.
        for key, default in (("status", SignatureStatus.PENDING), ("level", Level.UNCONFIRMED),
                             ("visibility", Visibility.PUBLIC), ("review", Review.UNREVIEWED),
                             ("affiliation", ""), ("flags", []), ("kind", SignerKind.PERSON),
                             ("organization_name", ""), ("signer_role", ""), ("wants_updates", False)):
            kwargs.setdefault(key, default)
        super().__init__(**kwargs)

    @property
    def is_confirmed(self) -> bool:
        return self.status is SignatureStatus.CONFIRMED

    @property
    def for_organization(self) -> bool:
        return self.kind is SignerKind.ORGANIZATION

    @property
    def claimed_affiliation(self) -> str:
        """Return the body the signer names: the organization signed for, else the affiliation."""
        return self.organization_name if self.for_organization else (self.affiliation or "")

    def confirm(self) -> bool:
        """Confirm the signature; return False if it already was (confirming twice is harmless)."""
        if self.status is SignatureStatus.CONFIRMED:
            return False
        if self.status is not SignatureStatus.PENDING:
            raise SignatureStateError(_l("This signature was withdrawn and can no longer be confirmed."))
        self.status = SignatureStatus.CONFIRMED
        self.confirmed_at = utcnow()
        if self.level is Level.UNCONFIRMED:
            self.level = Level.EMAIL
        return True

    def withdraw(self) -> None:
        """Take the signature back: it leaves every list and keeps no e-mail address."""
        if self.status is SignatureStatus.WITHDRAWN:
            return
        self.status = SignatureStatus.WITHDRAWN
        self.withdrawn_at = utcnow()
        self.email_encrypted = None
        self.email_hash = None  # even the keyed hash would let us recognise the address again
        self.scrub_identity()
        self.wants_updates = False

    def stop_updates(self) -> bool:
        """Stop the updates this signer opted in to; return whether anything changed."""
        if not self.wants_updates:
            return False
        self.wants_updates = False
        return True

    def scrub_identity(self) -> None:
        """Blank everything that names the person; the row stays only as a tombstone for counts."""
        self.full_name, self.affiliation, self.country, self.name_key = "", "", "", ""
        self.organization_name, self.signer_role = "", ""
        self.flags, self.organization_id, self.client_hash = [], None, None
        # Organizers' free text about the person may name them too.
        self.review_reason, self.vouch_note = "", ""

    def correct_identity(self, full_name: str, affiliation: str, *, kind: SignerKind | None = None,
                         organization_name: str | None = None, signer_role: str | None = None) -> list[str]:
        """Change who signs; return the fields changed (what was confirmed about the old identity falls)."""
        wanted = {"full_name": full_name, "affiliation": affiliation, "kind": kind,
                  "organization_name": organization_name, "signer_role": signer_role}
        wanted = {key: value for key, value in wanted.items() if value is not None}
        if wanted.get("kind", self.kind) is SignerKind.ORGANIZATION and not wanted.get(
                "organization_name", self.organization_name).strip():
            raise SignatureStateError(_l("Enter the name of the organization you sign for."))
        changed = [key for key, value in wanted.items() if getattr(self, key) != value]
        if changed:
            for key in changed:
                setattr(self, key, wanted[key])
            self.forget_earned_level()
        return changed

    def forget_earned_level(self) -> None:
        """Fall back to what the e-mail link proved: a domain, contact or vouch confirmed the old identity."""
        if self.level in (Level.DOMAIN, Level.OFFICIAL, Level.VOUCHED):
            self.level = Level.EMAIL if self.email_hash is not None else Level.UNCONFIRMED
        self.organization_id, self.official = None, False
        self.vouched_by_id, self.vouched_at, self.vouch_note = None, None, ""

    def correct_listing(self, country: str, visibility: Visibility) -> list[str]:
        """Change the country and who may see the name; return the fields changed."""
        if self.status is SignatureStatus.WITHDRAWN:
            raise SignatureStateError(_l("A withdrawn signature has nothing left to correct."))
        wanted = {"country": country, "visibility": visibility}
        changed = [key for key, value in wanted.items() if getattr(self, key) != value]
        for key in changed:
            setattr(self, key, wanted[key])
        return changed

    def take_proven_level(self, level: Level) -> None:
        """Set the level that the address and the registry prove now (raised on confirmation, dropped with a proof)."""
        if level in (Level.DOMAIN, Level.OFFICIAL) and self.status is not SignatureStatus.CONFIRMED:
            raise SignatureStateError(_l("Only a confirmed signature is verified by a domain or a contact."))
        self.level = level

    def link_organization(self, organization_id: int) -> None:
        """Tie the signature to the registry entry its affiliation names; a level waits for the proof."""
        if self.status is SignatureStatus.WITHDRAWN:
            raise SignatureStateError(_l("A withdrawn signature names no organization."))
        self.organization_id = organization_id

    def note_mailed_again(self, when: datetime) -> None:
        """Record that a link was mailed again: it throttles re-sends and restarts the expiry of a pending one."""
        if self.status is not SignatureStatus.PENDING:
            raise SignatureStateError(_l("Only an unconfirmed signature is reminded."))
        self.reminded_at = when

    def note_reconfirmation_requested(self) -> None:
        """Record that the signer was asked to sign the amended text."""
        if self.status is not SignatureStatus.CONFIRMED:
            raise SignatureStateError(_l("Only a confirmed signature is asked to re-confirm."))
        self.reconfirm_requested_at = utcnow()

    def reconfirm(self, revision: AppealRevision) -> None:
        """Move the signature to a (newer) revision of its appeal's text."""
        if self.status is not SignatureStatus.CONFIRMED:
            raise SignatureStateError(_l("This link does not match any current signature."))
        if revision.appeal_id != self.appeal_id:
            raise SignatureStateError(_l("A signature moves only to a revision of its own appeal."))
        self.revision_id, self.text_hash = revision.id, revision.content_hash

    # --- moderation: organizer decisions, each refusing what the state does not allow ---------------

    def _ensure_present(self) -> None:
        if self.status is SignatureStatus.WITHDRAWN:
            raise ModerationError(_l("This signature was withdrawn by its signer."))

    def approve(self, user) -> None:
        """Mark the signature as checked and fine."""
        self._ensure_present()
        self.review, self.review_reason = Review.APPROVED, ""
        self.reviewed_by_id, self.reviewed_at = user.id, utcnow()

    def reject(self, user, reason: str) -> None:
        """Hide the signature from lists and the PDF, keeping it with the reason."""
        self._ensure_present()
        reason = " ".join((reason or "").split())
        if not reason:
            raise ModerationError(_l("Give a reason for rejecting: other organizers will read it."))
        self.review, self.review_reason = Review.REJECTED, reason[:REASON_MAX_LENGTH]
        self.reviewed_by_id, self.reviewed_at = user.id, utcnow()

    def vouch(self, user, note: str = "") -> None:
        """Record that an organizer knows this person signed; an unconfirmed signature becomes confirmed."""
        self._ensure_present()
        if self.review is Review.REJECTED:
            raise ModerationError(_l("A rejected signature cannot be vouched for; approve it first."))
        if self.status is SignatureStatus.PENDING:
            self.status, self.confirmed_at = SignatureStatus.CONFIRMED, utcnow()
        if self.level is not Level.OFFICIAL:
            self.level = Level.VOUCHED
        self.vouched_by_id, self.vouched_at = user.id, utcnow()
        self.vouch_note = " ".join((note or "").split())[:REASON_MAX_LENGTH]

    def merge_into(self, primary: "Signature") -> None:
        """Count this signature as the same person as `primary`; both records stay."""
        self._ensure_present()
        primary._ensure_present()
        if primary.id == self.id:
            raise ModerationError(_l("A signature cannot be merged into itself."))
        if primary.appeal_id != self.appeal_id:
            raise ModerationError(_l("Only signatures of the same appeal can be merged."))
        if self.merged_into_id is not None:
            raise ModerationError(_l("This signature is already merged into another one."))
        if primary.merged_into_id is not None:
            raise ModerationError(_l("Merge into the signature that the other one was merged into."))
        self.merged_into_id = primary.id
        # Only the kept record is counted, so only it hears updates: the person asked if either record did.
        primary.wants_updates = primary.wants_updates or self.wants_updates

    def follow_merge(self, primary: "Signature") -> None:
        """Point this merged record at the signature its primary was just merged into (merges stay one deep)."""
        if self.merged_into_id is None or primary.merged_into_id is not None or primary.appeal_id != self.appeal_id:
            raise ModerationError(_l("Only a merged record follows its primary into another signature of the appeal."))
        self.merged_into_id = primary.id

    def unmerge(self) -> None:
        """Count the signature on its own again."""
        if self.merged_into_id is None:
            raise ModerationError(_l("This signature is not merged."))
        self.merged_into_id = None

    def identity_changed(self) -> bool:
        """Tell whether name or affiliation changed since the signature was loaded."""
        state = inspect(self)
        return any(state.attrs[key].history.has_changes() for key in IDENTITY_FIELDS)


@event.listens_for(Session, "before_flush")
def _identity_changes_drop_levels(session, flush_context, instances) -> None:
    # Whatever path writes a stored signature's name or affiliation, no level earned for the old one survives.
    for obj in session.dirty:
        if isinstance(obj, Signature) and not inspect(obj).pending and obj.identity_changed():
            obj.forget_earned_level()
