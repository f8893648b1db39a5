"""Signed PDFs through the app: PAdES signature, /verify, PDF/A-3b attachment, logo checks, jobs."""
import hashlib
import io
import os
import re
from datetime import timedelta

import pikepdf
import pytest
import segno
from PIL import Image
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pypdf import PdfReader

from petitions.auth.services import register_user
from petitions.extensions import db, utcnow
from petitions.pdf import jobs
from petitions.pdf.engine import assemble, pades as signing
from petitions.pdf.models import JobStatus, PdfDocument, PdfJob
from petitions.signing.models import Signature

from .conftest import csrf_token, new_appeal


@pytest.fixture
def app(make_app):
    app = make_app(PDF_EXECUTOR="inline", PUBLIC_URL="http://127.0.0.1:5000")
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def appeal(app):
    owner = register_user("Owner", "owner@example.org", "a long password")
    appeal = new_appeal(owner, "Release the journalists", "Secretary General, Council of Europe",
                        "We **ask** for their release.")
    appeal.publish()
    for i, (name, aff) in enumerate([("Əhməd Qurbanlı", "Jurnalist"), ("Ирина Петрова", "Адвокат"),
                                     ("=Formula Person", "Lawyer, Bar"), ("Anna Schmidt", "")]):
        sig = Signature(appeal=appeal, full_name=name, affiliation=aff, email_hash=f"{i:064d}",
                        email_encrypted="x", text_hash=appeal.content_hash, consent_at=appeal.created_at,
                        revision_id=appeal.published_revision_id)
        sig.confirm()
        db.session.add(sig)
    db.session.commit()
    return appeal


@pytest.fixture
def client(app, appeal):
    client = app.test_client()
    token = csrf_token(client, "/auth/login")
    client.post("/auth/login", data={"email": "owner@example.org", "password": "a long password",
                                     "csrf_token": token})
    return client


def download(client, appeal) -> bytes:
    response = client.get(f"/organizer/appeals/{appeal.slug}/pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    return response.data


def check(client, data: bytes):
    token = csrf_token(client, "/verify/")
    return client.post("/verify/", data={"csrf_token": token, "file": (io.BytesIO(data), "letter.pdf")},
                       content_type="multipart/form-data")


def test_signature_validates_with_pyhanko(app, client, appeal):
    data = download(client, appeal)
    reader = PdfFileReader(io.BytesIO(data))
    [sig] = reader.embedded_signatures
    cert = signing.trusted_certificate(jobs.keys_dir())
    status = validate_pdf_signature(sig, ValidationContext(trust_roots=[cert], allow_fetching=False))
    assert status.bottom_line and status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    assert "/ETSI.CAdES.detached" in str(sig.sig_object["/SubFilter"])


def test_verify_page_says_genuine_then_not_genuine_after_one_byte(app, client, appeal):
    data = download(client, appeal)
    page = check(client, data)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<h2>Genuine</h2>" in html
    assert "Release the journalists" in html and "<dt>Signatories</dt><dd>4</dd>" in html

    changed = bytearray(data)
    at = data.index(b"Filter", len(data) // 3)  # a byte inside the signed range
    changed[at] = ord("f")
    page = check(client, bytes(changed))
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<h2>Not genuine</h2>" in html and "<h2>Genuine</h2>" not in html


def test_verify_link_from_the_qr_code_describes_the_document(app, client, appeal):
    data = download(client, appeal)
    record = db.session.scalar(db.select(PdfDocument))
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
    assert f"http://127.0.0.1:5000/verify/{record.id}" in text.replace("\n", "")
    page = client.get(f"/verify/{record.id}")
    assert page.status_code == 200 and record.sha256 in page.get_data(as_text=True)
    assert client.get("/verify/no-such-document").status_code == 404


@pytest.mark.parametrize("payload, status, message", [
    (b"", 400, "Choose a PDF file"),
    (b"GIF89a not a pdf", 422, "This file is not a PDF."),
])
def test_verify_refuses_bad_uploads_with_a_message(app, client, payload, status, message):
    page = check(client, payload)
    assert page.status_code == status and message in page.get_data(as_text=True)


def test_verify_without_csrf_token_is_refused(app, client):
    page = client.post("/verify/", data={"file": (io.BytesIO(b"%PDF-1.7"), "x.pdf")},
                       content_type="multipart/form-data")
    assert page.status_code == 400


def test_unsigned_or_foreign_signed_pdf_is_not_genuine(app, client, appeal, tmp_path):
    unsigned = assemble.build(jobs.document_for(appeal, "addressees", "standard"), jobs.cache_dir(), workers=1).pdf
    assert "<h2>Not genuine</h2>" in check(client, unsigned).get_data(as_text=True)
    signing.generate_self_signed(str(tmp_path / "other"))
    foreign = signing.sign_pdf(unsigned, signing.load_signer(str(tmp_path / "other")))
    html = check(client, foreign).get_data(as_text=True)
    assert "<h2>Not genuine</h2>" in html and "not by this service" in html


def qr_modules(data: bytes) -> set[tuple[int, int]]:
    """Read the QR code drawn on the first page back into its dark modules (row, column from the top left)."""
    with pikepdf.open(io.BytesIO(data)) as pdf:
        contents = pdf.pages[0].obj.Contents
        streams = list(contents) if isinstance(contents, pikepdf.Array) else [contents]
        content = b"\n".join(stream.read_bytes() for stream in streams)
    start = content.index(b"q 0.12 0.23 0.37 rg")
    rects = [tuple(map(float, m)) for m in re.findall(rb"([\d.]+) ([\d.]+) ([\d.]+) ([\d.]+) re",
                                                      content[start:content.index(b"f Q", start)])]
    module = min(r[3] for r in rects)
    left, top = min(r[0] for r in rects), max(r[1] + r[3] for r in rects)
    return {(round((top - y - h) / module), round((x - left) / module) + k)
            for x, y, w, h in rects for k in range(round(w / module))}


def qr_of(url: str) -> set[tuple[int, int]]:
    return {(r, c) for r, row in enumerate(segno.make(url, error="m").matrix) for c, dark in enumerate(row) if dark}


def test_the_cli_writes_the_registered_qr_stamped_copy_that_verifies(app, client, appeal, tmp_path):
    out = tmp_path / "letter.pdf"
    result = app.test_cli_runner().invoke(args=["pdf", "render", appeal.slug, "-o", str(out)])
    assert result.exit_code == 0, result.output
    data = out.read_bytes()
    record = db.session.scalar(db.select(PdfDocument).where(PdfDocument.sha256 == hashlib.sha256(data).hexdigest()))
    assert record is not None and record.audience == "addressees"  # registered: /verify knows it
    url = f"http://127.0.0.1:5000/verify/{record.id}"
    assert f"Verify at {url}" in " ".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
    assert qr_modules(data) == qr_of(url)
    html = check(client, data).get_data(as_text=True)
    assert "<h2>Genuine</h2>" in html and "Release the journalists" in html
    assert download(client, appeal) == data  # the same file the organizers download


def test_the_stamped_address_follows_public_url(make_app, tmp_path):
    app = make_app(PDF_EXECUTOR="inline", PUBLIC_URL="http://192.0.2.7:5077")
    with app.app_context():
        owner = register_user("Owner", "owner@example.org", "a long password")
        appeal = new_appeal(owner, "Release the journalists", "Secretary General", "We ask.")
        appeal.publish()
        db.session.commit()
        out = tmp_path / "letter.pdf"
        assert app.test_cli_runner().invoke(args=["pdf", "render", appeal.slug, "-o", str(out)]).exit_code == 0
        record = db.session.scalar(db.select(PdfDocument))
        url = f"http://192.0.2.7:5077/verify/{record.id}"
        assert qr_modules(out.read_bytes()) == qr_of(url)
        db.session.remove()
        db.engine.dispose()


def test_make_serve_stamps_the_address_it_serves_on():
    makefile = open(os.path.join(os.path.dirname(__file__), os.pardir, "Makefile"), encoding="utf-8").read()
    [serve] = re.findall(r"^serve:\n\t(.+)$", makefile, re.M)
    # PUBLIC_URL (read from FLASK_PUBLIC_URL) is the host and port `flask run` listens on, unless set.
    assert serve.startswith("FLASK_PUBLIC_URL=$${FLASK_PUBLIC_URL:-http://$(HOST):$(PORT)} ")
    assert serve.endswith("run --host $(HOST) --port $(PORT)")


def render_archival(client, appeal) -> bytes:
    token = csrf_token(client, f"/organizer/appeals/{appeal.slug}/pdf/status")
    response = client.post(f"/organizer/appeals/{appeal.slug}/pdf/render",
                           data={"csrf_token": token, "audience": "addressees", "variant": "archival"})
    assert response.status_code == 303
    record = db.session.scalar(db.select(PdfDocument).where(PdfDocument.variant == "archival"))
    response = client.get(f"/organizer/appeals/{appeal.slug}/pdf/files/{record.filename}")
    assert response.status_code == 200 and response.headers["ETag"].strip('"') == record.sha256
    return response.data


def test_pdfa_attachment_equals_the_csv_export(app, client, appeal):
    data = render_archival(client, appeal)
    export = client.get(f"/organizer/appeals/{appeal.slug}/pdf/signatories.csv")
    assert export.status_code == 200 and export.mimetype == "text/csv"
    with pikepdf.open(io.BytesIO(data)) as pdf:
        attached = pdf.attachments["signatories.csv"]
        assert attached.get_file().read_bytes() == export.data
        assert str(attached.obj.AFRelationship) == "/Data"
        assert len(pdf.Root.AF) == 1
        meta = pdf.open_metadata()
        assert meta["pdfaid:part"] == "3" and meta["pdfaid:conformance"] == "B"
        assert "/OutputIntents" in pdf.Root
    assert b"'=Formula Person" in export.data  # a spreadsheet would run it otherwise
    assert "Əhməd Qurbanlı".encode() in export.data


def png(size=(60, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (31, 58, 95)).save(buf, "PNG")
    return buf.getvalue()


def post_settings(client, appeal, logo: bytes, filename: str):
    token = csrf_token(client, f"/organizer/appeals/{appeal.slug}/pdf/status")
    return client.post(f"/organizer/appeals/{appeal.slug}/pdf/settings", content_type="multipart/form-data", data={
        "csrf_token": token, "coalition_name": "Press Freedom Coalition", "place": "Strasbourg",
        "page_size": "A4", "columns": "2", "grouping": "none", "logo": (io.BytesIO(logo), filename)})


@pytest.mark.parametrize("logo, filename, message", [
    (b"just some text, not an image", "logo.png", "not an image"),
    (b"GIF89a" + b"\0" * 600 * 1024, "logo.gif", "the limit is 512 KB"),
    (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "logo.svg", "&lt;script&gt;"),
    (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "logo.svg", "must not contain scripts"),
    (b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:x="http://www.w3.org/1999/xlink">'
     b'<image x:href="https://tracker.example/p.png"/></svg>', "logo.svg", "must not refer to other files"),
    (b'<svg xmlns="http://www.w3.org/2000/svg"><rect style="fill:url(http://x.example/a)"/></svg>', "logo.svg",
     "must not refer to other files"),
])
def test_bad_logos_are_refused_with_a_message(app, client, appeal, logo, filename, message):
    response = post_settings(client, appeal, logo, filename)
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    from petitions.pdf.models import PdfSettings

    assert db.session.get(PdfSettings, appeal.id) is None


def test_good_logo_and_coalition_appear_in_the_letterhead(app, client, appeal):
    assert post_settings(client, appeal, png(), "logo.png").status_code == 303
    data = download(client, appeal)
    first = PdfReader(io.BytesIO(data)).pages[0]
    assert "Press Freedom Coalition" in first.extract_text() and "Strasbourg" in first.extract_text()
    assert any(obj.get_object()["/Subtype"] == "/Image" for obj in first["/Resources"]["/XObject"].values())


def test_new_signature_makes_the_old_pdf_stale_with_a_new_version(app, client, appeal):
    first = download(client, appeal)
    assert download(client, appeal) == first  # unchanged list: the same current file
    sig = Signature(appeal=appeal, full_name="Nərmin Məmmədli", affiliation="", email_hash="f" * 64,
                    email_encrypted="x", text_hash=appeal.content_hash, consent_at=appeal.created_at)
    sig.confirm()
    db.session.add(sig)
    db.session.commit()
    response = client.get(f"/organizer/appeals/{appeal.slug}/pdf")
    assert response.data != first and "Nərmin Məmmədli" in " ".join(
        p.extract_text() for p in PdfReader(io.BytesIO(response.data)).pages)
    assert f"{appeal.slug}-v2.pdf" in response.headers["Content-Disposition"]


def test_failed_render_keeps_the_previous_pdf_and_a_retry_works(app, client, appeal, tmp_path):
    previous = download(client, appeal)
    record = db.session.scalar(db.select(PdfDocument))
    sig = Signature(appeal=appeal, full_name="Late Signer", affiliation="", email_hash="e" * 64,
                    email_encrypted="x", text_hash=appeal.content_hash, consent_at=appeal.created_at)
    sig.confirm()
    db.session.add(sig)
    db.session.commit()
    # A real failure: the chunk cache cannot be created, because a plain file is in the way.
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("x")
    app.config["PDF_CACHE_DIR"] = str(blocker / "cache")
    token = csrf_token(client, f"/organizer/appeals/{appeal.slug}/pdf/status")
    client.post(f"/organizer/appeals/{appeal.slug}/pdf/render",
                data={"csrf_token": token, "audience": "addressees", "variant": "standard"})
    job = db.session.scalar(db.select(PdfJob).order_by(PdfJob.id.desc()))
    assert job.status is JobStatus.FAILED and "previous PDF is unchanged" in job.error_text
    page = client.get(f"/organizer/appeals/{appeal.slug}/pdf/status").get_data(as_text=True)
    assert "The last render failed" in page and "Try again" in page
    with open(jobs.file_path(record), "rb") as fh:
        assert fh.read() == previous

    app.config["PDF_CACHE_DIR"] = None  # the default again: pdf-cache in the instance folder
    token = csrf_token(client, f"/organizer/appeals/{appeal.slug}/pdf/status")
    client.post(f"/organizer/appeals/{appeal.slug}/pdf/render",
                data={"csrf_token": token, "audience": "addressees", "variant": "standard"})
    job = db.session.scalar(db.select(PdfJob).order_by(PdfJob.id.desc()))
    assert job.status is JobStatus.DONE
    assert "Late Signer" in " ".join(p.extract_text() for p in PdfReader(jobs.file_path(
        db.session.get(PdfDocument, job.document_id))).pages)


def test_a_killed_render_is_marked_failed_and_can_be_retried(app, client, appeal):
    # What a killed runner leaves behind: a running job that stopped reporting progress.
    job = PdfJob(appeal_id=appeal.id, status=JobStatus.RUNNING, stage="list", progress=40.0,
                 started_at=utcnow() - timedelta(hours=1), heartbeat_at=utcnow() - timedelta(hours=1))
    db.session.add(job)
    db.session.commit()
    page = client.get(f"/organizer/appeals/{appeal.slug}/pdf/status").get_data(as_text=True)
    assert "stopped without finishing" in page
    assert db.session.get(PdfJob, job.id).status is JobStatus.FAILED
    assert client.get(f"/organizer/appeals/{appeal.slug}/pdf").status_code == 200


def test_status_page_shows_progress_and_refreshes_while_a_job_runs(app, client, appeal):
    job = PdfJob(appeal_id=appeal.id, status=JobStatus.RUNNING, stage="list", progress=42.0, eta_seconds=17,
                 started_at=utcnow(), heartbeat_at=utcnow())
    db.session.add(job)
    db.session.commit()
    page = client.get(f"/organizer/appeals/{appeal.slug}/pdf/status").get_data(as_text=True)
    assert 'http-equiv="refresh"' in page and "42%" in page and "about 17 s left" in page
    assert client.get(f"/organizer/appeals/{appeal.slug}/pdf/progress.json").json["progress"] == 42.0


def test_worker_command_runs_queued_jobs(app, appeal):
    job = jobs.request_render(appeal)
    db.session.commit()
    assert jobs.work(once=True) == 1
    db.session.expire_all()
    done = db.session.get(PdfJob, job.id)
    assert done.status is JobStatus.DONE and os.path.exists(jobs.file_path(db.session.get(PdfDocument,
                                                                                           done.document_id)))


def test_other_organizers_cannot_reach_the_pdf_pages(app, appeal):
    register_user("Other", "other@example.org", "another long pw")
    db.session.commit()
    other = app.test_client()
    token = csrf_token(other, "/auth/login")
    other.post("/auth/login", data={"email": "other@example.org", "password": "another long pw",
                                    "csrf_token": token})
    for path in ("pdf/status", "pdf/signatories.csv", "pdf/progress.json"):
        assert other.get(f"/organizer/appeals/{appeal.slug}/{path}").status_code == 404
