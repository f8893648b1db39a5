"""The periodic tasks `flask jobs tick` enqueues (JOBS_EVERY): deadlines, retention, PDF pruning, reaping."""
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete

from petitions.appeals.services import close_due
from petitions.extensions import db, utcnow
from petitions.jobs import queue
from petitions.jobs.models import DONE, FAILED, Job
from petitions.pdf import jobs as pdf_jobs
from petitions.privacy import retention


@queue.task("appeals.close_due")
def close_due_appeals() -> None:
    """Close every open appeal whose deadline has passed."""
    close_due()


@queue.task("privacy.purge")
def purge() -> None:
    """Apply the retention rules once."""
    retention.purge()


@queue.task("pdf.prune")
def prune_pdfs() -> None:
    """Delete the files of older PDF versions (PDF_KEEP_VERSIONS of each kind stay) and list chunks left unused."""
    pdf_jobs.prune()
    pdf_jobs.prune_chunks()


@queue.task("jobs.reap")
def reap() -> None:
    """Mark renders whose runner died as failed and delete finished jobs older than JOBS_KEEP_DAYS."""
    pdf_jobs.reap_stale_jobs()
    before = utcnow() - timedelta(days=float(current_app.config["JOBS_KEEP_DAYS"]))
    db.session.execute(delete(Job).where(Job.status.in_([DONE, FAILED]), Job.finished_at < before))
