"""The registry of organizations whose proven e-mail domains and contacts can confirm an affiliation."""
import secrets
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from petitions.extensions import db, utcnow


class Organization(db.Model):
    """An organization signatories name as their affiliation; only its owner may change it."""

    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    aliases: Mapped[list] = mapped_column(JSON, default=list)
    contact_name: Mapped[str] = mapped_column(String(200), default="")
    contact_email: Mapped[str] = mapped_column(String(254), default="")  # an institution's address, not a signer's
    # None: installed by an administrator (CLI, demo) for every appeal; else the organizer who registered it.
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Every change stamps it: each process caches the matcher's keys of an entry until its stamp moves.
    updated_at: Mapped[datetime | None] = mapped_column(default=utcnow, onupdate=utcnow)
    contact_proven_at: Mapped[datetime | None]
    # One pending proof link at a time; using it or asking again makes older links worthless.
    contact_proof_nonce: Mapped[str | None] = mapped_column(String(32))

    domains: Mapped[list["OrganizationDomain"]] = relationship(back_populates="organization",
                                                               cascade="all, delete-orphan")
    created_by: Mapped["User | None"] = relationship()  # noqa: F821  (auth.models, resolved by name)

    @property
    def contact_proven(self) -> bool:
        return bool(self.contact_email) and self.contact_proven_at is not None

    def may_edit(self, user) -> bool:
        """Tell whether the user may change this entry: only the organizer who registered it."""
        return user is not None and self.created_by_id is not None and self.created_by_id == user.id

    def set_contact(self, name: str, email: str) -> None:
        """Change the contact; a new address confirms nothing until it is proven."""
        email = (email or "").strip().lower()
        if email != self.contact_email:
            self.contact_email, self.contact_proven_at, self.contact_proof_nonce = email, None, None
        self.contact_name = (name or "").strip()[:200]

    def new_contact_proof(self) -> str:
        """Start a proof of the contact address; an earlier link stops working. Return the nonce."""
        if not self.contact_email:
            raise ValueError("No contact address to prove.")
        self.contact_proof_nonce = secrets.token_hex(16)
        return self.contact_proof_nonce

    def prove_contact(self) -> None:
        """Record that the contact address answered the proof link."""
        if not self.contact_email:
            raise ValueError("No contact address to prove.")
        self.contact_proven_at, self.contact_proof_nonce = utcnow(), None


class OrganizationDomain(db.Model):
    """An e-mail domain one organization claims; it confirms affiliations only once proven."""

    __tablename__ = "organization_domains"
    # Another organizer's claim never blocks yours: the same domain may stand under several entries.
    __table_args__ = (UniqueConstraint("organization_id", "domain", name="uq_organization_domains_org_domain"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    domain: Mapped[str] = mapped_column(String(253), index=True)
    proven_at: Mapped[datetime | None]
    proof_nonce: Mapped[str | None] = mapped_column(String(32))

    organization: Mapped[Organization] = relationship(back_populates="domains")

    @property
    def proven(self) -> bool:
        return self.proven_at is not None

    def new_proof(self) -> str:
        """Start a proof of the domain; an earlier link stops working. Return the nonce."""
        self.proof_nonce = secrets.token_hex(16)
        return self.proof_nonce

    def prove(self) -> None:
        """Record that an address at the domain answered the proof link."""
        self.proven_at, self.proof_nonce = utcnow(), None
