"""The read-only JSON API v1: shapes, visibility, pagination and JSON errors with the right status."""
import pytest

from petitions.auth.services import register_user
from petitions.extensions import db
from petitions.signing.models import Signature, Visibility

from .conftest import new_appeal


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
        assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"


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
])
def test_errors_are_json_with_the_right_status(client, appeal, method, path, status, code):
    response = client.open(path.format(slug=appeal.slug), method=method)
    assert response.status_code == status and response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert error["status"] == status and error["code"] == code and error["message"]


def test_api_is_rate_limited_in_json(make_app):
    app = make_app(RATELIMIT_ENABLED=True, API_RATE_LIMIT="2 per minute")
    with app.app_context():
        client = app.test_client()
        responses = [client.get("/api/v1/appeals/x") for _ in range(3)]
        db.engine.dispose()
    assert [r.status_code for r in responses] == [404, 404, 429]
    assert responses[-1].get_json()["error"]["code"] == "too_many_requests"
