"""Render jobs: request a PDF, run it with progress, store the signed file atomically, find the current one.

A job is handed to the job queue (PDF_EXECUTOR = "thread", the default: `petitions.jobs`, in the web process
or on RQ workers), run in the request ("inline"), or left for `flask pdf work` or `flask jobs work` ("worker").
Its row is the only shared state, so any of them can pick it up, and a job whose runner died is marked failed
by `reap_stale_jobs`.
"""
from __future__ import annotations

import hashlib
import logging
import os
import secrets
import time
from concurrent.futures.process import BrokenProcessPool
from datetime import timedelta, timezone

from flask import Flask, current_app
from sqlalchemy import event, func, inspect, or_, select, update
from sqlalchemy.orm import Session

from petitions import jobs as background
from petitions.appeals.models import Appeal
from petitions.extensions import db, utcnow
from petitions.urls import external_url
from petitions.pdf.engine import archival, assemble, chunks, pades as signing
from petitions.pdf.engine.document import LetterDocument
from petitions.pdf.engine.files import write_atomically
from petitions.pdf import listing
from petitions.pdf.mapping import catalog_for, document_from_appeal
from petitions.signing.models import Review, Signature, SignatureStatus, Visibility
from petitions.pdf.models import (REMOVED_CHANGED, REMOVED_ERASED, REMOVED_PRUNED, JobStatus, PdfDocument, PdfJob,
                                  error_message)

log = logging.getLogger(__name__)
AUDIENCES = ("addressees", "public")
# "standard" and "archival" show the original; "lang:xx" one language version; "combined" all of them.
VARIANTS = ("standard", "archival", "combined")


def is_variant(variant: str) -> bool:
    """Tell whether a variant name is one the renderer knows."""
    return variant in VARIANTS or (variant.startswith("lang:") and 2 <= len(variant) - 5 <= 12)


def document_for(appeal, audience: str, variant: str, listed: bool = True) -> LetterDocument:
    """Describe the document a variant prints (without its signatories unless `listed`)."""
    language = variant[5:] if variant.startswith("lang:") else None
    return document_from_appeal(appeal, audience, language=language, combined=variant == "combined", listed=listed)


def freshness_key(appeal, audience: str, variant: str) -> str:
    """Return what a PDF of this kind is made from: its text and settings, and the list's version.

    The list version changes with every change to who is listed or how a line reads (signing/rules.py), so
    telling whether a stored PDF is current never reads the list itself.
    """
    frame = document_for(appeal, audience, variant, listed=False).source_hash()
    return hashlib.sha256(f"{appeal.list_version}\x1f{frame}".encode()).hexdigest()
# Share of the total time each stage takes, for the progress bar and the time left.
STAGES = {"queued": 0.0, "list": 0.05, "letter": 0.80, "merge": 0.85, "sign": 0.95, "done": 1.0}


class RenderFailed(RuntimeError):
    """A render did not produce a file; the message is shown to the organizer.

    `error` is what a job row stores: a code of JOB_ERRORS (with ":detail"), or a message already translated.
    """

    def __init__(self, error: str = "not_rendered"):
        super().__init__(error)
        self.error = str(error)

    def __str__(self) -> str:
        return error_message(self.error)


class RenderRunning(RenderFailed):
    """Another runner is rendering this PDF right now."""


def _dir(name: str, setting: str) -> str:
    path = current_app.config[setting] or os.path.join(current_app.instance_path, name)
    return path


def cache_dir() -> str:
    return _dir("pdf-cache", "PDF_CACHE_DIR")


def files_dir() -> str:
    return _dir("pdf-files", "PDF_FILES_DIR")


def keys_dir() -> str:
    return _dir("pdf-keys", "PDF_KEYS_DIR")


def ensure_signing_key() -> None:
    """Create the deployment's self-signed signing key on first need."""
    signing.generate_self_signed(keys_dir(), current_app.config["PDF_SIGNER_NAME"])


def request_render(appeal, audience: str = "addressees", variant: str = "standard") -> PdfJob:
    """Queue a render of the appeal's PDF, or return the one already queued or running."""
    if audience not in AUDIENCES or not is_variant(variant):
        raise ValueError("Unknown audience or variant.")
    reap_stale_jobs()
    active = db.session.scalar(select(PdfJob).where(
        PdfJob.appeal_id == appeal.id, PdfJob.audience == audience, PdfJob.variant == variant,
        PdfJob.status.in_([JobStatus.QUEUED, JobStatus.RUNNING])))
    if active is not None:
        return active
    job = PdfJob(appeal_id=appeal.id, audience=audience, variant=variant, stage="queued")
    db.session.add(job)
    _note_public_pdf(appeal, audience, variant)
    db.session.flush()
    return job


def render_now(appeal, audience: str = "addressees", variant: str = "standard") -> PdfDocument:
    """Return the current stored PDF of this kind, rendering it here first if needed (RenderFailed: why not)."""
    record = current_document(appeal, audience, variant)
    if record is None:
        job = request_render(appeal, audience, variant)
        db.session.commit()
        record = run_here(job)
    return record


def run_here(job: PdfJob) -> PdfDocument:
    """Run a committed job in this process and return what it stored (RenderRunning, RenderFailed: why not)."""
    job = run_job(job.id)
    if job.status is JobStatus.RUNNING:
        raise RenderRunning("running")
    if job.status is not JobStatus.DONE:
        raise RenderFailed(job.error or "not_rendered")
    return db.session.get(PdfDocument, job.document_id)


def variant_for(language: str | None = None, combined: bool = False, archival: bool = False) -> str:
    """Name the variant that prints one language version, all of them combined, the PDF/A copy or the original."""
    if combined:
        return "combined"
    if language is not None:
        return f"lang:{language}"
    return "archival" if archival else "standard"


def dispatch(app: Flask, job: PdfJob) -> None:
    """Start the job as configured; call after the job row is committed."""
    mode = app.config["PDF_EXECUTOR"]
    if mode == "inline":
        run_job(job.id)
    elif mode == "thread":
        background.enqueue("pdf.render", job.id)
        db.session.commit()  # the render row is committed already; this commits only the job queue's row


@background.task("pdf.render")
def _render_task(job_id: int) -> None:
    """Run one render job (the job queue's task for `dispatch`)."""
    run_job(job_id)


@background.task("pdf.render_scheduled")
def _render_scheduled_task(appeal_id: int, audience: str, variant: str) -> None:
    """Run the queued render of this kind once its debounce has passed (the task `schedule_render` enqueues)."""
    job_id = db.session.scalar(select(PdfJob.id).where(
        PdfJob.appeal_id == appeal_id, PdfJob.audience == audience, PdfJob.variant == variant,
        PdfJob.status == JobStatus.QUEUED, or_(PdfJob.not_before.is_(None), PdfJob.not_before <= utcnow())))
    if job_id is not None:
        run_job(job_id)


def _claim(job_id: int) -> bool:
    # Only one runner may take a queued job: the status check and the change are one statement.
    now = utcnow()
    result = db.session.execute(update(PdfJob).where(PdfJob.id == job_id, PdfJob.status == JobStatus.QUEUED)
                                .values(status=JobStatus.RUNNING, started_at=now, heartbeat_at=now, stage="list"))
    db.session.commit()
    return result.rowcount == 1


def run_job(job_id: int) -> PdfJob | None:
    """Run a queued job to the end; a failure marks it failed with the reason and keeps the old file."""
    if not _claim(job_id):
        return db.session.get(PdfJob, job_id)
    return run_claimed(job_id)


def run_claimed(job_id: int) -> PdfJob | None:
    """Run a job this runner has claimed (it is running); see run_job."""
    job = db.session.get(PdfJob, job_id)
    started = time.monotonic()
    last_commit = [0.0]

    def progress(stage: str, fraction: float) -> None:
        stages = list(STAGES)
        low = STAGES[stage]
        high = STAGES[stages[stages.index(stage) + 1]]
        overall = low + (high - low) * max(0.0, min(1.0, fraction))
        now = time.monotonic()
        if now - last_commit[0] < 0.5 and fraction < 1.0:
            return
        last_commit[0] = now
        job.stage, job.progress, job.heartbeat_at = stage, round(overall * 100, 1), utcnow()
        elapsed = now - started
        job.eta_seconds = round(elapsed / overall - elapsed, 1) if overall > 0.02 else None
        db.session.commit()

    try:
        appeal = db.session.get(Appeal, job.appeal_id)
        if appeal is None:
            raise RenderFailed("no_appeal")
        document = _render(appeal, job.audience, job.variant, progress)
        if db.session.scalar(select(PdfJob.status).where(PdfJob.id == job_id)) is not JobStatus.RUNNING:
            return _discard(job_id, document)
        job = db.session.get(PdfJob, job_id)
        job.status, job.stage, job.progress, job.eta_seconds = JobStatus.DONE, "done", 100.0, 0.0
        job.document_id, job.finished_at = document.id, utcnow()
        db.session.commit()
    except Exception as exc:  # whatever broke, the organizer sees why and can retry
        log.exception("PDF job %s failed", job_id)
        db.session.rollback()
        job = db.session.get(PdfJob, job_id)
        job.status, job.finished_at = JobStatus.FAILED, utcnow()
        job.error = _reason(exc)
        db.session.commit()
        return job
    try:
        prune(appeal, kinds=[(job.audience, job.variant)])
        db.session.commit()
    except Exception:  # the new file is stored; old ones wait for the next render or `flask pdf prune`
        log.exception("pruning after PDF job %s failed", job_id)
        db.session.rollback()
    return db.session.get(PdfJob, job_id)


def _discard(job_id: int, document: PdfDocument) -> PdfJob:
    """Withdraw what a job made from a list that changed under it (forget_listings stopped the job)."""
    job = db.session.get(PdfJob, job_id)
    remove_documents([document], REMOVED_CHANGED)
    if job.started_at is not None:  # chunks it typeset may show the signer as they were
        chunks.forget_since(cache_dir(), job.started_at.replace(tzinfo=timezone.utc).timestamp())
    if (job.audience, job.variant) == ("public", "standard"):
        schedule_render(db.session.get(Appeal, job.appeal_id), "public", "standard")
    db.session.commit()
    return db.session.get(PdfJob, job_id)


SUPERSEDED = "superseded"


def _reason(exc: Exception) -> str:
    """Return what the job row stores about a failure (a code of JOB_ERRORS, translated when shown)."""
    if isinstance(exc, BrokenProcessPool):
        return "process"
    if isinstance(exc, RenderFailed):
        return exc.error
    if isinstance(exc, signing.SigningKeyError):
        return f"signing_key:{exc}"
    if isinstance(exc, OSError):
        return f"not_written:{exc.strerror or exc}"
    return f"failed:{type(exc).__name__}: {exc}"


def _render(appeal, audience: str, variant: str, progress) -> PdfDocument:
    key = freshness_key(appeal, audience, variant)  # before the list is read: a change meanwhile makes it stale
    doc = document_for(appeal, audience, variant)
    document_id = secrets.token_urlsafe(12)
    verify_url = public_verify_url(document_id)
    csv_data = archival.signatories_csv(doc) if variant == "archival" else None
    result = assemble.build(doc, cache_dir(), catalog=catalog_for(doc.language), document_id=document_id,
                            verify_url=verify_url, archival=variant == "archival", csv_data=csv_data,
                            workers=int(current_app.config["PDF_WORKERS"]), progress=progress)
    progress("sign", 0.0)
    ensure_signing_key()
    data = signing.sign_pdf(result.pdf, signing.load_signer(keys_dir()))
    version = (db.session.scalar(select(func.max(PdfDocument.version)).where(
        PdfDocument.appeal_id == appeal.id)) or 0) + 1
    suffix = "" if audience == "addressees" else "-public"
    suffix += {"standard": "", "archival": "-pdfa", "combined": "-all-languages"}.get(variant, "-" + variant[5:])
    filename = f"{appeal.slug}-v{version}{suffix}.pdf"
    folder = os.path.join(files_dir(), appeal.slug)
    os.makedirs(folder, exist_ok=True)
    write_atomically(os.path.join(folder, filename), data, durable=True)
    record = PdfDocument(id=document_id, appeal_id=appeal.id, version=version, audience=audience, variant=variant,
                         filename=filename, sha256=hashlib.sha256(data).hexdigest(), size=len(data),
                         pages=result.pages, signatory_count=doc.signatory_count, source_hash=doc.source_hash(),
                         freshness_key=key, generated_at=doc.generated_at.replace(tzinfo=None))
    db.session.add(record)
    db.session.flush()
    progress("sign", 1.0)
    return record


def public_verify_url(document_id: str) -> str:
    """Return the verification link printed in the PDF, always on PUBLIC_URL (never the organizer's host)."""
    return external_url("verify.document", document_id=document_id)


def file_path(record: PdfDocument) -> str:
    appeal = db.session.get(Appeal, record.appeal_id)
    return os.path.join(files_dir(), appeal.slug, record.filename)


def latest_document(appeal, audience: str = "addressees", variant: str = "standard") -> PdfDocument | None:
    """Return the newest stored PDF of this kind whose file was not removed, current or not."""
    return db.session.scalar(select(PdfDocument).where(
        PdfDocument.appeal_id == appeal.id, PdfDocument.audience == audience, PdfDocument.variant == variant,
        PdfDocument.removed_at.is_(None),
    ).order_by(PdfDocument.version.desc()).limit(1))


def stored_document(appeal, audience: str = "public", variant: str = "standard") -> PdfDocument | None:
    """Return the newest stored PDF of this kind whose file is there, without checking that it is current."""
    latest = latest_document(appeal, audience, variant)
    return latest if latest is not None and os.path.exists(file_path(latest)) else None


def _delete_file(record: PdfDocument) -> None:
    try:
        os.remove(file_path(record))
    except FileNotFoundError:
        pass


def remove_documents(records: list[PdfDocument], reason: str) -> int:
    """Delete the files of these stored PDFs and mark them removed (their rows stay for /verify)."""
    for record in records:
        _delete_file(record)
        record.remove(reason)
    return len(records)


def prune(appeal=None, keep: int | None = None, kinds: list[tuple[str, str]] | None = None) -> int:
    """Remove the files of all but the newest `keep` (PDF_KEEP_VERSIONS) PDFs of each kind; return how many.

    The newest version made before the appeal was delivered is kept too: it is what the addressees hold.
    """
    keep = int(current_app.config["PDF_KEEP_VERSIONS"]) if keep is None else keep
    if keep < 1:
        raise ValueError("Keep at least one version of each PDF.")
    query = select(PdfDocument).where(PdfDocument.removed_at.is_(None))
    if appeal is not None:
        query = query.where(PdfDocument.appeal_id == appeal.id)
    groups: dict[tuple[int, str, str], list[PdfDocument]] = {}
    for record in db.session.scalars(query.order_by(PdfDocument.version.desc())):
        if kinds is None or (record.audience, record.variant) in kinds:
            groups.setdefault((record.appeal_id, record.audience, record.variant), []).append(record)
    removed = 0
    for (appeal_id, _audience, _variant), records in groups.items():
        delivered_at = db.session.get(Appeal, appeal_id).delivered_at
        delivered = next((r for r in records if delivered_at and r.generated_at <= delivered_at), None)
        removed += remove_documents([r for r in records[keep:] if r is not delivered], REMOVED_PRUNED)
    return removed


def prune_chunks() -> int:
    """Delete cached list chunks that no render used for PDF_CHUNK_KEEP_DAYS; return how many."""
    return chunks.prune_unused(cache_dir(), float(current_app.config["PDF_CHUNK_KEEP_DAYS"]) * 86400)


def forget_signature(signature) -> list[PdfDocument]:
    """Remove every stored PDF and cached list chunk that may show this signature; return the PDFs removed."""
    if signature.confirmed_at is None and signature.status.value == "pending":
        return []  # never confirmed, so never listed
    return forget_listings(signature.appeal_id, signature.confirmed_at, REMOVED_ERASED)


def forget_listings(appeal_id: int, since, reason: str, drop_chunks: bool = True) -> list[PdfDocument]:
    """Remove the appeal's stored PDFs (and cached chunks) made at or after `since` (None: all of them).

    A PDF or chunk made before a signature was confirmed cannot list it; everything made since may.
    A fresh public PDF is scheduled when the one the public page serves is gone.
    """
    query = select(PdfDocument).where(PdfDocument.appeal_id == appeal_id)
    if since is not None:
        query = query.where(PdfDocument.generated_at >= since - timedelta(seconds=1))
    # Removed ones too: a file left behind by a failed deletion is deleted now.
    records = list(db.session.scalars(query))
    remove_documents(records, reason)
    # A render under way read the list before this change: it must not keep what it makes (run_claimed).
    db.session.execute(update(PdfJob).where(PdfJob.appeal_id == appeal_id, PdfJob.status == JobStatus.RUNNING)
                       .values(status=JobStatus.FAILED, finished_at=utcnow(), error=SUPERSEDED)
                       .execution_options(synchronize_session=False))
    if drop_chunks:
        chunks.forget_since(cache_dir(), None if since is None else since.replace(tzinfo=timezone.utc).timestamp())
    listing.forget(appeal_id)  # this process's copy of the list (other processes' are read whole next time)
    if any(r.audience == "public" and r.variant == "standard" for r in records):
        schedule_render(db.session.get(Appeal, appeal_id), "public", "standard")
    return records


# A change after which a stored copy shows a signature as it may no longer be shown (True: also its text).
_RETRACTING = {"visibility": True, "full_name": True, "affiliation": True, "country": True, "status": True,
               "review": False, "merged_into_id": False}


def _retracted(signature) -> bool | None:
    """Tell whether a pending change hides or rewrites a listed signature: None no, False listing, True text."""
    if signature.confirmed_at is None and signature.status is SignatureStatus.PENDING:
        return None
    state, found = inspect(signature), None
    for name, text in _RETRACTING.items():
        history = state.attrs[name].history
        if not history.has_changes():
            continue  # (an old value never loaded counts as a change: it may have been anything)
        new = history.added[0] if history.added else None
        if name == "visibility" and new is Visibility.PUBLIC:
            continue  # more visible: the stored copies show less than allowed, not more
        if (name == "status" and new is not SignatureStatus.WITHDRAWN) or (name == "review" and new is not Review.REJECTED) \
                or (name == "merged_into_id" and new is None):
            continue
        found = found or text
    return found


@event.listens_for(Session, "before_flush")
def _withdraw_outdated_copies(session: Session, flush_context, instances) -> None:
    # However a signature is hidden or corrected (self-service, moderation, withdrawal, erasure), no stored
    # PDF keeps showing it: the public page serves stored copies without checking that they are current.
    since: dict[tuple[int, bool], object] = {}
    changed = [(s, _retracted(s)) for s in session.dirty if isinstance(s, Signature)]
    changed += [(s, True) for s in session.deleted if isinstance(s, Signature)
                if s.confirmed_at is not None or s.status.value != "pending"]
    for signature, text in changed:
        if text is None:
            continue
        key, when = (signature.appeal_id, text), signature.confirmed_at
        if key not in since:
            since[key] = when
        elif since[key] is not None:
            since[key] = None if when is None else min(since[key], when)
    if not since:
        return
    with session.no_autoflush:
        for (appeal_id, text), when in since.items():
            forget_listings(appeal_id, when, REMOVED_CHANGED, drop_chunks=text)


def public_pdf_in_use(appeal) -> bool:
    """Tell whether the appeal's public PDF was ever made or asked for by its organizers."""
    return bool(appeal.public_pdf_wanted)


def _note_public_pdf(appeal, audience: str, variant: str) -> None:
    if audience == "public" and variant == "standard" and not appeal.public_pdf_wanted:
        appeal.public_pdf_wanted = True


def public_pdf_changed(appeal) -> PdfJob | None:
    """Schedule a fresh public PDF after a change to the list, if the appeal's public PDF is in use."""
    if not public_pdf_in_use(appeal):
        return None  # the first one is made from the organizers' PDF page
    return schedule_render(appeal, "public", "standard")


def schedule_render(appeal, audience: str = "public", variant: str = "standard") -> PdfJob:
    """Queue a debounced render: changes within PDF_RENDER_DEBOUNCE_SECONDS share one job, run after commit."""
    delay = float(current_app.config["PDF_RENDER_DEBOUNCE_SECONDS"])
    queued = db.session.scalar(select(PdfJob).where(
        PdfJob.appeal_id == appeal.id, PdfJob.audience == audience, PdfJob.variant == variant,
        PdfJob.status == JobStatus.QUEUED))
    if queued is not None:
        return queued  # it has not started: it will show this change too
    job = PdfJob(appeal_id=appeal.id, audience=audience, variant=variant, stage="queued",
                 not_before=utcnow() + timedelta(seconds=delay))
    db.session.add(job)
    _note_public_pdf(appeal, audience, variant)
    # In the same transaction (this may run during a flush: see _withdraw_outdated_copies), so the job queue
    # starts it after the commit. "worker": `flask pdf work` or the sweep takes it once not_before has passed;
    # "inline" never renders a scheduled job inside a request: a worker or the organizers' status page does.
    if current_app.config["PDF_EXECUTOR"] == "thread":
        background.enqueue("pdf.render_scheduled", appeal.id, audience, variant, delay=delay)
    return job


def current_document(appeal, audience: str = "addressees", variant: str = "standard") -> PdfDocument | None:
    """Return the newest PDF if it still shows today's text and signatories, else None (the list is not read)."""
    latest = latest_document(appeal, audience, variant)
    if latest is None or not os.path.exists(file_path(latest)):
        return None
    return latest if latest.freshness_key == freshness_key(appeal, audience, variant) else None


def active_job(appeal, audience: str, variant: str) -> PdfJob | None:
    """Return the queued or running job of this kind, if any."""
    return db.session.scalar(select(PdfJob).where(
        PdfJob.appeal_id == appeal.id, PdfJob.audience == audience, PdfJob.variant == variant,
        PdfJob.status.in_([JobStatus.QUEUED, JobStatus.RUNNING])).limit(1))


def latest_job(appeal) -> PdfJob | None:
    return db.session.scalar(select(PdfJob).where(PdfJob.appeal_id == appeal.id)
                             .order_by(PdfJob.id.desc()).limit(1))


def reap_stale_jobs() -> int:
    """Mark running jobs whose runner stopped reporting as failed, so they can be retried."""
    limit = utcnow() - timedelta(seconds=float(current_app.config["PDF_JOB_STALE_SECONDS"]))
    result = db.session.execute(update(PdfJob).where(
        PdfJob.status == JobStatus.RUNNING, PdfJob.heartbeat_at < limit,
    ).values(status=JobStatus.FAILED, finished_at=utcnow(),
             error="stopped"))
    return result.rowcount


def _queued_renders_due(app: Flask) -> bool:
    """Tell the job sweep whether a render waits that no job of the queue will start (worker mode, or lost)."""
    if app.config["PDF_EXECUTOR"] == "inline":
        return False  # the request that queued it runs it
    waited = 0.0 if app.config["PDF_EXECUTOR"] == "worker" else float(app.config["JOBS_REPUSH_SECONDS"])
    limit = utcnow() - timedelta(seconds=waited)
    return db.session.scalar(select(func.count()).select_from(PdfJob).where(
        PdfJob.status == JobStatus.QUEUED, PdfJob.created_at <= limit,
        or_(PdfJob.not_before.is_(None), PdfJob.not_before <= limit))) > 0


@background.task("pdf.work", due=_queued_renders_due)
def _work_task() -> None:
    """Run the queued renders that are due (the sweep's task for PDF_EXECUTOR = "worker")."""
    work(once=True)


def work(once: bool = False, poll_seconds: float = 2.0) -> int:
    """Run queued jobs one after another; return how many ran."""
    ran = 0
    while True:
        reap_stale_jobs()
        db.session.commit()
        job_id = db.session.scalar(select(PdfJob.id).where(
            PdfJob.status == JobStatus.QUEUED, or_(PdfJob.not_before.is_(None), PdfJob.not_before <= utcnow()))
            .order_by(PdfJob.id).limit(1))
        if job_id is not None:
            run_job(job_id)
            ran += 1
            continue
        if once:
            return ran
        time.sleep(poll_seconds)
