"""HTTP behaviour through the test client: forms, CSRF, statuses, access."""
import io
import re

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from petitions.auth.services import register_user
from petitions.extensions import db
from petitions.signing import operations as signing
from petitions.signing.models import Signature, SignatureStatus

from .conftest import csrf_token, message_text, new_appeal
from .pdf_files import rendered_pdf


@pytest.fixture
def open_appeal(app):
    owner = register_user("Owner", "owner@example.org", "a long password")
    appeal = new_appeal(owner, "Release the journalists", "Council of Europe", "We **ask**.")
    appeal.publish()
    db.session.commit()
    return appeal


def signature_count():
    return db.session.scalar(select(func.count()).select_from(Signature))


def sign(client, slug, **fields):
    data = {"full_name": "Aysel Əliyeva", "affiliation": "Lawyer", "email": "aysel@example.org", "consent": "y"}
    data.update(fields)
    data.setdefault("csrf_token", csrf_token(client, f"/a/{slug}/sign"))
    return client.post(f"/a/{slug}/sign", data={k: v for k, v in data.items() if v is not None})


def login(client, email="owner@example.org", password="a long password"):
    token = csrf_token(client, "/auth/login")
    return client.post("/auth/login", data={"email": email, "password": password, "csrf_token": token})


def test_public_page_shows_text_count_and_a_link_to_the_form(client, open_appeal):
    page = client.get(f"/a/{open_appeal.slug}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Release the journalists" in html and "<strong>ask</strong>" in html
    assert 'name="csrf_token"' not in html and f'href="/a/{open_appeal.slug}/sign?lang=en"' in html
    assert "0</strong> confirmed signatures" in html
    form = client.get(f"/a/{open_appeal.slug}/sign")
    html = form.get_data(as_text=True)
    assert form.status_code == 200 and form.headers["Cache-Control"] == "no-store"
    assert "Release the journalists" in html
    assert 'name="full_name"' in html and 'name="consent"' in html and 'name="csrf_token"' in html
    assert open_appeal.title in client.get("/").get_data(as_text=True)


def test_sign_redirects_to_the_same_answer_whether_new_or_not(client, open_appeal):
    first = sign(client, open_appeal.slug)
    second = sign(client, open_appeal.slug, full_name="Someone Else")
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert client.get(first.headers["Location"]).get_data(as_text=True) == \
        client.get(second.headers["Location"]).get_data(as_text=True)
    assert signature_count() == 1


@pytest.mark.parametrize("fields,message", [
    ({"full_name": ""}, "This field is required"),
    ({"full_name": "x" * 201}, "200"),
    ({"affiliation": "y" * 301}, "300"),
    ({"email": "not-an-email"}, "valid e-mail"),
    ({"email": ""}, "This field is required"),
    ({"consent": None}, "tick the box"),
    ({"full_name": "Evil\u202eName"}, ""),
    ({"full_name": "Zero\u200bWidth"}, ""),
])
def test_bad_input_gets_422_with_message_and_stores_nothing(client, open_appeal, fields, message):
    response = sign(client, open_appeal.slug, **fields)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Please correct the marked fields" in html and message in html
    assert signature_count() == 0


def test_missing_csrf_token_is_refused(client, open_appeal):
    response = sign(client, open_appeal.slug, csrf_token="")
    assert response.status_code == 400 and "security token" in response.get_data(as_text=True)
    assert signature_count() == 0


def test_signing_a_draft_is_404_and_a_closed_appeal_409(client, app, open_appeal):
    token = csrf_token(client, f"/a/{open_appeal.slug}/sign")
    draft = new_appeal(open_appeal.owner, "Draft", "", "Body")
    db.session.commit()
    assert client.get(f"/a/{draft.slug}").status_code == 404
    data = {"full_name": "N", "email": "n@example.org", "consent": "y", "csrf_token": token}
    assert client.post(f"/a/{draft.slug}/sign", data=data).status_code == 404
    open_appeal.close()
    db.session.commit()
    response = client.post(f"/a/{open_appeal.slug}/sign", data=data)
    assert response.status_code == 409 and "no longer collects" in response.get_data(as_text=True)
    assert signature_count() == 0


def test_confirm_link_get_shows_a_button_and_only_post_confirms(client, open_appeal):
    sig = signing.sign(open_appeal, "Kamran Həsənov", "Journalist", "k@example.org").signature
    db.session.commit()
    url = f"/confirm/{signing.confirmation_token(sig)}"
    page = client.get(url)
    assert page.status_code == 200 and "Confirm my signature" in page.get_data(as_text=True)
    db.session.refresh(sig)
    assert sig.status is SignatureStatus.PENDING
    assert client.post(url, data={}).status_code == 400  # no CSRF token
    response = client.post(url, data={"csrf_token": csrf_token(client, url)})
    assert response.status_code == 200 and "confirmed" in response.get_data(as_text=True)
    db.session.refresh(sig)
    assert sig.status is SignatureStatus.CONFIRMED
    again = client.get(url)
    assert again.status_code == 200 and "already confirmed" in again.get_data(as_text=True)


def test_bad_and_expired_confirm_links_get_4xx(client, app, open_appeal):
    sig = signing.sign(open_appeal, "X", "", "x@example.org").signature
    db.session.commit()
    token = signing.confirmation_token(sig)
    assert client.get("/confirm/garbage").status_code == 400
    assert client.get(f"/confirm/{token[:-3]}abc").status_code == 400
    app.config["CONFIRM_TOKEN_MAX_AGE"] = -1
    response = client.get(f"/confirm/{token}")
    assert response.status_code == 410 and "expired" in response.get_data(as_text=True)
    db.session.refresh(sig)
    assert sig.status is SignatureStatus.PENDING


def test_organizer_pages_need_login(client, open_appeal):
    response = client.get("/organizer/")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_register_login_create_publish_close(smtp_app):
    client = smtp_app.test_client()
    token = csrf_token(client, "/auth/register")
    response = client.post("/auth/register", data={"email": "nigar@example.org", "csrf_token": token})
    assert response.status_code == 200
    [msg] = smtp_app.smtp_sink.wait_for(1)
    link = re.search(r"http://\S+/auth/register/\S+", message_text(msg)).group(0)
    path = "/" + link.split("/", 3)[3]
    response = client.post(path, data={"name": "Nigar", "password": "long enough pw", "password2": "long enough pw",
                                       "csrf_token": csrf_token(client, path)})
    assert response.status_code == 303
    token = csrf_token(client, "/organizer/appeals/new")
    preview = client.post("/organizer/appeals/new", data={
        "title": "Stop torture", "addressees": "UN", "body": "We *demand*.", "preview": "Preview",
        "csrf_token": token})
    assert preview.status_code == 200 and "<em>demand</em>" in preview.get_data(as_text=True)
    saved = client.post("/organizer/appeals/new", data={
        "title": "Stop torture", "addressees": "UN", "body": "We *demand*.", "save": "Save",
        "csrf_token": token})
    assert saved.status_code == 303
    show = saved.headers["Location"]
    slug = show.rsplit("/", 1)[1]
    token = csrf_token(client, show)
    assert client.post(f"/organizer/appeals/{slug}/publish", data={"csrf_token": token}).status_code == 303
    assert client.get(f"/a/{slug}").status_code == 200
    again = client.post(f"/organizer/appeals/{slug}/publish", data={"csrf_token": token}, follow_redirects=True)
    assert "Only a draft can be published" in again.get_data(as_text=True)
    assert client.post(f"/organizer/appeals/{slug}/close", data={"csrf_token": token}).status_code == 303
    edit = client.post(f"/organizer/appeals/{slug}/edit", data={
        "title": "Changed", "body": "Changed", "save": "Save", "csrf_token": token})
    assert edit.status_code == 409


def test_wrong_password_is_401_and_same_message_for_unknown_user(client, open_appeal):
    wrong = login(client, password="wrong password")
    unknown = login(client, email="nobody@example.org")
    assert wrong.status_code == unknown.status_code == 401
    assert "Wrong e-mail or password" in wrong.get_data(as_text=True)
    assert "Wrong e-mail or password" in unknown.get_data(as_text=True)


def test_login_does_not_redirect_off_site(client, open_appeal):
    token = csrf_token(client, "/auth/login")
    response = client.post("/auth/login?next=//evil.example/x", data={
        "email": "owner@example.org", "password": "a long password", "csrf_token": token})
    assert response.headers["Location"] == "/organizer/"


def test_other_organizers_cannot_see_an_appeal(client, open_appeal):
    register_user("Other", "other@example.org", "another long pw")
    db.session.commit()
    login(client, "other@example.org", "another long pw")
    assert client.get(f"/organizer/appeals/{open_appeal.slug}").status_code == 404
    assert client.get(f"/organizer/appeals/{open_appeal.slug}/pdf").status_code == 404


def test_organizer_downloads_pdf(client, open_appeal):
    signer = signing.sign(open_appeal, "Leyla Əhmədova", "Journalist", "leyla@example.org").signature
    signer.confirm()
    db.session.commit()
    login(client)
    response = client.get(f"/organizer/appeals/{open_appeal.slug}/pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
    assert "Release the journalists" in text and "Əhmədova" in text
    # The download is the signed copy that /verify recognizes, not a throwaway render.
    token = csrf_token(client, "/verify/")
    verdict = client.post("/verify/", data={"csrf_token": token, "file": (io.BytesIO(response.data), "a.pdf")},
                          content_type="multipart/form-data").get_data(as_text=True)
    assert "<h2>Genuine</h2>" in verdict and "<dt>Signatories</dt><dd>1</dd>" in verdict


def test_unknown_pages_and_methods_get_clear_pages(client):
    missing = client.get("/a/does-not-exist")
    assert missing.status_code == 404 and "There is nothing here" in missing.get_data(as_text=True)
    assert client.delete("/").status_code == 405


def test_dev_outbox_lists_mail_when_enabled(make_app):
    app = make_app(MAIL_TRANSPORT="outbox", DEV_OUTBOX=True)
    client = app.test_client()
    with app.app_context():
        owner = register_user("O", "o@example.org", "a long password")
        appeal = new_appeal(owner, "Outbox test", "", "Body")
        appeal.publish()
        db.session.commit()
        slug = appeal.slug
    sign(client, slug, email="outbox@example.org")
    page = client.get("/dev/outbox/").get_data(as_text=True)
    assert "Please confirm your signature: Outbox test" in page and "/confirm/" in page
    with app.app_context():
        db.engine.dispose()


def test_refused_characters_are_explained_in_the_signers_language(client, open_appeal):
    token = csrf_token(client, f"/a/{open_appeal.slug}/sign")
    response = client.post(f"/a/{open_appeal.slug}/sign", headers={"Accept-Language": "ru"}, data={
        "full_name": "Evil\u202eName", "email": "e@example.org", "consent": "y", "csrf_token": token})
    assert response.status_code == 422
    assert "невидимый или управляющий символ" in response.get_data(as_text=True)
    assert signature_count() == 0


def test_the_public_page_links_the_public_pdf_once_the_organizers_made_it(client, open_appeal):
    link = f'href="/a/{open_appeal.slug}/public.pdf"'
    assert link not in client.get(f"/a/{open_appeal.slug}").get_data(as_text=True)
    assert client.get(f"/a/{open_appeal.slug}/public.pdf").status_code == 404  # nothing to link to yet
    rendered_pdf(open_appeal, "public")
    assert link in client.get(f"/a/{open_appeal.slug}").get_data(as_text=True)
    response = client.get(f"/a/{open_appeal.slug}/public.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
