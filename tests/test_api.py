"""The JSON API v1: shapes, visibility, pagination, counts, public signing and problem documents with the right status."""
import pytest

from petitions.auth.services import register_user
from petitions.extensions import db
from petitions.signing.models import Signature, Visibility

from .conftest import csrf_token, new_appeal


@pytest.fixture
def appeal(app):
    owner = register_user("Owner", "owner@example.org", "a long password")
    appeal = new_appeal(owner, "Stop the trials", "UN", "Text.")
    appeal.publish()
    for i in range(7):
        sig = Signature(appeal=appeal, full_name=f"Signer Nümunə {i}", affiliation="Lawyer",
                        email_hash=f"{i:064d}", text_hash=appeal.content_hash, consent_at=appeal.created_at,
                        visibility=Visibility.ADDRESSEES if i == 3 else Visibility.PUBLIC)
        sig.confirm()
        db.session.add(sig)
    db.session.add(Signature(appeal=appeal, full_name="Pending One", email_hash="p" * 64,
                             text_hash=appeal.content_hash, consent_at=appeal.created_at))
    db.session.commit()
    return appeal


def test_appeal_counts(client, appeal):
    response = client.get(f"/api/v1/appeals/{appeal.slug}")
    assert response.status_code == 200 and response.mimetype == "application/json"
    body = response.get_json()
    assert body["slug"] == appeal.slug and body["status"] == "open" and body["title"] == "Stop the trials"
    assert body["signatures"] == {"total": 7, "listed": 6, "not_listed": 1, "organizations": 0}
    assert body["links"]["signatures"].endswith(f"/api/v1/appeals/{appeal.slug}/signatures")


def test_signatures_public_list_paginated(client, appeal):
    first = client.get(f"/api/v1/appeals/{appeal.slug}/signatures?limit=4").get_json()
    assert [s["name"] for s in first["signatures"]] == ["Signer Nümunə 0", "Signer Nümunə 1", "Signer Nümunə 2",
                                                       "Signer Nümunə 4"]
    assert first["total"] == 7 and first["listed"] == 6 and "next" in first
    second = client.get(first["next"].split("localhost", 1)[1]).get_json()
    assert [s["name"] for s in second["signatures"]] == ["Signer Nümunə 5", "Signer Nümunə 6"]
    assert "next" not in second
    assert set(second["signatures"][0]) == {"name", "affiliation", "country", "withheld", "kind", "organization",
                                             "role"}  # no ids, no e-mail
    raw = client.get(f"/api/v1/appeals/{appeal.slug}/signatures").get_data(as_text=True)
    assert "Nümunə" in raw and "Pending One" not in raw and "Signer Nümunə 3" not in raw


def test_drafts_are_invisible(client, appeal):
    draft = new_appeal(appeal.owner, "Secret draft", "UN", "Text.")
    db.session.commit()
    for path in (f"/api/v1/appeals/{draft.slug}", f"/api/v1/appeals/{draft.slug}/signatures"):
        response = client.get(path)
        assert response.status_code == 404 and response.get_json()["code"] == "not_found"


@pytest.mark.parametrize("method,path,status,code", [
    ("GET", "/api/v1/appeals/nope", 404, "not_found"),
    ("GET", "/api/v1/nothing/here", 404, "not_found"),
    ("GET", "/api/v1/", 404, "not_found"),
    ("GET", "/api/v1/appeals/{slug}/signatures?limit=0", 400, "bad_request"),
    ("GET", "/api/v1/appeals/{slug}/signatures?limit=501", 400, "bad_request"),
    ("GET", "/api/v1/appeals/{slug}/signatures?offset=-1", 400, "bad_request"),
    ("GET", "/api/v1/appeals/{slug}/signatures?offset=4", 400, "bad_request"),  # keyset only: follow next
    ("GET", "/api/v1/appeals/{slug}/signatures?after=20260101T000000.000000", 400, "bad_request"),
    ("GET", "/api/v1/appeals/{slug}/signatures?after=20261301T000000.000000_1", 400, "bad_request"),
    ("GET", "/api/v1/appeals/{slug}/signatures?limit=ten", 400, "bad_request"),
    ("POST", "/api/v1/appeals/{slug}", 405, "method_not_allowed"),
    ("DELETE", "/api/v1/appeals/{slug}/signatures", 405, "method_not_allowed"),
    ("POST", "/api/v1/nothing", 404, "not_found"),
    ("PUT", "/api/v1/appeals/{slug}/signatures", 405, "method_not_allowed"),
    ("GET", "/api/v1/appeals?limit=0", 400, "bad_request"),
    ("GET", "/api/v1/appeals?after=x", 400, "bad_request"),
    ("GET", "/api/v1/appeals?status=draft", 400, "bad_request"),
    ("GET", "/api/v1/appeals/nope/counts", 404, "not_found"),
    ("GET", "/api/v1/organizer/appeals/{slug}", 401, "missing_token"),
])
def test_errors_are_problem_documents_with_the_right_status(client, appeal, method, path, status, code):
    response = client.open(path.format(slug=appeal.slug), method=method)
    assert response.status_code == status and response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["status"] == status and problem["code"] == code and problem["detail"] and problem["title"]
    assert problem["type"].startswith("about:blank")


def test_api_is_rate_limited_in_json(make_app):
    app = make_app(RATELIMIT_ENABLED=True, API_RATE_LIMIT="2 per minute")
    with app.app_context():
        client = app.test_client()
        responses = [client.get("/api/v1/appeals/x") for _ in range(3)]
        db.engine.dispose()
    assert [r.status_code for r in responses] == [404, 404, 429]
    assert responses[-1].get_json()["code"] == "too_many_requests"
    assert responses[-1].mimetype == "application/problem+json"


def test_appeal_list_by_cursor_with_filters(client, appeal):
    second = new_appeal(appeal.owner, "Free the journalists", "UN", "Text.")
    second.publish()
    draft = new_appeal(appeal.owner, "Secret draft", "UN", "Text.")
    db.session.commit()
    first = client.get("/api/v1/appeals?limit=1").get_json()
    assert [a["slug"] for a in first["appeals"]] == [second.slug] and "next" in first
    rest = client.get(first["next"].split("localhost", 1)[1]).get_json()
    assert [a["slug"] for a in rest["appeals"]] == [appeal.slug] and "next" not in rest
    assert rest["appeals"][0]["signatures"]["total"] == 7
    found = client.get("/api/v1/appeals?q=JOURNALISTS&status=open").get_json()["appeals"]
    assert [a["slug"] for a in found] == [second.slug]
    assert client.get("/api/v1/appeals?status=closed").get_json()["appeals"] == []
    assert client.get("/api/v1/appeals?q=100%25").get_json()["appeals"] == []  # % is no wildcard
    assert draft.slug not in client.get("/api/v1/appeals").get_data(as_text=True)


def test_counts_per_language(client, appeal):
    for i, sig in enumerate(db.session.scalars(db.select(Signature).where(Signature.appeal_id == appeal.id).order_by(Signature.id))):
        sig.language = "fr" if i % 3 == 0 else "en"
    db.session.commit()
    body = client.get(f"/api/v1/appeals/{appeal.slug}/counts").get_json()
    # 7 confirmed: ids 1, 4, 7 read French; the pending eighth does not count in any language.
    assert body["total"] == 7 and body["listed"] == 6 and body["not_listed"] == 1
    assert body["by_language"] == {"fr": 3, "en": 4}
    etag = client.get(f"/api/v1/appeals/{appeal.slug}/counts").headers["ETag"]
    assert client.get(f"/api/v1/appeals/{appeal.slug}/counts", headers={"If-None-Match": etag}).status_code == 304


def test_cors_only_on_public_reads(client, appeal):
    for path in ("/api/v1/appeals", f"/api/v1/appeals/{appeal.slug}", f"/api/v1/appeals/{appeal.slug}/counts",
                 f"/api/v1/appeals/{appeal.slug}/signatures"):
        response = client.get(path, headers={"Origin": "https://elsewhere.example"})
        assert response.headers["Access-Control-Allow-Origin"] == "*", path
        assert "Access-Control-Allow-Credentials" not in response.headers
        preflight = client.options(path, headers={"Origin": "https://elsewhere.example",
                                                  "Access-Control-Request-Method": "GET"})
        assert preflight.headers["Access-Control-Allow-Origin"] == "*"
        assert "GET" in preflight.headers["Access-Control-Allow-Methods"]
    post_preflight = client.options(f"/api/v1/appeals/{appeal.slug}/signatures", headers={
        "Origin": "https://elsewhere.example", "Access-Control-Request-Method": "POST"})
    assert "Access-Control-Allow-Origin" not in post_preflight.headers
    for path in (f"/api/v1/organizer/appeals/{appeal.slug}", f"/api/v1/organizer/appeals/{appeal.slug}/export"):
        assert "Access-Control-Allow-Origin" not in client.get(path).headers, path
    signed = client.post(f"/api/v1/appeals/{appeal.slug}/signatures", json={})
    assert "Access-Control-Allow-Origin" not in signed.headers


def _signer(**extra):
    return {"full_name": "Leyla Yunus", "email": "leyla@example.org", "consent": True, **extra}


def test_public_signing_is_pending_until_confirmed(client, appeal):
    response = client.post(f"/api/v1/appeals/{appeal.slug}/signatures",
                           json=_signer(affiliation="  Human   rights  defender ", wants_updates=True))
    assert response.status_code == 202 and response.get_json()["status"] == "pending"
    sig = db.session.scalar(db.select(Signature).where(Signature.full_name == "Leyla Yunus"))
    assert sig.status.value == "pending" and sig.source == "web" and sig.wants_updates
    assert sig.affiliation == "Human rights defender"  # cleaned as the form's signatures are
    assert client.get(f"/api/v1/appeals/{appeal.slug}").get_json()["signatures"]["total"] == 7
    again = client.post(f"/api/v1/appeals/{appeal.slug}/signatures", json=_signer())
    assert again.status_code == 202  # the same answer: nobody learns who signed
    assert db.session.scalar(db.select(db.func.count()).select_from(Signature)) == 9


@pytest.mark.parametrize("body,field", [
    ({"full_name": "A", "email": "a@example.org"}, "consent"),
    (_signer(consent=False), "consent"),
    (_signer(consent="yes"), "consent"),
    (_signer(email="not an address"), "email"),
    (_signer(email="a@b.example\r\nBcc: x@y.example"), "email"),
    (_signer(full_name=12), "full_name"),
    (_signer(full_name="x" * 5000), "full_name"),
    (_signer(full_name="Leyla\u202e"), "full_name"),
    (_signer(full_name="Ley\x00la"), "full_name"),
    (_signer(admin=True), "admin"),
    (_signer(visibility="everyone"), "visibility"),
    (_signer(language="xx"), "language"),
    (_signer(kind="organization"), "_schema"),
    (_signer(wants_updates="true"), "wants_updates"),
    (["a", "list"], "_schema"),
])
def test_signing_refuses_bad_bodies_with_422(client, appeal, body, field):
    response = client.post(f"/api/v1/appeals/{appeal.slug}/signatures", json=body)
    assert response.status_code == 422, response.get_json()
    problem = response.get_json()
    assert response.mimetype == "application/problem+json" and field in problem["errors"]
    assert db.session.scalar(db.select(db.func.count()).select_from(Signature)) == 8


def test_signing_refuses_what_is_not_json(client, appeal):
    url = f"/api/v1/appeals/{appeal.slug}/signatures"
    assert client.post(url, data="{not json", content_type="application/json").status_code == 400
    assert client.post(url, data="[" * 10_000, content_type="application/json").status_code == 400
    assert client.post(url, data={"full_name": "A"}).status_code == 415
    huge = client.post(url, data='{"full_name": "' + "x" * 100_000 + '"}', content_type="application/json")
    assert huge.status_code == 413 and huge.mimetype == "application/problem+json"
    closed = new_appeal(appeal.owner, "Closed one", "UN", "Text.")
    closed.publish()
    closed.close()
    db.session.commit()
    response = client.post(f"/api/v1/appeals/{closed.slug}/signatures", json=_signer())
    assert response.status_code == 409 and response.get_json()["code"] == "signing_closed"
    assert db.session.scalar(db.select(db.func.count()).select_from(Signature)) == 8


def test_form_and_api_share_one_sign_budget(make_app):
    app = make_app(RATELIMIT_ENABLED=True, SIGN_RATE_LIMIT="2 per hour")
    with app.app_context():
        owner = register_user("Owner", "owner@example.org", "a long password")
        appeal = new_appeal(owner, "Stop the trials", "UN", "Text.")
        appeal.publish()
        db.session.commit()
        client = app.test_client()
        form = client.post(f"/a/{appeal.slug}/sign", data={
            "full_name": "Form Signer", "email": "form@example.org", "consent": "y",
            "csrf_token": csrf_token(client, f"/a/{appeal.slug}/sign")})
        api = client.post(f"/api/v1/appeals/{appeal.slug}/signatures", json=_signer())
        over = client.post(f"/api/v1/appeals/{appeal.slug}/signatures", json=_signer(email="third@example.org"))
        form_over = client.post(f"/a/{appeal.slug}/sign", data={
            "full_name": "Form Signer", "email": "form2@example.org", "consent": "y",
            "csrf_token": csrf_token(client, f"/a/{appeal.slug}/sign")})
        stored = db.session.scalar(db.select(db.func.count()).select_from(Signature))
        db.engine.dispose()
    assert (form.status_code, api.status_code, over.status_code, form_over.status_code) == (303, 202, 429, 429)
    assert over.mimetype == "application/problem+json" and stored == 2
