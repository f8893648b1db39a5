"""Data minimization, retention, self-service, consent and the personal-data audit log."""
import json
import re
from datetime import timedelta

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from petitions import crypto
from petitions.audit.models import AuditEvent
from petitions.auth.services import register_user
from petitions.extensions import db, utcnow
from petitions.privacy.minimize import client_hash
from petitions.privacy.retention import purge
from petitions.signing import operations as signing
from petitions.signing.models import Signature, SignatureStatus, Visibility

from .conftest import csrf_token, message_text, new_appeal, sqlite_only

IP = "203.0.113.77"
EMAIL = "Nargiz.Signer@Example.org"  # SMTP here has no SMTPUTF8: ASCII local part
SELF_LINK_RE = re.compile(r"https?://\S+/privacy/my-data/\S+")


@pytest.fixture
def open_appeal(smtp_app):
    owner = register_user("Owner", "owner@example.org", "a long password")
    appeal = new_appeal(owner, "Free the reporters", "Council of Europe", "We ask.")
    appeal.publish()
    db.session.commit()
    return appeal


@pytest.fixture
def web(smtp_app):
    client = smtp_app.test_client()
    client.environ_base["REMOTE_ADDR"] = IP
    return client


def sign_and_confirm(web, sink, appeal, email=EMAIL, name="Nərgiz Babayeva", visibility="public"):
    before = len(sink.messages)
    token = csrf_token(web, f"/a/{appeal.slug}/sign")
    response = web.post(f"/a/{appeal.slug}/sign", data={
        "full_name": name, "affiliation": "Editor", "country": "Azerbaijan", "email": email,
        "visibility": visibility, "consent": "y", "csrf_token": token})
    assert response.status_code == 303
    link = re.search(r"https?://\S+/confirm/\S+", message_text(sink.wait_for(before + 1)[-1])).group(0)
    path = link.split("localhost", 1)[-1]
    response = web.post(path, data={"csrf_token": csrf_token(web, path)})
    assert response.status_code == 200
    return db.session.scalars(select(Signature).where(Signature.full_name == name)).one()


def request_self_service_link(web, sink, email=EMAIL) -> str:
    before = len(sink.messages)
    token = csrf_token(web, "/privacy/my-data")
    response = web.post("/privacy/my-data", data={"email": email, "csrf_token": token})
    assert response.status_code == 200 and "Check your e-mail" in response.get_data(as_text=True)
    msg = sink.wait_for(before + 1)[-1]
    match = SELF_LINK_RE.search(message_text(msg))
    return match.group(0).split("localhost", 1)[-1] if match else ""


def prefixed(signature_id: int, csrf_token: str, **fields) -> dict:
    """Name the fields as the page does: one form per signature, each with its own prefix."""
    return {f"s{signature_id}-{k}": v for k, v in {"csrf_token": csrf_token, **fields}.items()}


def db_bytes(app) -> bytes:
    """Return the SQLite file and any journal next to it."""
    path = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    db.session.remove()
    db.engine.dispose()
    data = b""
    for suffix in ("", "-wal", "-journal", "-shm"):
        try:
            with open(path + suffix, "rb") as fh:
                data += fh.read()
        except FileNotFoundError:
            pass
    return data


def variants(text: str) -> list[bytes]:
    return [v.encode(enc) for v in {text, text.lower(), text.upper()} for enc in ("utf-8", "utf-16-le")]


@sqlite_only  # tests/test_privacy_postgres.py checks a PostgreSQL dump
def test_no_raw_ip_and_no_plaintext_email_in_the_sqlite_file(smtp_app, web, open_appeal):
    sig = sign_and_confirm(web, smtp_app.smtp_sink, open_appeal)
    assert sig.status is SignatureStatus.CONFIRMED
    assert sig.client_hash == client_hash(IP) and IP not in sig.client_hash
    assert crypto.decrypt(sig.email_encrypted) == EMAIL.lower()
    # The mail did arrive at the address, so the address passed through the app: it just was not stored.
    assert smtp_app.smtp_sink.messages[0]["To"] == EMAIL
    data = db_bytes(smtp_app)
    assert "Nərgiz Babayeva".encode() in data  # the check can see stored text
    for needle in variants(EMAIL) + variants(IP):
        assert needle not in data, needle


def test_client_hash_rotates_monthly():
    from petitions import create_app

    from .conftest import base_config

    app = create_app(base_config("/nonexistent.sqlite"))
    with app.app_context():
        now = utcnow()
        assert client_hash(IP, now) == client_hash(IP, now)
        assert client_hash(IP, now) != client_hash(IP, now + timedelta(days=32))
        assert client_hash(IP, now) != client_hash("203.0.113.78", now)
        assert client_hash() is None  # no request, no address


def test_self_service_see_download_correct_erase(smtp_app, web, open_appeal):
    sink = smtp_app.smtp_sink
    sig = sign_and_confirm(web, sink, open_appeal)
    other = sign_and_confirm(web, sink, open_appeal, email="someone.else@example.org", name="Other Person")
    link = request_self_service_link(web, sink)
    assert link, "the mail holds a self-service link"
    page = web.get(link)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert "Nərgiz Babayeva" in html and "Free the reporters" in html and "Other Person" not in html

    download = web.get(f"{link}/data.json")
    data = json.loads(download.data)
    assert download.headers["Content-Disposition"].startswith("attachment")
    [entry] = data["signatures"]
    assert entry["full_name"] == "Nərgiz Babayeva" and entry["email"] == EMAIL.lower()
    assert entry["consent_version"] == "2026-1" and entry["visibility"] == "public"
    assert entry["client_hash_stored"] is True and IP not in download.get_data(as_text=True)

    # Correct: a bad name gets a message and changes nothing; a good one changes name and visibility.
    token = csrf_token(web, "/privacy/my-data")  # one token per session, whatever the form
    bad = web.post(f"{link}/{sig.id}/correct", data=prefixed(
        sig.id, full_name="", affiliation="Editor", country="", visibility="public", csrf_token=token))
    assert bad.status_code == 422 and "This field is required" in bad.get_data(as_text=True)
    db.session.refresh(sig)
    assert sig.full_name == "Nərgiz Babayeva"
    ok = web.post(f"{link}/{sig.id}/correct", data=prefixed(
        sig.id, full_name="Nərgiz B.", affiliation="Editor", country="", visibility="anonymous", csrf_token=token))
    assert ok.status_code == 200 and "Saved" in ok.get_data(as_text=True)
    db.session.refresh(sig)
    assert (sig.full_name, sig.country, sig.visibility) == ("Nərgiz B.", "", Visibility.ANONYMOUS)

    # Someone else's signature cannot be reached with this link.
    assert web.post(f"{link}/{other.id}/correct", data=prefixed(
        other.id, full_name="X", visibility="public", csrf_token=token)).status_code == 404
    assert web.get(f"{link}/{other.id}/erase").status_code == 404

    # Erase: the box must be ticked; then the row is gone and the page says so.
    unticked = web.post(f"{link}/{sig.id}/erase", data={"csrf_token": token})
    assert unticked.status_code == 422 and db.session.get(Signature, sig.id) is not None
    erased = web.post(f"{link}/{sig.id}/erase", data={"understood": "y", "csrf_token": token})
    assert erased.status_code == 200 and "Erased" in erased.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Signature, sig.id) is None and db.session.get(Signature, other.id) is not None
    assert "We hold no signature" in web.get(link).get_data(as_text=True)
    # Overwritten in the file, not only unlinked (SQLite secure_delete).
    assert "Nərgiz B.".encode() not in db_bytes(smtp_app)
    actions = [e.action for e in db.session.scalars(select(AuditEvent))]
    assert "signature.corrected_by_signer" in actions and "signature.erased_by_signer" in actions
    details = json.dumps([e.detail for e in db.session.scalars(select(AuditEvent))], ensure_ascii=False)
    assert "Nərgiz" not in details and "@" not in details  # the log is no second copy of personal data


def test_unknown_address_gets_the_same_page_and_a_mail_without_link(smtp_app, web, open_appeal):
    assert request_self_service_link(web, smtp_app.smtp_sink, "nobody@example.org") == ""
    assert "no signature made with this address" in message_text(smtp_app.smtp_sink.messages[-1])


def test_tampered_and_expired_links_change_nothing(smtp_app, web, open_appeal):
    sig = sign_and_confirm(web, smtp_app.smtp_sink, open_appeal)
    link = request_self_service_link(web, smtp_app.smtp_sink)
    token = csrf_token(web, "/privacy/my-data")
    tampered = link[:-4] + ("AAAA" if not link.endswith("AAAA") else "BBBB")
    for url in (tampered, f"{tampered}/data.json"):
        response = web.get(url)
        assert response.status_code == 400 and "not valid" in response.get_data(as_text=True)
    response = web.post(f"{tampered}/{sig.id}/erase", data={"understood": "y", "csrf_token": token})
    assert response.status_code == 400 and "Nothing was changed" in response.get_data(as_text=True)
    # A link for another purpose (the confirmation link's token) does not open self-service.
    confirm_token = signing.confirmation_token(sig)
    assert web.get(f"/privacy/my-data/{confirm_token}").status_code == 400
    smtp_app.config["SELF_SERVICE_TOKEN_MAX_AGE"] = -1
    expired = web.post(f"{link}/{sig.id}/erase", data={"understood": "y", "csrf_token": token})
    assert expired.status_code == 410 and "expired" in expired.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Signature, sig.id).full_name == "Nərgiz Babayeva"


def test_erasure_after_delivery_says_what_cannot_be_erased(smtp_app, web, open_appeal):
    sig = sign_and_confirm(web, smtp_app.smtp_sink, open_appeal)
    open_appeal.close()
    open_appeal.mark_delivered()
    db.session.commit()
    link = request_self_service_link(web, smtp_app.smtp_sink)
    assert "already delivered" in web.get(link).get_data(as_text=True)
    token = csrf_token(web, "/privacy/my-data")
    response = web.post(f"{link}/{sig.id}/erase", data={"understood": "y", "csrf_token": token})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Erased: name, affiliation, country, e-mail address" in html
    assert "What we cannot erase" in html and "cannot be recalled" in html
    db.session.expire_all()
    assert db.session.get(Signature, sig.id) is None


def add_signature(appeal, email, status="pending", created_days_ago=0, **kw):
    sig = Signature(appeal=appeal, full_name=f"Person {email}", email_hash=crypto.email_hash(email),
                    email_encrypted=crypto.encrypt(email), text_hash=appeal.content_hash, consent_at=utcnow(),
                    client_hash="c" * 32, **kw)
    if status == "confirmed":
        sig.confirm()
    db.session.add(sig)
    db.session.flush()
    sig.created_at = utcnow() - timedelta(days=created_days_ago)
    return sig


def test_purge_applies_every_retention_rule(smtp_app, open_appeal):
    cfg = smtp_app.config
    old_pending = add_signature(open_appeal, "old@example.org", created_days_ago=cfg["UNCONFIRMED_EXPIRE_DAYS"] + 1)
    reminded = add_signature(open_appeal, "reminded@example.org", created_days_ago=cfg["UNCONFIRMED_EXPIRE_DAYS"] + 1,
                             reminded_at=utcnow() - timedelta(days=1))
    fresh = add_signature(open_appeal, "fresh@example.org", created_days_ago=1)
    confirmed_old = add_signature(open_appeal, "conf@example.org", "confirmed", created_days_ago=60)
    closed = new_appeal(open_appeal.owner, "Closed long ago", "UN", "Text")
    closed.publish()
    closed.close()
    closed.closed_at = utcnow() - timedelta(days=cfg["EMAIL_RETENTION_DAYS"] + 1)
    in_closed = add_signature(closed, "closed@example.org", "confirmed")
    recent = new_appeal(open_appeal.owner, "Delivered yesterday", "UN", "Text")
    recent.publish()
    recent.close()
    recent.mark_delivered()
    in_recent = add_signature(recent, "recent@example.org", "confirmed")
    db.session.commit()
    ids = {s: s.id for s in (old_pending, reminded, fresh, confirmed_old, in_closed, in_recent)}

    report = purge()
    db.session.commit()
    db.session.expire_all()
    assert report.unconfirmed_deleted == 1 and db.session.get(Signature, ids[old_pending]) is None
    assert db.session.get(Signature, ids[reminded]) is not None and db.session.get(Signature, ids[fresh]) is not None
    kept = db.session.get(Signature, ids[in_closed])
    assert kept.email_encrypted is None and kept.email_hash is not None and kept.full_name
    assert db.session.get(Signature, ids[in_recent]).email_encrypted is not None
    assert report.emails_erased == 1
    assert db.session.get(Signature, ids[confirmed_old]).client_hash is None
    assert db.session.get(Signature, ids[fresh]).client_hash == "c" * 32
    assert purge().unconfirmed_deleted == 0  # idempotent


def test_purge_and_key_rotation_commands(smtp_app, open_appeal):
    add_signature(open_appeal, "rotate@example.org", "confirmed")
    add_signature(open_appeal, "old2@example.org", created_days_ago=400)
    db.session.commit()
    runner = smtp_app.test_cli_runner()
    result = runner.invoke(args=["purge"])
    assert result.exit_code == 0 and "1 unconfirmed signatures deleted" in result.output

    old_key = smtp_app.config["DATA_KEYS"][0]
    new_key = Fernet.generate_key().decode()
    smtp_app.config["DATA_KEYS"] = [new_key, old_key]
    result = runner.invoke(args=["keys", "rotate"])
    assert result.exit_code == 0 and "Re-encrypted 1 e-mail addresses" in result.output
    smtp_app.config["DATA_KEYS"] = [new_key]  # the old key can now be dropped
    db.session.expire_all()
    sig = db.session.scalars(select(Signature).where(Signature.email_encrypted.is_not(None))).one()
    assert crypto.decrypt(sig.email_encrypted) == "rotate@example.org"
    smtp_app.config["DATA_KEYS"] = [Fernet.generate_key().decode()]
    failed = runner.invoke(args=["keys", "rotate"])
    assert failed.exit_code != 0 and "could not be decrypted" in failed.output


def login(client):
    token = csrf_token(client, "/auth/login")
    client.post("/auth/login", data={"email": "owner@example.org", "password": "a long password",
                                     "csrf_token": token})


def test_owners_see_who_viewed_or_exported_personal_data(smtp_app, open_appeal):
    from petitions.members.models import AppealMember, Role

    editor = register_user("Editor Name", "editor@example.org", "a long password")
    db.session.add(AppealMember(appeal=open_appeal, user=editor, role=Role.EDITOR))
    db.session.commit()
    client = smtp_app.test_client()
    token = csrf_token(client, "/auth/login")
    client.post("/auth/login", data={"email": "editor@example.org", "password": "a long password",
                                     "csrf_token": token})
    assert client.get(f"/organizer/appeals/{open_appeal.slug}").status_code == 200
    assert client.get(f"/organizer/appeals/{open_appeal.slug}/pdf").status_code == 200
    assert client.get(f"/organizer/appeals/{open_appeal.slug}/audit").status_code == 403  # owners only

    from flask import g

    g.pop("_login_user", None)  # the fixture's app context outlives requests; Flask-Login caches the user in g
    g.pop("csrf_token", None)  # (flask-wtf caches the token there too)
    owner = smtp_app.test_client()
    login(owner)
    page = owner.get(f"/organizer/appeals/{open_appeal.slug}/audit")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert html.count("Editor Name") == 2
    assert "personal_data.viewed" in html and "personal_data.exported" in html and "addressee PDF" in html


def test_privacy_notice_and_consent_version(smtp_app, web, open_appeal):
    smtp_app.config["CONSENT_VERSION"] = "2027-3"
    page = web.get("/privacy")
    assert page.status_code == 200 and "Version 2027-3" in page.get_data(as_text=True)
    assert 'href="/privacy"' in web.get("/").get_data(as_text=True)  # footer link on every page
    sig = sign_and_confirm(web, smtp_app.smtp_sink, open_appeal)
    assert sig.consent_version == "2027-3"
    import os

    os.makedirs(smtp_app.instance_path, exist_ok=True)
    with open(os.path.join(smtp_app.instance_path, "privacy_notice.md"), "w", encoding="utf-8") as fh:
        fh.write("# Our notice\n\nRun by **Example Coalition**.")
    assert "<strong>Example Coalition</strong>" in web.get("/privacy").get_data(as_text=True)


def test_self_service_requests_are_rate_limited(make_app, smtp_server):
    sink, port = smtp_server
    app = make_app(MAIL_PORT=port, RATELIMIT_ENABLED=True, SELF_SERVICE_RATE_LIMIT="2 per hour")
    with app.app_context():
        client = app.test_client()
        token = csrf_token(client, "/privacy/my-data")
        codes = [client.post("/privacy/my-data", data={"email": f"x{i}@example.org", "csrf_token": token}).status_code
                 for i in range(3)]
        db.session.remove()
        db.engine.dispose()
    assert codes == [200, 200, 429]
