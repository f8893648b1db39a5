"""Public /verify: upload a PDF, or open the link from its QR code, and learn whether it is genuine."""
import hashlib

from flask import Blueprint, current_app, render_template, request
from flask_babel import gettext as _
from sqlalchemy import select

from petitions.appeals.models import Appeal
from petitions.extensions import csrf, db
from petitions.pdf import jobs
from petitions.pdf.engine import pades as signing
from petitions.pdf.forms import VerifyForm
from petitions.pdf.models import PdfDocument

bp = Blueprint("verify", __name__, url_prefix="/verify")


@bp.get("/")
def index():
    """Show the upload form."""
    return render_template("pdf/verify.html", form=VerifyForm(), record=None, verdict=None, appeal=None)


@bp.get("/<document_id>")
def document(document_id: str):
    """Describe the document a QR code points to, and offer to check a file against it."""
    record = db.session.get(PdfDocument, document_id)
    if record is None:
        return render_template("pdf/verify.html", form=VerifyForm(), record=None, verdict=None, appeal=None,
                               unknown=True), 404
    return _page(record, None)


# The global CSRF check would read the upload before the size limit for PDFs is raised, so this view
# checks the token itself, right after raising it.
@csrf.exempt
@bp.post("/")
def check():
    """Check an uploaded PDF's signature against this service's certificate."""
    request.max_content_length = int(current_app.config["PDF_VERIFY_MAX_BYTES"])
    csrf.protect()
    form = VerifyForm()
    if not form.validate_on_submit():
        return render_template("pdf/verify.html", form=form, record=None, verdict=None, appeal=None,
                               message=_("The form expired or was incomplete. Reload the page and try again.")), 400
    upload = form.file.data
    data = upload.read() if upload is not None else b""
    if not data:
        return render_template("pdf/verify.html", form=form, record=None, verdict=None, appeal=None,
                               message=_("Choose a PDF file to check.")), 400
    if not data.startswith(b"%PDF-"):
        return render_template("pdf/verify.html", form=form, record=None, verdict=None, appeal=None,
                               message=_("This file is not a PDF.")), 422
    jobs.ensure_signing_key()
    verdict = signing.verify_pdf(data, signing.trusted_certificate(jobs.keys_dir()))
    record = None
    if verdict.genuine:
        digest = hashlib.sha256(data).hexdigest()
        record = db.session.scalar(select(PdfDocument).where(PdfDocument.sha256 == digest)) or (
            db.session.get(PdfDocument, verdict.document_id) if verdict.document_id else None)
    return _page(record, verdict)


def _page(record, verdict):
    appeal = db.session.get(Appeal, record.appeal_id) if record else None
    newer = None
    if record is not None:
        newer = db.session.scalar(select(PdfDocument).where(
            PdfDocument.appeal_id == record.appeal_id, PdfDocument.audience == record.audience,
            PdfDocument.variant == record.variant, PdfDocument.version > record.version,
        ).order_by(PdfDocument.version.desc()).limit(1))
    return render_template("pdf/verify.html", form=VerifyForm(), record=record, verdict=verdict, appeal=appeal,
                           newer=newer)
