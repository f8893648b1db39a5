"""Write actions and responses of the PDF feature that views call."""
import os

from flask import current_app, flash, redirect, send_file, url_for

from petitions.extensions import db
from petitions.pdf import jobs
from petitions.pdf.engine.logo import validate_logo
from petitions.pdf.models import PdfDocument, PdfSettings


def settings_of(appeal) -> PdfSettings | None:
    return db.session.get(PdfSettings, appeal.id)


def save_settings(appeal, form) -> PdfSettings:
    """Store the letterhead settings; a logo is checked before it is kept."""
    settings = settings_of(appeal) or PdfSettings(appeal_id=appeal.id)
    settings.coalition_name = (form.coalition_name.data or "").strip()
    settings.place = (form.place.data or "").strip()
    settings.page_size = form.page_size.data
    settings.columns = int(form.columns.data)
    settings.grouping = form.grouping.data
    upload = form.logo.data
    if form.remove_logo.data:
        settings.logo, settings.logo_mime = None, None
    elif upload is not None and getattr(upload, "filename", ""):
        settings.logo, settings.logo_mime = validate_logo(upload.read())
    db.session.add(settings)
    return settings


def send_document(record: PdfDocument):
    """Send a stored PDF with its version in the name and its hash as ETag."""
    response = send_file(jobs.file_path(record), mimetype="application/pdf", as_attachment=True,
                         download_name=record.filename, etag=record.sha256, conditional=True, max_age=0)
    response.headers["Cache-Control"] = "private, no-cache"
    return response


def download_current(appeal, audience: str = "addressees", variant: str = "standard", while_rendering=None):
    """Send the current PDF; render it now if the list is small, else start a job.

    `while_rendering()` answers while a job runs; by default the organizer goes to the job's page.
    """
    if while_rendering is None:
        def while_rendering():
            flash("The PDF is being generated; this page shows its progress.", "success")
            return redirect(url_for("pdfs.status", slug=appeal.slug), code=303)
    record = jobs.current_document(appeal, audience, variant)
    if record is None:
        from petitions.appeals.services import signature_counts

        confirmed = signature_counts([appeal.id])[appeal.id]["confirmed"]
        job = jobs.request_render(appeal, audience, variant)
        db.session.commit()
        if confirmed > int(current_app.config.get("PDF_SYNC_MAX", 3000)):
            jobs.dispatch(current_app._get_current_object(), job)
            return while_rendering()
        if job.status.value == "running":
            return while_rendering()
        job = jobs.run_job(job.id)
        if job.status.value != "done":
            from flask import render_template

            return render_template("public/message.html", title="PDF not generated", message=job.error), 503
        record = db.session.get(PdfDocument, job.document_id)
    if not os.path.exists(jobs.file_path(record)):
        return while_rendering()
    return send_document(record)
