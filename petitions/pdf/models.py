"""Stored PDFs, their render jobs and each appeal's letterhead settings."""
import enum
from datetime import datetime

from sqlalchemy import Enum, Float, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from petitions.extensions import db, utcnow


class JobStatus(enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class PdfSettings(db.Model):
    """How an appeal's PDF looks: letterhead, page size, columns, grouping."""

    __tablename__ = "pdf_settings"

    appeal_id: Mapped[int] = mapped_column(ForeignKey("appeals.id", ondelete="CASCADE"), primary_key=True)
    coalition_name: Mapped[str] = mapped_column(String(200), default="")
    place: Mapped[str] = mapped_column(String(120), default="")
    logo: Mapped[bytes | None] = mapped_column(LargeBinary)
    logo_mime: Mapped[str | None] = mapped_column(String(40))
    page_size: Mapped[str] = mapped_column(String(10), default="A4")
    columns: Mapped[int] = mapped_column(Integer, default=2)
    grouping: Mapped[str] = mapped_column(String(10), default="none")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class PdfDocument(db.Model):
    """One finished, signed PDF file; the newest of an appeal, audience and variant is current."""

    __tablename__ = "pdf_documents"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # random: it is printed in the QR link
    appeal_id: Mapped[int] = mapped_column(ForeignKey("appeals.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    audience: Mapped[str] = mapped_column(String(20), default="addressees")
    variant: Mapped[str] = mapped_column(String(20), default="standard")
    filename: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(Integer)
    pages: Mapped[int] = mapped_column(Integer)
    signatory_count: Mapped[int] = mapped_column(Integer)
    source_hash: Mapped[str] = mapped_column(String(64))
    # The text, settings and list version it was made from (jobs.freshness_key): current while it matches.
    freshness_key: Mapped[str | None] = mapped_column(String(64))
    generated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The file is deleted but the row stays, so /verify still recognises copies handed out earlier.
    removed_at: Mapped[datetime | None]
    removed_reason: Mapped[str | None] = mapped_column(String(20))  # one of REMOVED_REASONS

    @property
    def removed(self) -> bool:
        return self.removed_at is not None

    def remove(self, reason: str) -> None:
        """Mark the stored file as deleted for a reason; a removed version never comes back."""
        if reason not in REMOVED_REASONS:
            raise ValueError(f"Unknown reason {reason!r}.")
        if self.removed_at is None:
            self.removed_at, self.removed_reason = utcnow(), reason
        elif reason == REMOVED_ERASED:
            self.removed_reason = reason  # the stronger reason wins: it is what the status page explains


REMOVED_PRUNED = "pruned"  # older than the last PDF_KEEP_VERSIONS of its kind
REMOVED_ERASED = "erased"  # it listed a signer who erased their data or withdrew
REMOVED_CHANGED = "changed"  # it shows a signature as it no longer may be shown (corrected, hidden, rejected)
REMOVED_REASONS = (REMOVED_PRUNED, REMOVED_ERASED, REMOVED_CHANGED)


class PdfJob(db.Model):
    """A request to render an appeal's PDF, with its progress or the reason it failed."""

    __tablename__ = "pdf_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    appeal_id: Mapped[int] = mapped_column(ForeignKey("appeals.id", ondelete="CASCADE"), index=True)
    audience: Mapped[str] = mapped_column(String(20), default="addressees")
    variant: Mapped[str] = mapped_column(String(20), default="standard")
    status: Mapped[JobStatus] = mapped_column(
        Enum(JobStatus, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e]),
        default=JobStatus.QUEUED,
    )
    stage: Mapped[str] = mapped_column(String(40), default="")
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    eta_seconds: Mapped[float | None] = mapped_column(Float)
    error: Mapped[str | None] = mapped_column(Text)
    document_id: Mapped[str | None] = mapped_column(ForeignKey("pdf_documents.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    not_before: Mapped[datetime | None]  # a debounced job waits until then, gathering later changes
    started_at: Mapped[datetime | None]
    heartbeat_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]

    def __init__(self, **kwargs):
        # Column defaults only apply at INSERT; the runner reads the status before that.
        kwargs.setdefault("status", JobStatus.QUEUED)
        kwargs.setdefault("progress", 0.0)
        super().__init__(**kwargs)

    @property
    def active(self) -> bool:
        return self.status in (JobStatus.QUEUED, JobStatus.RUNNING)
