"""Stored PDFs, their render jobs and each appeal's letterhead settings."""
import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import Enum, Float, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from petitions.extensions import db, utcnow


class JobStatus(enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


# Why a render failed, as a job row stores it (`error`): a code, then ":" and a technical detail for some. The row
# holds no sentence in one language: `error_message` says it in the reader's, whoever reads it later.
JOB_ERRORS = {
    "running": _l("Another render of this PDF is under way; try again when it is done."),
    "not_rendered": _l("The PDF was not rendered."),
    "no_appeal": _l("The appeal no longer exists."),
    "superseded": _l("The list changed while this PDF was being made (a signer erased, withdrew or hid their "
                     "signature, or one was rejected), so it was not kept. Generate it again."),
    "stopped": _l("The render stopped without finishing (its process was killed or restarted). The previous PDF "
                  "is unchanged; start it again."),
    "process": _l("A rendering process stopped unexpectedly (killed or out of memory). The previous PDF is "
                  "unchanged."),
    "signing_key": _l("The PDF could not be signed (%(detail)s). The previous PDF is unchanged."),
    "not_written": _l("The PDF could not be written (%(detail)s). The previous PDF is unchanged."),
    "failed": _l("The PDF could not be rendered (%(detail)s). The previous PDF is unchanged."),
}


def error_message(stored: str | None) -> str:
    """Return a job's stored error in the reader's language (text stored before the codes: as it is)."""
    if not stored:
        return ""
    code, _sep, detail = stored.partition(":")
    message = JOB_ERRORS.get(code)
    if message is None:
        return stored
    return str(message) % {"detail": detail.strip()}


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
    def error_text(self) -> str:
        """Why it failed, in the reader's language."""
        return error_message(self.error)

    @property
    def active(self) -> bool:
        return self.status in (JobStatus.QUEUED, JobStatus.RUNNING)
