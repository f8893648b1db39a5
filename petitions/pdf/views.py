"""Organizer pages of the PDF: status and progress, generate, letterhead, versions, CSV export."""
import os

from flask import (Blueprint, Response, abort, current_app, flash, jsonify, redirect, render_template,
                   url_for)
from flask_login import current_user, login_required
from sqlalchemy import select

from petitions.members.access import appeal_for
from petitions.appeals.models import Appeal
from petitions.privacy import accesslog
from petitions.extensions import db
from petitions.pdf import jobs, services
from petitions.pdf.engine.archival import signatories_csv
from petitions.pdf.mapping import document_from_appeal
from petitions.pdf.forms import RenderForm, SettingsForm
from petitions.pdf.engine.logo import LogoError
from petitions.pdf.models import PdfDocument

bp = Blueprint("pdfs", __name__, url_prefix="/organizer/appeals/<slug>/pdf")


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
    settings = services.settings_of(appeal)
    form = SettingsForm(obj=settings, formdata=None)
    form.columns.data = str(getattr(settings, "columns", 2) or 2)
    from petitions.i18n import native_name
    from petitions.translations.services import published_languages

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
                   error=job.error, document_id=job.document_id)


@bp.post("/render")
def render(slug: str):
    """Queue a new render of the PDF."""
    appeal = _own(slug)
    form = RenderForm()
    if not form.validate_on_submit():
        flash("Choose who the copy is for and its format.", "error")
        return redirect(url_for("pdfs.status", slug=slug), code=303)
    job = jobs.request_render(appeal, form.audience.data, form.variant.data)
    db.session.commit()
    jobs.dispatch(current_app._get_current_object(), job)
    flash("The PDF is being generated; this page shows its progress.", "success")
    return redirect(url_for("pdfs.status", slug=slug), code=303)


@bp.post("/settings")
def settings(slug: str):
    """Save the letterhead: coalition, place, paper, columns, order and logo."""
    appeal = _own(slug, "edit")
    form = SettingsForm()
    if not form.validate_on_submit():
        return _settings_error(appeal, form, "Some fields need attention.")
    try:
        services.save_settings(appeal, form)
    except LogoError as exc:
        db.session.rollback()
        form.logo.errors = [str(exc)]
        return _settings_error(appeal, form, str(exc))
    db.session.commit()
    flash("Letterhead saved. Generate the PDF again to use it.", "success")
    return redirect(url_for("pdfs.status", slug=slug), code=303)


def _settings_error(appeal, form, message: str):
    flash(message, "error")
    return render_template("pdf/status.html", appeal=appeal, job=jobs.latest_job(appeal), documents=[],
                           current={}, render_form=RenderForm(), settings_form=form,
                           settings=services.settings_of(appeal)), 422


@bp.get("/files/<filename>")
def file(slug: str, filename: str):
    """Download a stored version; the version is in the name, the file's hash is the ETag."""
    appeal = _own(slug)
    record = db.session.scalar(select(PdfDocument).where(PdfDocument.appeal_id == appeal.id,
                                                         PdfDocument.filename == filename))
    if record is None or not os.path.exists(jobs.file_path(record)):
        abort(404)
    return services.send_document(record)


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
    from petitions.translations.services import published_languages

    appeal = _own(slug)
    if language is not None and language not in published_languages(appeal):
        abort(404)
    # Stored, versioned and registered for /verify like the main PDF (its QR code points there).
    response = services.download_current(appeal, "addressees", "combined" if combined else f"lang:{language}")
    accesslog.exported(appeal, "addressee PDF", actor=current_user, version=language or "combined")
    db.session.commit()
    return response
