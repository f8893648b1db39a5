"""Response headers: CSP with nonces, no referrer, no framing except the embed, HSTS on TLS, cookie flags."""
import pytest
from flask import render_template_string

from petitions.auth.services import register_user
from petitions.extensions import db

from .conftest import new_appeal


@pytest.fixture
def open_appeal(app):
    owner = register_user("Owner", "owner@example.org", "a long password")
    appeal = new_appeal(owner, "An appeal", "UN", "Text.")
    appeal.publish()
    db.session.commit()
    return appeal


def directives(response) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    return {part.split(" ", 1)[0]: part.split(" ", 1)[1] for part in policy.split("; ")}


@pytest.mark.parametrize("path", ["/", "/a/{slug}", "/privacy", "/privacy/my-data", "/auth/login",
                                  "/static/style.css", "/api/v1/appeals/{slug}", "/does-not-exist"])
def test_every_response_has_the_strict_headers(client, open_appeal, path):
    response = client.get(path.format(slug=open_appeal.slug))
    csp = directives(response)
    assert csp["default-src"] == "'self'" and csp["script-src"] == "'self'" and csp["style-src"] == "'self'"
    assert csp["frame-ancestors"] == "'none'" and csp["object-src"] == "'none'" and csp["form-action"] == "'self'"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "Strict-Transport-Security" not in response.headers  # plain HTTP: HSTS would be meaningless


def test_only_the_embed_may_be_framed(client, app, open_appeal):
    response = client.get(f"/a/{open_appeal.slug}/embed")
    assert response.status_code == 200 and "0</strong>" in response.get_data(as_text=True)
    assert directives(response)["frame-ancestors"] == "*" and "X-Frame-Options" not in response.headers
    app.config["EMBED_FRAME_ANCESTORS"] = "https://partner.example"
    assert directives(client.get(f"/a/{open_appeal.slug}/embed"))["frame-ancestors"] == "https://partner.example"


def test_hsts_over_tls(client, open_appeal):
    response = client.get("/", base_url="https://appeals.example")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_nonce_is_fresh_per_request_and_in_the_policy(app):
    nonces = []
    for _ in range(2):
        with app.test_request_context("/"):
            html = render_template_string('<script nonce="{{ csp_nonce() }}"></script>')
            response = app.process_response(app.response_class(html))
            nonce = html.split('nonce="')[1].split('"')[0]
            assert f"'nonce-{nonce}'" in directives(response)["script-src"]
            nonces.append(nonce)
    assert nonces[0] != nonces[1] and len(nonces[0]) >= 16


def test_cookies_are_secure_when_served_over_https(make_app):
    assert make_app(PUBLIC_URL="https://appeals.example").config["SESSION_COOKIE_SECURE"] is True
    app = make_app(PUBLIC_URL="https://appeals.example")
    with app.app_context():
        client = app.test_client()
        response = client.get("/auth/login", base_url="https://appeals.example")
        cookie = response.headers["Set-Cookie"]
        db.engine.dispose()
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert make_app().config["SESSION_COOKIE_SECURE"] is False  # local http development still works


def test_templates_have_no_inline_script_or_style_and_no_foreign_urls():
    """The policy forbids inline code without a nonce; catch it at the source, not only in a browser."""
    import pathlib
    import re

    root = pathlib.Path(__file__).parent.parent / "petitions"
    offenders = []
    for path in list((root / "templates").rglob("*.html")) + list((root / "static").rglob("*.css")):
        text = path.read_text(encoding="utf-8")
        if re.search(r"<script(?![^>]*(?:nonce=|src=))", text) or re.search(r"\sstyle=|\son[a-z]+=", text):
            offenders.append(f"{path.name}: inline code")
        # Only pdf/ may mention foreign URLs (none today); pages must not reference other origins at all.
        for url in re.findall(r"(?:src|href)=\"(https?:)?//", text):
            offenders.append(f"{path.name}: foreign URL")
        if re.search(r"@import|url\(\s*['\"]?https?:", text):
            offenders.append(f"{path.name}: foreign CSS resource")
    assert offenders == []
