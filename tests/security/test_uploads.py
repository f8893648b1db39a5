"""Uploads: size, type by content (never by name), pixel limits; a clear 4xx and nothing stored on refusal."""
import io

import pytest
from PIL import Image
from sqlalchemy import func, select

from petitions.extensions import db
from petitions.pdf.models import PdfSettings
from petitions.signing.models import Signature

from ..conftest import csrf_token


def _image(kind: str, size=(60, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (31, 58, 95)).save(buf, kind)
    return buf.getvalue()


def _post_logo(client, slug, logo: bytes, filename: str):
    token = csrf_token(client, f"/organizer/appeals/{slug}/pdf/status")
    return client.post(f"/organizer/appeals/{slug}/pdf/settings", content_type="multipart/form-data", data={
        "csrf_token": token, "coalition_name": "Coalition", "place": "Geneva", "page_size": "A4", "columns": "2",
        "grouping": "none", "logo": (io.BytesIO(logo), filename)})


@pytest.mark.parametrize("data, filename, message", [
    (_image("GIF"), "logo.png", "GIF images are not accepted"),
    (_image("BMP"), "logo.jpg", "images are not accepted"),
    (b"<html><script>alert(1)</script></html>", "logo.png", "not an image"),
    (b"%PDF-1.7\n1 0 obj<<>>endobj", "logo.svg", "not an image"),
    (b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "logo.png", "not an image"),  # a PNG signature and nothing behind it
    (_image("PNG", (4001, 4001)), "logo.png", "at most 4000×4000"),
    (_image("JPEG", (8000, 2001)), "logo.jpg", "at most 4000×4000"),
    (_image("PNG", (10, 10)) + b"\0" * (513 * 1024), "logo.png", "the limit is 512 KB"),
    (b"", "logo.png", "empty"),
])
def test_bad_logo_is_refused_by_its_content_with_a_message_and_nothing_stored(app, world, client_as, data, filename,
                                                                            message):
    client = client_as(world.owner)
    response = _post_logo(client, world.appeal.slug, data, filename)
    body = response.get_data(as_text=True)
    if data:
        assert response.status_code == 422 and message in body, (response.status_code, message)
        assert db.session.get(PdfSettings, world.appeal.id) is None


def test_type_comes_from_the_content_not_the_name(app, world, client_as):
    client = client_as(world.owner)
    assert _post_logo(client, world.appeal.slug, _image("JPEG"), "logo.svg").status_code == 303
    assert db.session.get(PdfSettings, world.appeal.id).logo_mime == "image/jpeg"
    db.session.expire_all()
    assert _post_logo(client, world.appeal.slug, _image("PNG"), "logo.gif").status_code == 303
    assert db.session.get(PdfSettings, world.appeal.id).logo_mime == "image/png"


def test_an_empty_upload_field_keeps_the_stored_logo(app, world, client_as):
    client = client_as(world.owner)
    assert _post_logo(client, world.appeal.slug, _image("PNG"), "logo.png").status_code == 303
    kept = db.session.get(PdfSettings, world.appeal.id).logo
    response = _post_logo(client, world.appeal.slug, b"", "")
    db.session.expire_all()
    assert response.status_code == 303 and db.session.get(PdfSettings, world.appeal.id).logo == kept


def test_a_request_over_the_size_limit_gets_413_with_a_message(app, world, client_as):
    client = client_as(world.owner)
    big = b"\0" * (app.config["MAX_CONTENT_LENGTH"] + 1024)
    response = _post_logo(client, world.appeal.slug, big, "logo.png")
    assert response.status_code == 413 and "too large" in response.get_data(as_text=True)
    assert db.session.get(PdfSettings, world.appeal.id) is None


def _post_import(client, slug, data: bytes, filename: str):
    token = csrf_token(client, f"/organizer/appeals/{slug}/import")
    return client.post(f"/organizer/appeals/{slug}/import", content_type="multipart/form-data", data={
        "csrf_token": token, "upload": (io.BytesIO(data), filename), "preview": "Preview", "mode": "vouched"})


def _signatures() -> int:
    return db.session.scalar(select(func.count()).select_from(Signature))


@pytest.mark.parametrize("data, filename", [
    (_image("PNG"), "list.csv"),  # an image under a CSV name
    (b"\xff\xfe\x00\xd8" + bytes(range(256)) * 8, "list.txt"),  # no text in any offered encoding
])
def test_import_of_a_non_text_file_is_refused_with_a_message(app, world, client_as, data, filename):
    client = client_as(world.owner)
    before = _signatures()
    response = _post_import(client, world.appeal.slug, data, filename)
    assert 400 <= response.status_code < 500 and 'class="error' in response.get_data(as_text=True).replace(
        "class='error", 'class="error'), response.status_code
    assert _signatures() == before


def test_import_over_the_size_limit_gets_413_and_stores_nothing(app, world, client_as):
    client = client_as(world.owner)
    before = _signatures()
    line = "Anar Kərimov, Lawyer\n".encode()
    response = _post_import(client, world.appeal.slug, line * (app.config["MAX_CONTENT_LENGTH"] // len(line) + 10),
                            "list.txt")
    assert response.status_code == 413 and _signatures() == before


def test_verify_refuses_what_is_not_a_pdf(app, client):
    token = csrf_token(client, "/verify/")
    response = client.post("/verify/", content_type="multipart/form-data",
                           data={"csrf_token": token, "file": (io.BytesIO(_image("PNG")), "letter.pdf")})
    assert response.status_code == 422 and "not a PDF" in response.get_data(as_text=True)
