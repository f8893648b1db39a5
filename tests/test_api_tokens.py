"""Personal access tokens: created in the UI and shown once, stored hashed, scoped, bound to the user's role, revoked;
and the whole chain of a signature an organizer's system submits (review queue, real SMTP, confirm, counted)."""
import re

import pytest

from petitions.api import tokens
from petitions.api.tokens import ApiToken, Scope
from petitions.audit.models import AuditEvent
from petitions.auth.services import register_user
from petitions.extensions import db
from petitions.members.models import AppealMember, Role
from petitions.signatories.queue import QueueFilter, queue_page
from petitions.signing.models import Signature, SignatureStatus, Visibility

from .conftest import LINK_RE, csrf_token, message_text, new_appeal

PASSWORD = "a long password"
SECRET_RE = re.compile(r'<code id="new-token">([^<]+)</code>')


@pytest.fixture
def world(app):
    owner = register_user("Owner", "owner@example.org", PASSWORD)
    other = register_user("Other", "other@example.org", PASSWORD)
    editor = register_user("Editor", "editor@example.org", PASSWORD)
    appeal = new_appeal(owner, "Stop the trials", "UN", "Text.")
    appeal.publish()
    draft = new_appeal(owner, "Our draft", "UN", "Text.")
    foreign = new_appeal(other, "Their draft", "UN", "Text.")
    db.session.flush()
    db.session.add(AppealMember(appeal_id=appeal.id, user_id=editor.id, role=Role.EDITOR))
    sig = Signature(appeal=appeal, full_name="Hidden From Public", email_hash="h" * 64, text_hash=appeal.content_hash,
                    consent_at=appeal.created_at, visibility=Visibility.ADDRESSEES)
    sig.confirm()
    db.session.add(sig)
    db.session.commit()
    return {"owner": owner, "other": other, "editor": editor, "appeal": appeal, "draft": draft, "foreign": foreign}


def login(client, email):
    return client.post("/auth/login", data={"email": email, "password": PASSWORD,
                                            "csrf_token": csrf_token(client, "/auth/login")})


def create_in_ui(client, name, scopes, appeal_slug=""):
    response = client.post("/account/tokens", data={"name": name, "scopes": scopes, "appeal": appeal_slug,
                                                    "csrf_token": csrf_token(client, "/account/tokens")})
    assert response.status_code == 201, response.get_data(as_text=True)[:500]
    return SECRET_RE.search(response.get_data(as_text=True)).group(1)


def bearer(secret):
    return {"Authorization": f"Bearer {secret}"}


def test_created_in_the_ui_shown_once_stored_hashed_and_audited(client, world):
    login(client, "owner@example.org")
    assert "/account/tokens" in client.get("/organizer/").get_data(as_text=True)  # the dashboard links it
    secret = create_in_ui(client, "CRM sync", ["appeal:read", "signatories:read"])
    token = db.session.scalar(db.select(ApiToken))
    assert token.name == "CRM sync" and token.scopes == ["appeal:read", "signatories:read"]
    assert token.secret_hash == tokens.secret_hash(secret) and secret not in token.secret_hash
    assert secret.startswith(token.prefix) and len(secret) > 40
    with db.engine.connect() as connection:  # nowhere in the database
        assert secret not in repr(connection.execute(db.text("SELECT * FROM api_tokens")).all())
        assert secret not in repr(connection.execute(db.text("SELECT * FROM audit_events")).all())
    listing = client.get("/account/tokens")
    assert listing.headers["Cache-Control"] == "no-store"
    page = listing.get_data(as_text=True)
    assert token.prefix in page and secret not in page and "CRM sync" in page
    assert [e.action for e in db.session.scalars(db.select(AuditEvent))].count("api_token.created") == 1
    response = client.get(f"/api/v1/organizer/appeals/{world['appeal'].slug}", headers=bearer(secret))
    assert response.status_code == 200 and response.get_json()["slug"] == world["appeal"].slug
    assert response.headers["Cache-Control"] == "no-store"
    db.session.expire_all()
    assert db.session.get(ApiToken, token.id).last_used_at is not None


def test_the_ui_refuses_bad_forms_and_needs_the_csrf_token(client, world):
    login(client, "owner@example.org")
    token = csrf_token(client, "/account/tokens")
    assert client.post("/account/tokens", data={"name": "", "scopes": ["appeal:read"], "appeal": "",
                                                "csrf_token": token}).status_code == 422
    assert client.post("/account/tokens", data={"name": "x", "scopes": ["root"], "appeal": "",
                                                "csrf_token": token}).status_code == 422
    assert client.post("/account/tokens", data={"name": "x", "scopes": ["appeal:read"],
                                                "appeal": world["foreign"].slug, "csrf_token": token}).status_code == 422
    assert client.post("/account/tokens", data={"name": "x", "scopes": ["appeal:read"], "appeal": ""}).status_code == 400
    assert db.session.scalar(db.select(db.func.count()).select_from(ApiToken)) == 0
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/account/tokens")})
    assert client.get("/account/tokens").status_code in (302, 303, 401)


def test_revoked_tokens_stop_working(client, world):
    login(client, "owner@example.org")
    secret = create_in_ui(client, "Old", ["appeal:read"])
    token = db.session.scalar(db.select(ApiToken))
    url = f"/api/v1/organizer/appeals/{world['appeal'].slug}"
    assert client.get(url, headers=bearer(secret)).status_code == 200
    response = client.post(f"/account/tokens/{token.id}/revoke",
                           data={"csrf_token": csrf_token(client, "/account/tokens")})
    assert response.status_code == 303
    refused = client.get(url, headers=bearer(secret))
    assert refused.status_code == 401 and refused.mimetype == "application/problem+json"
    assert refused.get_json()["code"] == "invalid_token" and "Bearer" in refused.headers["WWW-Authenticate"]
    db.session.expire_all()
    assert db.session.get(ApiToken, token.id).revoked_at is not None
    assert "api_token.revoked" in [e.action for e in db.session.scalars(db.select(AuditEvent))]


def test_nobody_revokes_another_users_token(client, world):
    token, secret = tokens.create(world["other"], "Theirs", ["appeal:read"])
    db.session.commit()
    login(client, "owner@example.org")
    assert client.post(f"/account/tokens/{token.id}/revoke",
                       data={"csrf_token": csrf_token(client, "/account/tokens")}).status_code == 404
    db.session.expire_all()
    assert db.session.get(ApiToken, token.id).revoked_at is None


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer nope", "Basic b3duZXI6cGFzcw==", "Bearer pt_x_" + "a" * 300])
def test_missing_or_bad_tokens_are_401(client, world, header):
    headers = {"Authorization": header} if header is not None else {}
    response = client.get(f"/api/v1/organizer/appeals/{world['appeal'].slug}", headers=headers)
    assert response.status_code == 401 and response.mimetype == "application/problem+json"
    assert response.get_json()["status"] == 401


def test_scopes_appeals_and_roles_bound_every_token(client, world):
    slug, draft, foreign = world["appeal"].slug, world["draft"].slug, world["foreign"].slug
    _, reader = tokens.create(world["owner"], "Reader", ["appeal:read"])
    _, bound = tokens.create(world["owner"], "Bound", ["appeal:read", "signatories:export"], world["appeal"])
    _, editor = tokens.create(world["editor"], "Editor's", [s.value for s in Scope])
    db.session.commit()

    def status(path, secret):
        response = client.get(path, headers=bearer(secret))
        assert response.mimetype in ("application/json", "application/problem+json", "text/csv")
        return response.status_code

    assert status(f"/api/v1/organizer/appeals/{draft}", reader) == 200  # own drafts
    assert status(f"/api/v1/organizer/appeals/{foreign}", reader) == 404  # others' drafts stay hidden
    assert status(f"/api/v1/organizer/appeals/{slug}/signatures", reader) == 403  # scope
    assert status(f"/api/v1/organizer/appeals/{slug}/export", reader) == 403
    assert status(f"/api/v1/organizer/appeals/{slug}/export", bound) == 200
    assert status(f"/api/v1/organizer/appeals/{draft}", bound) == 403  # bound to another appeal
    # The editor's token has every scope, but an editor may neither review nor export.
    assert status(f"/api/v1/organizer/appeals/{slug}", editor) == 200
    assert status(f"/api/v1/organizer/appeals/{slug}/signatures", editor) == 403
    assert status(f"/api/v1/organizer/appeals/{slug}/export", editor) == 403
    assert status(f"/api/v1/organizer/appeals/{draft}", editor) == 404
    response = client.post(f"/api/v1/appeals/{slug}/signatures", headers=bearer(editor),
                           json={"full_name": "A", "email": "a@example.org", "consent": True})
    assert response.status_code == 403 and response.get_json()["code"] == "forbidden"
    response = client.post(f"/api/v1/appeals/{slug}/signatures", headers=bearer(reader),
                           json={"full_name": "A", "email": "a@example.org", "consent": True})
    assert response.status_code == 403 and response.get_json()["code"] == "insufficient_scope"
    assert db.session.scalar(db.select(db.func.count()).select_from(Signature)) == 1


def test_organizer_reads_show_addressee_names_but_no_addresses_and_exports_are_audited(client, world):
    slug = world["appeal"].slug
    _, secret = tokens.create(world["owner"], "All", [s.value for s in Scope])
    db.session.commit()
    assert "Hidden From Public" not in client.get(f"/api/v1/appeals/{slug}/signatures").get_data(as_text=True)
    body = client.get(f"/api/v1/organizer/appeals/{slug}/signatures", headers=bearer(secret)).get_json()
    assert [s["name"] for s in body["signatures"]] == ["Hidden From Public"]
    assert body["signatures"][0]["visibility"] == "addressees" and "email" not in body["signatures"][0]
    exported = client.get(f"/api/v1/organizer/appeals/{slug}/export", headers=bearer(secret)).get_json()
    assert exported["columns"][:2] == ["id", "name"] and exported["rows"][0][1] == "Hidden From Public"
    csv = client.get(f"/api/v1/organizer/appeals/{slug}/export?format=csv", headers=bearer(secret))
    assert csv.mimetype == "text/csv" and "Hidden From Public" in csv.get_data(as_text=True)
    events = [e for e in db.session.scalars(db.select(AuditEvent)) if e.action == "signatories.exported"]
    assert len(events) == 2 and all(e.detail["via"] == "api" and e.actor_id == world["owner"].id for e in events)


def test_a_signature_submitted_with_a_token_is_reviewed_mailed_confirmed_and_counted(smtp_app):
    owner = register_user("Owner", "owner@example.org", PASSWORD)
    appeal = new_appeal(owner, "Azadlıq jurnalistlərə", "Avropa Şurası", "Biz tələb edirik.")
    appeal.publish()
    db.session.commit()
    slug = appeal.slug
    client = smtp_app.test_client()
    login(client, "owner@example.org")
    secret = create_in_ui(client, "Import", ["signatures:import"], slug)
    machine = smtp_app.test_client()  # the organizer's system: no cookies, only the token

    response = machine.post(f"/api/v1/appeals/{slug}/signatures", headers=bearer(secret), json={
        "full_name": "İlahə Şəfiyeva", "affiliation": "Hüquqşünas", "email": "ilahe@example.org", "consent": True})
    assert response.status_code == 202, response.get_json()

    signature = db.session.scalar(db.select(Signature))
    assert signature.source == "api" and signature.status is SignatureStatus.PENDING
    page = queue_page(appeal, QueueFilter())
    assert [row.signature.id for row in page.rows] == [signature.id]
    review = client.get(f"/organizer/appeals/{slug}/review")
    assert review.status_code == 200 and "İlahə Şəfiyeva" in review.get_data(as_text=True)
    assert machine.get(f"/api/v1/appeals/{slug}").get_json()["signatures"]["total"] == 0

    [msg] = smtp_app.smtp_sink.wait_for(1)
    assert msg["To"] == "ilahe@example.org"
    path = "/" + LINK_RE.search(message_text(msg)).group(0).split("://", 1)[1].split("/", 1)[1]
    signer = smtp_app.test_client()
    assert signer.post(path, data={"csrf_token": csrf_token(signer, path)}).status_code == 200

    counted = machine.get(f"/api/v1/appeals/{slug}/counts").get_json()
    assert counted["total"] == 1 and counted["by_language"] == {appeal.original_language: 1}
    listed = machine.get(f"/api/v1/appeals/{slug}/signatures").get_json()["signatures"]
    assert [s["name"] for s in listed] == ["İlahə Şəfiyeva"]
