"""PDF pages: the organizers' status, generate, letterhead, versions and CSV export; the public PDF download."""
import os

from flask import (Blueprint, Response, abort, current_app, flash, jsonify, redirect, render_template,
                   send_file, url_for)
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select

from petitions.appeals.models import Appeal
from petitions.appeals.services import signature_counts
from petitions.appeals.views_public import public_appeal_or_404
from petitions.extensions import db
from petitions.i18n import native_name
from petitions.members.access import appeal_for
from petitions.pdf import jobs
from petitions.pdf.engine.archival import signatories_csv
from petitions.pdf.forms import RenderForm, SettingsForm
from petitions.pdf.letterhead import save_settings, settings_of
from petitions.pdf.mapping import document_from_appeal
from petitions.pdf.models import PdfDocument
from petitions.privacy import accesslog
from petitions.translations.services import published_languages

bp = Blueprint("pdfs", __name__, url_prefix="/organizer/appeals/<slug>/pdf")
public = Blueprint("public_pdf", __name__)
GENERATING = _l("The PDF is being generated; this page shows its progress.")


@bp.before_request
@login_required
def _require_login():
    pass


def _own(slug: str, action: str = "pdf") -> Appeal:
    return appeal_for(slug, action)


@bp.get("/status")
def status(slug: str):
    """Show the stored PDFs, the running job's progress and the letterhead settings."""
    appeal = _own(slug)
    jobs.reap_stale_jobs()
    db.session.commit()
    job = jobs.latest_job(appeal)
    documents = list(db.session.scalars(select(PdfDocument).where(PdfDocument.appeal_id == appeal.id)
                                        .order_by(PdfDocument.version.desc()).limit(20)))
    # One freshness check per kind of PDF, not per stored file: each check reads the whole list.
    current = {}
    for kind in {(d.audience, d.variant) for d in documents}:
        record = jobs.current_document(appeal, *kind)
        if record is not None:
            current[kind] = record
    settings = settings_of(appeal)
    form = SettingsForm(obj=settings, formdata=None)
    form.columns.data = str(getattr(settings, "columns", 2) or 2)
    return render_template("pdf/status.html", appeal=appeal, job=job, documents=documents, current=current,
                           render_form=RenderForm(), settings_form=form, settings=settings,
                           languages=[(code, native_name(code)) for code in published_languages(appeal)])


@bp.get("/progress.json")
def progress(slug: str):
    """Report the latest job's progress for the status page."""
    job = jobs.latest_job(_own(slug))
    if job is None:
        return jsonify(status=None)
    return jsonify(status=job.status.value, stage=job.stage, progress=job.progress, eta_seconds=job.eta_seconds,
                   error=job.error_text or None, document_id=job.document_id)


@bp.post("/render")
def render(slug: str):
    """Queue a new render of the PDF."""
    appeal = _own(slug)  # first: whoever may not see the appeal learns nothing, whatever they sent
    form = RenderForm()
    if form.validate_on_submit():
        job = jobs.request_render(appeal, form.audience.data, form.variant.data)
        db.session.commit()
        jobs.dispatch(current_app._get_current_object(), job)  # a committed job row: the runner can claim it
        return _to_status(slug, GENERATING)
    return _to_status(slug, _("Choose who the copy is for and its format."), "error")


def _to_status(slug: str, message: str, category: str = "success"):
    flash(str(message), category)  # a lazy message, translated now
    return redirect(url_for("pdfs.status", slug=slug), code=303)


@bp.post("/settings")
def settings(slug: str):
    """Save the letterhead: coalition, place, paper, columns, order and logo (checked by its content)."""
    appeal = _own(slug, "edit")
    form = SettingsForm()
    if form.validate_on_submit():
        save_settings(appeal, form)
        db.session.commit()
        return _to_status(slug, _("Letterhead saved. Generate the PDF again to use it."))
    flash(form.logo.errors[0] if form.logo.errors else _("Some fields need attention."), "error")
    return render_template("pdf/status.html", appeal=appeal, job=jobs.latest_job(appeal), documents=[],
                           current={}, render_form=RenderForm(), settings_form=form,
                           settings=settings_of(appeal)), 422


@bp.get("/files/<filename>")
def file(slug: str, filename: str):
    """Download a stored version; the version is in the name, the file's hash is the ETag."""
    appeal = _own(slug)
    record = db.session.scalar(select(PdfDocument).where(PdfDocument.appeal_id == appeal.id,
                                                         PdfDocument.filename == filename))
    if record is None or not os.path.exists(jobs.file_path(record)):
        abort(404)
    return send_document(record)


@bp.get("/signatories.csv")
def export_csv(slug: str):
    """Export the listed signatories as CSV (the same bytes the PDF/A attachment holds)."""
    appeal = _own(slug, "export")
    data = signatories_csv(document_from_appeal(appeal, "addressees"))
    accesslog.exported(appeal, "signatory list CSV", actor=current_user)
    db.session.commit()
    return Response(data, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{appeal.slug}-signatories.csv"',
        "Cache-Control": "no-store"})


@bp.get("/version/<lang>")
def language_version(slug: str, lang: str):
    """Download the signed PDF of one published language version (the letter in that language)."""
    return _download_variant(slug, language=lang)


@bp.get("/combined")
def combined(slug: str):
    """Download the signed PDF with the original first and every published translation as an annex."""
    return _download_variant(slug, combined=True)


def _download_variant(slug: str, language: str | None = None, combined: bool = False):
    appeal = _own(slug)
    if language is not None and language not in published_languages(appeal):
        abort(404)
    # Stored, versioned and registered for /verify like the main PDF (its QR code points there).
    response = download_current(appeal, "addressees", "combined" if combined else f"lang:{language}")
    accesslog.exported(appeal, "addressee PDF", actor=current_user, version=language or "combined")
    db.session.commit()
    return response


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
            return _to_status(appeal.slug, GENERATING)
    record = jobs.current_document(appeal, audience, variant)
    if record is None:
        confirmed = signature_counts([appeal.id])[appeal.id]["confirmed"]
        job = jobs.request_render(appeal, audience, variant)
        db.session.commit()
        if confirmed > int(current_app.config["PDF_SYNC_MAX"]):
            jobs.dispatch(current_app._get_current_object(), job)
            return while_rendering()
        try:
            record = jobs.run_here(job)
        except jobs.RenderRunning:
            return while_rendering()
        except jobs.RenderFailed as exc:
            return render_template("public/message.html", title=_("PDF not generated"), message=str(exc)), 503
    if not os.path.exists(jobs.file_path(record)):
        return while_rendering()
    return send_document(record)


@public.get("/a/<slug>/public.pdf")
def download(slug: str):
    """Download the public PDF: the letter with only the names their signers made public."""
    appeal = public_appeal_or_404(slug)
    # Anyone may ask for this file, so asking never renders: the stored copy is served even when a newer
    # one is on its way (confirmations and the organizers schedule that render, debounced).
    record = jobs.stored_document(appeal, "public", "standard")
    if record is not None:
        return send_document(record)
    if jobs.active_job(appeal, "public", "standard") is not None:
        page = render_template("public/message.html", title=_("The public PDF is being prepared"),
                               message=_("Please try again in a minute."), appeal=appeal)
        return page, 503, {"Retry-After": "60"}
    # Nothing is stored and nothing is on its way: there is no such file yet, which is not a server fault.
    page = render_template("public/message.html", title=_("The public PDF is not available yet"),
                           message=_("The organizers have not published it yet. Please try again later."),
                           appeal=appeal)
    return page, 404
